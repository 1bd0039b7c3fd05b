"""The class poll's rooms in Redis, for several app processes behind one proxy (same interface as `RoomStore`).

Every change is one Lua script, so it is atomic across threads and processes; every key of a room carries the
idle time as its TTL, renewed by activity, so Redis itself closes idle rooms. The bounds are those of the
in-memory store (rooms, students per room, checked answers), so flooding cannot grow Redis' memory.
One Redis server, not a cluster: a room's scripts touch that room's keys and the list of rooms.
"""
import secrets
from collections import Counter

import redis

from models.classroom.questions import QUESTIONS
from models.classroom.rooms import (
    CODE_LENGTH,
    CODE_LETTERS,
    IDLE_SECONDS,
    MAX_ID_LENGTH,
    MAX_ROOMS,
    MAX_STUDENTS,
    _question,
    _same,
    check_answer,
    normalize_code,
)

# KEYS: the list of rooms, then the new room's keys. ARGV: code, teacher key, most rooms, idle ms, key prefix.
_CREATE = """
for _, code in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[5] .. code) == 0 then redis.call('SREM', KEYS[1], code) end
end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'too many' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'taken' end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('HSET', KEYS[2], 'key', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[1], ARGV[1])
return 'ok'
"""
# KEYS: the list of rooms. ARGV: key prefix. Forgets rooms whose keys expired; returns how many are open.
_OPEN_ROOMS = """
for _, code in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. code) == 0 then redis.call('SREM', KEYS[1], code) end
end
return redis.call('SCARD', KEYS[1])
"""
# KEYS: room, its students, this question's answers, then the room's other keys. ARGV: student, answer, most, idle ms.
_SUBMIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'full' end
  redis.call('SADD', KEYS[2], ARGV[1])
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return 'ok'
"""
# KEYS: every key of the room, its hash first. ARGV: the teacher key as read, action, idle ms, field, value
# (for clear: the place of the question's answers in KEYS).
# The key read before is checked again here, so an action never lands on a room that closed in between.
_TEACHER = """
if redis.call('HGET', KEYS[1], 'key') ~= ARGV[1] then return 'missing' end
if ARGV[2] == 'close' then
  for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
  return 'ok'
elseif ARGV[2] == 'reveal' then
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
elseif ARGV[2] == 'clear' then
  redis.call('HDEL', KEYS[1], ARGV[4])
  redis.call('DEL', KEYS[tonumber(ARGV[5])])
end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 'ok'
"""
_QUESTION_IDS = tuple(QUESTIONS)


class RedisRoomStore:
    """Poll rooms by join code, kept in Redis; the same methods, messages and bounds as `RoomStore`."""

    def __init__(self, client: redis.Redis, *, max_rooms: int = MAX_ROOMS, max_students: int = MAX_STUDENTS,
                 idle_seconds: float = IDLE_SECONDS, password: str | None = None, prefix: str = "classroom:"):
        self.max_rooms, self.max_students, self.idle_seconds = max_rooms, max_students, idle_seconds
        self._idle_ms = max(1, round(idle_seconds * 1000))
        self._password = password
        self._redis, self.prefix = client, prefix
        self._create, self._open_rooms = client.register_script(_CREATE), client.register_script(_OPEN_ROOMS)
        self._submit, self._teacher = client.register_script(_SUBMIT), client.register_script(_TEACHER)

    @classmethod
    def from_url(cls, url: str, **options) -> "RedisRoomStore":
        """A store on the Redis server at `url` (redis://host:port/db); connects at the first call."""
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5,
                                      health_check_interval=30)
        return cls(client, **options)

    # --- teacher ---

    def create_room(self, password: str | None = None) -> tuple[str, str]:
        """A new room: (join code for the students, teacher key for this browser session only)."""
        if self._password is not None and not _same(password, self._password):
            raise ValueError("Starting a class poll on this server needs the teacher password.")
        key = secrets.token_urlsafe(24)
        while True:  # 15**4 = 50,625 codes for at most 20 rooms: a free one comes at once
            code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
            status = self._call(self._create, [self._rooms_key(), *self._room_keys(code)],
                                [code, key, self.max_rooms, self._idle_ms, self._room_key("")])
            if status == "too many":
                raise ValueError(f"This server already holds {self.max_rooms} open class polls; "
                                 "close one, or wait until an idle one closes itself.")
            if status == "ok":
                return code, key

    def reveal(self, code, teacher_key, question_id, answer) -> None:
        """Show the model's answer on the tally of `question_id`."""
        question = _question(question_id)
        value = check_answer(question, answer)
        self._teacher_action(code, teacher_key, "reveal", "r:" + question_id, _encode(value))

    def clear(self, code, teacher_key, question_id) -> None:
        """Forget every answer to `question_id` (and its reveal), to ask it again."""
        _question(question_id)
        # The answers' key is passed by its place in KEYS (room, students, then one per question).
        self._teacher_action(code, teacher_key, "clear", "r:" + question_id, str(3 + _QUESTION_IDS.index(question_id)))

    def close(self, code, teacher_key) -> None:
        self._teacher_action(code, teacher_key, "close", "", "")

    # --- students ---

    def join(self, code) -> str:
        """The canonical code of an open room; ValueError when there is none."""
        code = normalize_code(code)
        if not self._call(self._redis.exists, self._room_key(code)):
            raise _missing(code)
        return code

    def submit(self, code, student_id, question_id, answer) -> None:
        """Record (or replace) this student's answer to `question_id`."""
        question = _question(question_id)
        value = check_answer(question, answer)
        if not isinstance(student_id, str) or not 0 < len(student_id) <= MAX_ID_LENGTH:
            raise ValueError("This browser has no valid student id; reload the page.")
        code = normalize_code(code)
        room, students, *answers = self._room_keys(code)
        this = answers.pop(_QUESTION_IDS.index(question_id))
        status = self._call(self._submit, [room, students, this, *answers],
                            [student_id, _encode(value), self.max_students, self._idle_ms])
        if status == "missing":
            raise _missing(code)
        if status == "full":
            raise ValueError(f"This class poll is full ({self.max_students} students).")

    # --- the projector ---

    def tally(self, code, question_id) -> dict:
        """Each answer given, to how many students gave it (numbers as floats, choices as their text)."""
        question = _question(question_id)
        code = normalize_code(code)
        exists, values = self._read(lambda pipe: pipe.exists(self._room_key(code)).hvals(
            self._answers_key(code, question_id)))
        if not exists:
            raise _missing(code)
        return dict(Counter(float(v) if question.kind == "number" else v for v in values))

    def revealed(self, code, question_id):
        """The model's answer the teacher revealed for `question_id`, or None."""
        question = _question(question_id)
        code = normalize_code(code)
        exists, value = self._read(lambda pipe: pipe.exists(self._room_key(code)).hget(
            self._room_key(code), "r:" + question_id))
        if not exists:
            raise _missing(code)
        return None if value is None else float(value) if question.kind == "number" else value

    def answered(self, code) -> dict:
        """How many students answered each question so far (question id -> count), for the teacher's list."""
        code = normalize_code(code)

        def commands(pipe):
            pipe.exists(self._room_key(code))
            for question_id in _QUESTION_IDS:
                pipe.hlen(self._answers_key(code, question_id))

        exists, *counts = self._read(commands)
        if not exists:
            raise _missing(code)
        return {question_id: count for question_id, count in zip(_QUESTION_IDS, counts) if count}

    def open_rooms(self) -> int:
        return self._call(self._open_rooms, [self._rooms_key()], [self._room_key("")])

    # --- keys and calls ---

    def _rooms_key(self) -> str:
        return self.prefix + "rooms"

    def _room_key(self, code: str) -> str:
        return f"{self.prefix}room:{code}"

    def _answers_key(self, code: str, question_id: str) -> str:
        return f"{self._room_key(code)}:answers:{question_id}"

    def _room_keys(self, code: str) -> list[str]:
        """Every key of a room: its hash (teacher key, reveals), its students, its answers per question."""
        return [self._room_key(code), self._room_key(code) + ":students",
                *(self._answers_key(code, question_id) for question_id in _QUESTION_IDS)]

    def _teacher_action(self, code, teacher_key, action: str, field: str, value: str) -> None:
        code = normalize_code(code)
        stored = self._call(self._redis.hget, self._room_key(code), "key")
        if stored is None:
            raise _missing(code)
        if not (_same(teacher_key, stored) or (self._password is not None and _same(teacher_key, self._password))):
            raise ValueError("Only the teacher who started this class poll can do that.")
        status = self._call(self._teacher, self._room_keys(code), [stored, action, self._idle_ms, field, value])
        if status == "missing":
            raise _missing(code)

    def _read(self, commands) -> list:
        """Several reads in one MULTI/EXEC, so they see the same moment."""
        def run():
            pipe = self._redis.pipeline(transaction=True)
            commands(pipe)
            return pipe.execute()
        return self._call(run)

    @staticmethod
    def _call(function, *args):
        try:
            return function(*args)
        except redis.RedisError as problem:
            raise ValueError("The class poll's shared store (Redis) does not answer; tell your teacher "
                             f"({type(problem).__name__}).") from problem


def _encode(value) -> str:
    return repr(value) if isinstance(value, float) else value


def _missing(code: str) -> ValueError:
    return ValueError(f"There is no open class poll with the code {code}; check it with your teacher.")
