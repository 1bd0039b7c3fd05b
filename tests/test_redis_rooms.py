"""The room store's behaviour, run on both backends (in memory, and Redis for several processes)."""
import random
import threading
from collections import Counter

import pytest

from models.classroom import rooms
from models.classroom.questions import QUESTIONS
from models.classroom.rooms import RoomStore, check_answer
from tests.redis_server import redis_unavailable_reason, running_redis

NUMBER = "softmax.probability"  # a number in [0, 1]
CHOICE = "overfitting.kind"  # underfitting / good fit / overfitting
HOUR = 3600


@pytest.fixture(scope="module")
def redis_url():
    reason = redis_unavailable_reason()
    if reason:
        pytest.skip(f"Redis backend not tested: {reason}")
    with running_redis() as url:
        yield url


class MemoryBackend:
    """In-memory stores on a fake clock; `twin` is the same store (one process)."""

    def __init__(self):
        self.now = 1000.0

    def store(self, **options):
        return RoomStore(clock=lambda: self.now, **options)

    def twin(self, store):
        return store

    def advance(self, seconds):
        self.now += seconds


class RedisBackend:
    """Stores on one Redis server; `twin` is a second client, as another app process has. Time passes by
    taking `seconds` off every key's TTL (Redis' own expiry then does the rest)."""

    def __init__(self, url, prefix):
        import redis

        self.url, self.prefix = url, prefix
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.options = {}

    def store(self, **options):
        from models.classroom.redis_store import RedisRoomStore

        self.options = options
        return RedisRoomStore.from_url(self.url, prefix=self.prefix, **options)

    def twin(self, store):
        return self.store(**self.options)

    def keys(self):
        return list(self.client.scan_iter(match=self.prefix + "*"))

    def advance(self, seconds):
        for key in self.keys():
            left = self.client.pttl(key)
            if left > 0:  # the list of rooms has no TTL (-1)
                if left - seconds * 1000 <= 0:
                    self.client.delete(key)
                else:
                    self.client.pexpire(key, int(left - seconds * 1000))


def _prefix(request) -> str:
    """A key prefix of this test's own, without the glob characters of its name (`[redis]`)."""
    return "test-" + "".join(c if c.isalnum() else "-" for c in request.node.name) + ":"


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    if request.param == "memory":
        yield MemoryBackend()
        return
    url = request.getfixturevalue("redis_url")
    backend = RedisBackend(url, prefix=_prefix(request))
    backend.client.flushdb()
    yield backend
    backend.client.close()


def test_a_student_who_answers_again_replaces_the_answer(backend):
    store = backend.store()
    code, _key = store.create_room()
    store.submit(code, "ann", CHOICE, "overfitting")
    store.submit(code, "bob", CHOICE, "overfitting")
    store.submit(code, "ann", CHOICE, "good fit")
    assert store.tally(code, CHOICE) == {"overfitting": 1, "good fit": 1}
    store.submit(code.lower(), "cat", NUMBER, 0.7)
    store.submit(code, "dan", NUMBER, 0.7)
    store.submit(code, "eve", NUMBER, 1)
    assert store.tally(code, NUMBER) == {0.7: 2, 1.0: 1}
    assert all(type(answer) is float for answer in store.tally(code, NUMBER))
    assert store.answered(code) == {CHOICE: 2, NUMBER: 3}
    assert store.join(f" {code[:2].lower()}-{code[2:]} ") == code


@pytest.mark.parametrize("question_id, answer", [
    (NUMBER, 1.5), (NUMBER, -0.1), (NUMBER, float("nan")), (NUMBER, float("inf")), (NUMBER, "0.5"),
    (NUMBER, True), (NUMBER, None), (CHOICE, "Overfitting"), (CHOICE, "<script>alert(1)</script>"), (CHOICE, 2),
    ("no.such.question", "good fit"), (None, 1), (["softmax.probability"], 0.5),
])
def test_answers_that_do_not_fit_the_question_are_refused(backend, question_id, answer):
    store = backend.store()
    code, _key = store.create_room()
    with pytest.raises(ValueError):
        store.submit(code, "ann", question_id, answer)
    assert store.answered(code) == {}


def test_bad_student_ids_and_unknown_codes_are_refused(backend):
    store = backend.store()
    code, _key = store.create_room()
    for student in ["", "x" * 65, None, 7]:
        with pytest.raises(ValueError, match="student id"):
            store.submit(code, student, NUMBER, 0.5)
    other = next(c for c in ("CDFH", "CDFJ") if c != code)
    for action in (lambda: store.submit(other, "ann", NUMBER, 0.5), lambda: store.join(other),
                   lambda: store.tally(other, NUMBER), lambda: store.answered(other),
                   lambda: store.revealed(other, NUMBER)):
        with pytest.raises(ValueError, match="no open class poll with the code"):
            action()
    with pytest.raises(ValueError, match="class code"):
        store.join("C0FH")


def test_only_the_teacher_key_reveals_clears_and_closes(backend):
    store = backend.store()
    code, key = store.create_room()
    _other_code, other_key = store.create_room()
    store.submit(code, "ann", NUMBER, 0.7)
    store.submit(code, "ann", CHOICE, "overfitting")
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
    store.reveal(code, key, CHOICE, "good fit")
    assert store.revealed(code, NUMBER) == 0.9 and store.revealed(code, CHOICE) == "good fit"
    store.clear(code, key, NUMBER)  # only this question: the other keeps its answers and its reveal
    assert store.tally(code, NUMBER) == {} and store.revealed(code, NUMBER) is None
    assert store.tally(code, CHOICE) == {"overfitting": 1} and store.revealed(code, CHOICE) == "good fit"
    store.close(code, key)
    with pytest.raises(ValueError, match="no open class poll"):
        store.tally(code, NUMBER)
    with pytest.raises(ValueError, match="no open class poll"):
        store.close(code, key)


def test_a_server_password_is_needed_to_start_and_also_works_as_the_teacher_key(backend):
    store = backend.store(password="s3cret")
    with pytest.raises(ValueError, match="teacher password"):
        store.create_room()
    with pytest.raises(ValueError, match="teacher password"):
        store.create_room("wrong")
    code, _key = store.create_room("s3cret")
    store.reveal(code, "s3cret", CHOICE, "good fit")  # a second teacher device, with the password
    assert store.revealed(code, CHOICE) == "good fit"
    with pytest.raises(ValueError, match="Only the teacher"):
        store.close(code, "s3cret!")


def test_at_most_twenty_rooms_and_three_hundred_students(backend):
    store = backend.store()
    other_process = backend.twin(store)
    for number in range(rooms.MAX_ROOMS):
        code, key = (store if number % 2 else other_process).create_room()
    with pytest.raises(ValueError, match="20 open class polls"):
        store.create_room()
    with pytest.raises(ValueError, match="20 open class polls"):
        other_process.create_room()
    assert store.open_rooms() == other_process.open_rooms() == rooms.MAX_ROOMS
    for student in range(rooms.MAX_STUDENTS):
        store.submit(code, f"s{student}", NUMBER, 0.5)
    with pytest.raises(ValueError, match="full"):
        store.submit(code, "one too many", NUMBER, 0.5)
    store.submit(code, "s0", NUMBER, 0.25)  # a student already in may still change their answer
    store.submit(code, "s1", CHOICE, "good fit")  # ... and answer another question
    assert store.tally(code, NUMBER) == {0.5: rooms.MAX_STUDENTS - 1, 0.25: 1}
    store.close(code, key)
    assert store.open_rooms() == rooms.MAX_ROOMS - 1
    other_process.create_room()  # a closed room frees its place


def test_a_room_closes_after_four_idle_hours_and_answers_keep_it_open(backend):
    store = backend.store()
    code, key = store.create_room()
    backend.advance(3 * HOUR)
    store.submit(code, "ann", NUMBER, 0.5)  # activity
    backend.advance(3 * HOUR)
    assert store.tally(code, NUMBER) == {0.5: 1}  # looking at the tally is not activity ...
    store.reveal(code, key, NUMBER, 0.5)  # ... but the teacher's actions are
    backend.advance(3 * HOUR)
    assert store.tally(code, NUMBER) == {0.5: 1} and store.open_rooms() == 1
    backend.advance(1.01 * HOUR)
    with pytest.raises(ValueError, match="no open class poll"):
        store.tally(code, NUMBER)
    assert store.open_rooms() == 0
    with pytest.raises(ValueError, match="no open class poll"):
        store.submit(code, "ann", NUMBER, 0.5)


def test_fifty_threads_give_exact_counts(backend):
    store = backend.store()
    stores = [store, backend.twin(store)]  # with Redis, two clients: like students on two app processes
    code, key = store.create_room()
    choices = QUESTIONS[CHOICE].choices
    final = {}
    lock = threading.Lock()

    def student(number):
        rng = random.Random(number)
        answer = None
        for _ in range(40):  # each student changes their mind many times; only the last answer counts
            answer = rng.choice(choices)
            stores[number % 2].submit(code, f"student-{number}", CHOICE, answer)
            stores[1 - number % 2].tally(code, CHOICE)  # the projector reads while students write
        with lock:
            final[number] = answer

    threads = [threading.Thread(target=student, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = dict(Counter(final.values()))
    assert sum(expected.values()) == 50
    assert store.tally(code, CHOICE) == stores[1].tally(code, CHOICE) == expected
    assert store.answered(code) == {CHOICE: 50}
    store.close(code, key)


def test_fifty_threads_racing_for_the_last_places_never_overfill_a_room(backend):
    store = backend.store()
    stores = [store, backend.twin(store)]
    code, _key = store.create_room()
    for student in range(rooms.MAX_STUDENTS - 10):
        store.submit(code, f"early-{student}", NUMBER, 0.5)
    accepted, lock = [], threading.Lock()

    def late_student(number):
        try:
            stores[number % 2].submit(code, f"late-{number}", NUMBER, 0.25)
        except ValueError as problem:
            assert "full" in str(problem)
        else:
            with lock:
                accepted.append(number)

    threads = [threading.Thread(target=late_student, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 10
    assert store.tally(code, NUMBER) == {0.5: rooms.MAX_STUDENTS - 10, 0.25: 10}


def test_fuzzed_submissions_never_break_the_store(backend):
    store = backend.store()
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


# --- Redis only ---


@pytest.fixture
def redis_backend(redis_url, request):
    backend = RedisBackend(redis_url, prefix=_prefix(request))
    backend.client.flushdb()
    yield backend
    backend.client.close()


def test_every_key_of_a_room_expires_after_the_idle_time_and_activity_renews_it(redis_backend):
    store = redis_backend.store()
    code, _key = store.create_room()
    store.submit(code, "ann", NUMBER, 0.5)
    redis_backend.advance(HOUR)
    store.submit(code, "bob", CHOICE, "good fit")  # one answer renews every key of the room
    keys = redis_backend.keys()
    room_keys = [key for key in keys if f"room:{code}" in key]
    assert len(room_keys) == 4  # the room (teacher key, reveals), its students, two questions' answers
    assert set(keys) - set(room_keys) == {redis_backend.prefix + "rooms"}  # the list of rooms, at most 20 codes
    for key in room_keys:
        assert 4 * HOUR * 1000 - 60_000 < redis_backend.client.pttl(key) <= 4 * HOUR * 1000


def test_flooding_does_not_grow_redis_memory(redis_backend):
    store = redis_backend.store()
    code, _key = store.create_room()
    client = redis_backend.client

    def used_bytes():
        return sum(client.memory_usage(key, samples=0) for key in redis_backend.keys())

    for student in range(rooms.MAX_STUDENTS):
        store.submit(code, f"s{student:03d}", NUMBER, 0.123456789)
    full = used_bytes()
    rng = random.Random(1)
    for _ in range(3000):  # every student floods new answers; outsiders try to get in
        try:
            store.submit(code, rng.choice([f"s{rng.randrange(300):03d}", f"x{rng.randrange(10**6)}"]),
                         NUMBER, rng.choice([0.987654321, 0.5, 1e-300]))
        except ValueError as problem:
            assert "full" in str(problem)
    assert used_bytes() <= full
    assert len(redis_backend.keys()) == 4


def test_make_store_picks_redis_when_the_variable_names_a_server(redis_url, monkeypatch):
    from models.classroom.redis_store import RedisRoomStore

    monkeypatch.delenv(rooms.REDIS_ENV, raising=False)
    assert type(rooms.make_store()) is RoomStore
    monkeypatch.setenv(rooms.REDIS_ENV, redis_url)
    first, second = rooms.make_store(), rooms.make_store()  # two app processes
    assert type(first) is RedisRoomStore
    code, key = first.create_room()
    second.submit(code, "ann", CHOICE, "overfitting")
    assert first.tally(code, CHOICE) == {"overfitting": 1}
    first.close(code, key)


def test_an_unreachable_redis_gives_a_message_not_a_crash():
    pytest.importorskip("redis", reason="the redis package is not installed")
    from models.classroom.redis_store import RedisRoomStore
    from tests.streamlit_server import free_port

    store = RedisRoomStore.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with pytest.raises(ValueError, match="shared store"):
        store.join("CDFH")
    with pytest.raises(ValueError, match="shared store"):
        store.create_room()
