"""Every control of the validation page in its address, with the widgets' own ranges and choices."""
from models.core.links import Field, check_schema
from models.evaluation.validation import MAX_K

PAGE = "validation"
K = "validation_"
CELLS = tuple(f"{t}-{p}" for t in range(10) for p in range(10))  # a confusion-matrix cell: true-predicted
# widget key -> (name in the address, kind, low, high, choices, default)
RANGES = {
    K + "k": ("k", "int", 2, MAX_K, (), 5),
    K + "fold_seed": ("seed", "int", 0, 2**31 - 1, (), 0),
    K + "stratified": ("strat", "bool", None, None, (), True),
    K + "threshold": ("t", "float", 0.0, 1.0, (), 0.5),
    K + "share": ("share", "float", 0.01, 0.5, (), 0.05),
    K + "cell": ("cell", "choice", None, None, CELLS, "0-0"),
}
DEFAULTS = {key: spec[-1] for key, spec in RANGES.items()}


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, low, high, choices, _default = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)


def schema() -> tuple[Field, ...]:
    fields = []
    for key, (name, kind, low, high, choices, default) in RANGES.items():
        bounds = {} if low is None else {"low": low, "high": high}
        fields.append(Field(key, name, kind, default, choices=choices, **bounds))
    return check_schema(fields)


SCHEMA = schema()
