"""A student's side of the class poll: the joined code lives in the session, guesses go to the room."""
import secrets

import streamlit as st

from models.classroom import rooms
from models.classroom.questions import QUESTIONS

CODE_KEY = "class_poll_code"  # the room this session joined
STUDENT_KEY = "class_poll_student"  # an anonymous id, random per browser session
MESSAGE_KEY = "class_poll_message"  # what the last send said, shown once on the next run


def joined_code() -> str | None:
    return st.session_state.get(CODE_KEY)


def join(code) -> None:
    """Join the room with this code for the rest of the session; ValueError with a message if there is none."""
    st.session_state[CODE_KEY] = rooms.join(code)
    st.session_state.setdefault(STUDENT_KEY, secrets.token_hex(8))


def leave() -> None:
    st.session_state.pop(CODE_KEY, None)


def send_checkbox(question_id: str, key: str) -> bool:
    """The "also send my guess to the class" box under a predict-first question, when this session has joined."""
    show_sent_message()
    code = joined_code()
    if code is None or question_id not in QUESTIONS:
        return False
    return st.checkbox(f"Also send my guess to class {code}", value=True, key=f"{key}_send_to_class",
                       help="Anonymous: the teacher sees how many gave each answer, not who.")


def show_sent_message() -> None:
    """What the last send said ("Sent to class …" or why not), once."""
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        (st.caption if message[0] == "ok" else st.warning)(message[1])


def send(question_id: str, answer) -> None:
    """Send this session's answer (replacing an earlier one); `show_sent_message` then says how it went."""
    code = joined_code()
    if code is None:
        return
    try:
        rooms.submit(code, st.session_state.setdefault(STUDENT_KEY, secrets.token_hex(8)), question_id, answer)
    except ValueError as problem:
        if "no open class poll" in str(problem):
            leave()  # the teacher closed the room
        st.session_state[MESSAGE_KEY] = ("warning", f"Not sent to the class: {problem}")
    else:
        st.session_state[MESSAGE_KEY] = ("ok", f"Sent to class {code}.")
