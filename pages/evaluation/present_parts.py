"""Two helpers the later pages share for links and present mode (candidates for pages/shared)."""
from contextlib import nullcontext

import streamlit as st

from models.core.links import Field, decode, ignored_text
from pages.shared.present import presenting


def folded(label: str):
    """Where a section's settings go: an expander while presenting, the page itself otherwise."""
    return st.expander(label) if presenting() else nullcontext()


def also_ignored(fields: tuple[Field, ...], page: str, names: list[str]) -> None:
    """Right after `links.restore` returned True: add the names the page itself refused (a kernel that does not
    parse, say) to the one "ignored" line, so the student still sees a single line."""
    if not names:
        return
    ignored = decode(fields, st.query_params.to_dict())[1]
    st.session_state[f"link_{page}_ignored"] = ignored_text(ignored + [n for n in names if n not in ignored])
