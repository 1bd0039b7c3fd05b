"""The predict-first gate and its verdict box, and student text shown as text: one of each for every page."""
import string

import streamlit as st

from models.core.guess import GuessFeedback
from pages.shared import class_poll

VERDICT_BOX = {"spot on": st.success, "close": st.info, "off": st.warning}
_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}


_JOINER = "\u2060"  # an invisible word joiner: it keeps bare addresses from being turned into links


def plain(text) -> str:
    """Student text for a Markdown slot (boxes, labels, captions): every Markdown, LaTeX and link character escaped.

    Bare addresses (http://…, www.…, a@b.c) would still be auto-linked, so an invisible joiner breaks them.
    """
    text = str(text)
    text = text.replace("://", ":/" + _JOINER + "/").replace("www.", "www" + _JOINER + ".").replace("@", _JOINER + "@")
    return text.translate(_ESCAPED)


def show_verdict(feedback: GuessFeedback, detail: str = "") -> None:
    """The coloured box of one graded guess: green spot on, blue close, amber off; the text shows as typed."""
    VERDICT_BOX[feedback.verdict](plain(feedback.message) + (" " + detail if detail else ""))
    class_poll.show_sent_message()  # "Sent to class …" under the verdict, when the guess went to a class poll


class RevealGate:
    """Predict first: the answer stays hidden until the student locks in a guess for exactly this question.

    `signature` identifies the question (the inputs the answer depends on): a new question hides the answer
    again. State lives in this student's session under `<key>_revealed_for` and `<key>_feedback`.
    `question` is the question's id in the class poll's registry: a student who joined a class gets the
    choice to send the guess there too (`offer_to_class` under the question, `reveal(..., answer=guess)`).
    """

    def __init__(self, key: str, question: str | None = None):
        self.key = key
        self.question = question

    def revealed(self, signature) -> bool:
        return signature is not None and st.session_state.get(f"{self.key}_revealed_for") == signature

    def offer_to_class(self) -> None:
        """Under the question: "Also send my guess to class …", once this session has joined a class poll."""
        if self.question is not None:
            class_poll.send_checkbox(self.question, self.key)

    def reveal(self, signature, feedback, answer=None) -> None:
        st.session_state[f"{self.key}_revealed_for"] = signature
        st.session_state[f"{self.key}_feedback"] = feedback
        if answer is not None and self.question is not None and st.session_state.get(f"{self.key}_send_to_class"):
            class_poll.send(self.question, answer)

    def feedback(self):
        return st.session_state.get(f"{self.key}_feedback")

    def hide(self) -> None:
        st.session_state.pop(f"{self.key}_revealed_for", None)
        st.session_state.pop(f"{self.key}_feedback", None)
