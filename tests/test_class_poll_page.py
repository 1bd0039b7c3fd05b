"""The Class poll page and the predict-first boxes: join by code, send a guess, the tally, teacher-only actions."""
import re

import pytest
from streamlit.testing.v1 import AppTest

from models.classroom import rooms
from models.classroom.questions import QUESTIONS
from models.core.paths import ROOT

PAGE = str(ROOT / "pages/class_poll.py")
OVERFITTING = str(ROOT / "pages/overfitting.py")


def fresh(page=PAGE) -> AppTest:
    return AppTest.from_file(page, default_timeout=120).run()


def button(at, key):
    return next(b for b in at.button if b.key == key)


def teacher() -> tuple[AppTest, str]:
    at = fresh()
    button(at, "class_poll_start").click().run()
    code, key = at.session_state["class_poll_teacher"]
    assert key not in " ".join(m.value for m in at.markdown)  # the key never shows on the projector
    return at, code


def join(at, code) -> AppTest:
    at.text_input(key="class_poll_join_code").input(code).run()
    return button(at, "class_poll_join").click().run()


def test_a_student_joins_with_the_code_in_any_case_and_a_wrong_code_gets_a_message():
    _teacher, code = teacher()
    student = fresh()
    join(student, "CDFHX")  # five letters
    assert "class code is 4 letters" in student.warning[0].value and not student.exception
    join(student, "<b>XX</b>")
    assert not student.exception and "class code" in student.warning[0].value
    join(student, code.lower())
    assert not student.exception
    assert student.session_state["class_poll_code"] == code
    assert f"You are in class **{code}**" in student.success[0].value


def test_a_guess_sent_from_the_overfitting_page_reaches_the_teachers_tally():
    teacher_at, code = teacher()
    at = AppTest.from_file(OVERFITTING, default_timeout=120)
    at.session_state["class_poll_code"] = code
    at.run()
    send = at.checkbox(key="overfitting_guess_send_to_class")
    assert send.label == f"Also send my guess to class {code}" and send.value
    at.radio(key="overfitting_guess").set_value("overfitting").run()
    assert rooms.tally(code, "overfitting.kind") == {}  # nothing is sent before the guess is locked in
    at.button(key="overfitting_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert rooms.tally(code, "overfitting.kind") == {"overfitting": 1}

    teacher_at.selectbox(key="class_poll_question").set_value("overfitting.kind").run()
    assert "1 answer so far." in " ".join(m.value for m in teacher_at.markdown)
    assert "Most of you (1 of 1) said **overfitting**" in " ".join(m.value for m in teacher_at.markdown)
    teacher_at.selectbox(key="class_poll_answer_overfitting.kind").set_value("good fit").run()
    button(teacher_at, "class_poll_reveal").click().run()
    assert rooms.STORE.revealed(code, "overfitting.kind") == "good fit"
    assert "the model says **good fit**" in " ".join(m.value for m in teacher_at.markdown)


def test_without_joining_there_is_no_send_box():
    at = fresh(OVERFITTING)
    assert not [c for c in at.checkbox if c.key.endswith("_send_to_class")]


def test_a_closed_room_tells_the_student_once_and_forgets_the_code():
    teacher_at, code = teacher()
    button(teacher_at, "class_poll_close").click().run()
    assert "class_poll_teacher" not in teacher_at.session_state
    assert teacher_at.button(key="class_poll_start")  # back to the start screen
    at = AppTest.from_file(OVERFITTING, default_timeout=120)
    at.session_state["class_poll_code"] = code
    at.run()
    at.radio(key="overfitting_guess").set_value("good fit").run()
    at.button(key="overfitting_train").click().run()
    assert not at.exception
    assert "class_poll_code" not in at.session_state
    assert any("Not sent to the class" in w.value for w in at.warning)


def test_a_number_tally_gives_the_median_and_the_revealed_value():
    teacher_at, code = teacher()
    for student, answer in enumerate([0.7, 0.7, 0.9, 0.2]):
        rooms.submit(code, f"s{student}", "softmax.probability", answer)
    teacher_at.selectbox(key="class_poll_question").set_value("softmax.probability").run()
    text = " ".join(m.value for m in teacher_at.markdown)
    assert "4 answers so far." in text and "less than **0.7000** (the median of 4)" in text
    teacher_at.number_input(key="class_poll_answer_softmax.probability").set_value(0.9).run()
    button(teacher_at, "class_poll_reveal").click().run()
    assert "the model says **0.9000**" in " ".join(m.value for m in teacher_at.markdown)


def joined_page(page, code) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    at.session_state["class_poll_code"] = code
    return at.run()


def test_the_softmax_guess_goes_to_the_class_with_its_probability():
    _teacher_at, code = teacher()
    at = joined_page("pages/softmax.py", code)
    at.number_input(key="softmax_guess_mass").set_value(0.65).run()
    at.button(key="softmax_reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert rooms.tally(code, "softmax.probability") == {0.65: 1}
    assert any(f"Sent to class {code}" in c.value for c in at.caption)


def test_unticking_the_box_keeps_the_guess_private():
    _teacher_at, code = teacher()
    at = joined_page("pages/activations.py", code)
    at.checkbox(key="activations_guess_send_to_class").uncheck().run()
    at.number_input(key="activations_guess").set_value(0.88).run()
    at.button(key="activations_check").click().run()
    assert not at.exception and rooms.tally(code, "activations.value") == {}
    at.checkbox(key="activations_guess_send_to_class").check().run()
    at.button(key="activations_check").click().run()
    assert rooms.tally(code, "activations.value") == {0.88: 1}


def test_every_declared_question_is_asked_by_its_page_and_every_page_question_is_declared():
    used = {}
    stems = {path.stem for path in (ROOT / "pages").glob("*.py")}
    for path in sorted((ROOT / "pages").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for question_id in re.findall(r'(?:question=|send_checkbox\(|send\()"([a-z_]+\.[a-z0-9_]+)"', text):
            used.setdefault(question_id, set()).add(path.stem)
        for question_id in re.findall(r'"([a-z_]+\.[a-z0-9_]+)"(?=[,)])', text):  # ids in a tuple the page sends
            if question_id.split(".")[0] in stems:
                used.setdefault(question_id, set()).add(path.stem)
    assert set(used) <= set(QUESTIONS), set(used) - set(QUESTIONS)
    assert set(QUESTIONS) <= set(used), set(QUESTIONS) - set(used)


def test_a_room_that_expired_sends_the_teacher_back_to_the_start_screen():
    teacher_at, code = teacher()
    rooms.close(code, teacher_at.session_state["class_poll_teacher"][1])  # as hours idle would
    teacher_at.run()
    assert not teacher_at.exception
    assert any("no open class poll" in w.value for w in teacher_at.warning)
    assert "class_poll_teacher" not in teacher_at.session_state
    assert button(teacher_at.run(), "class_poll_start")


def test_a_store_that_does_not_answer_for_a_moment_keeps_the_teachers_room(monkeypatch):
    teacher_at, code = teacher()
    held = teacher_at.session_state["class_poll_teacher"]

    def unreachable(_code):
        raise ValueError("The class poll's shared store (Redis) does not answer; tell your teacher (ConnectionError).")

    with monkeypatch.context() as patch:
        patch.setattr(rooms.STORE, "answered", unreachable)
        teacher_at.run()
        assert not teacher_at.exception
        assert any("does not answer" in w.value for w in teacher_at.warning)
        assert teacher_at.session_state["class_poll_teacher"] == held  # the key is not thrown away
    button(teacher_at, "class_poll_retry").click().run()  # the store answers again
    assert not teacher_at.warning and f"Join code: **{code}**" in " ".join(m.value for m in teacher_at.markdown)
    button(teacher_at, "class_poll_close").click().run()  # only the holder of the key can still close it
    with pytest.raises(ValueError, match="no open class poll"):
        rooms.tally(code, "overfitting.kind")
