"""Every control of the recurrent page in its address: presets, edited tables, gradient and memory settings."""
import streamlit as st

from models.core.links import MAX_TEXT_LENGTH, Field, check_schema
from models.sequences import gradients as gt
from models.sequences import memory
from models.sequences import rnn_steps as rs
from pages.evaluation.present_parts import also_ignored, parse_grid, seed_tables

PAGE = "recurrent"
K = "recurrent_"
PRESETS = {cell: rs.load_presets(cell) for cell in ("simple_rnn", "lstm")}
SHORT = {"simple_rnn": "rnn", "lstm": "lstm"}
SYMBOL = {"inputs": "x", "kernel": "w", "recurrent_kernel": "u", "bias": "b"}  # table -> key and address part
LENGTHS = (5, 10, 20, 40, 60, 80)
# widget key -> (name in the address, kind, low, high, choices, default)
RANGES = {K + f"{cell}_preset": (SHORT[cell], "choice", None, None, tuple(PRESETS[cell]), next(iter(PRESETS[cell])))
          for cell in PRESETS} | {
    K + "grad_length": ("length", "int", 2, gt.MAX_LENGTH, (), 50),
    K + "grad_scale": ("scale", "float", 0.1, 3.0, (), 0.9),
    K + "grad_activation": ("act", "choice", None, None, gt.ACTIVATIONS, "tanh"),
    K + "grad_cells": ("cells", "subset", None, None, tuple(gt.CELLS), list(gt.CELLS)),
    K + "mem_lengths": ("lengths", "subset", None, None, LENGTHS, list(memory.DEFAULTS.lengths)),
    K + "mem_units": ("units", "int", 1, memory.MAX_UNITS, (), memory.DEFAULTS.units),
    K + "mem_epochs": ("epochs", "int", 1, 200, (), memory.DEFAULTS.epochs),
    K + "mem_seed": ("seed", "int", 0, 2**31 - 1, (), memory.DEFAULTS.seed),
}
DEFAULTS = {key: spec[-1] for key, spec in RANGES.items()}


def text_key(cell: str, table: str) -> str:
    """The session key of a table's numbers as the address keeps them ("" while it equals its preset)."""
    return f"{K}{cell}_{SYMBOL[table]}_text"


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, low, high, choices, _default = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)


def schema() -> tuple[Field, ...]:
    fields = []
    for key, (name, kind, low, high, choices, default) in RANGES.items():
        bounds = {} if low is None else {"low": low, "high": high}
        fields.append(Field(key, name, kind, default, choices=choices, **bounds))
    fields += [Field(text_key(cell, table), f"{SHORT[cell]}_{symbol}", "text", "", max_length=MAX_TEXT_LENGTH)
               for cell in PRESETS for table, symbol in SYMBOL.items()]
    return check_schema(fields)


SCHEMA = schema()


def shapes(preset: dict) -> dict:
    """table -> (rows or None for any number of time steps, columns) of a preset's tables."""
    n_inputs, columns = len(preset["inputs"][0]), len(preset["kernel"][0])
    return {"inputs": (None, n_inputs), "kernel": (n_inputs, columns),
            "recurrent_kernel": (len(preset["recurrent_kernel"]), columns), "bias": (1, columns)}


def restore_tables() -> None:
    """After a link was opened: its edited tables seed the editors; a table that does not fit is named."""
    seeds, bad = {}, []
    for cell, short in SHORT.items():
        name = st.session_state[K + f"{cell}_preset"]
        for table, (rows, columns) in shapes(PRESETS[cell][name]).items():
            text = st.session_state[text_key(cell, table)]
            if not text:
                continue
            values = parse_grid(text, columns=columns, rows=rows, max_rows=rs.MAX_SIZE)
            if values is None:
                bad.append(f"{short}_{SYMBOL[table]}")
                st.session_state[text_key(cell, table)] = ""
            else:
                seeds[f"{cell}_{SYMBOL[table]}_{name}"] = values
    seed_tables(PAGE, seeds)
    also_ignored(SCHEMA, PAGE, bad)
