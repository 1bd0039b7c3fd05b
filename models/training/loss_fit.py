"""Outliers: one straight line fitted with MSE, MAE and Huber by the training engine, before and after a point jumps."""
import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.core.numbers import check_number, format_number, parse_number
from models.engine.runs import make_trainer

FIT_LOSSES = {"mse": "MSE", "mae": "MAE", "huber": "Huber"}
# Eight points near y = 2x + 1, with one decimal so a hand check is easy.
REFERENCE = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                          "y": [1.2, 2.7, 5.3, 6.9, 9.1, 11.2, 12.8, 15.1]})
JUMP = {"row": 7, "y": 40.0}  # "one point jumps": the last point leaves the line
LIMIT = 50.0  # Adam moves each weight by about the learning rate per step, so values stay small enough to reach
MAX_POINTS = 40
# Full-batch Adam: 5000 steps of 0.02 settle MSE and Huber to 4 decimals and MAE to about 0.01.
FIT = {"epochs": 5000, "learning_rate": 0.02, "seed": 0, "delta": 1.0}


@dataclass(frozen=True)
class LineFit:
    loss: str
    slope: float
    intercept: float
    final_loss: float
    status: str


def as_table(points: pd.DataFrame) -> pd.DataFrame:
    """Points as the text table the page edits (students may type 2e3 or 1,5)."""
    return pd.DataFrame({column: [format_number(v, 2).rstrip("0").rstrip(".") for v in points[column]]
                         for column in ("x", "y")})


def jumped(table: pd.DataFrame) -> pd.DataFrame:
    """The table with one point moved far off the line."""
    table = table.copy()
    if len(table) > JUMP["row"]:
        table.loc[table.index[JUMP["row"]], "y"] = format_number(JUMP["y"], 1)
    return table


def parse_points(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """x and y from the edited table; rows left blank are skipped; a bad cell raises ValueError naming it."""
    xs, ys = [], []
    for row_number, (_, row) in enumerate(table.iterrows(), start=1):
        cells = [row.get(column) for column in ("x", "y")]
        blank = [cell is None or (isinstance(cell, float) and np.isnan(cell)) or str(cell).strip() == ""
                 for cell in cells]
        if all(blank):
            continue
        values = []
        for column, cell, empty in zip(("x", "y"), cells, blank):
            what = f"Row {row_number}, column {column}"
            if empty:
                raise ValueError(f"{what} is empty; type a number or clear the whole row.")
            values.append(check_number(parse_number(cell, what), what, low=-LIMIT, high=LIMIT))
        xs.append(values[0])
        ys.append(values[1])
    if len(xs) < 2:
        raise ValueError(f"A line needs at least 2 points; the table has {len(xs)}.")
    if len(xs) > MAX_POINTS:
        raise ValueError(f"Use at most {MAX_POINTS} points; the table has {len(xs)}.")
    if len(set(xs)) < 2:
        raise ValueError("All points have the same x, so no line fits them better than another; "
                         "give at least two different x values.")
    return np.array(xs), np.array(ys)


def fit_lines(x, y, *, delta: float = FIT["delta"], epochs: int = FIT["epochs"],
              learning_rate: float = FIT["learning_rate"], seed: int = FIT["seed"], cache: dict | None = None,
              guard: Callable[[], AbstractContextManager] | None = None) -> dict[str, LineFit]:
    """A line y = w·x + b trained on all points (one full batch, Adam) once per loss: MSE, MAE and Huber(δ).

    The model is `build_mlp(input_dim=1, hidden_units=(), output_activation="linear")`; the engine trains it.
    """
    delta = check_number(delta, "Huber's δ (delta)", low=0, low_open=True)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    guard = guard or contextlib.nullcontext
    fits = {}
    for name in FIT_LOSSES:
        trainer = make_trainer({"input_dim": 1, "hidden_units": (), "output_activation": "linear", "seed": seed},
                               loss=name, optimizer="adam", batch_size=len(x), n_train=len(x), n_val=len(x),
                               huber_delta=delta, cache=cache, max_cached=6)
        trainer.start(x, y, x, y, epochs=epochs, learning_rate=learning_rate, seed=seed)
        with guard():
            result = trainer.run()
        output = trainer.model.get_layer("output")
        fits[name] = LineFit(name, float(output.kernel.numpy()[0, 0]), float(output.bias.numpy()[0]),
                             float(result.history["loss"].iloc[-1]) if len(result.history) else float("nan"),
                             result.status)
    return fits


def movement(before: dict[str, LineFit], after: dict[str, LineFit], x_low: float, x_high: float) -> pd.DataFrame:
    """Slope and intercept before and after, and the line's largest vertical move between x_low and x_high."""
    rows = []
    for name, label in FIT_LOSSES.items():
        b, a = before[name], after[name]
        shift = max(abs((a.slope - b.slope) * x + a.intercept - b.intercept) for x in (x_low, x_high))
        rows.append({"loss": label, "slope before": b.slope, "slope after": a.slope,
                     "intercept before": b.intercept, "intercept after": a.intercept, "largest move": shift})
    return pd.DataFrame(rows)


def most_moved(table: pd.DataFrame) -> str:
    return str(table.loc[table["largest move"].idxmax(), "loss"])


def line_points(fits: dict[str, LineFit], x_low: float, x_high: float, data: str) -> pd.DataFrame:
    """The ends of each fitted line, for a chart (columns loss, data, x, y)."""
    return pd.DataFrame([{"loss": FIT_LOSSES[name], "data": data, "x": x, "y": fit.slope * x + fit.intercept}
                         for name, fit in fits.items() for x in (x_low, x_high)])
