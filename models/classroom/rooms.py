"""The class poll's rooms: students send their predict-first answers, the projector shows the tally.

This is the one piece of state the whole server shares on purpose. Everything lives in memory behind one
lock and within fixed bounds (rooms, students per room, questions, the length of every text), so a student
who floods submissions can only replace their own answer. Only the holder of a room's teacher key (or of the
server's teacher password, when one is set) can reveal, clear or close. Several app processes behind a proxy
share their rooms in Redis instead (redis_store.py, chosen by $CLASSROOM_REDIS_URL), with the same interface.
"""
import math
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from models.classroom.questions import QUESTIONS, Question

# Easy to read aloud and to type: no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B, Q or vowels that spell words.
CODE_LETTERS = "CDFHJKMNPRTVWXY"
CODE_LENGTH = 4
MAX_ROOMS = 20
MAX_STUDENTS = 300
IDLE_SECONDS = 4 * 3600
MAX_ID_LENGTH = 64
PASSWORD_ENV = "CLASSROOM_TEACHER_PASSWORD"
REDIS_ENV = "CLASSROOM_REDIS_URL"  # e.g. redis://127.0.0.1:6379/0, for several app processes


@dataclass
class _Room:
    key: str
    last_active: float
    students: set = field(default_factory=set)
    answers: dict = field(default_factory=dict)  # question id -> {student id -> answer}
    revealed: dict = field(default_factory=dict)  # question id -> the model's answer


def normalize_code(code) -> str:
    """A join code as typed (any case, spaces, dashes) in its canonical form; ValueError when it cannot be one."""
    if not isinstance(code, str) or len(code) > 20:
        raise ValueError(f"A class code is {CODE_LENGTH} letters, such as {'CDFH'[:CODE_LENGTH]}.")
    cleaned = "".join(code.split()).replace("-", "").upper()
    if len(cleaned) != CODE_LENGTH or any(letter not in CODE_LETTERS for letter in cleaned):
        raise ValueError(f"A class code is {CODE_LENGTH} letters from {' '.join(CODE_LETTERS)}; "
                         "check it with your teacher.")
    return cleaned


def check_answer(question: Question, answer):
    """The answer as stored (a float, or one of the choices); ValueError when it does not fit the question."""
    if question.kind == "number":
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            raise ValueError(f"The answer to {question.prompt!r} must be a number.")
        value = float(answer)
        if not (math.isfinite(value) and question.low <= value <= question.high):
            raise ValueError(f"The answer to {question.prompt!r} must be between {question.low:g} "
                             f"and {question.high:g}.")
        return value
    if not isinstance(answer, str) or answer not in question.choices:
        raise ValueError(f"The answer to {question.prompt!r} must be one of: {', '.join(question.choices)}.")
    return answer


def _question(question_id) -> Question:
    if not isinstance(question_id, str) or question_id not in QUESTIONS:
        raise ValueError("That is not one of the class questions.")
    return QUESTIONS[question_id]


class RoomStore:
    """Poll rooms by join code. Thread-safe; every public method takes the one lock briefly."""

    def __init__(self, *, max_rooms: int = MAX_ROOMS, max_students: int = MAX_STUDENTS,
                 idle_seconds: float = IDLE_SECONDS, password: str | None = None, clock=time.monotonic):
        self.max_rooms, self.max_students, self.idle_seconds = max_rooms, max_students, idle_seconds
        self._password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms: dict[str, _Room] = {}

    # --- teacher ---

    def create_room(self, password: str | None = None) -> tuple[str, str]:
        """A new room: (join code for the students, teacher key for this browser session only)."""
        with self._lock:
            if self._password is not None and not _same(password, self._password):
                raise ValueError("Starting a class poll on this server needs the teacher password.")
            self._expire()
            if len(self._rooms) >= self.max_rooms:
                raise ValueError(f"This server already holds {self.max_rooms} open class polls; "
                                 "close one, or wait until an idle one closes itself.")
            code = self._new_code()
            key = secrets.token_urlsafe(24)
            self._rooms[code] = _Room(key=key, last_active=self._clock())
            return code, key

    def reveal(self, code, teacher_key, question_id, answer) -> None:
        """Show the model's answer on the tally of `question_id`."""
        question = _question(question_id)
        value = check_answer(question, answer)
        with self._lock:
            room = self._teacher_room(code, teacher_key)
            room.revealed[question_id] = value

    def clear(self, code, teacher_key, question_id) -> None:
        """Forget every answer to `question_id` (and its reveal), to ask it again."""
        _question(question_id)
        with self._lock:
            room = self._teacher_room(code, teacher_key)
            room.answers.pop(question_id, None)
            room.revealed.pop(question_id, None)

    def close(self, code, teacher_key) -> None:
        with self._lock:
            self._teacher_room(code, teacher_key)
            del self._rooms[normalize_code(code)]

    # --- students ---

    def join(self, code) -> str:
        """The canonical code of an open room; ValueError when there is none."""
        with self._lock:
            code = normalize_code(code)
            self._room(code)
            return code

    def submit(self, code, student_id, question_id, answer) -> None:
        """Record (or replace) this student's answer to `question_id`."""
        question = _question(question_id)
        value = check_answer(question, answer)
        if not isinstance(student_id, str) or not 0 < len(student_id) <= MAX_ID_LENGTH:
            raise ValueError("This browser has no valid student id; reload the page.")
        with self._lock:
            room = self._room(normalize_code(code))
            if student_id not in room.students:
                if len(room.students) >= self.max_students:
                    raise ValueError(f"This class poll is full ({self.max_students} students).")
                room.students.add(student_id)
            room.answers.setdefault(question_id, {})[student_id] = value
            room.last_active = self._clock()

    # --- the projector ---

    def tally(self, code, question_id) -> dict:
        """Each answer given, to how many students gave it (numbers as floats, choices as their text)."""
        _question(question_id)
        with self._lock:
            room = self._room(normalize_code(code))
            return dict(Counter(room.answers.get(question_id, {}).values()))

    def revealed(self, code, question_id):
        """The model's answer the teacher revealed for `question_id`, or None."""
        _question(question_id)
        with self._lock:
            return self._room(normalize_code(code)).revealed.get(question_id)

    def answered(self, code) -> dict:
        """How many students answered each question so far (question id -> count), for the teacher's list."""
        with self._lock:
            room = self._room(normalize_code(code))
            return {question_id: len(answers) for question_id, answers in room.answers.items() if answers}

    def open_rooms(self) -> int:
        with self._lock:
            self._expire()
            return len(self._rooms)

    # --- inside the lock ---

    def _room(self, code: str) -> _Room:
        self._expire()
        room = self._rooms.get(code)
        if room is None:
            raise ValueError(f"There is no open class poll with the code {code}; check it with your teacher.")
        return room

    def _teacher_room(self, code, teacher_key) -> _Room:
        room = self._room(normalize_code(code))
        if not (_same(teacher_key, room.key) or (self._password is not None and _same(teacher_key, self._password))):
            raise ValueError("Only the teacher who started this class poll can do that.")
        room.last_active = self._clock()
        return room

    def _expire(self) -> None:
        now = self._clock()
        for code in [c for c, room in self._rooms.items() if now - room.last_active > self.idle_seconds]:
            del self._rooms[code]

    def _new_code(self) -> str:
        while True:  # 15**4 = 50,625 codes for at most 20 rooms: a free one comes at once
            code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
            if code not in self._rooms:
                return code


def _same(given, expected: str) -> bool:
    return isinstance(given, str) and secrets.compare_digest(given.encode(), expected.encode())


def server_password() -> str | None:
    """The teacher password of a shared machine ($CLASSROOM_TEACHER_PASSWORD), or None when unset."""
    password = os.environ.get(PASSWORD_ENV, "")
    return password or None


def make_store():
    """This server's room store: in memory, or in Redis when $CLASSROOM_REDIS_URL names one (several processes)."""
    url = os.environ.get(REDIS_ENV, "")
    if not url:
        return RoomStore(password=server_password())
    from models.classroom.redis_store import RedisRoomStore  # the redis package is needed only then

    return RedisRoomStore.from_url(url, password=server_password())


# The server's rooms, shared by every session on purpose (the only process-wide state of the app).
STORE = make_store()
create_room, submit, tally, reveal, clear, close, join = (STORE.create_room, STORE.submit, STORE.tally, STORE.reveal,
                                                          STORE.clear, STORE.close, STORE.join)
