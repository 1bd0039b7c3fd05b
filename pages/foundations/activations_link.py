"""Every control of the activations page in its address, with the widgets' own ranges and choices."""
from models.core.links import check_schema
from models.foundations import activations as act
from pages.foundations.checked_links import schema

PAGE = "activations"
NAMES = tuple(act.ACTIVATIONS)
TEXT_LENGTH = 200  # characters a text box takes, and so its link
X = (-100.0, 100.0)
# widget key -> (name in the address, kind, low, high, choices[, longest text])
RANGES = {
    # the overlaid functions in the student's order (a subset field would sort them): names, comma-separated
    "activations_functions_link": ("f", "text", None, None, NAMES, TEXT_LENGTH),
    "activations_x_min": ("xmin", "float", *X, ()),
    "activations_x_max": ("xmax", "float", *X, ()),
    "activations_slope": ("slope", "float", 0.0, 1.0, ()),
    "activations_elu_alpha": ("alpha", "float", 0.01, 10.0, ()),
    "activations_gelu_approximate": ("gelu_tanh", "bool", None, None, ()),
    "activations_softmax_others": ("others", "text", None, None, (), TEXT_LENGTH),
    "activations_quiz_function": ("quiz", "choice", None, None, NAMES),
    "activations_quiz_quantity": ("quiz_of", "choice", None, None, ("value", "slope")),
    "activations_quiz_x": ("quiz_x", "float", *X, ()),
    "activations_probe_x": ("probe", "float", *X, ()),
    "activations_softmax_vector": ("logits", "text", None, None, (), TEXT_LENGTH),
    "activations_show_jacobian": ("jacobian", "bool", None, None, ()),
}
FUNCTIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]
DEFAULTS = {"activations_functions_link": ",".join(FUNCTIONS), "activations_x_min": -6.0,
            "activations_x_max": 6.0, "activations_slope": act.LEAKY_RELU_DEFAULT_SLOPE, "activations_elu_alpha": 1.0,
            "activations_gelu_approximate": False, "activations_softmax_others": "0, 1",
            "activations_quiz_function": "sigmoid", "activations_quiz_quantity": "value", "activations_quiz_x": 2.0,
            "activations_probe_x": 1.0, "activations_softmax_vector": "2, 1, 0.1", "activations_show_jacobian": False}


def function_names(text: str) -> list[str]:
    """The functions a link names, in its order; ValueError for an unknown or repeated one."""
    names = [part.strip() for part in text.split(",")] if text.strip() else []
    if any(name not in NAMES for name in names) or len(set(names)) != len(names):
        raise ValueError("Unknown or repeated function.")
    return names


SCHEMA = check_schema(schema(RANGES, DEFAULTS))
# Text a link carries is read by the page's own parsers; text they refuse falls back to the default.
CHECKS = {"activations_functions_link": function_names,
          "activations_softmax_others": lambda text: act.check_settings("softmax", others=text),
          "activations_softmax_vector": act.parse_vector}


def span(key: str):
    """(lowest, highest) of a number widget, its choices, or the longest text it takes."""
    _name, kind, low, high, choices, *length = RANGES[key]
    if kind == "text":
        return list(choices) if choices else length[0]
    return (low, high) if kind in ("int", "float") else list(choices)
