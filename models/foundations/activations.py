"""Activation functions: values from keras.activations, slopes from TensorFlow autodiff, plus the facts table.

TensorFlow is imported inside the functions that compute, so the facts table is available at once.
"""
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.core.guess import GuessFeedback, grade_number
from models.core.numbers import check_number

X_LIMIT = 100.0  # |x| and |logit| stay within this, so every curve value is an ordinary float64
MAX_POINTS = 100_000
MAX_LOGITS = 10
LEAKY_RELU_DEFAULT_SLOPE = 0.2  # keras.activations.leaky_relu; the keras.layers.LeakyReLU layer uses 0.3


@dataclass(frozen=True)
class Activation:
    name: str
    label: str
    formula: str
    output_range: str
    used_in: str
    gradient_story: str
    defaults: dict


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in [
    Activation("linear", "linear", "f(x) = x", "(−∞, +∞)", "regression output",
               "Slope is 1 everywhere, so it never saturates. But stacked linear layers collapse into one "
               "linear function, so hidden layers need a non-linear activation.", {}),
    Activation("sigmoid", "sigmoid", "f(x) = 1 / (1 + e^(−x))", "(0, 1): never exactly 0 or 1",
               "binary output (one neuron: probability of the positive class)",
               "Slope is at most 0.25 (at x = 0) and almost 0 for large |x| (0.0066 at ±5): it saturates. "
               "Multiplying such slopes layer after layer makes gradients vanish in deep hidden stacks.", {}),
    Activation("tanh", "tanh", "f(x) = (e^x − e^(−x)) / (e^x + e^(−x))", "(−1, 1)",
               "hidden layers, especially recurrent ones (RNN, LSTM)",
               "Zero-centred, slope at most 1 (at x = 0), but it saturates for large |x| (0.00018 at ±5), "
               "so gradients still vanish in deep stacks.", {}),
    Activation("relu", "ReLU", "f(x) = max(0, x)", "[0, +∞): exactly 0 for every x ≤ 0",
               "hidden layers (the default in MLPs and CNNs)",
               "Slope 1 for x > 0, so gradients pass through undiminished. Slope 0 for x < 0: a neuron whose "
               "input is always negative stops learning (a 'dying ReLU').", {}),
    Activation("leaky_relu", "leaky ReLU", "f(x) = x if x > 0, else slope · x",
               "(−∞, +∞) for a slope > 0", "hidden layers, when too many ReLUs die",
               "Slope 1 for x > 0 and the small slope (e.g. 0.2) for x < 0: never 0, so a neuron can recover.",
               {"negative_slope": LEAKY_RELU_DEFAULT_SLOPE}),
    Activation("softmax", "softmax p₁", "p_i = e^(z_i) / Σ_j e^(z_j), for a vector z",
               "each p_i in (0, 1), and they sum to 1",
               "multi-class output (one neuron per class)",
               "∂p_i/∂z_i = p_i(1 − p_i) is at most 0.25 and fades when one logit dominates. Paired with "
               "cross-entropy the gradient becomes p − y, which does not vanish.", {"others": (0.0, 1.0)}),
    Activation("elu", "ELU", "f(x) = x if x > 0, else α(e^x − 1)", "(−α, +∞); (−1, +∞) for α = 1",
               "hidden layers",
               "Slope 1 for x > 0; for x < 0 the slope α·e^x fades as it saturates at −α. Its negative outputs "
               "pull the mean activation towards 0.", {"alpha": 1.0}),
    Activation("gelu", "GELU", "f(x) = x · Φ(x), Φ = standard normal CDF", "≈ [−0.17, +∞)",
               "hidden layers of Transformers (BERT, GPT)",
               "Smooth: slope near 1 for large x, near 0 for very negative x, slightly negative "
               "for x < −0.75.", {"approximate": False}),
    Activation("swish", "swish (SiLU)", "f(x) = x · sigmoid(x)", "≈ [−0.278, +∞)",
               "hidden layers of deep CNNs (e.g. EfficientNet)",
               "Smooth: slope near 1 for large x, near 0 for very negative x, slightly negative "
               "for x < −1.28.", {}),
]}


def facts_table() -> pd.DataFrame:
    """One row per function: formula, output range, where it is used, the gradient story."""
    return pd.DataFrame([{"Function": a.label, "Formula": a.formula, "Output range": a.output_range,
                          "Used in": a.used_in, "Slope and saturation": a.gradient_story}
                         for a in ACTIVATIONS.values()])


def _number(value, what: str, low: float, high: float, *, low_open: bool = False) -> float:
    return check_number(value, what, low=low, high=high, low_open=low_open, interval=True)


def check_settings(name: str, **params) -> dict:
    """Fill in the defaults for one function and check each setting; ValueError says what is wrong."""
    if name not in ACTIVATIONS:
        known = ", ".join(ACTIVATIONS)
        raise ValueError(f"There is no activation called {name!r}. Choose one of: {known}.")
    defaults = ACTIVATIONS[name].defaults
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        accepted = ", ".join(defaults) or "none"
        raise ValueError(f"{ACTIVATIONS[name].label} has no setting {unknown[0]!r} (settings it takes: {accepted}).")
    settings = {**defaults, **params}
    if "negative_slope" in settings:
        settings["negative_slope"] = _number(settings["negative_slope"], "The leaky-ReLU slope", 0.0, 1.0)
    if "alpha" in settings:
        settings["alpha"] = _number(settings["alpha"], "ELU's α", 0.0, 10.0, low_open=True)
    if "approximate" in settings and not isinstance(settings["approximate"], (bool, np.bool_)):
        raise ValueError("GELU's 'approximate' must be True or False.")
    if "others" in settings:
        others = settings["others"]
        what = "The other logits"
        limit = MAX_LOGITS - 1  # the first logit is x itself
        others = parse_vector(others, what, limit=limit) if isinstance(others, str) else _logits(others, what, limit)
        settings["others"] = tuple(float(v) for v in others)
    return settings


def _logits(values, what: str, limit: int = MAX_LOGITS) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers.") from None
    if array.size == 0:
        raise ValueError(f"{what}: type at least one number, for example 2, 1, 0.1.")
    if array.size > limit:
        raise ValueError(f"{what}: give at most {limit} numbers.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: every value must be an ordinary, finite number.")
    if np.any(np.abs(array) > X_LIMIT):
        raise ValueError(f"{what}: keep every value between −{X_LIMIT:g} and {X_LIMIT:g}.")
    return array


def parse_vector(text: str, what: str = "The logits", limit: int = MAX_LOGITS) -> np.ndarray:
    """Read numbers separated by commas, semicolons or spaces, e.g. '2, 1, 0.1' (decimal point, not comma)."""
    tokens = [t for t in re.split(r"[,;\s]+", (text or "").strip().strip("[]()")) if t]
    if not tokens:
        raise ValueError(f"{what}: type at least one number, for example 2, 1, 0.1.")
    values = []
    for token in tokens:
        try:
            values.append(float(token.replace("−", "-")))
        except ValueError:
            raise ValueError(f"{what}: {token!r} is not a number. Type numbers separated by commas, "
                             "for example 2, 1, 0.1.") from None
    return _logits(values, what, limit)


def _as_x(x) -> np.ndarray:
    try:
        xs = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("x must be a number or a list of numbers.") from None
    if xs.size == 0 or xs.size > MAX_POINTS:
        raise ValueError(f"Give between 1 and {MAX_POINTS} x values.")
    if not np.all(np.isfinite(xs)):
        raise ValueError("Every x must be an ordinary, finite number.")
    return xs


def _forward(name: str, x, settings: dict):
    import keras
    import tensorflow as tf

    act = keras.activations
    if name == "softmax":
        # p1 as a function of the first logit, the other logits held fixed.
        others = tf.constant([settings["others"]], dtype=tf.float64)
        logits = tf.concat([x[:, None], tf.repeat(others, tf.shape(x)[0], axis=0)], axis=1)
        return act.softmax(logits, axis=-1)[:, 0]
    if name == "leaky_relu":
        # TensorFlow keeps this slope as a 32-bit float, so values for x < 0 can differ from slope·x
        # after about the 8th significant digit.
        return act.leaky_relu(x, negative_slope=settings["negative_slope"])
    if name == "elu":
        return act.elu(x, alpha=settings["alpha"])
    if name == "gelu":
        return act.gelu(x, approximate=bool(settings["approximate"]))
    return getattr(act, name)(x)


def evaluate(name: str, x, **params) -> tuple[np.ndarray, np.ndarray]:
    """Return (f(x), f'(x)) as float64 arrays shaped like x: values by Keras, slopes by tf.GradientTape."""
    settings = check_settings(name, **params)
    xs = _as_x(x)
    import tensorflow as tf

    x_t = tf.constant(xs.ravel(), dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = _forward(name, x_t, settings)
    # Each output depends only on its own x, so the gradient of the sum is the elementwise slope.
    dy = tape.gradient(y, x_t)
    slopes = np.zeros_like(xs.ravel()) if dy is None else dy.numpy()
    return y.numpy().reshape(xs.shape), slopes.reshape(xs.shape)


def x_grid(x_min: float, x_max: float, points: int = 401) -> np.ndarray:
    """Evenly spaced x values for plotting; ValueError for an empty or out-of-range interval."""
    low = _number(x_min, "The smallest x", -X_LIMIT, X_LIMIT)
    high = _number(x_max, "The largest x", -X_LIMIT, X_LIMIT)
    if low >= high:
        raise ValueError(f"The smallest x must be less than the largest x (got {low:g} and {high:g}).")
    return np.linspace(low, high, int(points))


def curves(names, x_min: float, x_max: float, *, points: int = 401, settings: dict | None = None) -> pd.DataFrame:
    """Long table (name, function, x, value, slope) of each chosen function over [x_min, x_max]."""
    xs = x_grid(x_min, x_max, points)
    frames = []
    for name in names:
        values, slopes = evaluate(name, xs, **(settings or {}).get(name, {}))
        frames.append(pd.DataFrame({"name": name, "function": ACTIVATIONS[name].label,
                                    "x": xs, "value": values, "slope": slopes}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["name", "function", "x", "value", "slope"])


def probe(names, x: float, *, settings: dict | None = None) -> pd.DataFrame:
    """f(x) and f'(x) of each chosen function at one point."""
    x = _number(x, "The probe x", -X_LIMIT, X_LIMIT)
    rows = []
    for name in names:
        value, slope = evaluate(name, x, **(settings or {}).get(name, {}))
        rows.append({"function": ACTIVATIONS[name].label, "x": x, "f(x)": float(value), "f′(x)": float(slope)})
    return pd.DataFrame(rows, columns=["function", "x", "f(x)", "f′(x)"])


def softmax_vector(logits) -> tuple[np.ndarray, np.ndarray]:
    """Softmax of one logit vector (Keras) and its Jacobian ∂p_i/∂z_j (autodiff)."""
    z = parse_vector(logits) if isinstance(logits, str) else _logits(logits, "The logits")
    import keras
    import tensorflow as tf

    z_t = tf.constant(z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z_t)
        p = keras.activations.softmax(z_t[None, :], axis=-1)[0]
    return p.numpy(), tape.jacobian(p, z_t).numpy()


def grade_prediction(name: str, x: float, quantity: str, guess: float, **params) -> GuessFeedback:
    """Grade a guess of f(x) (quantity 'value') or f'(x) (quantity 'slope') against the computed answer."""
    if quantity not in ("value", "slope"):
        raise ValueError("Choose whether you are guessing the value f(x) or the slope f′(x).")
    value, slope = evaluate(name, _number(x, "x", -X_LIMIT, X_LIMIT), **params)
    actual = float(value if quantity == "value" else slope)
    # Within 0.05 (plus 5 % of the answer) counts as close; a fifth of that is spot on.
    return grade_number(float(guess), actual, close_within=0.05 + 0.05 * abs(actual))


def softmax_tables(logits) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The softmax demo as tables: (logit, probability) per class, and the Jacobian with labelled axes."""
    z = parse_vector(logits) if isinstance(logits, str) else _logits(logits, "The logits")
    p, jacobian = softmax_vector(z)
    classes = [f"class {i + 1}" for i in range(len(z))]
    table = pd.DataFrame({"class": classes, "logit z": z, "probability p": p})
    wrt = [f"∂/∂z{i + 1}" for i in range(len(z))]
    return table, pd.DataFrame(jacobian, index=[f"p{i + 1}" for i in range(len(z))], columns=wrt)
