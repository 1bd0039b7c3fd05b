"""Home: the lesson map, one line per concept with a link."""
import streamlit as st

from models.lessons import sections
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

st.title("Deep-learning classroom")
st.markdown(
    "Each page teaches one idea from the course with a live, real Keras/TensorFlow computation. "
    "Change any number and watch what happens. On the pages with a **Predict first** box, "
    "commit a guess before you reveal the answer."
)

for section, lessons in sections().items():
    st.subheader(section)
    for lesson in lessons:
        st.page_link(lesson["page"], label=lesson["title"], icon=lesson["icon"])
        st.caption(lesson["summary"])
