"""Unexpected errors: the student sees one clear line, the teacher's terminal gets the traceback once."""
import logging

import streamlit as st

from pages.shared.feedback import plain

log = logging.getLogger("classroom")


def show_unexpected(error: BaseException, what: str) -> None:
    """Report an error a page caught but did not expect: a message on the page, the traceback in the server log."""
    if not getattr(error, "_classroom_logged", False):
        log.error("%s failed", what, exc_info=error)
        try:
            error._classroom_logged = True  # the same error shown again on a rerun is not logged twice
        except AttributeError:
            pass
    st.error(f"{what} stopped with an unexpected error: {plain(error)}. The teacher's terminal shows the details.",
             icon=":material/error:")
