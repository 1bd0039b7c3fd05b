"""A small dense network computed by hand: forward pass, loss, one backpropagation step, the working written out.

`solve(spec)` checks the spec once and computes everything a page shows; the other public functions are the
same pieces one at a time (each checks its spec). NumPy only; Keras is imported inside the Keras routes.
"""
import copy
import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.core.numbers import format_number
from models.foundations.network_keras import (
    build_network_model,
    gradient_comparison,
    keras_comparison,
    keras_results,
)
from models.foundations.network_spec import (
    ACTIVATIONS,
    LOSS_OUTPUT,
    LOSSES,
    MAX_ABS,
    MAX_RATE,
    MIN_RATE,
    SpecError,
    layer_from_table,
    layer_table,
    load_presets,
    neuron_names,
    row_from_table,
    row_table,
    spec_from_json,
    spec_to_json,
    validate_spec,
)

# The spec and Keras names are re-exported, so a page or a test needs only this module.
__all__ = ["ACTIVATIONS", "LOSSES", "LOSS_FORMULAS", "LOSS_OUTPUT", "MAX_ABS", "MAX_RATE", "MIN_RATE", "Solution",
           "SpecError", "answer_key_csv", "answer_key_markdown", "backprop_step", "build_network_model",
           "delta_steps", "fmt", "forward", "forward_steps", "gradient_comparison", "keras_comparison",
           "keras_results", "layer_from_table", "layer_table", "load_presets", "loss_steps", "loss_value",
           "neuron_names", "parameter_table", "row_from_table", "row_table", "solve", "spec_from_json",
           "spec_to_json", "term", "validate_spec"]

LOSS_FORMULAS = {
    "half_sse": "L = ½·Σ (t − a)²",
    "mse": "L = (1/n)·Σ (t − a)²  (Keras' mean_squared_error)",
    "binary_crossentropy": "L = −(1/n)·Σ [t·ln(a) + (1 − t)·ln(1 − a)]",
    "categorical_crossentropy": "L = −Σ t·ln(a)",
}


# ---------- the mathematics (on a checked spec) ----------

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


def _passes(spec: dict, *, check: bool = True) -> list[dict]:
    a, out = np.array(spec["inputs"]), []
    for index, layer in enumerate(spec["layers"], start=1):
        z = a @ np.array(layer["weights"]) + np.array(layer["biases"])
        a = _activate(layer["activation"], z)
        if check and not np.all(np.isfinite(z)):
            raise SpecError(f"Layer {index}'s weighted sum is too large to compute; use smaller numbers.")
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


def _loss(spec: dict, passes: list[dict]) -> float:
    return float(_loss_terms(spec, np.array(passes[-1]["z"]), np.array(passes[-1]["a"])).sum())


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


def _step(spec: dict, passes: list[dict]) -> dict:
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
    if not all(math.isfinite(g) for layer in grads for row in layer["weights"] for g in row):
        raise SpecError("A gradient is too large to compute; use smaller numbers.")
    # The step's result is computed, never checked as if typed: a too-large learning rate may throw the
    # weights beyond the limits of the input, and the loss after the step may overflow. solve() explains it.
    rate, updated = spec["learning_rate"], copy.deepcopy(spec)
    with np.errstate(all="ignore"):
        for layer, grad in zip(updated["layers"], grads):
            layer["weights"] = (np.array(layer["weights"]) - rate * np.array(grad["weights"])).tolist()
            layer["biases"] = (np.array(layer["biases"]) - rate * np.array(grad["biases"])).tolist()
        loss_after = _loss(updated, _passes(updated, check=False))
    return {"loss": _loss(spec, passes), "loss_after": loss_after, "gradients": grads,
            "deltas": deltas, "grad_a": grads_a, "updated": updated}


def _step_note(spec: dict, step: dict) -> str:
    """Why the step's result looks wild, in a sentence, or '' when it does not."""
    values = [v for layer in step["updated"]["layers"] for v in [*sum(layer["weights"], []), *layer["biases"]]]
    largest = max(abs(v) for v in values)
    rate = fmt(spec["learning_rate"])
    if not math.isfinite(largest) or not math.isfinite(step["loss_after"]):
        far = "to infinity" if not math.isfinite(largest) else f"to {format_number(largest, 2)}"
        return (f"One step at learning rate {rate} throws the weights {far}, so far that the loss after the step "
                "overflows: it is beyond the largest number a computer's 64-bit floats hold (about 1.8e308), so it "
                "cannot be computed. That is what a too-large learning rate does; try a smaller one.")
    if largest > MAX_ABS:
        return (f"One step at learning rate {rate} throws the weights to {format_number(largest, 2)} (a network "
                f"you type may hold at most ±{MAX_ABS:,.0f}): that is what a too-large learning rate does. The "
                "result of the step is shown below; to train from it, use a smaller learning rate.")
    return ""


def forward(spec) -> list[dict]:
    """One entry per layer: {"z": weighted sums, "a": activations}, as lists of floats."""
    return _passes(validate_spec(spec))


def loss_value(spec) -> float:
    """The loss of the spec's network on its one example."""
    spec = validate_spec(spec)
    return _loss(spec, _passes(spec))


def backprop_step(spec) -> dict:
    """Chain-rule gradients of every weight and bias, and the spec after one step w − lr·grad."""
    spec = validate_spec(spec)
    return _step(spec, _passes(spec))


# ---------- the arithmetic written out ----------

def fmt(x: float) -> str:
    """A number as a student would write it: up to 9 significant digits; ∞, −∞ and NaN in words of their own."""
    if not math.isfinite(x):
        return format_number(x)
    text = f"{float(x):.9g}"
    return "0" if text == "-0" else text


def term(x: float) -> str:
    """A number inside a sum or product: negatives in brackets, so signs stay readable."""
    text = fmt(x)
    return f"({text})" if text.startswith(("-", "−")) else text


def _activation_text(name: str, z: np.ndarray, j: int, a: np.ndarray) -> str:
    if name == "softmax":
        exps = " + ".join(f"e^{term(v)}" for v in z)
        return f"e^{term(z[j])} / ({exps}) = {fmt(a[j])}"
    return f"{name}({fmt(z[j])}) = {fmt(a[j])}"


def _forward_steps(spec, passes, names) -> list[list[dict]]:
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


def _loss_steps(spec, passes) -> list[str]:
    z, a, t = np.array(passes[-1]["z"]), np.array(passes[-1]["a"]), np.array(spec["targets"])
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


def _delta_steps(spec, passes, names, step) -> list[list[dict]]:
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


def _parameter_table(spec, passes, names, step) -> pd.DataFrame:
    rate, rows, number = spec["learning_rate"], [], 0
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


# ---------- the whole worked solution, computed once ----------

@dataclass(frozen=True)
class Solution:
    """Everything the page and the answer key show for one network; `note` explains a wild step ('' if none)."""

    spec: dict
    names: list
    passes: list
    step: dict
    forward_steps: list
    loss_steps: list
    delta_steps: list
    parameters: pd.DataFrame
    note: str

    @property
    def loss(self) -> float:
        return self.step["loss"]

    @property
    def loss_after(self) -> float:
        return self.step["loss_after"]


def solve(spec) -> Solution:
    """Check the spec once; compute the forward pass, the loss, one backprop step and every line of working."""
    spec = validate_spec(spec)
    names, passes = neuron_names(spec), _passes(spec)
    step = _step(spec, passes)
    return Solution(spec=spec, names=names, passes=passes, step=step,
                    forward_steps=_forward_steps(spec, passes, names), loss_steps=_loss_steps(spec, passes),
                    delta_steps=_delta_steps(spec, passes, names, step),
                    parameters=_parameter_table(spec, passes, names, step), note=_step_note(spec, step))


def forward_steps(spec) -> list[list[dict]]:
    """Per layer, per neuron: the weighted sum and the activation written out as arithmetic."""
    return solve(spec).forward_steps


def loss_steps(spec) -> list[str]:
    """The loss formula, then the loss with the spec's numbers put in."""
    return solve(spec).loss_steps


def delta_steps(spec) -> list[list[dict]]:
    """Per layer, per neuron: ∂L/∂a, the activation's slope and δ = ∂L/∂z, as lines of arithmetic."""
    return solve(spec).delta_steps


def parameter_table(spec) -> pd.DataFrame:
    """Every weight and bias: old value, δ × input, gradient and the value after one step."""
    return solve(spec).parameters


# ---------- the answer key ----------

def answer_key_markdown(spec_or_solution) -> str:
    """The whole worked solution as Markdown, to print or hand out."""
    sol = spec_or_solution if isinstance(spec_or_solution, Solution) else solve(spec_or_solution)
    spec, names = sol.spec, sol.names
    out = [f"# Worked solution: {spec.get('name', 'forward pass and one backpropagation step')}", ""]
    out += [f"Inputs: {', '.join(f'{n} = {fmt(v)}' for n, v in zip(names[0], spec['inputs']))}. "
            f"Targets: {', '.join(f'{n} = {fmt(v)}' for n, v in zip(names[-1], spec['targets']))}. "
            f"Loss: {spec['loss']}. Learning rate: {fmt(spec['learning_rate'])}.", "",
            "## 1. Forward pass", ""]
    for index, rows in enumerate(sol.forward_steps, start=1):
        out += [f"Layer {index} ({spec['layers'][index - 1]['activation']}):", ""]
        out += [f"- `{r['sum']}`\n- `{r['activation']}`" for r in rows] + [""]
    out += ["## 2. Loss", ""] + [f"- `{line}`" for line in sol.loss_steps] + [""]
    out += ["## 3. Backpropagation: δ = ∂L/∂z, from the output layer back", ""]
    for index, rows in reversed(list(enumerate(sol.delta_steps, start=1))):
        out += [f"Layer {index}:", ""] + [f"- `{line}`" for r in rows for line in r["lines"]] + [""]
    out += ["## 4. Gradients (∂L/∂w = δ × incoming value) and the step w − lr·∂L/∂w", ""]
    out += ["| parameter | value | chain rule | gradient | updated |", "|---|---|---|---|---|"]
    out += [f"| {r['parameter']} | {fmt(r['value'])} | {r['chain rule']} | {fmt(r['gradient'])} | "
            f"{fmt(r['updated'])} |" for r in sol.parameters.to_dict("records")]
    out += ["", f"Loss before the step: {fmt(sol.loss)}. Loss after the step: {fmt(sol.loss_after)}.", ""]
    if sol.note:
        out += [sol.note, ""]
    return "\n".join(out)


def answer_key_csv(spec_or_solution) -> str:
    """The parameter table (value, gradient, updated value) as CSV for a spreadsheet."""
    sol = spec_or_solution if isinstance(spec_or_solution, Solution) else solve(spec_or_solution)
    buffer = io.StringIO()
    sol.parameters.to_csv(buffer, index=False)
    return buffer.getvalue()
