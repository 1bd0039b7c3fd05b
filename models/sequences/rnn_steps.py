"""A SimpleRNN and an LSTM computed by hand in NumPy, step by step, with the weights laid out as Keras keeps them.

SimpleRNN: kernel W (inputs, units), recurrent kernel U (units, units), bias b (units).
LSTM: kernel (inputs, 4·units), recurrent kernel (units, 4·units), bias (4·units), gate columns in Keras'
order i, f, c, o (input, forget, candidate, output). Keras is imported only inside the Keras routes.
"""
import json
import math

import numpy as np
import pandas as pd

from models.core.numbers import check_number, parse_number
from models.core.paths import DATA_DIR

PRESETS_DIR = DATA_DIR / "sequences"
GATES = ("i", "f", "g", "o")  # Keras calls the candidate "c" in its code; textbooks write g or c̃
GATE_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate (Keras' c)", "o": "output gate"}
ACTIVATIONS = ("tanh", "relu", "linear", "sigmoid")
MAX_SIZE = 64  # inputs, units or time steps a hand computation takes


# ---------- reading tables ----------

def _labels(values, axis: int, count: int, default: str) -> list[str]:
    if isinstance(values, pd.DataFrame):
        return [str(v) for v in (values.index if axis == 0 else values.columns)]
    return [f"{default}{k + 1}" for k in range(count)]


def as_matrix(values, table: str, *, rows: int | None = None, columns: int | None = None,
              rows_are: str = "rows", columns_are: str = "columns") -> np.ndarray:
    """A table of numbers as a float64 matrix: text cells are parsed ('2e3', '1,5'), other cells checked.

    Raises ValueError naming the table and the cell, or the table and its shape.
    """
    if isinstance(values, pd.DataFrame):
        cells = values.to_numpy(dtype=object).tolist()
    else:
        array = np.asarray(values, dtype=object)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2:
            raise ValueError(f"{table} must be a table (rows and columns) of numbers.")
        cells = array.tolist()
    if not cells or not cells[0]:
        raise ValueError(f"{table} is empty; it needs at least one row and one column.")
    row_names = _labels(values, 0, len(cells), "row ")
    column_names = _labels(values, 1, len(cells[0]), "column ")
    if rows is not None and len(cells) != rows:
        raise ValueError(f"{table} has {len(cells)} {rows_are if len(cells) != 1 else rows_are.rstrip('s')} but "
                         f"needs {rows}.")
    if columns is not None and len(cells[0]) != columns:
        raise ValueError(f"{table} has {len(cells[0])} {columns_are} but needs {columns}.")
    matrix = np.empty((len(cells), len(cells[0])))
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            where = f"{table}, {row_names[r]}, {column_names[c]}"
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise ValueError(f"{where} is empty; type a number.")
            matrix[r, c] = parse_number(value, where) if isinstance(value, str) else check_number(value, where)
    return matrix


def _vector(values, table: str, size: int, what: str) -> np.ndarray:
    matrix = as_matrix(values, table)
    if 1 not in matrix.shape or matrix.size != size:
        raise ValueError(f"{table} has {matrix.size} numbers but needs {size} ({what}).")
    return matrix.reshape(-1)


def _inputs(inputs) -> np.ndarray:
    x = as_matrix(inputs, "Inputs x", rows_are="time steps", columns_are="inputs")
    if x.shape[0] > MAX_SIZE or x.shape[1] > MAX_SIZE:
        raise ValueError(f"Inputs x has {x.shape[0]} time steps and {x.shape[1]} inputs; keep both to {MAX_SIZE}.")
    return x


def _activation(name: str):
    functions = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z, "sigmoid": sigmoid}
    if name not in functions:
        raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
    return functions[name]


def sigmoid(z):
    """1 / (1 + e^−z), without overflow for very negative z."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


# ---------- the two cells ----------

def simple_rnn_parts(inputs, kernel, recurrent_kernel, bias, h0=None):
    """Checked x (T, n), W (n, u), U (u, u), b (u,), h0 (u,)."""
    x = _inputs(inputs)
    w = as_matrix(kernel, "Kernel W", rows=x.shape[1], rows_are="rows (one per input)")
    units = w.shape[1]
    u = as_matrix(recurrent_kernel, "Recurrent kernel U", rows=units, columns=units,
                  rows_are="rows (one per unit)", columns_are="columns (one per unit)")
    b = _vector(bias, "Bias b", units, "one per unit")
    h = np.zeros(units) if h0 is None else _vector(h0, "Initial state h0", units, "one per unit")
    return x, w, u, b, h


def simple_rnn_steps(inputs, kernel, recurrent_kernel, bias, *, h0=None, activation="tanh") -> np.ndarray:
    """Every h_t = activation(x_t·W + h_{t−1}·U + b), shape (time steps, units)."""
    f = _activation(activation)
    x, w, u, b, h = simple_rnn_parts(inputs, kernel, recurrent_kernel, bias, h0)
    states = []
    for x_t in x:
        h = f(x_t @ w + h @ u + b)
        states.append(h)
    return np.array(states)


def lstm_parts(inputs, kernel, recurrent_kernel, bias, h0=None, c0=None):
    """Checked x (T, n), kernel (n, 4u), recurrent kernel (u, 4u), bias (4u,), h0 and c0 (u,)."""
    x = _inputs(inputs)
    w = as_matrix(kernel, "LSTM kernel W", rows=x.shape[1], rows_are="rows (one per input)")
    if w.shape[1] % 4:
        raise ValueError(f"LSTM kernel W has {w.shape[1]} columns; it needs 4 × units (gates i, f, c, o).")
    units = w.shape[1] // 4
    u = as_matrix(recurrent_kernel, "LSTM recurrent kernel U", rows=units, columns=4 * units,
                  rows_are="rows (one per unit)", columns_are="columns (4 × units)")
    b = _vector(bias, "LSTM bias b", 4 * units, "4 × units: gates i, f, c, o")
    h = np.zeros(units) if h0 is None else _vector(h0, "Initial state h0", units, "one per unit")
    c = np.zeros(units) if c0 is None else _vector(c0, "Initial cell state c0", units, "one per unit")
    return x, w, u, b, h, c


def lstm_steps(inputs, kernel, recurrent_kernel, bias, *, h0=None, c0=None) -> dict:
    """Every gate and state of an LSTM (Keras' defaults: tanh, recurrent sigmoid): h, c, i, f, g, o, each (T, units)."""
    x, w, u, b, h, c = lstm_parts(inputs, kernel, recurrent_kernel, bias, h0, c0)
    out = {name: [] for name in ("h", "c", *GATES)}
    for x_t in x:
        z_i, z_f, z_g, z_o = np.split(x_t @ w + h @ u + b, 4)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(("h", "c", "i", "f", "g", "o"), (h, c, i, f, g, o)):
            out[name].append(value)
    return {name: np.array(values) for name, values in out.items()}


# ---------- the same in Keras (float64) ----------

def keras_simple_rnn(inputs, kernel, recurrent_kernel, bias, *, h0=None, activation="tanh") -> np.ndarray:
    """`keras.layers.SimpleRNN(return_sequences=True)` in float64 holding these weights: every h_t."""
    from keras import layers

    _activation(activation)
    x, w, u, b, h = simple_rnn_parts(inputs, kernel, recurrent_kernel, bias, h0)
    layer = layers.SimpleRNN(w.shape[1], activation=activation, return_sequences=True, dtype="float64")
    layer.build((1, *x.shape))
    layer.set_weights([w, u, b])
    return np.asarray(layer(x[None], initial_state=[h[None]]))[0]


def keras_lstm(inputs, kernel, recurrent_kernel, bias, *, h0=None, c0=None) -> dict:
    """`keras.layers.LSTM(return_sequences=True, return_state=True)` in float64: h for every t, last h and c."""
    from keras import layers

    x, w, u, b, h, c = lstm_parts(inputs, kernel, recurrent_kernel, bias, h0, c0)
    layer = layers.LSTM(w.shape[1] // 4, return_sequences=True, return_state=True, dtype="float64")
    layer.build((1, *x.shape))
    layer.set_weights([w, u, b])
    sequence, h_last, c_last = layer(x[None], initial_state=[h[None], c[None]])
    return {"h": np.asarray(sequence)[0], "h_last": np.asarray(h_last)[0], "c_last": np.asarray(c_last)[0]}


# ---------- written out for the page ----------

def fmt(value: float) -> str:
    """A number as a student writes it: up to 6 significant digits, a true minus sign, never '-0'."""
    text = f"{float(value):.6g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def term(value: float) -> str:
    text = fmt(value)
    return f"({text})" if text.startswith("−") else text


def _sum_text(x_t, w_col, h_prev, u_col, bias) -> str:
    parts = [f"{term(a)}×{term(b)}" for a, b in zip(x_t, w_col)] + [f"{term(a)}×{term(b)}"
                                                                    for a, b in zip(h_prev, u_col)]
    return " + ".join(parts + [term(bias)])


def simple_rnn_lines(inputs, kernel, recurrent_kernel, bias, *, h0=None, activation="tanh") -> list[list[str]]:
    """Per time step, one line per unit: h_t = activation(x_t·W + h_{t−1}·U + b) with every number."""
    x, w, u, b, h = simple_rnn_parts(inputs, kernel, recurrent_kernel, bias, h0)
    states = simple_rnn_steps(x, w, u, b, h0=h, activation=activation)
    steps = []
    for t, x_t in enumerate(x):
        lines = []
        for j in range(w.shape[1]):
            z = x_t @ w[:, j] + h @ u[:, j] + b[j]
            lines.append(f"h{j + 1}(t={t + 1}) = {activation}({_sum_text(x_t, w[:, j], h, u[:, j], b[j])}) "
                         f"= {activation}({fmt(z)}) = {fmt(states[t, j])}")
        steps.append(lines)
        h = states[t]
    return steps


def lstm_lines(inputs, kernel, recurrent_kernel, bias, *, h0=None, c0=None) -> list[list[str]]:
    """Per time step: each gate of each unit with its numbers, then c_t = f·c_{t−1} + i·g and h_t = o·tanh(c_t)."""
    x, w, u, b, h, c = lstm_parts(inputs, kernel, recurrent_kernel, bias, h0, c0)
    units, result = w.shape[1] // 4, lstm_steps(x, w, u, b, h0=h, c0=c)
    steps = []
    for t, x_t in enumerate(x):
        lines = []
        for j in range(units):
            for k, gate in enumerate(GATES):
                col = k * units + j
                squash = "tanh" if gate == "g" else "sigmoid"
                z = x_t @ w[:, col] + h @ u[:, col] + b[col]
                lines.append(f"{gate}{j + 1} = {squash}({_sum_text(x_t, w[:, col], h, u[:, col], b[col])}) "
                             f"= {squash}({fmt(z)}) = {fmt(result[gate][t, j])}")
            f_, i_, g_, o_ = (result[n][t, j] for n in "figo")
            lines.append(f"c{j + 1} = f·c_prev + i·g = {term(f_)}×{term(c[j])} + {term(i_)}×{term(g_)} "
                         f"= {fmt(result['c'][t, j])}")
            lines.append(f"h{j + 1} = o·tanh(c) = {term(o_)}×tanh({fmt(result['c'][t, j])}) = {fmt(result['h'][t, j])}")
            lines.append("")
        steps.append(lines[:-1])
        h, c = result["h"][t], result["c"][t]
    return steps


def lstm_column_names(units: int) -> list[str]:
    """The kernel's column headers in Keras' order: i:h1, i:h2, …, f:h1, …, c:h1, …, o:h1, …"""
    return [f"{'c' if gate == 'g' else gate}:h{j + 1}" for gate in GATES for j in range(units)]


def weight_tables(preset: dict) -> dict[str, pd.DataFrame]:
    """A preset's inputs and weights as text tables, labelled as the page shows them."""
    x = np.asarray(preset["inputs"], float)
    w = np.asarray(preset["kernel"], float)
    lstm = preset["cell"] == "lstm"
    units = w.shape[1] // 4 if lstm else w.shape[1]
    columns = lstm_column_names(units) if lstm else [f"h{j + 1}" for j in range(units)]
    inputs = [f"x{k + 1}" for k in range(x.shape[1])]

    def table(values, index, cols):
        return pd.DataFrame(np.atleast_2d(values), index=index, columns=cols).map(fmt)

    return {"inputs": table(x, [f"t={t + 1}" for t in range(len(x))], inputs),
            "kernel": table(w, inputs, columns),
            "recurrent_kernel": table(preset["recurrent_kernel"], [f"h{j + 1}" for j in range(units)], columns),
            "bias": table([preset["bias"]], ["b"], columns)}


def load_presets(cell: str) -> dict[str, dict]:
    """The presets of one cell ("simple_rnn" or "lstm") from data/sequences/, by name."""
    presets = {}
    for path in sorted(PRESETS_DIR.glob(f"{cell}_*.json")):
        preset = json.loads(path.read_text(encoding="utf-8"))
        presets[preset["name"]] = preset
    return presets
