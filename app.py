"""Deep-learning classroom: `streamlit run app.py`, then open the address on any device.

This file only builds the navigation; it must stay free of TensorFlow so the
first page appears at once.
"""
import importlib
import os
import threading

import streamlit as st

from models.core.lessons import START_PAGES, sections
from models.engine import heap
from pages.shared.present import present_switch

st.set_page_config(page_title="Deep-learning classroom", page_icon=":material/school:", layout="wide")


@st.cache_resource(show_spinner=False)
def _return_large_blocks() -> bool:
    """Once per server, before the first page: freed large blocks go back to the system (models/engine/heap.py)."""
    return heap.return_large_blocks()


_return_large_blocks()

navigation = {"Start": [st.Page(page["page"], title=page["title"], icon=page["icon"], default=index == 0)
                        for index, page in enumerate(START_PAGES)]}
for section, lessons in sections().items():
    navigation[section] = [st.Page(lesson["page"], title=lesson["title"], icon=lesson["icon"])
                           for lesson in lessons]

page = st.navigation(navigation, expanded=True)  # every lesson listed, however many
present_switch()
page.run()


def _warm_up() -> None:
    importlib.import_module("keras")
    # TensorFlow's first trace and XLA start-up (about 2 s), so the first Train click pays only its compile.
    importlib.import_module("models.engine.runs").prime()


@st.cache_resource(show_spinner=False)
def _preload_tensorflow() -> None:
    """Import and warm up TensorFlow in the background, once per server, after the first page has rendered.

    The home page never waits for it; the TensorFlow pages usually find it already loaded.
    """
    if os.environ.get("CLASSROOM_PRELOAD_TENSORFLOW", "1") != "0":
        threading.Thread(target=_warm_up, daemon=True, name="preload-tensorflow").start()


_preload_tensorflow()
