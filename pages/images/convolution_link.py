"""Every control of the convolution page in its address: input, kernel (its numbers too), pooling and the CNN."""
import numpy as np
import streamlit as st

from models.core.links import Field, check_schema
from models.engine import cnn
from models.images import convolution as cv
from models.vision.images import gallery
from pages.evaluation.present_parts import also_ignored, parse_grid, seed_tables

PAGE = "convolution"
K = "convolution_"
SOURCES = ("Handwritten digit", "Picture")
SIZES = (3, 5)
# widget key -> (name in the address, kind, low, high, choices, default)
RANGES = {
    K + "source": ("input", "choice", None, None, SOURCES, SOURCES[0]),
    K + "digit": ("digit", "int", 0, 1796, (), 0),
    K + "picture_sample": ("sample", "choice", None, None, tuple(sorted(gallery())), "digit_six"),
    K + "preset": ("kernel", "choice", None, None, tuple(cv.KERNELS), next(iter(cv.KERNELS))),
    K + "size": ("size", "choice", None, None, SIZES, 3),
    K + "stride": ("stride", "int", 1, cv.MAX_SIDE, (), 1),
    K + "padding": ("padding", "choice", None, None, cv.PADDINGS, cv.PADDINGS[0]),
    K + "dilation": ("dilation", "int", 1, 3, (), 1),
    K + "bias": ("bias", "float", -100.0, 100.0, (), 0.0),
    K + "row": ("row", "int", 0, cv.MAX_SIDE - 1, (), 11),  # the page keeps both inside the output map
    K + "col": ("col", "int", 0, cv.MAX_SIDE - 1, (), 11),
    K + "pool_kind": ("pool", "choice", None, None, cv.POOLS, cv.POOLS[0]),
    K + "pool_size": ("window", "int", 1, 8, (), 2),
    K + "pool_stride": ("pool_stride", "int", 1, 8, (), 2),
    K + "shift": ("shift", "int", 1, 2, (), 1),
    K + "f1": ("f1", "int", 1, 64, (), 16),
    K + "f2": ("f2", "int", 0, 64, (), 32),
    K + "cnn_pool": ("cnn_pool", "choice", None, None, cnn.POOLINGS, cnn.POOLINGS[0]),
    K + "dense": ("dense", "int", 0, 256, (), 64),
    K + "dropout": ("dropout", "float", 0.0, 0.9, (), 0.25),
    K + "epochs": ("epochs", "int", 1, 100, (), 20),
    K + "seed": ("seed", "int", 0, 2**31 - 1, (), 0),
}
DEFAULTS = {key: spec[-1] for key, spec in RANGES.items()}
KERNEL_TEXT = K + "kernel_text"  # the kernel's numbers as the address keeps them ("" while they equal the preset)


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, low, high, choices, _default = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)


def schema() -> tuple[Field, ...]:
    fields = []
    for key, (name, kind, low, high, choices, default) in RANGES.items():
        bounds = {} if low is None else {"low": low, "high": high}
        fields.append(Field(key, name, kind, default, choices=choices, **bounds))
    return check_schema([*fields, Field(KERNEL_TEXT, "weights", "text", "", max_length=600)])


SCHEMA = schema()


def preset_kernel(preset: str, size: int) -> np.ndarray:
    return np.pad(np.array(cv.KERNELS[preset], float), (size - 3) // 2)


def editor_name(preset: str, size: int) -> str:
    return f"kernel_{preset}_{size}"


def restore_kernel() -> None:
    """After a link was opened: its kernel numbers seed the grid; numbers that do not fit its size are named."""
    state = st.session_state
    size, text = state[K + "size"], state[KERNEL_TEXT]
    values = parse_grid(text, columns=size, rows=size) if text else None
    if text and values is None:
        state[KERNEL_TEXT] = ""
        also_ignored(SCHEMA, PAGE, ["weights"])
    seed_tables(PAGE, {} if values is None else {editor_name(state[K + "preset"], size): values})
