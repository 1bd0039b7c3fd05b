"""Every control of the loss-functions page in its address, with the widgets' own ranges and choices."""
import pandas as pd

from models.core.links import check_schema
from models.training import loss_fit as F
from models.training import losses as L
from pages.foundations.checked_links import schema

PAGE = "loss_functions"
TASKS = {"classification": "Classification (target 0 or 1, prediction a probability)",
         "regression": "Regression (target and prediction any numbers)"}
POINTS_LENGTH = 2000  # 40 points of two shortest-round-trip floats fit
# widget key -> (name in the address, kind, low, high, choices[, longest text])
RANGES = {
    "loss_task": ("task", "choice", None, None, tuple(TASKS)),
    "loss_target": ("y", "choice", None, None, (0, 1)),
    "loss_prediction": ("p", "float", 0.0, 1.0, ()),
    "loss_regression_target": ("ry", "float", -100.0, 100.0, ()),
    "loss_regression_prediction": ("rp", "float", -1000.0, 1000.0, ()),
    "loss_delta": ("delta", "float", 0.1, 3.0, ()),
    "loss_logit_target": ("zy", "choice", None, None, (0, 1)),
    "loss_logit": ("z", "float", -50.0, 50.0, ()),
    "loss_points_link": ("points", "text", None, None, (), POINTS_LENGTH),  # the edited table, as numbers
    "loss_fit_delta": ("fit_delta", "float", 0.1, 5.0, ()),
}


def _text(value: float) -> str:
    text = repr(float(value))  # the shortest text that reads back as exactly this float
    return text[:-2] if text.endswith(".0") else text


def points_text(x, y) -> str:
    """Points as the address carries them: 'x,y;x,y;…', every number exact."""
    return ";".join(f"{_text(a)},{_text(b)}" for a, b in zip(x, y))


def points_table(text: str) -> pd.DataFrame:
    """The table a link's points give; ValueError (naming the cell) when they are not points the page takes."""
    pairs = [pair.split(",") for pair in text.split(";")] if text else []
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("Points must be x,y pairs.")
    table = pd.DataFrame({"x": [p[0].strip() for p in pairs], "y": [p[1].strip() for p in pairs]}, dtype=object)
    F.parse_points(table)
    return table


DEFAULTS = {"loss_task": L.DEFAULTS["task"], "loss_target": int(L.DEFAULTS["target"]),
            "loss_prediction": L.DEFAULTS["prediction"], "loss_regression_target": L.DEFAULTS["regression_target"],
            "loss_regression_prediction": L.DEFAULTS["regression_prediction"], "loss_delta": L.DEFAULTS["delta"],
            "loss_logit_target": L.DEFAULTS["logit_target"], "loss_logit": L.DEFAULTS["logit"],
            "loss_points_link": points_text(F.REFERENCE["x"], F.REFERENCE["y"]), "loss_fit_delta": F.FIT["delta"]}
SCHEMA = check_schema(schema(RANGES, DEFAULTS))
CHECKS = {"loss_points_link": points_table}  # read by the table's own parser


def span(key: str):
    """(lowest, highest) of a number widget, or its choices."""
    _name, kind, low, high, choices, *_ = RANGES[key]
    return (low, high) if kind in ("int", "float") else list(choices)
