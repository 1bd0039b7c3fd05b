"""A small dense network computed by hand: forward pass, loss, one backpropagation step.

A spec is a dict: inputs, layers (weights[i][j] from incoming value i to neuron j, biases,
activation), targets, loss, learning_rate. NumPy only; Keras is imported inside the Keras routes.
"""
import copy
import io
import json
import math
from numbers import Real

import numpy as np
import pandas as pd

from models.core.paths import DATA_DIR

PRESETS_DIR = DATA_DIR / "presets"
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "binary_crossentropy", "categorical_crossentropy")
LOSS_FORMULAS = {
    "half_sse": "L = ½·Σ (t − a)²",
    "mse": "L = (1/n)·Σ (t − a)²  (Keras' mean_squared_error)",
    "binary_crossentropy": "L = −(1/n)·Σ [t·ln(a) + (1 − t)·ln(1 − a)]",
    "categorical_crossentropy": "L = −Σ t·ln(a)",
}
# Cross-entropy compares probabilities, so it needs the matching output activation; Keras
# would otherwise read the layer's z as logits of the other kind and compute a different number.
LOSS_OUTPUT = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}
MAX_LAYERS, MAX_WIDTH, MAX_ABS = 6, 12, 1e6
MIN_RATE, MAX_RATE = 1e-6, 100.0


class SpecError(ValueError):
    """A network spec that cannot be computed; the message names the place to fix."""


# ---------- validation ----------

def _number(value, where: str) -> float:
    if value is None:
        raise SpecError(f"{where} is empty.")
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise SpecError(f"{where}: '{value}' is not a number.") from None
        raise SpecError(f"{where}: '{value}' is text; write the number without quotes.")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SpecError(f"{where}: {json.dumps(value, default=str)[:40]} is not a number.")
    number = float(value)
    if math.isnan(number):
        raise SpecError(f"{where} is empty or not a number (NaN).")
    if math.isinf(number):
        raise SpecError(f"{where}: {number} is infinite; use an ordinary number.")
    if abs(number) > MAX_ABS:
        raise SpecError(f"{where}: {number:g} is too large; keep numbers between -1,000,000 and 1,000,000.")
    return number


def _numbers(values, where: str, *, expected: int | None = None, what: str = "numbers") -> list[float]:
    if not isinstance(values, list):
        raise SpecError(f"{where} must be a list of numbers, e.g. [0.05, 0.10].")
    if not values:
        raise SpecError(f"{where} is empty; it needs at least one number.")
    if expected is not None and len(values) != expected:
        raise SpecError(f"{where} has {len(values)} numbers but there must be {expected} ({what}).")
    return [_number(v, f"{where}, position {k + 1}") for k, v in enumerate(values)]


def _layer(layer, index: int, n_in: int, incoming: str) -> dict:
    name = f"Layer {index}"
    if not isinstance(layer, dict):
        raise SpecError(f"{name} must be an object with weights, biases and activation.")
    missing = [key for key in ("weights", "biases", "activation") if key not in layer]
    if missing:
        raise SpecError(f"{name} is missing {', '.join(repr(m) for m in missing)}.")
    weights = layer["weights"]
    if not isinstance(weights, list) or not weights:
        raise SpecError(f"{name} has no weights: it needs one row per incoming value and one column per neuron.")
    rows = []
    for r, row in enumerate(weights, start=1):
        if not isinstance(row, list):
            raise SpecError(f"{name}, weights row {r} must be a list of numbers (one per neuron).")
        if not row:
            raise SpecError(f"{name}, weights row {r} is empty; a layer needs at least one neuron.")
        rows.append([_number(v, f"{name}, weights row {r}, column {c}") for c, v in enumerate(row, start=1)])
        if len(row) != len(rows[0]):
            raise SpecError(f"{name}, weights row {r} has {len(row)} numbers but row 1 has {len(rows[0])}; "
                            "every row needs one number per neuron.")
    if len(rows) != n_in:
        raise SpecError(f"{name}, weights has {len(rows)} rows but {incoming}; "
                        "there must be one row per incoming value.")
    width = len(rows[0])
    if width > MAX_WIDTH:
        raise SpecError(f"{name} has {width} neurons; keep it to {MAX_WIDTH} or fewer so it fits on a page.")
    biases = _numbers(layer["biases"], f"{name}, biases", expected=width, what="one bias per neuron")
    activation = layer["activation"]
    if activation not in ACTIVATIONS:
        raise SpecError(f"{name}: unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    if activation == "softmax" and width == 1:
        raise SpecError(f"{name}: softmax over a single neuron always gives 1; use sigmoid, or give the layer "
                        "one neuron per class.")
    return {"weights": rows, "biases": biases, "activation": activation}


def validate_spec(spec) -> dict:
    """Return a clean copy of the spec (floats only), or raise SpecError naming the bad place."""
    fields = ("inputs", "layers", "targets", "loss", "learning_rate")
    if not isinstance(spec, dict):
        raise SpecError(f"The spec must be a JSON object with the fields {', '.join(fields)}.")
    missing = [key for key in fields if key not in spec]
    if missing:
        raise SpecError(f"The spec is missing {', '.join(repr(m) for m in missing)}.")
    inputs = _numbers(spec["inputs"], "Inputs")
    if len(inputs) > MAX_WIDTH:
        raise SpecError(f"There are {len(inputs)} inputs; keep it to {MAX_WIDTH} or fewer.")
    layers = spec["layers"]
    if not isinstance(layers, list) or not layers:
        raise SpecError("Layers must be a non-empty list; give at least one layer.")
    if len(layers) > MAX_LAYERS:
        raise SpecError(f"There are {len(layers)} layers; keep it to {MAX_LAYERS} or fewer.")
    clean, n_in, incoming = [], len(inputs), f"there are {len(inputs)} inputs"
    for index, layer in enumerate(layers, start=1):
        clean.append(_layer(layer, index, n_in, incoming))
        n_in = len(clean[-1]["biases"])
        incoming = f"layer {index} has {n_in} neurons"
    loss = spec["loss"]
    if loss not in LOSSES:
        raise SpecError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
    targets = _numbers(spec["targets"], "Targets", expected=n_in, what="one per output neuron")
    if loss in LOSS_OUTPUT:
        if clean[-1]["activation"] != LOSS_OUTPUT[loss]:
            raise SpecError(f"{loss} needs a {LOSS_OUTPUT[loss]} output layer (layer {len(clean)} uses "
                            f"{clean[-1]['activation']}).")
        for k, t in enumerate(targets, start=1):
            if not 0 <= t <= 1:
                raise SpecError(f"Targets, position {k}: {t:g} is outside [0, 1]; {loss} needs probabilities.")
        if loss == "categorical_crossentropy" and abs(sum(targets) - 1) > 1e-6:
            raise SpecError(f"Targets add up to {sum(targets):g}; categorical_crossentropy needs them "
                            "to add up to 1 (e.g. one-hot: [0, 1, 0]).")
    rate = _number(spec["learning_rate"], "Learning rate")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise SpecError(f"Learning rate {rate:g} is out of range; use a number from {MIN_RATE:g} to {MAX_RATE:g}.")
    out = {"inputs": inputs, "layers": clean, "targets": targets, "loss": loss, "learning_rate": rate}
    out.update({k: spec[k] for k in ("name", "description") if isinstance(spec.get(k), str)})
    return out


# ---------- the mathematics ----------

def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        e = np.exp(-np.abs(z))  # never overflows, unlike exp(-z) for very negative z
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return z.copy()


def _slope(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """da/dz for the element-wise activations (ReLU's slope at 0 is taken as 0, like TensorFlow)."""
    return {"sigmoid": a * (1 - a), "tanh": 1 - a * a, "relu": (z > 0).astype(float),
            "linear": np.ones_like(z)}[name]


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _check_finite(values, what: str) -> None:
    if not np.all(np.isfinite(values)):
        raise SpecError(f"{what} is too large to compute; use smaller numbers.")


def forward(spec) -> list[dict]:
    """One entry per layer: {"z": weighted sums, "a": activations}, as lists of floats."""
    spec = validate_spec(spec)
    a, out = np.array(spec["inputs"]), []
    for index, layer in enumerate(spec["layers"], start=1):
        z = a @ np.array(layer["weights"]) + np.array(layer["biases"])
        a = _activate(layer["activation"], z)
        _check_finite(z, f"Layer {index}'s weighted sum")
        out.append({"z": z.tolist(), "a": a.tolist()})
    return out


def _loss_terms(spec, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each output neuron's share of the loss; cross-entropy is computed from z so it never hits log(0)."""
    t, n, loss = np.array(spec["targets"]), len(a), spec["loss"]
    if loss == "half_sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / n
    if loss == "binary_crossentropy":
        return (_softplus(z) - t * z) / n  # = −[t·ln σ(z) + (1−t)·ln(1−σ(z))] / n
    log_softmax = z - (z.max() + np.log(np.exp(z - z.max()).sum()))
    return -t * log_softmax


def loss_value(spec) -> float:
    """The loss of the spec's network on its one example."""
    spec = validate_spec(spec)
    last = forward(spec)[-1]
    return float(_loss_terms(spec, np.array(last["z"]), np.array(last["a"])).sum())


def _output_delta(spec, z, a, t) -> tuple[np.ndarray, np.ndarray]:
    """(∂L/∂a, δ = ∂L/∂z) of the output layer."""
    n, loss, act = len(a), spec["loss"], spec["layers"][-1]["activation"]
    if loss == "binary_crossentropy":
        # The sigmoid's slope a(1−a) cancels the loss's 1/(a(1−a)); use the simplified δ so a
        # saturated output (a == 1.0 in floating point) still gives a finite gradient.
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = np.where(a * (1 - a) > 0, (a - t) / (n * a * (1 - a)), np.nan)
        return grad_a, (a - t) / n
    if loss == "categorical_crossentropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = np.where(t > 0, -t / a, 0.0)
        return grad_a, a * t.sum() - t
    grad_a = a - t if loss == "half_sse" else 2 * (a - t) / n
    if act == "softmax":
        return grad_a, a * (grad_a - a @ grad_a)
    return grad_a, grad_a * _slope(act, z, a)


def backprop_step(spec) -> dict:
    """Chain-rule gradients of every weight and bias, and the spec after one step w − lr·grad."""
    spec = validate_spec(spec)
    passes = forward(spec)
    t = np.array(spec["targets"])
    grads, deltas, grads_a = [], [], []
    grad_a = None
    for index in range(len(spec["layers"]) - 1, -1, -1):
        layer = spec["layers"][index]
        z, a = np.array(passes[index]["z"]), np.array(passes[index]["a"])
        if index == len(spec["layers"]) - 1:
            grad_a, delta = _output_delta(spec, z, a, t)
        elif layer["activation"] == "softmax":  # full Jacobian: δ_j = a_j·(g_j − Σ_k a_k·g_k)
            delta = a * (grad_a - a @ grad_a)
        else:
            delta = grad_a * _slope(layer["activation"], z, a)
        a_prev = np.array(spec["inputs"] if index == 0 else passes[index - 1]["a"])
        delta = delta + 0.0  # turns -0.0 into 0.0, which reads better on screen
        grads.insert(0, {"weights": (np.outer(a_prev, delta) + 0.0).tolist(), "biases": delta.tolist()})
        deltas.insert(0, delta.tolist())
        grads_a.insert(0, grad_a.tolist())
        grad_a = np.array(layer["weights"]) @ delta
    _check_finite([g for layer in grads for row in layer["weights"] for g in row], "A gradient")
    rate, updated = spec["learning_rate"], copy.deepcopy(spec)
    for layer, grad in zip(updated["layers"], grads):
        layer["weights"] = (np.array(layer["weights"]) - rate * np.array(grad["weights"])).tolist()
        layer["biases"] = (np.array(layer["biases"]) - rate * np.array(grad["biases"])).tolist()
    return {"loss": loss_value(spec), "loss_after": loss_value(updated), "gradients": grads,
            "deltas": deltas, "grad_a": grads_a, "updated": updated}


# ---------- the Keras routes ----------

def build_network_model(spec):
    """An uncompiled float64 Keras model holding exactly the spec's weights and biases."""
    import keras
    from keras import layers

    spec = validate_spec(spec)
    inputs = keras.Input(shape=(len(spec["inputs"]),), dtype="float64", name="inputs")
    x = inputs
    for index, layer in enumerate(spec["layers"], start=1):
        dense = layers.Dense(len(layer["biases"]), activation=layer["activation"], dtype="float64",
                             name=f"layer_{index}")
        x = dense(x)
        dense.set_weights([np.array(layer["weights"]), np.array(layer["biases"])])
    return keras.Model(inputs, x, name="network")


def _keras_loss(name: str, t, y):
    import keras

    if name == "half_sse":  # Keras has no ½·sum loss; write it with Keras ops
        return 0.5 * keras.ops.sum(keras.ops.square(t - y))
    function = {"mse": keras.losses.mean_squared_error, "binary_crossentropy": keras.losses.binary_crossentropy,
                "categorical_crossentropy": keras.losses.categorical_crossentropy}[name]
    return function(t, y)[0]


def keras_results(spec) -> dict:
    """Keras' activations of every layer, its loss, and tf.GradientTape's gradients for the spec."""
    import keras
    import tensorflow as tf

    spec = validate_spec(spec)
    model = build_network_model(spec)
    dense_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    probe = keras.Model(model.inputs, [layer.output for layer in dense_layers])
    x = tf.constant([spec["inputs"]], dtype=tf.float64)
    t = tf.constant([spec["targets"]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        outputs = probe(x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]  # a one-layer network
        loss = _keras_loss(spec["loss"], t, outputs[-1])
    variables = [v for layer in dense_layers for v in (layer.kernel, layer.bias)]
    grads = tape.gradient(loss, variables)
    return {"activations": [o.numpy()[0].tolist() for o in outputs],
            "loss": float(loss.numpy()),
            "gradients": [{"weights": grads[2 * k].numpy().tolist(), "biases": grads[2 * k + 1].numpy().tolist()}
                          for k in range(len(dense_layers))]}


# ---------- the arithmetic written out ----------

def fmt(x: float) -> str:
    """A number as a student would write it: up to 9 significant digits."""
    text = f"{float(x):.9g}"
    return "0" if text == "-0" else text


def term(x: float) -> str:
    """A number inside a sum or product: negatives in brackets, so signs stay readable."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def neuron_names(spec) -> list[list[str]]:
    """Names of the input values, then of each layer's neurons (x1…, h1…, o1…)."""
    spec = validate_spec(spec)
    hidden = len(spec["layers"]) - 1
    names = [[f"x{i + 1}" for i in range(len(spec["inputs"]))]]
    for index, layer in enumerate(spec["layers"], start=1):
        prefix = "o" if index == len(spec["layers"]) else ("h" if hidden == 1 else f"h{index}.")
        names.append([f"{prefix}{j + 1}" for j in range(len(layer["biases"]))])
    return names


def _activation_text(name: str, z: np.ndarray, j: int, a: np.ndarray) -> str:
    if name == "softmax":
        exps = " + ".join(f"e^{term(v)}" for v in z)
        return f"e^{term(z[j])} / ({exps}) = {fmt(a[j])}"
    return f"{name}({fmt(z[j])}) = {fmt(a[j])}"


def forward_steps(spec) -> list[list[dict]]:
    """Per layer, per neuron: the weighted sum and the activation written out as arithmetic."""
    spec, passes, names = validate_spec(spec), forward(spec), neuron_names(spec)
    steps, a_prev = [], spec["inputs"]
    for index, (layer, result) in enumerate(zip(spec["layers"], passes)):
        z, a = np.array(result["z"]), np.array(result["a"])
        rows = []
        for j, name in enumerate(names[index + 1]):
            products = " + ".join(f"{term(row[j])}×{term(v)}" for row, v in zip(layer["weights"], a_prev))
            rows.append({"neuron": name,
                         "sum": f"z_{name} = {products} + {term(layer['biases'][j])} = {fmt(z[j])}",
                         "activation": f"a_{name} = {_activation_text(layer['activation'], z, j, a)}"})
        steps.append(rows)
        a_prev = result["a"]
    return steps


def loss_steps(spec) -> list[str]:
    """The loss formula, then the loss with the spec's numbers put in."""
    spec = validate_spec(spec)
    last = forward(spec)[-1]
    z, a, t = np.array(last["z"]), np.array(last["a"]), np.array(spec["targets"])
    terms, n, loss = _loss_terms(spec, z, a), len(a), spec["loss"]
    if loss in ("half_sse", "mse"):
        filled = " + ".join(f"({fmt(tj)} − {term(aj)})²" for tj, aj in zip(t, a))
        factor = "½" if loss == "half_sse" else f"(1/{n})"
        parts = " + ".join(fmt(v) for v in (t - a) ** 2)
        lines = [f"L = {factor}·[{filled}]", f"L = {factor}·[{parts}] = {fmt(terms.sum())}"]
    elif loss == "binary_crossentropy":
        filled = " + ".join(f"{fmt(tj)}·ln({fmt(aj)}) + {fmt(1 - tj)}·ln({fmt(1 - aj)})" for tj, aj in zip(t, a))
        parts = " + ".join(fmt(-v * n) for v in terms)
        lines = [f"L = −(1/{n})·[{filled}]", f"L = −(1/{n})·[{parts}] = {fmt(terms.sum())}"]
    else:
        filled = " + ".join(f"{fmt(tj)}·ln({fmt(aj)})" for tj, aj in zip(t, a))
        lines = [f"L = −[{filled}] = {fmt(terms.sum())}"]
    return [LOSS_FORMULAS[loss]] + lines


def _slope_text(name: str, zj: float, aj: float) -> str:
    if name == "sigmoid":
        return f"a·(1 − a) = {term(aj)}×(1 − {term(aj)}) = {fmt(aj * (1 - aj))}"
    if name == "tanh":
        return f"1 − a² = 1 − {term(aj)}² = {fmt(1 - aj * aj)}"
    if name == "relu":
        return "1 (z > 0)" if zj > 0 else "0 (z ≤ 0: the neuron is off, so nothing flows back through it)"
    return "1"


def _grad_a_text(spec, step, index: int, j: int, a: list, n: int) -> str:
    if index < len(spec["layers"]) - 1:
        outgoing = spec["layers"][index + 1]["weights"][j]
        return "Σ w·δ = " + " + ".join(f"{term(w)}×{term(d)}" for w, d in zip(outgoing, step["deltas"][index + 1]))
    aj, tj = term(a[j]), term(spec["targets"][j])
    return {"half_sse": f"a − t = {aj} − {tj}",
            "mse": f"2·(a − t)/{n} = 2×({aj} − {tj})/{n}",
            "binary_crossentropy": f"(a − t)/({n}·a·(1 − a)) = ({aj} − {tj})/({n}×{aj}×(1 − {aj}))",
            "categorical_crossentropy": f"−t/a = −{tj}/{aj}"}[spec["loss"]]


def delta_steps(spec) -> list[list[dict]]:
    """Per layer, per neuron: ∂L/∂a, the activation's slope and δ = ∂L/∂z, as lines of arithmetic."""
    spec, passes, names, step = validate_spec(spec), forward(spec), neuron_names(spec), backprop_step(spec)
    last, loss, out = len(spec["layers"]) - 1, spec["loss"], []
    for index, layer in enumerate(spec["layers"]):
        z, a, act = passes[index]["z"], passes[index]["a"], layer["activation"]
        delta, grad_a, n = step["deltas"][index], step["grad_a"][index], len(a)
        rows = []
        for j, name in enumerate(names[index + 1]):
            if math.isfinite(grad_a[j]):
                lines = [f"∂L/∂a_{name} = {_grad_a_text(spec, step, index, j, a, n)} = {fmt(grad_a[j])}"]
            else:
                lines = [f"∂L/∂a_{name} cannot be written out: a_{name} is saturated at {fmt(a[j])}"]
            if index == last and loss == "binary_crossentropy":
                lines.append(f"δ_{name} = ∂L/∂a × a·(1 − a) = (a − t)/{n} = ({term(a[j])} − "
                             f"{term(spec['targets'][j])})/{n} = {fmt(delta[j])}")
            elif index == last and loss == "categorical_crossentropy":
                lines.append(f"δ_{name} = a − t (softmax with cross-entropy) = {term(a[j])} − "
                             f"{term(spec['targets'][j])} = {fmt(delta[j])}")
            elif act == "softmax":
                mix = float(np.dot(a, grad_a))
                lines.append(f"δ_{name} = a·(∂L/∂a − Σ_k a_k·∂L/∂a_k) = "
                             f"{term(a[j])}×({term(grad_a[j])} − {term(mix)}) = {fmt(delta[j])}")
            else:
                slope = float(_slope(act, np.array([z[j]]), np.array([a[j]]))[0])
                lines.append(f"{act}'(z_{name}) = {_slope_text(act, z[j], a[j])}")
                lines.append(f"δ_{name} = ∂L/∂a_{name} × {act}'(z_{name}) = {term(grad_a[j])}×{term(slope)} "
                             f"= {fmt(delta[j])}")
            rows.append({"neuron": name, "lines": lines})
        out.append(rows)
    return out


def parameter_table(spec) -> pd.DataFrame:
    """Every weight and bias: old value, δ × input, gradient and the value after one step."""
    spec, step, names = validate_spec(spec), backprop_step(spec), neuron_names(spec)
    rate, rows, number = spec["learning_rate"], [], 0
    passes = forward(spec)
    for index, layer in enumerate(spec["layers"]):
        a_prev = spec["inputs"] if index == 0 else passes[index - 1]["a"]
        grad, new, delta = step["gradients"][index], step["updated"]["layers"][index], step["deltas"][index]
        for j, to in enumerate(names[index + 1]):
            for i, frm in enumerate(names[index]):
                number += 1
                source = frm if index == 0 else f"a_{frm}"
                rows.append({"layer": index + 1, "parameter": f"w{number} ({frm}→{to})",
                             "value": layer["weights"][i][j],
                             "chain rule": f"δ_{to} × {source} = {term(delta[j])}×{term(a_prev[i])}",
                             "gradient": grad["weights"][i][j], "updated": new["weights"][i][j]})
            rows.append({"layer": index + 1, "parameter": f"b ({to})", "value": layer["biases"][j],
                         "chain rule": f"δ_{to} × 1 = {fmt(delta[j])}", "gradient": grad["biases"][j],
                         "updated": new["biases"][j]})
    table = pd.DataFrame(rows)
    table["update"] = [f"{fmt(v)} − {fmt(rate)}×{term(g)}" for v, g in zip(table["value"], table["gradient"])]
    return table[["layer", "parameter", "value", "chain rule", "gradient", "update", "updated"]]


# ---------- tables, files and the answer key ----------

def layer_table(spec, index: int) -> pd.DataFrame:
    """Layer `index` (0-based) as one table: a row per incoming value plus a bias row, a column per neuron."""
    names, layer = neuron_names(spec), spec["layers"][index]
    rows = layer["weights"] + [layer["biases"]]
    return pd.DataFrame(rows, index=[f"from {n}" for n in names[index]] + ["bias"],
                        columns=[f"to {n}" for n in names[index + 1]], dtype="float64")


def _cells(values) -> list:
    """Table cells as plain Python values; an emptied cell (NaN) becomes None, read as 'empty'."""
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def layer_from_table(table: pd.DataFrame, activation: str) -> dict:
    """The inverse of layer_table."""
    values = table.astype(object).to_numpy().tolist()
    return {"weights": [_cells(row) for row in values[:-1]], "biases": _cells(values[-1]), "activation": activation}


def row_table(values, names: list[str], label: str) -> pd.DataFrame:
    """A one-row table (inputs or targets) with one column per name."""
    return pd.DataFrame([values], index=[label], columns=names, dtype="float64")


def row_from_table(table: pd.DataFrame) -> list:
    """The inverse of row_table."""
    return _cells(table.astype(object).to_numpy()[0].tolist())


def spec_to_json(spec) -> str:
    """The spec as indented JSON text, ready to download and upload again."""
    keys = ("name", "description", "inputs", "layers", "targets", "loss", "learning_rate")
    return json.dumps({k: spec[k] for k in keys if k in spec}, indent=2) + "\n"


def spec_from_json(data: bytes | str) -> dict:
    """Read and validate a JSON spec; any problem becomes a SpecError with a plain message."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SpecError("The file is not UTF-8 text; upload a .json spec file.") from None
    try:
        spec = json.loads(data)
    except json.JSONDecodeError as error:
        raise SpecError(f"The file is not valid JSON: {error.msg} (line {error.lineno}, "
                        f"column {error.colno}).") from None
    except RecursionError:
        raise SpecError("The file is not a spec: it is nested far too deeply.") from None
    return validate_spec(spec)


def load_presets() -> dict[str, dict]:
    """The ready-made networks in data/presets, by display name, in file-name order."""
    presets = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        spec = spec_from_json(path.read_bytes())
        presets[spec.get("name", path.stem)] = spec
    return presets


def answer_key_markdown(spec) -> str:
    """The whole worked solution as Markdown, to print or hand out."""
    spec = validate_spec(spec)
    step, names = backprop_step(spec), neuron_names(spec)
    out = [f"# Worked solution: {spec.get('name', 'forward pass and one backpropagation step')}", ""]
    out += [f"Inputs: {', '.join(f'{n} = {fmt(v)}' for n, v in zip(names[0], spec['inputs']))}. "
            f"Targets: {', '.join(f'{n} = {fmt(v)}' for n, v in zip(names[-1], spec['targets']))}. "
            f"Loss: {spec['loss']}. Learning rate: {fmt(spec['learning_rate'])}.", "",
            "## 1. Forward pass", ""]
    for index, rows in enumerate(forward_steps(spec), start=1):
        out += [f"Layer {index} ({spec['layers'][index - 1]['activation']}):", ""]
        out += [f"- `{r['sum']}`\n- `{r['activation']}`" for r in rows] + [""]
    out += ["## 2. Loss", ""] + [f"- `{line}`" for line in loss_steps(spec)] + [""]
    out += ["## 3. Backpropagation: δ = ∂L/∂z, from the output layer back", ""]
    for index, rows in reversed(list(enumerate(delta_steps(spec), start=1))):
        out += [f"Layer {index}:", ""] + [f"- `{line}`" for r in rows for line in r["lines"]] + [""]
    out += ["## 4. Gradients (∂L/∂w = δ × incoming value) and the step w − lr·∂L/∂w", ""]
    table = parameter_table(spec)
    out += ["| parameter | value | chain rule | gradient | updated |", "|---|---|---|---|---|"]
    out += [f"| {r['parameter']} | {fmt(r['value'])} | {r['chain rule']} | {fmt(r['gradient'])} | "
            f"{fmt(r['updated'])} |" for r in table.to_dict("records")]
    out += ["", f"Loss before the step: {fmt(step['loss'])}. Loss after the step: {fmt(step['loss_after'])}.", ""]
    return "\n".join(out)


def answer_key_csv(spec) -> str:
    """The parameter table (value, gradient, updated value) as CSV for a spreadsheet."""
    buffer = io.StringIO()
    parameter_table(spec).to_csv(buffer, index=False)
    return buffer.getvalue()
