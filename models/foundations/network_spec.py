"""A small network written down: the spec a student edits, uploads or downloads, and its checks.

A spec is a dict: inputs, layers (weights[i][j] from incoming value i to neuron j, biases, activation),
targets, loss, learning_rate, and optionally a name and a description.
"""
import json
import math

import pandas as pd

from models.core.numbers import WrittenNumber, check_value, json_number, parse_number
from models.core.paths import DATA_DIR

PRESETS_DIR = DATA_DIR / "presets"
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "binary_crossentropy", "categorical_crossentropy")
# Cross-entropy compares probabilities, so it needs the matching output activation; Keras
# would otherwise read the layer's z as logits of the other kind and compute a different number.
LOSS_OUTPUT = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}
MAX_LAYERS, MAX_WIDTH, MAX_ABS = 6, 12, 1e6
MIN_RATE, MAX_RATE = 1e-6, 100.0
MAX_NAME, MAX_DESCRIPTION = 80, 500  # characters: a title and a caption, not a page of text
MAX_FILE_BYTES = 200_000  # the largest spec (6 layers of 12 neurons) is about 30 kB of JSON


class SpecError(ValueError):
    """A network spec that cannot be computed; the message names the place to fix."""


def _number(value, where: str) -> float:
    return check_value(value, where, low=-MAX_ABS, high=MAX_ABS, error=SpecError)


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
        if len(row) > MAX_WIDTH:
            raise SpecError(f"{name} has {len(row)} neurons; keep it to {MAX_WIDTH} or fewer so it fits on a page.")
        rows.append([_number(v, f"{name}, weights row {r}, column {c}") for c, v in enumerate(row, start=1)])
        if len(row) != len(rows[0]):
            raise SpecError(f"{name}, weights row {r} has {len(row)} numbers but row 1 has {len(rows[0])}; "
                            "every row needs one number per neuron.")
    if len(rows) != n_in:
        raise SpecError(f"{name}, weights has {len(rows)} rows but {incoming}; "
                        "there must be one row per incoming value.")
    width = len(rows[0])
    biases = _numbers(layer["biases"], f"{name}, biases", expected=width, what="one bias per neuron")
    activation = layer["activation"]
    if activation not in ACTIVATIONS:
        raise SpecError(f"{name}: unknown activation {_quoted(activation)}; choose one of {', '.join(ACTIVATIONS)}.")
    if activation == "softmax" and width == 1:
        raise SpecError(f"{name}: softmax over a single neuron always gives 1; use sigmoid, or give the layer "
                        "one neuron per class.")
    return {"weights": rows, "biases": biases, "activation": activation}


def _quoted(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _texts(spec: dict) -> dict:
    out = {}
    for key, limit in (("name", MAX_NAME), ("description", MAX_DESCRIPTION)):
        text = spec.get(key)
        if isinstance(text, str) and len(text) > limit:
            raise SpecError(f"The spec's {key} has {len(text):,} characters; keep it to {limit} or fewer.")
        if isinstance(text, str) and text.strip():
            out[key] = text
    return out


def validate_spec(spec) -> dict:
    """Return a clean copy of the spec (floats only), or raise SpecError naming the bad place."""
    fields = ("inputs", "layers", "targets", "loss", "learning_rate")
    if not isinstance(spec, dict):
        raise SpecError(f"The spec must be a JSON object with the fields {', '.join(fields)}.")
    missing = [key for key in fields if key not in spec]
    if missing:
        raise SpecError(f"The spec is missing {', '.join(repr(m) for m in missing)}.")
    texts = _texts(spec)
    if isinstance(spec["inputs"], list) and len(spec["inputs"]) > MAX_WIDTH:
        raise SpecError(f"There are {len(spec['inputs'])} inputs; keep it to {MAX_WIDTH} or fewer.")
    inputs = _numbers(spec["inputs"], "Inputs")
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
        raise SpecError(f"Unknown loss {_quoted(loss)}; choose one of {', '.join(LOSSES)}.")
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
    return {"inputs": inputs, "layers": clean, "targets": targets, "loss": loss, "learning_rate": rate, **texts}


# ---------- tables: every cell is text, read with the one number parser ----------

def neuron_names(spec) -> list[list[str]]:
    """Names of the input values, then of each layer's neurons (x1…, h1…, o1…)."""
    hidden = len(spec["layers"]) - 1
    names = [[f"x{i + 1}" for i in range(len(spec["inputs"]))]]
    for index, layer in enumerate(spec["layers"], start=1):
        prefix = "o" if index == len(spec["layers"]) else ("h" if hidden == 1 else f"h{index}.")
        names.append([f"{prefix}{j + 1}" for j in range(len(layer["biases"]))])
    return names


def cell_text(value: float) -> str:
    """A number as a table cell shows it: exact (it reads back as the same float), without a needless '.0'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def layer_table(spec, index: int) -> pd.DataFrame:
    """Layer `index` (0-based) as one text table: a row per incoming value plus a bias row, a column per neuron."""
    names, layer = neuron_names(spec), spec["layers"][index]
    rows = [[cell_text(v) for v in row] for row in layer["weights"] + [layer["biases"]]]
    return pd.DataFrame(rows, index=[f"from {n}" for n in names[index]] + ["bias"],
                        columns=[f"to {n}" for n in names[index + 1]], dtype=object)


def _cell(value, where: str):
    """A table cell as a number (remembering what was typed), or None when empty; unreadable text raises."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        return WrittenNumber(parse_number(value, where, error=SpecError), value.strip())
    return value


def layer_from_table(table: pd.DataFrame, activation: str, name: str = "Layer") -> dict:
    """The inverse of layer_table; `name` (e.g. 'Layer 2') names a cell that is not a number."""
    values = table.astype(object).to_numpy().tolist()
    weights = [[_cell(v, f"{name}, weights row {r}, column {c}") for c, v in enumerate(row, start=1)]
               for r, row in enumerate(values[:-1], start=1)]
    biases = [_cell(v, f"{name}, biases, position {c}") for c, v in enumerate(values[-1], start=1)]
    return {"weights": weights, "biases": biases, "activation": activation}


def row_table(values, names: list[str], label: str) -> pd.DataFrame:
    """A one-row text table (inputs or targets) with one column per name."""
    return pd.DataFrame([[cell_text(v) for v in values]], index=[label], columns=names, dtype=object)


def row_from_table(table: pd.DataFrame, name: str = "Values") -> list:
    """The inverse of row_table; `name` (e.g. 'Inputs') names a cell that is not a number."""
    cells = table.astype(object).to_numpy()[0].tolist()
    return [_cell(v, f"{name}, position {k}") for k, v in enumerate(cells, start=1)]


# ---------- files ----------

def spec_to_json(spec) -> str:
    """The spec as indented JSON text, ready to download and upload again."""
    keys = ("name", "description", "inputs", "layers", "targets", "loss", "learning_rate")
    return json.dumps({k: spec[k] for k in keys if k in spec}, indent=2) + "\n"


def spec_from_json(data: bytes | str) -> dict:
    """Read and validate a JSON spec; any problem becomes a SpecError with a plain message."""
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"The file has {len(data):,} bytes; a spec is at most {MAX_FILE_BYTES:,} bytes.")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SpecError("The file is not UTF-8 text; upload a .json spec file.") from None
    try:
        # Numbers keep their written text, so a 400- or 5000-digit number gets a message quoting it.
        spec = json.loads(data, parse_int=json_number, parse_float=json_number)
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
