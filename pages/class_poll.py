"""Class poll: the teacher starts a room, students join with its code, the projector shows their guesses live."""
import altair as alt
import pandas as pd
import streamlit as st

from models.classroom import rooms
from models.classroom.questions import QUESTIONS
from models.core.numbers import format_number
from pages.shared import class_poll
from pages.shared.feedback import plain
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()
TEACHER_KEY = "class_poll_teacher"  # (code, teacher key): only this browser session holds the key
REFRESH_SECONDS = 2
ROOM_GONE = "no open class poll"  # the store's message for a room that closed or expired


def teacher_room():
    return st.session_state.get(TEACHER_KEY)


def start_room(password) -> None:
    try:
        code, key = rooms.create_room(password or None)
    except ValueError as problem:
        st.session_state["class_poll_problem"] = str(problem)
    else:
        st.session_state[TEACHER_KEY] = (code, key)


def teacher_action(action, *args) -> None:
    """Reveal or clear before the page draws the tally, so the projector shows the result at once."""
    try:
        action(*args)
    except ValueError as problem:
        st.session_state["class_poll_problem"] = str(problem)


def close_room() -> None:
    code, key = st.session_state.pop(TEACHER_KEY)
    try:
        rooms.close(code, key)
    except ValueError:
        pass  # it had already closed itself after hours idle


def show_entry() -> None:
    student, teacher = st.columns(2, gap="large")
    with student:
        st.subheader("Students: join your class")
        code = st.text_input("Class code", max_chars=20, placeholder="4 letters", key="class_poll_join_code")
        if st.button("Join", type="primary", key="class_poll_join", disabled=not code):
            try:
                class_poll.join(code)
                st.rerun()
            except ValueError as problem:
                st.warning(plain(problem))
    with teacher:
        st.subheader("Teacher: start a class poll")
        password = None
        if rooms.server_password() is not None:
            password = st.text_input("Teacher password", type="password", key="class_poll_password")
        st.button("Start a class poll", key="class_poll_start", on_click=start_room, args=(password,))
        problem = st.session_state.pop("class_poll_problem", None)
        if problem:
            st.warning(plain(problem))
        st.caption("The room lives in this server's memory; it closes when you close it or after 4 hours idle.")


def show_student(code: str) -> None:
    st.success(f"You are in class **{code}**. On every page, the predict-first box now offers "
               "*Also send my guess to the class*. Your answers are anonymous; a new answer replaces your last one.")
    st.button("Leave the class", key="class_poll_leave", on_click=class_poll.leave)


def tally_chart(question, tally: dict, revealed) -> alt.Chart:
    if question.kind == "choice":
        data = pd.DataFrame({"answer": list(question.choices), "students": [tally.get(c, 0) for c in question.choices]})
        data["the model"] = data["answer"] == revealed
        bars = alt.Chart(data).mark_bar().encode(
            x=alt.X("students:Q", title="students", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("answer:N", sort=list(question.choices), title=None, axis=alt.Axis(labelLimit=400)),
            color=alt.condition("datum['the model']", alt.value("#d62728"), alt.value("#4c78a8")),
            tooltip=["answer", "students"])
        marker = alt.Chart(data[data["the model"]]).mark_text(align="left", dx=6, color="#d62728", fontWeight="bold",
                                                              fontSize=16).encode(
            x="students:Q", y=alt.Y("answer:N", sort=list(question.choices)), text=alt.value("◀ the model's answer"))
        return (bars + marker).properties(height=60 * len(question.choices) + 40)
    data = pd.DataFrame({"answer": list(tally), "students": list(tally.values())})
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("answer:Q", bin=alt.Bin(maxbins=20), title="answer"),
        y=alt.Y("sum(students):Q", title="students", axis=alt.Axis(tickMinStep=1)),
        tooltip=[alt.Tooltip("sum(students):Q", title="students")])
    if revealed is not None:
        rule = alt.Chart(pd.DataFrame({"answer": [revealed]})).mark_rule(color="#d62728", size=3).encode(x="answer:Q")
        chart = chart + rule
    return chart.properties(height=320)


def summary(question, tally: dict, revealed) -> str:
    count = sum(tally.values())
    if question.kind == "choice":
        top = max(tally, key=tally.get)
        said = f"Most of you ({tally[top]} of {count}) said **{plain(top)}**"
        model = "" if revealed is None else f"; the model says **{plain(revealed)}**"
    else:
        answers = pd.Series(list(tally)).repeat(list(tally.values()))
        said = f"Half of you said less than **{format_number(float(answers.median()))}** (the median of {count})"
        model = "" if revealed is None else f"; the model says **{format_number(revealed)}**"
    return said + model + "."


@st.fragment(run_every=REFRESH_SECONDS)
def show_tally(code: str, question_id: str) -> None:
    """Redrawn every couple of seconds on its own, without reloading the page."""
    question = QUESTIONS[question_id]
    try:
        tally, revealed = rooms.tally(code, question_id), rooms.STORE.revealed(code, question_id)
    except ValueError as problem:
        st.warning(plain(problem))
        return
    count = sum(tally.values())
    st.markdown(f"### {plain(question.prompt)}\n{count} answer{'s' if count != 1 else ''} so far.")
    if count:
        st.altair_chart(tally_chart(question, tally, revealed), width="stretch")
        st.markdown(summary(question, tally, revealed))


def show_teacher(code: str, key: str) -> None:
    st.markdown(f"## Join code: **{code}**\nStudents open this app, go to **Class poll** and type the code.")
    answered = rooms.STORE.answered(code)
    ids = sorted(QUESTIONS, key=lambda q: -answered.get(q, 0))
    question_id = st.selectbox("Question on the projector", ids, key="class_poll_question",
                               format_func=lambda q: f"{QUESTIONS[q].page}: {QUESTIONS[q].prompt} "
                                                     f"({answered.get(q, 0)} answered)")
    show_tally(code, question_id)
    question = QUESTIONS[question_id]
    left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
    if question.kind == "choice":
        answer = left.selectbox("The model's answer", question.choices, key=f"class_poll_answer_{question_id}")
    else:
        answer = left.number_input("The model's answer", question.low, question.high, value=None,
                                   format="%g", key=f"class_poll_answer_{question_id}")
    middle.button("Reveal on the tally", type="primary", disabled=answer is None, key="class_poll_reveal",
                  on_click=teacher_action, args=(rooms.reveal, code, key, question_id, answer))
    right.button("Clear this question", key="class_poll_clear",
                 on_click=teacher_action, args=(rooms.clear, code, key, question_id))
    problem = st.session_state.pop("class_poll_problem", None)
    if problem:
        st.warning(plain(problem))
    st.button("Close the room", key="class_poll_close", on_click=close_room)


st.title("Class poll")
st.markdown("Everyone answers the same predict-first question on their own device; the projector shows how the "
            "class answered, then the model's answer. Open the same setup first (the teacher's link) so that "
            "the class answers the same question.")
room = teacher_room()
if room is not None:
    try:
        show_teacher(*room)
    except ValueError as problem:
        st.warning(plain(problem))
        if ROOM_GONE in str(problem):  # it closed itself after hours idle: the start screen comes next
            st.session_state.pop(TEACHER_KEY, None)
        else:  # e.g. the shared store did not answer for a moment: the room and its key are still there
            st.button("Try again", key="class_poll_retry")
elif class_poll.joined_code() is not None:
    show_student(class_poll.joined_code())
else:
    show_entry()
