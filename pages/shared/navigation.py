"""Keep every visit inside app.py's navigation."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_navigation() -> None:
    """Rerun through app.py when a fresh server was opened directly at a page's address.

    Because the app keeps its pages in a folder named `pages/`, a new server starts in Streamlit's
    legacy folder mode: until app.py has run once, opening /softmax would run that page on its own,
    with the old auto-generated sidebar and without the app's settings. Leaving that mode and
    rerunning sends the visit through app.py's st.navigation, which opens the same page.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
