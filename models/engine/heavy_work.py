"""One process-wide limit on heavy computations (CNN passes, training runs), served in arrival order.

Students who press a button at the same moment queue here instead of splitting two CPU
cores ten ways; light pages never take a slot, so they stay responsive. The first to arrive
is the first served (a ticket queue, not a plain semaphore, whose waiters may overtake each other),
and a waiting caller can be told its place in the queue while it waits.
"""
import contextlib
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable

SLOTS = max(1, int(os.environ.get("CLASSROOM_HEAVY_SLOTS", "1")))
POLL_SECONDS = 0.5  # how often a waiter re-reads its place to report it


class HeavyQueue:
    """`slots` holders at a time; the others wait in a first-in, first-out line of tickets."""

    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError("There must be at least one heavy-work slot.")
        self.slots = slots
        self._busy = 0
        self._line: deque[int] = deque()  # tickets of waiting callers, oldest first
        self._tickets = itertools.count(1)
        self._changed = threading.Condition()

    def waiting(self) -> int:
        """How many callers are queued now (not counting those holding a slot)."""
        with self._changed:
            return len(self._line)

    def position(self, ticket: int) -> int:
        """1 for the next caller to be served, 2 for the one after, ...; 0 once the ticket is served or gone."""
        with self._changed:
            try:
                return self._line.index(ticket) + 1
            except ValueError:
                return 0

    @contextlib.contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None):
        """Hold a slot for the block; yields the seconds spent queueing.

        While the caller waits, `on_wait(position)` is called on the caller's own thread when it starts
        waiting and whenever its place changes (position 1 = next in line).
        """
        start = time.perf_counter()
        with self._changed:
            ticket = next(self._tickets)
            self._line.append(ticket)
        try:
            self._wait_for_turn(ticket, on_wait)
        except BaseException:  # interrupted while waiting (a rerun, a stop): leave the line, wake the next
            with self._changed:
                if ticket in self._line:
                    self._line.remove(ticket)
                self._changed.notify_all()
            raise
        try:
            yield time.perf_counter() - start
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def _wait_for_turn(self, ticket: int, on_wait) -> None:
        reported = None
        while True:
            with self._changed:
                if self._busy < self.slots and self._line[0] == ticket:
                    self._line.popleft()
                    self._busy += 1
                    return
                place = self._line.index(ticket) + 1
                if on_wait is None or place == reported:
                    self._changed.wait(POLL_SECONDS)
                    continue
            on_wait(place)  # outside the lock: it may draw on a page, and a page may raise to rerun
            reported = place


QUEUE = HeavyQueue(SLOTS)


def heavy_work(on_wait: Callable[[int], None] | None = None):
    """Hold one process-wide heavy-work slot for the block (in arrival order); yields the seconds queued."""
    return QUEUE.slot(on_wait)


def waiting() -> int:
    """How many callers are queued for a heavy-work slot right now."""
    return QUEUE.waiting()
