"""Every control of the over/underfitting page in its address: one field per widget, with the widget's range."""
from models.core.links import Field, check_schema
from models.engine.mlp import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_UNITS
from models.engine.settings import MAX_EPOCHS, OPTIMIZERS
from models.training import overfitting as ov
from models.training.datasets import DATASETS, MAX_SAMPLES
from pages.training.overfitting_runs import DEFAULTS, K

PAGE = "overfitting"
# (widget key, name in the address, kind, low, high, choices); the widgets in pages/overfitting.py use these ranges.
RANGES = {
    "dataset": ("data", "choice", None, None, tuple(DATASETS)),
    "noise": ("noise", "float", 0.0, 1.0, ()),
    "n_samples": ("points", "int", ov.MIN_POINTS, MAX_SAMPLES // 2, ()),
    "validation_fraction": ("val", "float", 0.1, 0.9, ()),
    "hidden_layers": ("layers", "int", 0, MAX_HIDDEN_LAYERS, ()),
    "units": ("units", "int", 0, MAX_UNITS, ()),
    "activation": ("act", "choice", None, None, ACTIVATIONS),
    "epochs": ("epochs", "int", 0, MAX_EPOCHS, ()),
    "optimizer": ("opt", "choice", None, None, tuple(OPTIMIZERS)),
    "learning_rate": ("lr", "float", 0.0, 100.0, ()),
    "batch_size": ("batch", "int", 1, 10_000, ()),
    "seed": ("seed", "int", 0, 2**31 - 1, ()),
    "l1": ("l1", "float", 0.0, 1.0, ()),
    "l2": ("l2", "float", 0.0, 1.0, ()),
    "early_stopping": ("stop", "bool", None, None, ()),
    "patience": ("patience", "int", 1, 1000, ()),
}


def _field(widget: str, name: str, kind: str, low, high, choices) -> Field:
    bounds = {} if low is None else {"low": low, "high": high}
    return Field(K + widget, name, kind, DEFAULTS[K + widget], choices=choices, **bounds)


SCHEMA = check_schema(_field(widget, *spec) for widget, spec in RANGES.items())


def span(widget: str) -> tuple:
    """(lowest, highest) of a number widget, as the address accepts them."""
    _name, _kind, low, high, _choices = RANGES[widget]
    return low, high
