"""How long a 16-trial hyperparameter search takes with the engine, grid and random, and one trial through model.fit.

Run from the repository root: python benchmarks/search_speed.py [budget, default 16]
Prints each search's total and per-trial times and best validation accuracy, one trial's time with model.fit
(same model, data, epochs, no early stopping), and last "search_16_trials: <seconds> s" (the slower strategy).
"""
import sys
import time

import keras
import numpy as np

import models  # noqa: F401  (sets the Keras backend and quietens TensorFlow)
from models.engine.mlp import build_mlp
from models.evaluation import search


def fit_trial(epochs: int) -> float:
    """The default settings through compile + fit, for comparison with one engine trial."""
    data = search.moons()
    settings = search.DEFAULTS
    model = build_mlp(hidden_units=(settings["units"],) * 2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="binary_crossentropy",
                  metrics=["accuracy"])
    clock = time.perf_counter()
    model.fit(*data["training"], validation_data=data["validation"], epochs=epochs, batch_size=32, verbose=0)
    return time.perf_counter() - clock


def main():
    budget = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    epochs, patience = 100, 10
    print(f"Search space: {', '.join(search.SPACE)}; {budget} trials; moons {search.N_TRAIN}/{search.N_VAL} points; "
          f"two hidden layers; up to {epochs} epochs, early stopping patience {patience}")
    totals = {}
    for strategy in search.STRATEGIES:
        clock = time.perf_counter()
        results = search.hyperparameter_search(search.SPACE, strategy=strategy, budget=budget, seed=0, epochs=epochs,
                                               patience=patience)
        totals[strategy] = time.perf_counter() - clock
        best = search.best_trial(results)
        print(f"{strategy:6s}: {totals[strategy]:.1f} s, per trial median {np.median(results['seconds']):.2f} s "
              f"(max {results['seconds'].max():.2f} s), {results['epochs_run'].sum()} epochs in all; best validation "
              f"accuracy {best['val_accuracy']:.3f} (learning rate {best['learning_rate']:.3g})")
    print(f"one trial through model.fit ({epochs} epochs, no early stopping): {fit_trial(epochs):.1f} s")
    print(f"search_{budget}_trials: {max(totals.values()):.1f} s")


if __name__ == "__main__":
    main()
