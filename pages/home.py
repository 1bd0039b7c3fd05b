"""Home: the lesson map, one card per concept with a link."""
import streamlit as st

from models.core.lessons import sections
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

CARDS_PER_ROW = 3

st.title("Deep-learning classroom")
st.markdown(
    "Each page teaches one idea from the course with a live computation in real Keras and TensorFlow. "
    "Change any number and watch what happens. Where a page has a **Predict first** box, commit a guess "
    "before you reveal the answer."
)

for section, lessons in sections().items():
    st.subheader(section)
    for start in range(0, len(lessons), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, lesson in zip(columns, lessons[start:start + CARDS_PER_ROW]):
            with column.container(border=True):
                st.page_link(lesson["page"], label=f"**{lesson['title']}**", icon=lesson["icon"])
                st.caption(lesson["summary"])

st.caption("Teacher: students join at the Network URL that `streamlit run app.py` prints in the terminal.")
