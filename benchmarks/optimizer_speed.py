"""How fast the gradient-descent page's computations answer: the optimiser race and the line fits.

Run from the repository root: python benchmarks/optimizer_speed.py
Prints the first call (with tracing) and the best of a few warm calls for: the race of six optimisers over
200 steps, the state of every optimiser at one step, and each of the three line fits (batch size all, 32, 1).
The last line is "slowest_warm: <seconds> s" (the slowest warm figure above).
"""
import time

import models  # noqa: F401  (sets the Keras backend and quietens TensorFlow)
from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES

WARM_RUNS = 5


def timed(call):
    """(first call, best warm call) in seconds."""
    clock = time.perf_counter()
    call()
    first = time.perf_counter() - clock
    warm = []
    for _ in range(WARM_RUNS):
        clock = time.perf_counter()
        call()
        warm.append(time.perf_counter() - clock)
    return first, min(warm)


def main() -> None:
    warm_figures = []

    def report(what, first, warm):
        warm_figures.append(warm)
        print(f"{what}: first {first:.3f} s, warm {warm:.3f} s")

    for name in ("ravine", "rosenbrock"):
        s = SURFACES[name]
        report(f"race, 6 optimisers x 200 steps, {name}", *timed(lambda s=s, name=name: opt.optimizer_paths(
            name, list(opt.OPTIMIZERS), start=s.start, steps=200, learning_rate=s.learning_rate)))
    s = SURFACES["ravine"]
    report("state of the 6 optimisers at step 100, ravine", *timed(lambda: [opt.optimizer_step_detail(
        "ravine", name, start=s.start, step=100, learning_rate=0.1) for name in opt.OPTIMIZERS]))
    points = lf.make_line_points(100, 0.5, 0)
    for size, label in ((100, "all 100 points"), (32, "32"), (1, "1")):
        updates = 10 * len(lf.batches(100, size))
        report(f"line fit, batch size {label}, 10 epochs ({updates} updates)", *timed(lambda size=size: (
            lf.line_fit_path(points["x"], points["y"], batch_size=size, epochs=10, learning_rate=0.1))))
    report("line fit, batch size 1, 40 epochs (4000 updates, the page's largest default-size fit)",
           *timed(lambda: lf.line_fit_path(points["x"], points["y"], batch_size=1, epochs=40, learning_rate=0.1)))
    print(f"slowest_warm: {max(warm_figures):.3f} s")


if __name__ == "__main__":
    main()
