"""The heavy-work slot: first come, first served; a waiter learns its place; an interrupted waiter leaves the line."""
import threading

import pytest

from models.engine import heavy_work as hw


def test_waiters_are_served_in_arrival_order_and_told_their_place():
    queue = hw.HeavyQueue(1)
    release = threading.Event()
    served, places = [], {}

    def holder():
        with queue.slot():
            served.append("holder")
            release.wait(10)

    def student(name, joined):
        def on_wait(place):
            places.setdefault(name, []).append(place)
            joined.set()
        with queue.slot(on_wait):
            served.append(name)

    first = threading.Thread(target=holder)
    first.start()
    while not served:  # the holder has its slot before anybody queues
        threading.Event().wait(0.01)
    threads = []
    for name in ("ann", "bob", "cem", "dia"):  # each joins only after the previous one is in line
        joined = threading.Event()
        thread = threading.Thread(target=student, args=(name, joined))
        thread.start()
        assert joined.wait(10)
        threads.append(thread)
    assert queue.waiting() == 4
    assert {name: p[0] for name, p in places.items()} == {"ann": 1, "bob": 2, "cem": 3, "dia": 4}
    release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert served == ["holder", "ann", "bob", "cem", "dia"]
    # Each waiter's reported place only went down as those ahead were served.
    for seen in places.values():
        assert seen == sorted(set(seen), reverse=True)
    assert queue.waiting() == 0


def test_a_waiter_interrupted_while_queueing_leaves_the_line():
    queue = hw.HeavyQueue(1)
    release, done = threading.Event(), []

    class Rerun(Exception):
        pass

    def holder():
        with queue.slot():
            release.wait(10)

    def impatient(place):
        raise Rerun  # as a page does when the student clicks something else while waiting

    thread = threading.Thread(target=holder)
    thread.start()
    while queue.position(1) != 0 or queue._busy == 0:
        threading.Event().wait(0.01)
    with pytest.raises(Rerun):
        with queue.slot(impatient):
            done.append("should not run")
    assert queue.waiting() == 0 and not done
    release.set()
    thread.join(10)
    with queue.slot() as waited:  # the slot is free again: nobody is left holding or queueing
        assert waited >= 0


def test_two_slots_let_two_holders_work_together():
    queue = hw.HeavyQueue(2)
    inside, both = [], threading.Barrier(2, timeout=10)

    def worker():
        with queue.slot():
            inside.append(1)
            both.wait()  # would time out (BrokenBarrierError) if the second holder had to queue

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(inside) == 2 and not both.broken


def test_a_queue_needs_a_slot():
    with pytest.raises(ValueError, match="at least one"):
        hw.HeavyQueue(0)


def test_the_module_level_helper_uses_the_process_queue():
    with hw.heavy_work() as waited:
        assert waited >= 0 and hw.waiting() == 0
