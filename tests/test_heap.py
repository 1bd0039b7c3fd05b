"""The garbage collector stays off long-lived objects, and a dropped one is still freed."""
import gc
import platform
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from models.engine import heap

ROOT = Path(__file__).resolve().parents[1]


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


MAPPED_AFTER_A_LARGE_BLOCK_WAS_FREED = r"""
import ctypes, sys
import numpy as np
from models.engine import heap

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2
if sys.argv[1] == "fixed":
    assert heap.return_large_blocks()
block = np.ones(4 * 2**20 // 8)  # 4 MB, then freed: by default glibc now keeps blocks up to 4 MB in its heap
del block
before = libc.mallinfo2().hblkhd
block = np.ones(2**20 // 8)  # 1 MB
print(libc.mallinfo2().hblkhd - before)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_large_blocks_keep_their_own_mapping_after_a_large_block_was_freed():
    """With the fixed limit a 1 MB block is mapped on its own (and so unmapped when freed); by default not."""
    def mapped(mode):
        run = subprocess.run([sys.executable, "-c", MAPPED_AFTER_A_LARGE_BLOCK_WAS_FREED, mode], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return int(run.stdout.split()[-1])

    assert mapped("fixed") >= 2**20
    assert mapped("default") == 0


def test_return_large_blocks_changes_nothing_off_glibc(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    assert heap.return_large_blocks() is False
