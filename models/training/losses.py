"""Loss functions as Keras computes them: values from `keras.losses`, slopes from `tf.GradientTape`, in float64.

Also the logit view (sigmoid + MSE against sigmoid + cross-entropy) and the which-loss table.
"""
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from models.core.numbers import check_number, format_number

EPSILON = keras.config.epsilon()  # Keras clips probabilities to [1e-7, 1 - 1e-7] before taking logs


@dataclass(frozen=True)
class LossSpec:
    label: str
    params: dict  # parameter name -> default


LOSSES = {
    "mse": LossSpec("MSE", {}),
    "mae": LossSpec("MAE", {}),
    "huber": LossSpec("Huber", {"delta": 1.0}),
    "binary_crossentropy": LossSpec("binary cross-entropy", {"from_logits": False}),
    "categorical_crossentropy": LossSpec("categorical cross-entropy", {"from_logits": False}),
}
REGRESSION = ("mse", "mae", "huber")
# The page's starting settings in one place (shareable links will fill them in later).
DEFAULTS = {"task": "classification", "target": 1.0, "prediction": 0.9, "regression_target": 2.0,
            "regression_prediction": 3.5, "delta": 1.0, "logit": -6.0, "logit_target": 1}


def check_params(name: str, params: dict) -> dict:
    """The loss's parameters with defaults filled in; unknown or bad ones raise ValueError."""
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose one of {', '.join(LOSSES)}.")
    spec = LOSSES[name]
    unknown = set(params) - set(spec.params)
    if unknown:
        allowed = ", ".join(spec.params) or "none"
        raise ValueError(f"{spec.label} has no setting {', '.join(sorted(unknown))}; its settings: {allowed}.")
    checked = dict(spec.params) | dict(params)
    if "delta" in checked:
        checked["delta"] = check_number(checked["delta"], "Huber's δ (delta)", low=0, low_open=True)
    if "from_logits" in checked and not isinstance(checked["from_logits"], (bool, np.bool_)):
        raise ValueError(f"from_logits must be True or False; got {checked['from_logits']!r}.")
    return checked


def make_loss(name: str, reduction="sum_over_batch_size", **params) -> keras.losses.Loss:
    """The Keras loss object of `name` in float64 (`reduction=None` gives one value per example)."""
    p = check_params(name, params)
    kwargs = {"reduction": reduction, "dtype": "float64"}
    if name == "mse":
        return keras.losses.MeanSquaredError(**kwargs)
    if name == "mae":
        return keras.losses.MeanAbsoluteError(**kwargs)
    if name == "huber":
        return keras.losses.Huber(delta=p["delta"], **kwargs)
    if name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(from_logits=bool(p["from_logits"]), **kwargs)
    return keras.losses.CategoricalCrossentropy(from_logits=bool(p["from_logits"]), **kwargs)


def _as_array(values, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    if array.size == 0:
        raise ValueError(f"{what} is empty; give at least one number.")
    if array.ndim > 2:
        raise ValueError(f"{what} must be a number, a list of numbers or a table (rows of numbers); "
                         f"got {array.ndim} levels of nesting.")
    for index, value in np.ndenumerate(array):
        where = f"{what}[{', '.join(map(str, index))}]" if index else what
        check_number(value, where)
    return np.atleast_1d(array.astype(np.float64))


def check_inputs(name: str, y_true, y_pred, **params):
    """Targets and predictions as float64 arrays of one shape, checked for this loss; ValueError otherwise."""
    p = check_params(name, params)
    t, y = _as_array(y_true, "The target (y_true)"), _as_array(y_pred, "The prediction (y_pred)")
    if t.shape != y.shape:
        raise ValueError(f"The targets and predictions must have the same shape; got {t.shape} and {y.shape}.")
    label = LOSSES[name].label[0].upper() + LOSSES[name].label[1:]
    if name == "binary_crossentropy":
        if ((t < 0) | (t > 1)).any():
            raise ValueError(f"{label} needs targets between 0 and 1 (usually exactly 0 or 1).")
        if not p["from_logits"] and ((y < 0) | (y > 1)).any():
            raise ValueError(f"{label} on probabilities needs predictions between 0 and 1; for raw scores "
                             "(logits) use from_logits=True.")
    if name == "categorical_crossentropy":
        if t.shape[-1] < 2:
            raise ValueError(f"{label} needs one column per class, at least 2; got {t.shape[-1]}.")
        if (t < 0).any() or not np.allclose(t.sum(axis=-1), 1.0, atol=1e-6):
            raise ValueError(f"{label} needs each target row to be a one-hot row (like 0, 1, 0) or "
                             "probabilities that add up to 1.")
        probabilities = ((y >= 0) & (y <= 1)).all() and np.allclose(y.sum(axis=-1), 1.0, atol=1e-6)
        if not p["from_logits"] and not probabilities:
            raise ValueError(f"{label} on probabilities needs each prediction row between 0 and 1 and adding up "
                             "to 1 (a softmax output); for raw scores (logits) use from_logits=True.")
    return t, y, p


def loss_and_gradient(name: str, y_true, y_pred, **params) -> tuple[float, np.ndarray]:
    """The loss as Keras reduces it (the mean over examples) and its gradient with respect to `y_pred`."""
    t, y, p = check_inputs(name, y_true, y_pred, **params)
    loss = make_loss(name, **p)
    prediction = tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = loss(tf.constant(t), prediction)
    return float(value.numpy()), tape.gradient(value, prediction).numpy()


def per_point(name: str, target: float, predictions, **params) -> tuple[np.ndarray, np.ndarray]:
    """Each prediction's own loss against one target, and its slope, in one batched call (no mean)."""
    y = _as_array(predictions, "The predictions").reshape(-1, 1)
    t, y, p = check_inputs(name, np.full_like(y, check_number(target, "The target")), y, **params)
    loss = make_loss(name, reduction=None, **p)
    prediction = tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        values = loss(tf.constant(t), prediction)
    return values.numpy(), tape.gradient(values, prediction).numpy()[:, 0]  # d(sum)/dy_i = dL_i/dy_i


def prediction_grid(task: str, target: float, n: int = 201) -> np.ndarray:
    """Predictions to plot: probabilities 0.02…0.98 for classification, target ± 4 for regression."""
    if task == "classification":
        return np.linspace(0.02, 0.98, n)
    return np.linspace(target - 4.0, target + 4.0, n)


def loss_curves(names, task: str, target: float, **params) -> pd.DataFrame:
    """Long table (loss, prediction, value, slope) of each loss over the task's prediction range."""
    grid = prediction_grid(task, target)
    parts = []
    for name in names:
        kwargs = {k: v for k, v in params.items() if k in LOSSES[name].params}
        values, slopes = per_point(name, target, grid, **kwargs)
        parts.append(pd.DataFrame({"loss": LOSSES[name].label, "prediction": grid, "value": values, "slope": slopes}))
    return pd.concat(parts, ignore_index=True)


def written_out(name: str, target: float, prediction: float, **params) -> tuple[str, str, float, float]:
    """One prediction's loss and slope written out with its numbers: (value text, slope text, value, slope)."""
    value, gradient = loss_and_gradient(name, [target], [prediction], **params)
    g, e = float(gradient[0]), prediction - target
    t, y = format_number(target, 4), format_number(prediction, 4)
    v, s = format_number(value), format_number(g)
    if name == "mse":
        return f"(ŷ − y)² = ({y} − {t})² = {v}", f"2(ŷ − y) = 2 × ({format_number(e)}) = {s}", value, g
    if name == "mae":
        return f"|ŷ − y| = |{y} − {t}| = {v}", f"sign(ŷ − y) = {s}", value, g
    if name == "huber":
        d = params.get("delta", 1.0)
        if abs(e) <= d:
            return (f"|ŷ − y| = {format_number(abs(e))} ≤ δ = {d:g}, so ½(ŷ − y)² = {v}",
                    f"ŷ − y = {s}", value, g)
        return (f"|ŷ − y| = {format_number(abs(e))} > δ = {d:g}, so δ(|ŷ − y| − ½δ) = {d:g} × "
                f"({format_number(abs(e))} − {d / 2:g}) = {v}", f"δ × sign(ŷ − y) = {s}", value, g)
    if name != "binary_crossentropy" or params.get("from_logits"):
        raise ValueError("Written-out examples cover MSE, MAE, Huber and binary cross-entropy on probabilities.")
    clipped = min(max(prediction, EPSILON), 1 - EPSILON)
    note = (f" (Keras first clips {y} to {clipped:.7g}, so the loss stays finite and the slope is 0)"
            if clipped != prediction else "")
    c = f"{clipped:.7g}"
    term = {1.0: f"−ln {c}", 0.0: f"−ln(1 − {c})"}.get(target, f"−[{t} ln {c} + (1 − {t}) ln(1 − {c})]")
    return f"−[y ln ŷ + (1 − y) ln(1 − ŷ)] = {term} = {v}{note}", f"−y/ŷ + (1 − y)/(1 − ŷ) = {s}", value, g


# --- Why cross-entropy: the gradient with respect to the logit -----------------------------------

PAIRINGS = ("sigmoid + MSE", "sigmoid + binary cross-entropy")


def logit_gradients(target: int, logits) -> pd.DataFrame:
    """Loss and dLoss/dlogit of one example for sigmoid + MSE and sigmoid + BCE (from_logits), via autodiff."""
    target = check_number(target, "The target", low=0, high=1)
    z = tf.constant(_as_array(logits, "The logits").reshape(-1, 1))
    t = tf.fill(tf.shape(z), tf.constant(target, tf.float64))
    mse, bce = make_loss("mse", reduction=None), make_loss("binary_crossentropy", reduction=None, from_logits=True)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        losses = {PAIRINGS[0]: mse(t, keras.activations.sigmoid(z)), PAIRINGS[1]: bce(t, z)}
    parts = [pd.DataFrame({"pairing": pairing, "logit": z.numpy()[:, 0], "loss": value.numpy(),
                           "gradient": tape.gradient(value, z).numpy()[:, 0]}) for pairing, value in losses.items()]
    return pd.concat(parts, ignore_index=True)


def logit_probe(target: int, logit: float) -> dict:
    """At one logit: the sigmoid output and each pairing's loss and gradient (pairing -> (loss, gradient))."""
    logit = check_number(logit, "The logit", low=-50, high=50)
    table = logit_gradients(target, [logit])
    p = float(keras.ops.convert_to_numpy(keras.activations.sigmoid(tf.constant(logit, tf.float64))))
    return {"probability": p} | {row.pairing: (row.loss, row.gradient) for row in table.itertuples()}


# --- Which loss for which task -------------------------------------------------------------------

WHICH_LOSS = pd.DataFrame([
    ("Regression (predict a number)", "Dense(1), linear", "MSE; MAE or Huber when there are outliers",
     'model.compile(optimizer="adam", loss="mse")'),
    ("Binary classification (yes / no)", "Dense(1, activation=\"sigmoid\"): ONE neuron", "binary cross-entropy",
     'model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])'),
    ("Multi-class, one-hot labels (K classes)", "Dense(K, activation=\"softmax\")", "categorical cross-entropy",
     'model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])'),
    ("Multi-class, labels 0…K−1", "Dense(K, activation=\"softmax\")", "sparse categorical cross-entropy",
     'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])'),
], columns=["task", "output layer", "loss", "compile(...)"])

