"""The garbage collector stays off long-lived objects, and a dropped one is still freed."""
import gc
import weakref

from models.engine import heap


class Node:
    def __init__(self):
        self.partner = None


def cycle():
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    return first


def test_freeze_takes_what_is_alive_out_of_later_collections():
    keep = [cycle() for _ in range(2000)]
    before = heap.tracked_objects()
    heap.freeze()
    assert heap.tracked_objects() < before - 4000  # the 4000 nodes (and the rest) are no longer walked
    assert keep[0].partner.partner is keep[0]


def test_a_frozen_cycle_that_is_dropped_is_freed_by_release():
    node = cycle()
    alive = weakref.ref(node)
    heap.freeze()
    del node
    gc.collect()
    assert alive() is not None  # frozen: a collection does not look at the cycle
    heap.release()
    assert alive() is None


def run_python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


FREE_IN_THE_MIDDLE = """
from pathlib import Path
from models.engine import heap
{patch}
def rss_mb():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024
blocks = [bytearray(b"x" * 100_000) for _ in range(1500)]  # 150 MB in the allocator's heap, not mapped apart
last = bytearray(b"y" * 100_000)  # allocated after them: the free space below it cannot shrink the heap's top
del blocks
before = rss_mb()
print(heap.release_free_memory(), round(before - rss_mb()))
"""


def test_release_free_memory_gives_the_allocators_free_pages_back():
    import pytest

    if heap.release_free_memory() is False:
        pytest.skip("this allocator has no malloc_trim (not glibc)")
    trimmed, given_back = run_python(FREE_IN_THE_MIDDLE.format(patch="")).split()
    assert trimmed == "True" and int(given_back) > 100
    untrimmed, kept = run_python(FREE_IN_THE_MIDDLE.format(patch="heap._MALLOC_TRIM = lambda pad: 0")).split()
    assert untrimmed == "True" and int(kept) < 20  # without the trim the free pages stay resident


def test_heavy_jobs_are_followed_by_one_trim_each_period_and_none_without_work():
    import pytest

    if heap.release_free_memory() is False:
        pytest.skip("this allocator has no malloc_trim (not glibc)")
    out = run_python("""
import time
from models.engine import heap
calls = []
heap.TRIM_EVERY_S = 0.2
heap.release_free_memory = lambda: calls.append(time.monotonic())
start = time.monotonic()
for _ in range(3):
    heap.after_heavy_work()
time.sleep(0.6)
first = len(calls)
time.sleep(0.6)  # no work: no trim
idle = len(calls)
heap.after_heavy_work()
time.sleep(0.6)
print(first, idle, len(calls), round(calls[0] - start, 2))
""")
    first, idle, later, delay = out.split()
    assert (int(first), int(idle), int(later)) == (1, 1, 2)
    assert float(delay) >= 0.2  # the trim waits for the period, off the job's own path
