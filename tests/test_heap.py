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
