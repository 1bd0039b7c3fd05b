"""Keep the garbage collector off the long-lived objects of a server process (networks, traced functions).

Streamlit runs full collections after every page run (its own `gc.collect(2)`, and a Keras session clear
that collects again). With TensorFlow and VGG16 loaded, a full collection walks about 430,000 objects:
0.25-0.3 CPU-seconds, twice per rerun, for every student. Objects that live as long as the process (the
modules, a shared network and its traced functions) never become garbage, so after building them we move
them to the collector's permanent generation (`gc.freeze`), where no collection looks at them.

Frozen objects are still freed by reference counting; only a reference cycle among them would stay. So a
shared object that is dropped later (a random-weights network nobody uses any more) goes through `release`:
unfreeze, collect once, freeze again.

`return_large_blocks` is about the C heap under Python: see there.
"""
import ctypes
import gc
import platform
import threading

_lock = threading.Lock()


def freeze() -> int:
    """Collect once, then move every object alive now out of later collections; returns how many were tracked."""
    with _lock:
        gc.collect()
        tracked = len(gc.get_objects())
        gc.freeze()
    return tracked


def release() -> None:
    """After dropping a long-lived object: let one full collection free its cycles, then freeze the rest."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def tracked_objects() -> int:
    """How many objects a full collection would walk now."""
    return len(gc.get_objects())


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
LARGE_BLOCK_BYTES = 256 * 1024


def return_large_blocks(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """From now on, every block of `threshold` bytes or more is mapped on its own and given back when freed.

    glibc maps blocks from 128 kB up on their own, but each time such a block is freed it raises that limit
    to the block's size (up to 32 MB). After a few pictures, uploads and page messages have come and gone,
    blocks of that size come from the heap instead, and with thirty students' threads allocating at once the
    heap keeps their freed space for itself: RSS grows with each busy minute. A fixed limit stops the
    raising. Returns whether it applied: glibc on Linux only; elsewhere nothing changes.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, int(threshold)))
    except (OSError, AttributeError):
        return False
