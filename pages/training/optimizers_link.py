"""Every control of the optimisers page in its address, with the widgets' own ranges and choices."""
from models.core.links import check_schema
from models.core.numbers import MAX_NUMBER_TEXT, check_number, parse_number
from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES
from pages.foundations.checked_links import schema

PAGE = "optimizers"
NAMES = tuple(opt.OPTIMIZERS)
MAX_STEPS = 500  # the steps slider's top; the step and update sliders stop at the chosen steps
# widget key -> (name in the address, kind, low, high, choices[, longest text])
RANGES = {
    "optim_surface": ("surface", "choice", None, None, tuple(SURFACES)),
    # the racing optimisers in the student's order (a subset field would sort them): names, comma-separated
    "optim_optimizers_link": ("opt", "text", None, None, NAMES, 100),
    "optim_learning_rate": ("lr", "text", None, None, (), MAX_NUMBER_TEXT),
    "optim_momentum": ("m", "float", 0.0, 0.99, ()),
    "optim_steps": ("steps", "int", 10, MAX_STEPS, ()),
    "optim_step": ("step", "int", 0, MAX_STEPS, ()),
    "optim_update": ("k", "int", 1, MAX_STEPS, ()),
    "optim_fit_learning_rate": ("fit_lr", "text", None, None, (), MAX_NUMBER_TEXT),
    "optim_fit_epochs": ("epochs", "int", 1, 40, ()),
    "optim_points": ("points", "int", 10, 500, ()),
    "optim_noise": ("noise", "float", 0.0, 2.0, ()),
    "optim_seed": ("seed", "int", 0, 9999, ()),
}
DEFAULTS = {"optim_surface": "ravine", "optim_optimizers_link": ",".join(NAMES),
            "optim_learning_rate": str(SURFACES["ravine"].learning_rate), "optim_momentum": 0.9, "optim_steps": 200,
            "optim_step": 200, "optim_update": 5, "optim_fit_learning_rate": "0.1", "optim_fit_epochs": 10,
            "optim_points": 100, "optim_noise": 0.5, "optim_seed": 0}


def optimizer_names(text: str) -> list[str]:
    """The optimisers a link names, in its order; ValueError for an unknown or repeated one."""
    names = [part.strip() for part in text.split(",")] if text.strip() else []
    if any(name not in NAMES for name in names) or len(set(names)) != len(names):
        raise ValueError("Unknown or repeated optimiser.")
    return names


def rate_check(highest: float):
    """A learning rate as the page reads it: a number in (0, highest]."""
    return lambda text: check_number(parse_number(text, "The learning rate"), "The learning rate", low=0,
                                     high=highest, low_open=True)


SCHEMA = check_schema(schema(RANGES, DEFAULTS))
CHECKS = {"optim_optimizers_link": optimizer_names, "optim_learning_rate": rate_check(opt.MAX_LEARNING_RATE),
          "optim_fit_learning_rate": rate_check(lf.MAX_LEARNING_RATE)}


def span(key: str):
    """(lowest, highest) of a number widget, its choices, or the longest text it takes."""
    _name, kind, low, high, choices, *length = RANGES[key]
    if kind == "text":
        return list(choices) if choices else length[0]
    return (low, high) if kind in ("int", "float") else list(choices)
