"""Keep the garbage collector off the long-lived objects of a server process (networks, traced functions).

Streamlit runs full collections after every page run (its own `gc.collect(2)`, and a Keras session clear
that collects again). With TensorFlow and VGG16 loaded, a full collection walks about 430,000 objects:
0.25-0.3 CPU-seconds, twice per rerun, for every student. Objects that live as long as the process (the
modules, a shared network and its traced functions) never become garbage, so after building them we move
them to the collector's permanent generation (`gc.freeze`), where no collection looks at them.

Frozen objects are still freed by reference counting; only a reference cycle among them would stay. So a
shared object that is dropped later (a random-weights network nobody uses any more) goes through `release`:
unfreeze, collect once, freeze again.
"""
import gc
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
