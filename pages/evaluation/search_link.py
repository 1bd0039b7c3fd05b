"""Every control of the hyperparameter-search page in its address, with the widgets' own ranges and choices."""
from models.core.links import Field, check_schema
from models.evaluation.search import MAX_BUDGET, SPACE

PAGE = "search"
K = "search_"
# widget key -> (name in the address, kind, low, high, choices, default)
RANGES = {
    K + "names": ("search", "subset", None, None, tuple(SPACE), list(SPACE)),
    K + "budget": ("budget", "int", 1, MAX_BUDGET, (), 16),
    K + "seed": ("seed", "int", 0, 2**31 - 1, (), 0),
    K + "epochs": ("epochs", "int", 1, 500, (), 100),
    K + "patience": ("patience", "int", 1, 100, (), 10),
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
