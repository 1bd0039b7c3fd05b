"""Present mode, for the projector: larger type, the page's main picture first, long explanations folded."""
import streamlit as st

KEY = "present_mode"
# On every page: less empty space above the title, so the first screen holds more of the lesson.
BASE_STYLE = """<style>[data-testid="stMainBlockContainer"] { padding-top: 3rem !important; }</style>"""
STYLE = """<style>
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label p,
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 1.3rem !important; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 3.2rem !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.1rem !important; }
[data-testid="stMain"] h4 { font-size: 1.7rem !important; }
[data-testid="stMain"] button p { font-size: 1.25rem !important; }
</style>"""


def presenting() -> bool:
    return bool(st.session_state.get(KEY))


def present_switch() -> None:
    """The sidebar switch (one per browser session), and the larger type while it is on."""
    st.sidebar.toggle("Present (projector)", key=KEY,
                      help="Larger type, each page's main picture first, settings and long explanations folded away.")
    st.html(BASE_STYLE + (STYLE if presenting() else ""))


def explain(text: str) -> None:
    """A long explanation: shown in full normally, folded under "Explanation" while presenting."""
    if presenting():
        with st.expander("Explanation"):
            st.markdown(text)
    else:
        st.markdown(text)
