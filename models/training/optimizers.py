"""The optimiser race: real `keras.optimizers` walking a 2-parameter loss surface, and their state at any step.

Each optimiser applies `apply_gradients` to its own 2-parameter variable (float64). The whole walk is one
`tf.function` loop per optimiser; the compiled loop, its variable and its optimiser are kept (reset before each
run, under a lock) so a new learning rate or start needs no new trace.
"""
import inspect
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from models.core.numbers import check_number
from models.training.optim_surfaces import SURFACES, Surface, surface_of

OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD with momentum", "nesterov": "Nesterov momentum",
              "rmsprop": "RMSprop", "adam": "Adam", "adagrad": "Adagrad"}
_CLASSES = {"sgd": keras.optimizers.SGD, "momentum": keras.optimizers.SGD, "nesterov": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam, "adagrad": keras.optimizers.Adagrad}
# What each optimiser keeps between steps: a label -> the Keras optimizer's attribute holding that variable.
STATE = {"sgd": {}, "momentum": {"v": "momentums"}, "nesterov": {"v": "momentums"},
         "rmsprop": {"avg g²": "_velocities"}, "adam": {"m": "_momentums", "v": "_velocities"},
         "adagrad": {"accumulator": "_accumulators"}}
DEFAULT_MOMENTUM = 0.9
MAX_STEPS = 1000
MAX_LEARNING_RATE = 10.0
DEFAULT_BOX = ((-5.0, 5.0), (-5.0, 5.0))  # for a student's own function without a box
_MAX_RUNNERS = 48


_HYPER = ("momentum", "beta_1", "beta_2", "rho", "epsilon", "initial_accumulator_value")


def _keras_params(name: str, params: dict) -> dict:
    """The constructor arguments of optimiser `name`: Keras' defaults (momentum 0.9 for the two momentum kinds).

    The numbers go in as float64 scalars: Keras casts a Python float to float32 first (0.9 becomes 0.899999976),
    a NumPy float64 keeps all its digits, so the hand-written update matches Keras' to the last digit.
    """
    if name == "sgd":
        return {}
    if name in ("momentum", "nesterov"):
        momentum = check_number(params.get("momentum", DEFAULT_MOMENTUM), "The momentum", low=0, high=1,
                                high_open=True)
        return {"momentum": np.float64(momentum), "nesterov": name == "nesterov"}
    accepted = inspect.signature(_CLASSES[name]).parameters
    chosen = {key: accepted[key].default for key in _HYPER if key in accepted and key != "momentum"}
    chosen.update({key: value for key, value in params.items()  # `momentum` is for the two SGD kinds only
                   if key in accepted and key not in ("learning_rate", "momentum")})
    return {key: np.float64(check_number(value, f"The setting {key}")) if key in _HYPER else value
            for key, value in chosen.items()}


def check_race(optimizers, *, start, steps, learning_rate, params) -> tuple[list[str], tuple[float, float], int, float]:
    names = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not names:
        raise ValueError("Choose at least one optimiser.")
    for name in names:
        if name not in OPTIMIZERS:
            raise ValueError(f"Unknown optimiser {name!r}; choose from {', '.join(OPTIMIZERS)}.")
    if len(set(names)) != len(names):
        raise ValueError("Each optimiser may run only once in a race.")
    known = {"momentum"} | {key for name in OPTIMIZERS for key in inspect.signature(_CLASSES[name]).parameters}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"No optimiser takes the setting {unknown[0]!r}.")
    try:
        x0, y0 = start
    except (TypeError, ValueError):
        raise ValueError("The start must be a point (x, y).") from None
    start = (check_number(x0, "The start's x"), check_number(y0, "The start's y"))
    steps = check_number(steps, "The number of steps", low=1, high=MAX_STEPS, integer=True)
    rate = check_number(learning_rate, "The learning rate", low=0, high=MAX_LEARNING_RATE, low_open=True)
    return names, start, steps, rate


class _Runner:
    """One optimiser, its 2-parameter variable and its compiled walk over a surface."""

    def __init__(self, function, name: str, keras_params: dict):
        self.function, self.name = function, name
        self.variable = keras.Variable(np.zeros(2), dtype="float64", name="xy")
        self.optimizer = _CLASSES[name](learning_rate=0.01, **keras_params)
        self.optimizer.build([self.variable])
        self.initial = [v.numpy() for v in self.optimizer.variables]  # Adagrad's accumulator starts at 0.1
        self.state = {label: getattr(self.optimizer, attr)[0] for label, attr in STATE[name].items()}
        self.lock = threading.Lock()
        self.walk = tf.function(self._walk, input_signature=[tf.TensorSpec([], tf.int32)])

    def loss_and_gradient(self):
        with tf.GradientTape() as tape:
            tape.watch(self.variable.value)
            loss = self.function(self.variable[0], self.variable[1])
        return loss, tape.gradient(loss, self.variable.value)

    def _walk(self, steps):
        points = tf.TensorArray(tf.float64, size=steps + 1)
        for i in tf.range(steps):
            loss, gradient = self.loss_and_gradient()
            points = points.write(i, tf.concat([self.variable.value, [tf.cast(loss, tf.float64)]], 0))
            self.optimizer.apply_gradients([(gradient, self.variable)])
        loss, _ = self.loss_and_gradient()
        return points.write(steps, tf.concat([self.variable.value, [tf.cast(loss, tf.float64)]], 0)).stack()

    def reset(self, start, learning_rate) -> None:
        self.variable.assign(np.asarray(start, dtype=np.float64))
        for variable, value in zip(self.optimizer.variables, self.initial):
            variable.assign(value)
        self.optimizer.learning_rate = learning_rate


_runners: OrderedDict = OrderedDict()
_runners_lock = threading.Lock()


def _runner(surface, name: str, keras_params: dict) -> _Runner:
    function = surface.function if isinstance(surface, Surface) else surface
    key = (function, name, tuple(sorted(keras_params.items())))
    with _runners_lock:
        if key in _runners:
            _runners.move_to_end(key)
            return _runners[key]
    runner = _Runner(function, name, keras_params)
    with _runners_lock:
        runner = _runners.setdefault(key, runner)
        while len(_runners) > _MAX_RUNNERS:
            _runners.popitem(last=False)
    return runner


def _cut(points: np.ndarray, box) -> tuple[np.ndarray, str]:
    """The path up to the first point that is NaN/inf or outside the box, and a sentence saying why it stops."""
    (x0, x1), (y0, y1) = box
    finite = np.isfinite(points).all(axis=1)
    with np.errstate(invalid="ignore"):
        inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    bad = np.flatnonzero(~(finite & inside))
    if bad.size == 0:
        return points, ""
    step = int(bad[0])
    why = ("its position or loss became NaN or infinite" if not finite[step] else
           f"it left the plot (x = {points[step, 0]:.4g}, y = {points[step, 1]:.4g})")
    return points[:step], f"diverged at step {step}: {why}, so its path stops at step {step - 1}."


def optimizer_paths(surface, optimizers, *, start, steps: int, learning_rate: float, box=None,
                    **params) -> pd.DataFrame:
    """Each optimiser's walk from `start`: columns optimizer, step, x, y, loss (step 0 is the start), diverged, note.

    `surface` is a name from SURFACES or a function f(x, y) of TF tensors; `box` ((x_min, x_max), (y_min, y_max))
    is the plot a path must stay inside (default: the surface's own). `params` go to the optimisers that take them
    (`momentum` for "momentum" and "nesterov", default 0.9; e.g. `beta_1` for Adam). A path that becomes NaN or
    leaves the box is cut there; its rows say `diverged` and the `note` says when and why.
    """
    known = surface_of(surface)
    names, start, steps, rate = check_race(optimizers, start=start, steps=steps, learning_rate=learning_rate,
                                           params=params)
    box = box or (known.box if known else DEFAULT_BOX)
    frames = []
    for name in names:
        runner = _runner(known or surface, name, _keras_params(name, params))
        with runner.lock:
            runner.reset(start, rate)
            points = runner.walk(tf.constant(steps, tf.int32)).numpy()
        kept, note = _cut(points, box)
        frames.append(pd.DataFrame({"optimizer": name, "step": np.arange(len(kept)), "x": kept[:, 0],
                                    "y": kept[:, 1], "loss": kept[:, 2], "diverged": bool(note), "note": note}))
    return pd.concat(frames, ignore_index=True)


def first_to_minimum(paths: pd.DataFrame, surface: str, *, radius: float = 0.1) -> tuple[str | None, dict]:
    """The optimiser that first comes within `radius` of a minimum (None if none does), and each one's step."""
    minima = np.array(SURFACES[surface].minima)
    reached = {}
    for name, path in paths.groupby("optimizer", sort=False):
        distance = np.min(np.hypot(path["x"].to_numpy()[:, None] - minima[:, 0],
                                   path["y"].to_numpy()[:, None] - minima[:, 1]), axis=1)
        hits = np.flatnonzero(distance <= radius)
        reached[name] = int(path["step"].iloc[hits[0]]) if hits.size else None
    arrived = {name: step for name, step in reached.items() if step is not None}
    return (min(arrived, key=arrived.get) if arrived else None), reached


@dataclass(frozen=True)
class StepDetail:
    """One optimiser's update number `step` (1 = the first), read from the Keras optimizer's own variables."""
    name: str
    step: int
    weights_before: np.ndarray  # (x, y) before this update
    gradient: np.ndarray
    loss: float
    state_before: dict  # label -> (2,) array, as the optimizer held it before this update
    state_after: dict
    weights_after: np.ndarray  # after Keras' apply_gradients
    hyper: dict  # learning_rate (as Keras stores it), momentum, beta_1, beta_2, rho, epsilon, ...


def optimizer_step_detail(surface, name: str, *, start, step: int, learning_rate: float, **params) -> StepDetail:
    """Walk `step - 1` updates, then read the state, the gradient, and what the optimizer's next update does."""
    known = surface_of(surface)
    names, start, step, rate = check_race([name], start=start, steps=step, learning_rate=learning_rate,
                                          params=params)
    runner = _runner(known or surface, name, _keras_params(name, params))
    with runner.lock:
        runner.reset(start, rate)
        if step > 1:
            runner.walk(tf.constant(step - 1, tf.int32))
        before = {label: v.numpy().copy() for label, v in runner.state.items()}
        weights = runner.variable.numpy().copy()
        loss, gradient = runner.loss_and_gradient()
        runner.optimizer.apply_gradients([(gradient, runner.variable)])
        after = {label: v.numpy().copy() for label, v in runner.state.items()}
        optimizer = runner.optimizer
        hyper = {"learning_rate": float(optimizer.learning_rate.numpy())}
        for key in ("momentum", "nesterov", "beta_1", "beta_2", "rho", "epsilon"):
            if hasattr(optimizer, key):
                hyper[key] = optimizer.nesterov if key == "nesterov" else float(getattr(optimizer, key))
        detail = StepDetail(name, step, weights, gradient.numpy(), float(loss), before, after,
                            runner.variable.numpy().copy(), hyper)
    return detail


def is_finite(detail: StepDetail) -> bool:
    return bool(np.isfinite(detail.weights_before).all() and np.isfinite(detail.gradient).all()
                and math.isfinite(detail.loss))
