"""Every control of the dropout page in its address, with the widgets' own ranges and choices."""
from models.core.links import Field, check_schema
from models.engine.settings import MAX_EPOCHS
from models.training.datasets import CLASSIFICATION_DATASETS

PAGE = "dropout"
WIDTHS = (16, 32, 64, 128, 256, 512)
DEPTHS = (1, 2, 3)
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1)
# widget key -> (name in the address, kind, low, high, choices)
RANGES = {
    "dropout_rate": ("rate", "float", 0.0, 0.9, ()),
    "dropout_dataset": ("data", "choice", None, None, tuple(CLASSIFICATION_DATASETS)),
    "dropout_points": ("points", "int", 20, 1000, ()),
    "dropout_noise": ("noise", "float", 0.0, 0.6, ()),
    "dropout_width": ("width", "choice", None, None, WIDTHS),
    "dropout_depth": ("layers", "choice", None, None, DEPTHS),
    "dropout_epochs": ("epochs", "int", 0, MAX_EPOCHS, ()),
    "dropout_learning_rate": ("lr", "choice", None, None, LEARNING_RATES),
    "dropout_seed": ("seed", "int", 0, 9999, ()),
} | {f"dropout_layers_{depth}": (f"drop{depth}", "subset", None, None, tuple(range(1, depth + 1))) for depth in DEPTHS}


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, low, high, choices = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)


def schema(defaults: dict) -> tuple[Field, ...]:
    fields = []
    for key, (name, kind, low, high, choices) in RANGES.items():
        bounds = {} if low is None else {"low": low, "high": high}
        fields.append(Field(key, name, kind, defaults[key], choices=choices, **bounds))
    return check_schema(fields)
