"""Two-parameter loss surfaces for the optimiser race: a name -> surface table, each a function of TF tensors."""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import tensorflow as tf


@dataclass(frozen=True)
class Surface:
    name: str
    function: Callable  # f(x, y) of TensorFlow tensors (float64 here)
    formula: str  # as the page writes it
    box: tuple[tuple[float, float], tuple[float, float]]  # the plot: (x_min, x_max), (y_min, y_max)
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    minimum: float  # the lowest loss
    learning_rate: float  # a rate at which the race is worth watching
    about: str


def _bowl(x, y):
    return x**2 + y**2


def _ravine(x, y):
    return 0.1 * x**2 + 4.0 * y**2


def _saddle(x, y):
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _plateau(x, y):
    return 1.0 - tf.exp(-(0.5 * x**2 + y**2))


SURFACES = {s.name: s for s in (
    Surface("bowl", _bowl, "x² + y²", ((-2.0, 2.0), (-2.0, 2.0)), (-1.6, 1.2), ((0.0, 0.0),), 0.0, 0.1,
            "A round bowl: the gradient points straight at the minimum."),
    Surface("ravine", _ravine, "0.1·x² + 4·y²", ((-4.0, 4.0), (-2.0, 2.0)), (-3.5, 1.0), ((0.0, 0.0),), 0.0, 0.1,
            "A long narrow valley: steep across (y), almost flat along it (x)."),
    Surface("saddle", _saddle, "x²/2 + y⁴/4 − y²/2", ((-2.0, 2.0), (-1.6, 1.6)), (-1.8, 0.01),
            ((0.0, -1.0), (0.0, 1.0)), -0.25, 0.1,
            "A saddle at (0, 0) between two minima at (0, ±1); the start is almost exactly on the ridge."),
    Surface("rosenbrock", _rosenbrock, "(1 − x)² + 100·(y − x²)²", ((-2.0, 2.0), (-1.0, 3.0)), (-1.2, 1.0),
            ((1.0, 1.0),), 0.0, 0.001,
            "Rosenbrock's banana: a curved valley, easy to fall into and slow to follow to (1, 1)."),
    Surface("plateau", _plateau, "1 − exp(−(x²/2 + y²))", ((-3.0, 3.0), (-3.0, 3.0)), (-2.6, 2.2),
            ((0.0, 0.0),), 0.0, 0.1,
            "A flat plateau around a dip: far out, the gradient is almost zero."),
)}


def surface_of(surface) -> Surface | None:
    """The named surface, None for a student's own function, ValueError for anything else."""
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise ValueError(f"Unknown surface {surface!r}; choose one of {', '.join(SURFACES)}.")
        return SURFACES[surface]
    if callable(surface):
        return None
    raise ValueError("The surface must be a name (bowl, ravine, saddle, rosenbrock, plateau) or a function f(x, y).")


def surface_grid(name: str, *, cells: int = 40) -> pd.DataFrame:
    """The loss on a cells x cells grid over the surface's box (TensorFlow, float64), with each cell's edges."""
    s = SURFACES[name]
    (x0, x1), (y0, y1) = s.box
    xs, ys = np.linspace(x0, x1, cells + 1), np.linspace(y0, y1, cells + 1)
    cx, cy = np.meshgrid((xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2)
    loss = s.function(tf.constant(cx.ravel()), tf.constant(cy.ravel())).numpy()
    i, j = np.meshgrid(np.arange(cells), np.arange(cells))
    return pd.DataFrame({"x": cx.ravel(), "y": cy.ravel(), "x1": xs[i.ravel()], "x2": xs[i.ravel() + 1],
                         "y1": ys[j.ravel()], "y2": ys[j.ravel() + 1], "loss": loss,
                         "level": np.log10(loss - s.minimum + 1e-2)})
