"""Gradients through time: how much the loss at the last step depends on each earlier input, by tf.GradientTape.

One recurrent layer (SimpleRNN, LSTM or GRU) reads a seeded random sequence; the loss is the sum of its last
state. Each gate's recurrent matrix is an orthogonal matrix times `recurrent_scale`, so the scale alone decides
how much a step back in time multiplies the gradient by (for a SimpleRNN, before the activation's slope).
"""
import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from models.core.numbers import check_number

CELLS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
GATE_COUNT = {"simple_rnn": 1, "lstm": 4, "gru": 3}
ACTIVATIONS = ("tanh", "relu", "linear")
MAX_LENGTH = 100
N_INPUTS = 4


def check_cell(cell) -> str:
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}; choose one of {', '.join(CELLS)}.")
    return cell


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random n×n orthogonal matrix (QR of a Gaussian matrix, signs fixed so it is uniformly distributed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def gradient_problem(cell: str, *, length: int, units: int = 8, recurrent_scale: float = 1.0, seed: int = 0,
                     activation: str = "tanh", dtype: str = "float32"):
    """The seeded layer and input sequence (1, length, 4) whose gradients `gradient_report` measures."""
    check_cell(cell)
    length = check_number(length, "The sequence length", low=1, high=MAX_LENGTH, integer=True)
    units = check_number(units, "The number of units", low=1, high=64, integer=True)
    scale = check_number(recurrent_scale, "The recurrent scale", low=0, high=10)
    seed = check_number(seed, "The seed", low=0, high=2**31 - 1, integer=True)
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    rng = np.random.default_rng(seed)
    gates = GATE_COUNT[cell]
    limit = math.sqrt(6 / (N_INPUTS + gates * units))  # Keras' glorot_uniform
    kernel = rng.uniform(-limit, limit, (N_INPUTS, gates * units))
    recurrent = np.concatenate([scale * orthogonal(units, rng) for _ in range(gates)], axis=1)
    x = rng.standard_normal((1, length, N_INPUTS))
    kind = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    layer = kind(units, activation=activation, dtype=dtype)
    layer.build((1, length, N_INPUTS))
    weights = [kernel, recurrent, *layer.get_weights()[2:]]
    if cell == "lstm":  # Keras' unit_forget_bias=True starts the forget gate's bias at 1
        weights[2] = np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)])
    layer.set_weights(weights)
    return layer, tf.constant(x, dtype)


def last_step_loss(layer, x):
    """L = the sum of the last hidden state h_T."""
    return tf.reduce_sum(layer(x))


@dataclass(frozen=True)
class GradientReport:
    """‖∂L/∂x_t‖ for t = 1…length, and what goes with it."""
    cell: str
    activation: str
    recurrent_scale: float
    norms: np.ndarray  # (length,)
    loss: float
    weight_gradient_norm: float  # ‖∂L/∂U‖, the recurrent kernel's gradient
    step_factor: float | None  # geometric mean of ‖∂L/∂x_{t−1}‖ / ‖∂L/∂x_t‖ over the finite, nonzero part

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.norms).all() and math.isfinite(self.loss))

    @property
    def underflowed(self) -> int:
        """How many inputs' gradients are exactly 0: below float32's smallest number (about 1.4e-45)."""
        return int((self.norms == 0).sum())

    @property
    def first_to_last(self) -> float:
        """‖∂L/∂x_1‖ / ‖∂L/∂x_T‖: how much the first input still counts, relative to the last."""
        return float(self.norms[0] / self.norms[-1]) if self.finite and self.norms[-1] > 0 else math.nan


def gradient_report(cell: str, *, length: int, units: int = 8, recurrent_scale: float = 1.0, seed: int = 0,
                    activation: str = "tanh", dtype: str = "float32") -> GradientReport:
    """Every input's gradient norm from one tf.GradientTape pass, plus the recurrent kernel's gradient norm."""
    layer, x = gradient_problem(cell, length=length, units=units, recurrent_scale=recurrent_scale, seed=seed,
                                activation=activation, dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = last_step_loss(layer, x)
    grad_x, grad_u = tape.gradient(loss, [x, layer.cell.recurrent_kernel])
    norms = np.linalg.norm(np.asarray(grad_x, np.float64)[0], axis=1)
    factor = None
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.diff(np.log(norms))  # log(‖g_{t+1}‖ / ‖g_t‖); not finite where a norm is 0, inf or NaN
    steps = steps[np.isfinite(steps)]
    if len(steps) and np.isfinite(norms).all():
        factor = float(np.exp(-np.mean(steps)))
    return GradientReport(cell=cell, activation=activation, recurrent_scale=float(recurrent_scale), norms=norms,
                          loss=float(loss), weight_gradient_norm=float(np.linalg.norm(np.asarray(grad_u, np.float64))),
                          step_factor=factor)


def gradient_through_time(cell: str, *, length: int, units: int = 8, recurrent_scale: float = 1.0, seed: int = 0,
                          activation: str = "tanh", dtype: str = "float32") -> np.ndarray:
    """‖∂L/∂x_t‖ for t = 1…length, where L is the sum of the last step's state; shape (length,)."""
    return gradient_report(cell, length=length, units=units, recurrent_scale=recurrent_scale, seed=seed,
                           activation=activation, dtype=dtype).norms


def clipped_step(gradient_norm: float, *, learning_rate: float = 0.1, clipnorm: float = 1.0) -> dict:
    """How far one SGD step moves the weights, without and with Keras' `clipnorm`, measured on a Keras optimizer.

    The gradient is a vector of that norm; `clipnorm` rescales it to at most `clipnorm` before the step.
    """
    rows = {}
    for name, clip in (("plain", None), ("clipped", clipnorm)):
        variable = keras.Variable(np.zeros(2), dtype="float64")
        optimizer = keras.optimizers.SGD(learning_rate=learning_rate, clipnorm=clip)
        gradient = np.array([gradient_norm, 0.0]) if math.isfinite(gradient_norm) else np.array([gradient_norm, 1.0])
        optimizer.apply([keras.ops.convert_to_tensor(gradient, "float64")], [variable])
        rows[name] = float(np.linalg.norm(np.asarray(variable)))
    return rows


def explain(report: GradientReport) -> str:
    """One sentence on what the measured gradients show."""
    name = CELLS[report.cell]
    if not report.finite:
        return (f"The numbers overflowed: with scale {report.recurrent_scale:g} the {name}'s state or gradient grew "
                "past float32's largest number (about 3.4e38) and became inf, and inf − inf or 0 × inf gives NaN; "
                "this is an exploding gradient, and training on it would wreck the weights.")
    if report.step_factor is None:
        return "Some gradients are exactly 0 (dead ReLU units or a zero scale), so no steady rate can be read off."
    rate = report.step_factor
    if report.cell == "simple_rnn":
        trend = ("vanishes: the first inputs hardly affect the loss, so the network cannot learn from them"
                 if rate < 0.95 else "explodes: early inputs dominate and one training step can overshoot wildly"
                 if rate > 1.05 else "stays about level, the narrow edge between vanishing and exploding")
        zeros = (f" The first {report.underflowed} are exactly 0: smaller than float32 can hold."
                 if report.underflowed else "")
        return (f"Each step back in time multiplies the {name}'s gradient by about {rate:.3g} (the scale "
                f"{report.recurrent_scale:g} times the {report.activation} slope), so it {trend}.{zeros}")
    carry = ("c_t = f·c_{t−1} + i·g, so the gradient along the cell state is scaled by the forget gate f"
             if report.cell == "lstm" else "h_t = z·h_{t−1} + (1 − z)·h̃_t, so the gradient along it is scaled by "
             "the update gate z")
    return (f"Each step back multiplies the {name}'s gradient by about {rate:.3g}: its state is carried forward "
            f"additively ({carry}), a gate the network learns, rather than by the recurrent matrix and an "
            "activation slope at every step.")
