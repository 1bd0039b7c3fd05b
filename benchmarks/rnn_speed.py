"""How fast the recurrent page's memory comparison runs, against model.fit on the same models, data and epochs.

Run from the repository root: python benchmarks/rnn_speed.py [number of seeds, default 6]
Prints the first and the warm time of the default comparison, each run (cell, length) for the compiled loop and
for fit, then "speedup_vs_fit: <ratio>x" (warm), and the final validation accuracies for seeds 0, 1, ...
"""
import sys
import time
from dataclasses import replace

import keras
import numpy as np

import models  # noqa: F401  (sets the Keras backend and quietens TensorFlow)
from models.sequences import memory


def compiled_comparison(settings, cache):
    clock = time.perf_counter()
    comparison = memory.compare(settings, cache=cache)
    return time.perf_counter() - clock, comparison


def fit_run(settings, cell, length):
    """The same model, seed, data, optimizer, batch size and epochs through compile + fit."""
    x, y, xv, yv = memory.task_data(settings, length)
    model = memory.build_sequence_model(cell, symbols=memory.symbols(settings),
                                        classes=settings.classes, units=settings.units, seed=settings.seed)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    steps = settings.n_train // settings.batch_size  # whole batches, as the compiled loop trains
    x, y = x[:steps * settings.batch_size], y[:steps * settings.batch_size]
    clock = time.perf_counter()
    history = model.fit(x, y, validation_data=(xv, yv), epochs=settings.epochs, batch_size=settings.batch_size,
                        verbose=0)
    return time.perf_counter() - clock, history.history["val_accuracy"][-1]


def seed_table(settings, cache, n_seeds):
    """Final validation accuracy per cell and length for seeds 0 .. n_seeds - 1 (the page's Seed box)."""
    print(f"Final validation accuracy for seeds 0-{n_seeds - 1} (chance {1 / settings.classes:.2f}):")
    rows = {}
    for seed in range(n_seeds):
        for run in memory.compare(replace(settings, seed=seed), cache=cache).runs:
            rows.setdefault((run.cell, run.length), []).append(run.val_accuracy)
    for (cell, length), values in rows.items():
        print(f"  {memory.CELLS[cell]:9s} length {length:3d}: " + " ".join(f"{v:.2f}" for v in values)
              + f"   mean {np.mean(values):.2f}, min {min(values):.2f}, max {max(values):.2f}")


def main():
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    settings = memory.DEFAULTS
    print(f"Memory comparison: lengths {settings.lengths}, {settings.classes} classes, {settings.noise_symbols} noise "
          f"symbols + Gaussian noise {settings.noise_scale}, marker {settings.marker}, {settings.units} units, "
          f"{settings.n_train} training and {settings.n_val} validation sequences, {settings.epochs} epochs, "
          f"batch {settings.batch_size}, Adam {settings.learning_rate}, seed {settings.seed}")
    cache = {}
    first, comparison = compiled_comparison(settings, cache)
    warm, again = compiled_comparison(settings, cache)
    same = np.array_equal(comparison.table()["val_accuracy"], again.table()["val_accuracy"])
    print(f"  compiled loop, first (one trace per cell): {first:7.2f} s")
    print(f"  compiled loop, warm:                        {warm:7.2f} s   same results both times: {same}")
    fit_total = 0.0
    for run in again.runs:
        seconds, fit_accuracy = fit_run(settings, run.cell, run.length)
        fit_total += seconds
        print(f"  {memory.CELLS[run.cell]:9s} length {run.length:3d}: compiled {run.seconds:6.2f} s "
              f"(val acc {run.val_accuracy:.3f}), fit {seconds:6.2f} s (val acc {fit_accuracy:.3f})")
    print(f"  model.fit, all runs: {fit_total:.2f} s (goal for the page: the whole comparison under 20 s)")
    print(f"speedup_vs_fit: {fit_total / warm:.1f}x")
    seed_table(settings, cache, n_seeds)


if __name__ == "__main__":
    main()
