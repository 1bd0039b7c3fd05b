"""Every setting of the transfer-learning page in its address, with the widgets' own ranges and choices.

Pictures cannot travel in a link: a link opens with the built-in shapes (its class names and number of classes
wait for the student's own pictures), and a new picture to try is a new shape.
"""
from models.core.links import Field, check_schema
from models.images import transfer
from models.images import transfer_run as tr
from models.vision.shapes import MAX_PER_CLASS, SHAPES

PAGE = "transfer"
K = "transfer_"
SOURCES = ("Built-in shapes", "My own pictures")
TRY_SOURCES = ("A new shape", "Upload", "Camera")
UNITS = (16, 32, 64, 128, 256)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
MAX_SEED = 10_000
HEAD = tr.HeadSettings()
RANDOM = "Random weights (features are meaningless for real photos; only shows the mechanics)"
WEIGHTS = {"imagenet": "ImageNet weights (the real thing)", "random": RANDOM}
# widget key -> (name in the address, kind, default, low, high, choices)
RANGES = {
    K + "model": ("model", "choice", "vgg16", None, None, tuple(transfer.BASES)),
    **{K + f"size_{name}": (f"size_{name}", "choice", spec.sizes[0], None, None, spec.sizes)
       for name, spec in transfer.BASES.items()},
    K + "weights": ("weights", "choice", "imagenet", None, None, tuple(WEIGHTS)),
    K + "n_per_class": ("per_class", "int", 20, 6, MAX_PER_CLASS, ()),
    K + "data_seed": ("data_seed", "int", 0, 0, MAX_SEED, ()),
    K + "n_classes": ("classes", "int", transfer.MIN_CLASSES, transfer.MIN_CLASSES, transfer.MAX_CLASSES, ()),
    **{K + f"name_{c}": (f"name{c + 1}", "text", f"Class {c + 1}", None, None, ())
       for c in range(transfer.MAX_CLASSES)},
    K + "epochs": ("epochs", "int", HEAD.epochs, 1, 200, ()),
    K + "units": ("units", "choice", HEAD.units, None, None, UNITS),
    K + "dropout": ("dropout", "float", HEAD.dropout, 0.0, 0.7, ()),
    K + "lr": ("lr", "choice", HEAD.learning_rate, None, None, LEARNING_RATES),
    K + "val_share": ("val", "float", HEAD.validation_share, 0.1, 0.5, ()),
    K + "copies": ("copies", "int", HEAD.copies, 0, transfer.MAX_COPIES, ()),
    K + "seed": ("seed", "int", HEAD.seed, 0, MAX_SEED, ()),
    K + "try_shape": ("try_shape", "choice", SHAPES[0], None, None, SHAPES),
    K + "try_seed": ("try_seed", "int", 999, 0, MAX_SEED, ()),
    K + "ft_epochs": ("ft_epochs", "int", 2, 1, transfer.MAX_FINE_TUNE_EPOCHS, ()),
}


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, _default, low, high, choices = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)


def defaults() -> dict:
    return {key: spec[2] for key, spec in RANGES.items()}


def _field(key, name, kind, default, low, high, choices) -> Field:
    bounds = {} if low is None else {"low": low, "high": high}
    length = {"max_length": tr.MAX_NAME_LENGTH} if kind == "text" else {}
    return Field(key, name, kind, default, choices=choices, **bounds, **length)


SCHEMA = check_schema(_field(key, *spec) for key, spec in RANGES.items())
