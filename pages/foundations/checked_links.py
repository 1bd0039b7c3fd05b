"""A link whose text settings are also checked by the page's own parser: a bad one falls back like any other."""
from collections.abc import Callable, Mapping

import streamlit as st

from models.core.links import Field, decode, ignored_text
from pages.shared import links

state = st.session_state


def apply_checks(fields, values: Mapping, checks: Mapping[str, Callable[[object], object]]) -> tuple[dict, list[str]]:
    """(the values with each checked one that its parser refuses set to its default, the names of those)."""
    by_key, values, refused = {f.key: f for f in fields}, dict(values), []
    for key, check in checks.items():
        try:
            check(values[key])
        except ValueError:
            values[key] = by_key[key].default
            refused.append(by_key[key].name)
    return values, refused


def restore(fields: tuple[Field, ...], page: str, checks: Mapping[str, Callable[[object], object]]) -> bool:
    """links.restore, then each checked key's value through its parser; one that fails takes its default.

    The ignored line then names it beside the parameters the schema itself refused, so the page says it once."""
    if not links.restore(fields, page):
        return False
    values, refused = apply_checks(fields, {f.key: state[f.key] for f in fields}, checks)
    state.update(values)
    if refused:
        ignored = decode(fields, st.query_params.to_dict())[1]
        state[f"link_{page}_ignored"] = ignored_text(ignored + [n for n in refused if n not in ignored])
    return True


def schema(ranges: Mapping[str, tuple], defaults: Mapping[str, object]) -> list[Field]:
    """Fields from a RANGES table: widget key -> (name in the address, kind, low, high, choices[, max_length])."""
    fields = []
    for key, (name, kind, low, high, choices, *length) in ranges.items():
        bounds = {} if low is None else {"low": low, "high": high}
        fields.append(Field(key, name, kind, defaults[key], choices=tuple(choices), **bounds,
                            **({"max_length": length[0]} if length else {})))
    return fields
