"""A page's settings in its address: turn them into query parameters and back, against a declared schema.

A link is hostile input: a missing, unknown, mistyped, out-of-range, huge or script-carrying value falls back
to the field's default and is reported by name, so the page can say in one line what it ignored. Decoding
never raises and never returns a value outside a field's range or choices.
"""
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_VALUE_LENGTH = 200  # characters; longer values are ignored unread (a text field may allow more)
MAX_TEXT_LENGTH = 4000
MAX_REPORTED = 6  # names listed in the "ignored" line, at most
KINDS = ("int", "float", "choice", "bool", "subset", "text")  # subset: several choices, as in a multiselect


@dataclass(frozen=True)
class Field:
    """One setting: its widget's session key, its short name in the address, its type, range and default."""
    key: str
    name: str
    kind: str
    default: object
    low: float = -math.inf
    high: float = math.inf
    choices: tuple = ()
    max_length: int = MAX_VALUE_LENGTH  # of its text in the address

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown field kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"The default of {self.name!r} is not one of its choices.")
        if self.kind == "subset" and not set(self.default) <= set(self.choices):
            raise ValueError(f"The default of {self.name!r} is not a subset of its choices.")
        if self.kind in ("int", "float") and not self.low <= self.default <= self.high:
            raise ValueError(f"The default of {self.name!r} is outside its range.")
        if not 0 < self.max_length <= MAX_TEXT_LENGTH:
            raise ValueError(f"The longest text of {self.name!r} must be 1 to {MAX_TEXT_LENGTH} characters.")

    def encode(self, value) -> str:
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "float":
            return repr(float(value))  # the shortest text that reads back as exactly this float
        if self.kind == "subset":
            return ",".join(str(choice) for choice in self.choices if choice in value)
        return str(value)

    def decode(self, text: str):
        """The value this text stands for; ValueError when it is not one this field accepts."""
        if self.kind == "text":  # the page checks its content, as it checks what a student types
            if "\x00" in text:
                raise ValueError
            return text
        if self.kind == "bool":
            if text not in ("0", "1"):
                raise ValueError
            return text == "1"
        if self.kind == "choice":  # choices may be numbers (a selectbox of widths): matched by their text
            for choice in self.choices:
                if str(choice) == text:
                    return choice
            raise ValueError
        if self.kind == "subset":
            texts = [part.strip() for part in text.split(",")] if text else []
            chosen = [choice for choice in self.choices if str(choice) in texts]
            if len(chosen) != len(texts):
                raise ValueError  # an unknown or repeated item
            return chosen
        if self.kind == "int":
            if not (text.lstrip("-").isdigit() and text.isascii() and len(text) <= 20):
                raise ValueError
            value = int(text)
        else:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        if not self.low <= value <= self.high:
            raise ValueError
        return value


def check_schema(fields: Iterable[Field]) -> tuple[Field, ...]:
    """The fields, once checked that no two share a key or a name."""
    fields = tuple(fields)
    for attribute in ("key", "name"):
        values = [getattr(f, attribute) for f in fields]
        if len(set(values)) != len(values):
            raise ValueError(f"Two fields of a link schema share a {attribute}.")
    return fields


def encode(fields: Iterable[Field], values: Mapping) -> dict[str, str]:
    """Query parameters for these values (by widget key); a missing value is written as its default."""
    return {f.name: f.encode(values.get(f.key, f.default)) for f in fields}


def decode(fields: Iterable[Field], params: Mapping) -> tuple[dict, list[str]]:
    """(values by widget key for every field, names of the parameters that were ignored).

    `params` maps names to text (a list, as repeated parameters give, counts as its last item). A field
    missing from the address takes its default silently; a bad one takes its default and is reported, and so
    is a parameter that belongs to no field.
    """
    fields = tuple(fields)
    by_name = {f.name: f for f in fields}
    values, ignored = {f.key: f.default for f in fields}, []
    for name, raw in params.items():
        field = by_name.get(name)
        if field is None:
            ignored.append(str(name))
            continue
        text = raw[-1] if isinstance(raw, (list, tuple)) and raw else raw
        try:
            if not isinstance(text, str) or len(text) > field.max_length:
                raise ValueError
            values[field.key] = field.decode(text if field.kind == "text" else text.strip())
        except (ValueError, OverflowError):
            ignored.append(name)
    return values, ignored


def ignored_text(ignored: list[str]) -> str:
    """One line for the page: which parts of the link were ignored (names shortened, at most a few)."""
    names = [name if len(name) <= 24 else name[:23] + "…" for name in ignored[:MAX_REPORTED]]
    more = f" and {len(ignored) - MAX_REPORTED} more" if len(ignored) > MAX_REPORTED else ""
    return (f"This link had settings this page cannot use ({', '.join(names)}{more}); "
            "they were set to their defaults.")
