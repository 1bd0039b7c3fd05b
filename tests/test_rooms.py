"""The class poll's room store: exact counts under many threads, every bound, teacher-only actions."""
import random
import threading

import pytest

from models.classroom import rooms
from models.classroom.questions import QUESTIONS, Question
from models.classroom.rooms import CODE_LETTERS, RoomStore, check_answer, normalize_code

NUMBER = "softmax.probability"  # a number in [0, 1]
CHOICE = "overfitting.kind"  # underfitting / good fit / overfitting


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_code_is_four_letters_easy_to_read_aloud():
    store = RoomStore()
    codes = {store.create_room()[0] for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 4 and set(code) <= set(CODE_LETTERS)
    assert not set(CODE_LETTERS) & set("0O1IL2Z5S6G8BQ")  # no letter that reads like another or a digit


def test_codes_are_typed_in_any_case_with_spaces_or_dashes():
    assert normalize_code(" cd-fh ") == "CDFH"
    for bad in ["", "CDF", "CDFHJ", "C0FH", "ABCD", None, 1234, "x" * 10_000, "<b>CD</b>"]:
        with pytest.raises(ValueError, match="class code"):
            normalize_code(bad)


def test_a_student_who_answers_again_replaces_the_answer():
    store = RoomStore()
    code, _key = store.create_room()
    store.submit(code, "ann", CHOICE, "overfitting")
    store.submit(code, "bob", CHOICE, "overfitting")
    store.submit(code, "ann", CHOICE, "good fit")
    assert store.tally(code, CHOICE) == {"overfitting": 1, "good fit": 1}
    store.submit(code.lower(), "cat", NUMBER, 0.7)
    store.submit(code, "dan", NUMBER, 0.7)
    store.submit(code, "eve", NUMBER, 1)
    assert store.tally(code, NUMBER) == {0.7: 2, 1.0: 1}
    assert store.answered(code) == {CHOICE: 2, NUMBER: 3}


@pytest.mark.parametrize("question_id, answer", [
    (NUMBER, 1.5), (NUMBER, -0.1), (NUMBER, float("nan")), (NUMBER, float("inf")), (NUMBER, "0.5"),
    (NUMBER, True), (NUMBER, None), (CHOICE, "Overfitting"), (CHOICE, "<script>alert(1)</script>"), (CHOICE, 2),
    ("no.such.question", "good fit"), (None, 1), (["softmax.probability"], 0.5),
])
def test_answers_that_do_not_fit_the_question_are_refused(question_id, answer):
    store = RoomStore()
    code, _key = store.create_room()
    with pytest.raises(ValueError):
        store.submit(code, "ann", question_id, answer)
    assert store.answered(code) == {}


def test_bad_student_ids_and_unknown_codes_are_refused():
    store = RoomStore()
    code, _key = store.create_room()
    for student in ["", "x" * 65, None, 7]:
        with pytest.raises(ValueError, match="student id"):
            store.submit(code, student, NUMBER, 0.5)
    other = next(c for c in ("CDFH", "CDFJ") if c != code)
    with pytest.raises(ValueError, match="no open class poll"):
        store.submit(other, "ann", NUMBER, 0.5)
    with pytest.raises(ValueError, match="no open class poll"):
        store.join(other)
    assert store.join(code.lower()) == code


def test_only_the_teacher_key_reveals_clears_and_closes():
    store = RoomStore()
    code, key = store.create_room()
    _other_code, other_key = store.create_room()
    store.submit(code, "ann", NUMBER, 0.7)
    for wrong in [other_key, "", None, key[:-1], key + "x", 12]:
        with pytest.raises(ValueError, match="Only the teacher"):
            store.reveal(code, wrong, NUMBER, 0.9)
        with pytest.raises(ValueError, match="Only the teacher"):
            store.clear(code, wrong, NUMBER)
        with pytest.raises(ValueError, match="Only the teacher"):
            store.close(code, wrong)
    assert store.revealed(code, NUMBER) is None and store.tally(code, NUMBER) == {0.7: 1}
    with pytest.raises(ValueError, match="between 0 and 1"):
        store.reveal(code, key, NUMBER, 2.0)  # the model's answer is checked like a student's
    store.reveal(code, key, NUMBER, 0.9)
    assert store.revealed(code, NUMBER) == 0.9
    store.clear(code, key, NUMBER)
    assert store.tally(code, NUMBER) == {} and store.revealed(code, NUMBER) is None
    store.close(code, key)
    with pytest.raises(ValueError, match="no open class poll"):
        store.tally(code, NUMBER)


def test_a_server_password_is_needed_to_start_and_also_works_as_the_teacher_key():
    store = RoomStore(password="s3cret")
    with pytest.raises(ValueError, match="teacher password"):
        store.create_room()
    with pytest.raises(ValueError, match="teacher password"):
        store.create_room("wrong")
    code, _key = store.create_room("s3cret")
    store.reveal(code, "s3cret", CHOICE, "good fit")  # a second teacher device, with the password
    assert store.revealed(code, CHOICE) == "good fit"


def test_at_most_twenty_rooms_and_three_hundred_students():
    store = RoomStore()
    for _ in range(rooms.MAX_ROOMS):
        code, key = store.create_room()
    with pytest.raises(ValueError, match="20 open class polls"):
        store.create_room()
    for student in range(rooms.MAX_STUDENTS):
        store.submit(code, f"s{student}", NUMBER, 0.5)
    with pytest.raises(ValueError, match="full"):
        store.submit(code, "one too many", NUMBER, 0.5)
    store.submit(code, "s0", NUMBER, 0.25)  # a student already in may still change their answer
    assert sum(store.tally(code, NUMBER).values()) == rooms.MAX_STUDENTS
    store.close(code, key)
    store.create_room()  # a closed room frees its place


def test_a_room_closes_after_four_idle_hours_and_answers_keep_it_open():
    clock = Clock()
    store = RoomStore(clock=clock)
    code, _key = store.create_room()
    clock.now += 3 * 3600
    store.submit(code, "ann", NUMBER, 0.5)  # activity
    clock.now += 3 * 3600
    assert store.tally(code, NUMBER) == {0.5: 1}
    clock.now += 1.01 * 3600
    with pytest.raises(ValueError, match="no open class poll"):
        store.tally(code, NUMBER)
    assert store.open_rooms() == 0


def test_fifty_threads_give_exact_counts():
    store = RoomStore()
    code, key = store.create_room()
    choices = QUESTIONS[CHOICE].choices
    final = {}
    lock = threading.Lock()

    def student(number):
        rng = random.Random(number)
        answer = None
        for _ in range(40):  # each student changes their mind many times; only the last answer counts
            answer = rng.choice(choices)
            store.submit(code, f"student-{number}", CHOICE, answer)
            store.tally(code, CHOICE)  # the projector reads while students write
        with lock:
            final[number] = answer

    threads = [threading.Thread(target=student, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {}
    for answer in final.values():
        expected[answer] = expected.get(answer, 0) + 1
    assert store.tally(code, CHOICE) == expected and sum(expected.values()) == 50
    store.close(code, key)


def test_fuzzed_submissions_never_break_the_store():
    store = RoomStore()
    code, _key = store.create_room()
    rng = random.Random(0)
    junk = [None, True, "", "x" * 20_000, "<img src=x onerror=alert(1)>", float("nan"), -1e308, 1e308, [1], {}, b"0.5"]
    accepted = 0
    for _ in range(2000):
        question_id = rng.choice([*QUESTIONS, "nope", None])
        answer = rng.choice([*junk, rng.uniform(-2e6, 2e6), rng.random(), *QUESTIONS[CHOICE].choices])
        try:
            store.submit(code, f"s{rng.randrange(400)}", question_id, answer)
            accepted += 1
        except ValueError:
            pass
    assert accepted > 0
    for question_id, question in QUESTIONS.items():
        for answer, count in store.tally(code, question_id).items():
            assert check_answer(question, answer) == answer and count >= 1


def test_the_registry_is_well_formed():
    for question_id, question in QUESTIONS.items():
        assert isinstance(question, Question) and question.id == question_id
        assert question.kind in ("number", "choice")
        if question.kind == "choice":
            assert question.choices and all(isinstance(c, str) for c in question.choices)
        else:
            assert question.low < question.high


def test_the_registry_choices_are_the_lessons_own_answers():
    from models.classroom import questions
    from models.images.convolution import KERNELS
    from models.training.dropout import ANSWERS
    from models.training.loss_fit import FIT_LOSSES
    from models.training.optimizers import OPTIMIZERS
    from models.training.overfitting import KINDS, PRESETS

    assert questions.FIT_LOSSES == tuple(FIT_LOSSES.values())
    assert questions.OPTIMIZERS == tuple(OPTIMIZERS.values())
    assert (questions.KINDS, questions.PRESETS, questions.DROPOUT_ANSWERS) == (KINDS, PRESETS, ANSWERS)
    assert questions.KERNELS == tuple(KERNELS)
