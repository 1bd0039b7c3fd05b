"""One process-wide limit on heavy computations (CNN passes, training runs).

Students who press a button at the same moment queue here instead of splitting two CPU
cores ten ways; light pages never take a slot, so they stay responsive.
"""
import contextlib
import os
import threading
import time

SLOTS = max(1, int(os.environ.get("CLASSROOM_HEAVY_SLOTS", "1")))
_slots = threading.BoundedSemaphore(SLOTS)


@contextlib.contextmanager
def heavy_work():
    """Hold one heavy-work slot for the duration of the block; yields the seconds spent queueing."""
    start = time.perf_counter()
    _slots.acquire()
    try:
        yield time.perf_counter() - start
    finally:
        _slots.release()
