"""A memory probe for the app's server, for use with the load benchmark:

    PYTHONPATH=benchmarks/memory_probe python -u benchmarks/load.py --sessions 30 --no-tour

Python imports this file at start-up in every process that has it on its path; it acts only in the app's
server (started with --server.headless). Every 15 s it appends one line to $MEMORY_PROBE_LOG
(memory_probe.log by default): the RSS, glibc's own account of the heap (`mallinfo2`: memory in use and
memory held free for reuse, in MB), and how many objects the garbage collector tracks. It tells memory that
live objects hold from memory the allocator keeps after they are freed. Linux with glibc only.
"""
import os
import sys

if "--server.headless" in sys.argv:
    import ctypes
    import gc
    import threading
    import time

    class _MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    def _rss_mb() -> float:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))

    def _probe() -> None:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
        mallinfo2.restype = _MallInfo2
        with open(os.environ.get("MEMORY_PROBE_LOG", "memory_probe.log"), "a") as log:
            while True:
                time.sleep(15)
                heap = mallinfo2()
                log.write(f"{time.strftime('%H:%M:%S')} rss_mb={_rss_mb():.0f} "
                          f"heap_in_use_mb={heap.uordblks / 2**20:.0f} heap_free_mb={heap.fordblks / 2**20:.0f} "
                          f"mapped_mb={heap.hblkhd / 2**20:.0f} "
                          f"tracked_objects={len(gc.get_objects())}\n")
                log.flush()

    threading.Thread(target=_probe, name="memory-probe", daemon=True).start()
