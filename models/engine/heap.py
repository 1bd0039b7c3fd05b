"""Keep the garbage collector off the long-lived objects of a server process (networks, traced functions).

Streamlit runs full collections after every page run (its own `gc.collect(2)`, and a Keras session clear
that collects again). With TensorFlow and VGG16 loaded, a full collection walks about 430,000 objects:
0.25-0.3 CPU-seconds, twice per rerun, for every student. Objects that live as long as the process (the
modules, a shared network and its traced functions) never become garbage, so after building them we move
them to the collector's permanent generation (`gc.freeze`), where no collection looks at them.

Frozen objects are still freed by reference counting; only a reference cycle among them would stay. So a
shared object that is dropped later (a random-weights network nobody uses any more) goes through `release`:
unfreeze, collect once, freeze again.

The memory allocator keeps what was freed for the next allocation. After a class's burst of passes and
training runs (thirty students at once) the server's RSS stayed about 160 MB higher, though a third of that
memory was free inside the allocator (glibc's `mallinfo2`). `after_heavy_work` lets one background thread
give those free pages back (`malloc_trim`) some seconds after the last heavy job, at most once per
`TRIM_EVERY_S`: a few milliseconds per trim, off every student's path.
"""
import ctypes
import gc
import threading
import time

TRIM_EVERY_S = 20.0

_lock = threading.Lock()
_worked = threading.Event()  # heavy work happened since the last trim
_trimmer: threading.Thread | None = None
_trimmer_lock = threading.Lock()


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


def _malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim  # glibc (Linux); other systems have no such call
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Give the allocator's free pages back to the system now; False where the allocator has no such call."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def after_heavy_work() -> None:
    """Call when a heavy job ends: free memory is given back within `TRIM_EVERY_S` (one thread per process)."""
    global _trimmer
    _worked.set()
    if _trimmer is None and _MALLOC_TRIM is not None:
        with _trimmer_lock:
            if _trimmer is None:
                _trimmer = threading.Thread(target=_trim_after_work, name="free-memory", daemon=True)
                _trimmer.start()


def _trim_after_work() -> None:
    while True:
        _worked.wait()
        time.sleep(TRIM_EVERY_S)  # jobs that end meanwhile are covered by this trim, which comes after them
        _worked.clear()
        release_free_memory()
