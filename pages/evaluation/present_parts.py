"""Helpers the later pages share for links and present mode (candidates for pages/shared): a folded settings
box, extra names for the "ignored" line, and editable tables of numbers that start from a link's values."""
import numpy as np
import streamlit as st

from models.core.links import Field, decode, ignored_text
from pages.shared.present import presenting

state = st.session_state


def folded(label: str):
    """Where a section's settings go: an expander while presenting, a plain container otherwise."""
    return st.expander(label) if presenting() else st.container()


def also_ignored(fields: tuple[Field, ...], page: str, names: list[str]) -> None:
    """Right after `links.restore` returned True: add the names the page itself refused (a kernel that does not
    parse, say) to the one "ignored" line, so the student still sees a single line."""
    if not names:
        return
    ignored = decode(fields, st.query_params.to_dict())[1]
    state[f"link_{page}_ignored"] = ignored_text(ignored + [n for n in names if n not in ignored])


# --- Tables of numbers in an address: rows split by ";", cells by spaces ("-1 0 1;-2 0 2") ---

def _short(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def grid_text(values) -> str:
    return ";".join(" ".join(_short(v) for v in row) for row in np.atleast_2d(np.asarray(values, float)))


def parse_grid(text: str, *, columns: int, rows: int | None = None, max_rows: int = 64) -> np.ndarray | None:
    """The table this text holds, or None unless it has exactly these columns (and rows) of finite numbers."""
    if not text.isascii():
        return None
    try:
        cells = [[float(cell) for cell in row.split()] for row in text.split(";")]
    except ValueError:
        return None
    if not 1 <= len(cells) <= max_rows or (rows is not None and len(cells) != rows):
        return None
    if any(len(row) != columns for row in cells):
        return None
    values = np.array(cells, float)
    return values if np.isfinite(values).all() else None


def table_text(values: np.ndarray, preset) -> str:
    """What the address keeps of a table: nothing while it equals its preset, else its numbers."""
    preset = np.asarray(preset, float)
    same = values.shape == np.atleast_2d(preset).shape and np.array_equal(values, np.atleast_2d(preset))
    return "" if same else grid_text(values)


def seed_tables(page: str, seeds: dict) -> None:
    """After a link is restored: the named tables start from these values (a new version, so fresh editors)."""
    state[f"{page}_tables"] = (state.get(f"{page}_tables", (0, {}))[0] + 1, seeds)


def table_start(page: str, name: str):
    """(the link's values for this table or None, the version its editor's key carries)."""
    version, seeds = state.get(f"{page}_tables", (0, {}))
    return seeds.get(name), version
