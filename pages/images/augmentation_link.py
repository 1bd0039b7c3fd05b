"""Every setting of the augmentation page in its address, with the widgets' own ranges and choices.

A (low, high) slider is two numbers in the address, `…_lo` and `…_hi`; `pair_keys` names the session keys that
carry them, and `join_pairs` turns them back into the slider's value, in order.
"""
from models.core.links import Field, check_schema
from models.images import augmentation as aug
from models.images import text_augmentation as eda
from models.vision.images import gallery

PAGE = "augmentation"
K = "augmentation_"
GRIDS = {"3 × 3": 3, "4 × 4": 4, "5 × 5": 5}
MAX_SEED = 2**31 - 100
DEFAULT_SAMPLE = "arrow_sign"


def _is_int(setting: aug.Setting) -> bool:
    return all(isinstance(v, int) for v in (setting.default, setting.low, setting.high, setting.step))


def _layer_fields():
    """(widget key, name in the address, kind, default, low, high, choices) of each layer's switch and settings."""
    for t in aug.TRANSFORMS.values():
        yield K + f"{t.key}_on", t.key, "bool", t.on_by_default, None, None, ()
        for s in t.settings:
            key, name = K + f"{t.key}_{s.name}", f"{t.key}_{s.name}"
            if s.choices:
                yield key, name, "choice", s.default, None, None, s.choices
            elif s.is_range:  # two numbers: the slider's ends
                for end, default in zip(("lo", "hi"), s.default):
                    yield f"{key}_{end}", f"{name}_{end}", "float", default, s.low, s.high, ()
            else:
                yield key, name, "int" if _is_int(s) else "float", s.default, s.low, s.high, ()


# widget key -> (name in the address, kind, default, low, high, choices)
RANGES = {key: spec for key, *spec in [
    (K + "sample", "picture", "choice", DEFAULT_SAMPLE, None, None, tuple(sorted(gallery()))),
    *_layer_fields(),
    (K + "fill_mode", "fill", "choice", aug.FILL_MODES[0], None, None, aug.FILL_MODES),
    (K + "grid_size", "grid", "choice", "3 × 3", None, None, tuple(GRIDS)),
    (K + "seed", "seed", "int", 1, 0, MAX_SEED, ()),
    (K + "text", "text", "text", eda.EXAMPLE_SENTENCE, None, None, ()),
    (K + "text_alpha", "alpha", "float", 0.1, 0.05, 0.5, ()),
    (K + "text_seed", "text_seed", "int", 0, 0, MAX_SEED, ()),
]}
PAIRS = {K + f"{t.key}_{s.name}": s.default for t in aug.TRANSFORMS.values() for s in t.settings if s.is_range}


def pair_keys(key: str) -> tuple[str, str]:
    return f"{key}_lo", f"{key}_hi"


def span(key: str) -> tuple:
    """(lowest, highest) of a number widget (a (low, high) slider's too), or its choices."""
    name, kind, _default, low, high, choices = RANGES[pair_keys(key)[0] if key in PAIRS else key]
    return (low, high) if kind in ("int", "float") else list(choices)


def defaults() -> dict:
    """Each widget's value before a student or a link changes it (a (low, high) slider's as a pair)."""
    values = {key: spec[2] for key, spec in RANGES.items()}
    return values | PAIRS


def join_pairs(values: dict) -> dict:
    """The (low, high) sliders' values from their two ends, smaller first (a link may give them swapped)."""
    return {key: tuple(sorted((values[pair_keys(key)[0]], values[pair_keys(key)[1]]))) for key in PAIRS}


def split_pairs(values: dict) -> dict:
    """The two ends of each (low, high) slider, as the address carries them."""
    return {end: value for key in PAIRS for end, value in zip(pair_keys(key), values[key])}


def _field(key, name, kind, default, low, high, choices) -> Field:
    bounds = {} if low is None else {"low": low, "high": high}
    length = {"max_length": eda.MAX_CHARACTERS} if kind == "text" else {}
    return Field(key, name, kind, default, choices=choices, **bounds, **length)


SCHEMA = check_schema(_field(key, *spec) for key, spec in RANGES.items())
