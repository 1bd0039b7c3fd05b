"""Batch, mini-batch and stochastic gradient descent on a line fit y = w·x + b: Keras' plain SGD on the MSE."""
import math
import threading

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from models.core.numbers import check_number

TRUE_LINE = (1.5, 0.5)  # w, b of the line the points scatter around
MAX_POINTS = 2000
MAX_EPOCHS = 500
MAX_UPDATES = 20_000
MAX_LEARNING_RATE = 10.0
# Learning rates as fractions of full-batch gradient descent's limit 2/λ_max (see stability_limit).
RATE_FRACTIONS = {"too small": 0.02, "good": 0.45, "too large": 0.9, "far too large": 1.1}


def make_line_points(n_points: int = 100, noise: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Seeded noisy points around y = 1.5·x + 0.5, x uniform in [-1, 2]."""
    n_points = check_number(n_points, "The number of points", low=1, high=MAX_POINTS, integer=True)
    noise = check_number(noise, "The noise", low=0, high=10)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 2.0, n_points)
    return pd.DataFrame({"x": x, "y": TRUE_LINE[0] * x + TRUE_LINE[1] + noise * rng.standard_normal(n_points)})


def stability_limit(x) -> tuple[float, float]:
    """λ_max, the largest curvature of the MSE of y = w·x + b (Hessian 2·[[mean x², mean x], [mean x, 1]]), and 2/λ_max.

    Full-batch gradient descent converges for learning rates below 2/λ_max, oscillates above 1/λ_max, and diverges
    above 2/λ_max.
    """
    x = np.asarray(x, np.float64)
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    largest = float(np.linalg.eigvalsh(hessian)[-1])
    return largest, 2 / largest


def learning_rate_presets(x) -> dict[str, float]:
    """Too small, good, too large and far too large learning rates for these points (two significant digits)."""
    limit = stability_limit(x)[1]
    return {name: float(f"{fraction * limit:.2g}") for name, fraction in RATE_FRACTIONS.items()}


def batch_order(n_points: int, epochs: int, seed: int) -> np.ndarray:
    """The order points are visited in: one seeded shuffle per epoch, shape (epochs, n_points)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_points) for _ in range(epochs)]) if epochs else np.zeros((0, n_points), int)


def batches(n_points: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, end) of each batch within one epoch's order; the last one may be smaller, as in Keras' fit."""
    return [(s, min(s + batch_size, n_points)) for s in range(0, n_points, batch_size)]


def check_line_fit(x, y, *, batch_size, epochs, learning_rate, start):
    try:
        x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError("The points must be numbers.") from None
    if x.size != y.size:
        raise ValueError(f"Every point needs an x and a y; got {x.size} x values and {y.size} y values.")
    if not 1 <= x.size <= MAX_POINTS:
        raise ValueError(f"A line fit needs between 1 and {MAX_POINTS:,} points; got {x.size}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("Every x and y must be an ordinary finite number.")
    batch_size = check_number(batch_size, "The batch size", low=1, high=x.size, integer=True)
    epochs = check_number(epochs, "The number of epochs", low=1, high=MAX_EPOCHS, integer=True)
    rate = check_number(learning_rate, "The learning rate", low=0, high=MAX_LEARNING_RATE, low_open=True)
    updates = epochs * math.ceil(x.size / batch_size)
    if updates > MAX_UPDATES:
        raise ValueError(f"{epochs} epochs in batches of {batch_size} are {updates:,} updates; at most "
                         f"{MAX_UPDATES:,} per fit. Use fewer epochs or larger batches.")
    w0, b0 = start
    return x, y, batch_size, epochs, rate, (check_number(w0, "The starting w"), check_number(b0, "The starting b"))


class _LineFit:
    """Keras' SGD on a 2-parameter variable (w, b), every update of a fit in one compiled loop."""

    def __init__(self):
        self.variable = keras.Variable(np.zeros(2), dtype="float64", name="wb")
        self.optimizer = keras.optimizers.SGD(learning_rate=0.01)
        self.optimizer.build([self.variable])
        self.lock = threading.Lock()
        vector = tf.TensorSpec([None], tf.float64)
        index = tf.TensorSpec([None], tf.int32)
        self.fit = tf.function(self._fit, input_signature=[vector, vector, index, index, index])

    def _mse(self, x, y):
        return keras.losses.mean_squared_error(y, self.variable[0] * x + self.variable[1])

    def _fit(self, x, y, order, starts, ends):
        n_updates = tf.shape(starts)[0]
        rows = tf.TensorArray(tf.float64, size=n_updates + 1)
        rows = rows.write(0, tf.concat([self.variable.value, [self._mse(x, y)]], 0))
        for i in tf.range(n_updates):
            chosen = order[starts[i]:ends[i]]
            with tf.GradientTape() as tape:
                tape.watch(self.variable.value)
                loss = self._mse(tf.gather(x, chosen), tf.gather(y, chosen))
            self.optimizer.apply_gradients([(tape.gradient(loss, self.variable.value), self.variable)])
            rows = rows.write(i + 1, tf.concat([self.variable.value, [self._mse(x, y)]], 0))
        return rows.stack()


_fitter = None
_fitter_lock = threading.Lock()


def _the_fitter() -> _LineFit:
    global _fitter
    with _fitter_lock:
        if _fitter is None:
            _fitter = _LineFit()
        return _fitter


def line_fit_path(x, y, *, batch_size: int, epochs: int, learning_rate: float, start=(0.0, 0.0),
                  seed: int = 0) -> pd.DataFrame:
    """Plain SGD on the MSE of y = w·x + b: columns step, epoch, w, b, loss (the MSE over all points); step 0 = start.

    Each epoch visits the points in a new seeded shuffle (`batch_order`), in batches of `batch_size`
    (`batches`); with batch_size = the number of points, every step is exact full-batch gradient descent.
    The path stops before the first step whose loss is no longer a finite number.
    """
    x, y, batch_size, epochs, rate, start = check_line_fit(x, y, batch_size=batch_size, epochs=epochs,
                                                           learning_rate=learning_rate, start=start)
    order = batch_order(x.size, epochs, seed)
    spans = batches(x.size, batch_size)
    starts = np.array([e * x.size + s for e in range(epochs) for s, _ in spans], dtype=np.int32)
    ends = np.array([e * x.size + t for e in range(epochs) for _, t in spans], dtype=np.int32)
    fitter = _the_fitter()
    with fitter.lock:
        fitter.variable.assign(np.asarray(start, dtype=np.float64))
        for variable in fitter.optimizer.variables:
            variable.assign(tf.zeros(variable.shape, variable.dtype))
        fitter.optimizer.learning_rate = rate
        with np.errstate(over="ignore", invalid="ignore"):
            rows = fitter.fit(tf.constant(x), tf.constant(y), tf.constant(order.ravel().astype(np.int32)),
                              tf.constant(starts), tf.constant(ends)).numpy()
    frame = pd.DataFrame({"step": np.arange(len(rows)), "epoch": np.r_[0, np.repeat(np.arange(1, epochs + 1),
                                                                                     len(spans))],
                          "w": rows[:, 0], "b": rows[:, 1], "loss": rows[:, 2]})
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    return frame.iloc[:bad[0]] if bad.size else frame


def line_loss_grid(x, y, box, *, cells: int = 32) -> pd.DataFrame:
    """The MSE of y = w·x + b over a grid of (w, b) in box ((w_min, w_max), (b_min, b_max)), with cell edges."""
    (w0, w1), (b0, b1) = box
    ws, bs = np.linspace(w0, w1, cells + 1), np.linspace(b0, b1, cells + 1)
    cw, cb = np.meshgrid((ws[:-1] + ws[1:]) / 2, (bs[:-1] + bs[1:]) / 2)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    predictions = cw.ravel()[:, None] * x[None, :] + cb.ravel()[:, None]
    loss = keras.losses.mean_squared_error(tf.constant(np.broadcast_to(y, predictions.shape)),
                                           tf.constant(predictions)).numpy()
    i, j = np.meshgrid(np.arange(cells), np.arange(cells))
    return pd.DataFrame({"w": cw.ravel(), "b": cb.ravel(), "w1": ws[i.ravel()], "w2": ws[i.ravel() + 1],
                         "b1": bs[j.ravel()], "b2": bs[j.ravel() + 1], "loss": loss,
                         "level": np.log10(loss - loss.min() + 1e-2)})
