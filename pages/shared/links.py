"""Share a setup by link: a page's settings live in its address, kept in step as the student changes widgets.

A page calls `restore(SCHEMA, page)` before drawing its widgets and `sync(SCHEMA, page)` after them, and shows
`link_box(page)` where the student looks for it. The schema (models/core/links.py) declares every setting.
"""
from urllib.parse import urlencode

import streamlit as st

from models.core.links import Field, decode, encode, ignored_text
from pages.shared.feedback import plain

state = st.session_state
RECENT = 4  # addresses a page remembers writing


def _synced_key(page: str) -> str:
    return f"link_{page}_synced"


def restore(fields: tuple[Field, ...], page: str) -> bool:
    """A newly opened (or edited) address sets this page's widgets: its values, and defaults for the rest.

    True when it did (the page may then set what the link implies, e.g. the input mode its values need)."""
    params = st.query_params.to_dict()
    signature = tuple(sorted(params.items()))
    if not params or signature in state.get(_synced_key(page), ()):
        # No link, or an address this page wrote itself: a rerun can still carry the one before the last
        # change, when the browser had not yet taken the new address; that must not undo the change.
        return False
    values, ignored = decode(fields, params)
    state.update(values)
    state[_synced_key(page)] = (signature,)
    state[f"link_{page}_ignored"] = ignored_text(ignored) if ignored else None
    return True


def sync(fields: tuple[Field, ...], page: str) -> None:
    """The address follows the settings now on the page (no reload: only the address bar changes)."""
    params = encode(fields, state)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    signature = tuple(sorted(params.items()))
    recent = tuple(s for s in state.get(_synced_key(page), ()) if s != signature)
    state[_synced_key(page)] = (recent + (signature,))[-RECENT:]  # the addresses this page wrote lately
    state[f"link_{page}_params"] = params


def show_ignored(page: str) -> None:
    """One line saying which parts of an opened link were ignored, once."""
    message = state.pop(f"link_{page}_ignored", None)
    if message:
        st.warning(plain(message), icon=":material/link_off:")


def link_box(page: str) -> None:
    """The "Link to this setup" control: the full address to copy, settings and seed included."""
    params = state.get(f"link_{page}_params")
    if not params:
        return
    base = (st.context.url or "").split("?")[0]
    with st.popover("Link to this setup", icon=":material/link:"):
        st.code(f"{base}?{urlencode(params)}", language=None, wrap_lines=True)
        st.caption("Copy this address and share it: whoever opens it gets these settings, seed included, and "
                   "so the same curves and numbers.")
