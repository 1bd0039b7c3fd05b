"""Hyperparameter search: grid against random with the same budget of trials, each trial trained by the engine."""
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.datasets import make_moons
from sklearn.model_selection import ParameterGrid, ParameterSampler

from models.core.numbers import check_number
from models.engine.mlp import build_mlp
from models.engine.trainer import Trainer
from models.evaluation.data import standardise

STRATEGIES = ("grid", "random")
MAX_BUDGET = 32
N_TRAIN, N_VAL, N_TEST = 300, 150, 150


@dataclass(frozen=True)
class Dimension:
    """The range one hyperparameter is searched over."""
    low: float
    high: float
    log: bool = False  # spread the values evenly on a log scale (learning rates, penalties)
    integer: bool = False


SPACE = {"learning_rate": Dimension(1e-4, 0.3, log=True), "units": Dimension(2, 64, log=True, integer=True),
         "l2": Dimension(1e-5, 1e-2, log=True), "dropout_rate": Dimension(0.0, 0.5)}


def _check_space(space: dict) -> dict:
    if not space:
        raise ValueError("The search space is empty: choose at least one hyperparameter to search.")
    unknown = set(space) - set(SPACE)
    if unknown:
        raise ValueError(f"Unknown hyperparameter {sorted(unknown)[0]!r}; choose from {', '.join(SPACE)}.")
    for name, dim in space.items():
        if not dim.low <= dim.high:
            raise ValueError(f"The range of {name} goes from {dim.low:g} to {dim.high:g}: the low end must come first.")
        if dim.log and dim.low <= 0:
            raise ValueError(f"A log-scale range of {name} must start above 0; it starts at {dim.low:g}.")
    return space


def grid_values(space: dict, budget: int) -> dict:
    """Evenly spread values per hyperparameter, as many per axis as the budget allows for a full grid."""
    levels = max(int(math.floor(budget ** (1 / len(space)) + 1e-9)), 1)
    values = {}
    for name, dim in space.items():
        points = (np.geomspace if dim.log else np.linspace)(dim.low, dim.high, levels) if levels > 1 else \
            np.array([math.sqrt(dim.low * dim.high) if dim.log else (dim.low + dim.high) / 2])
        values[name] = sorted({int(round(p)) if dim.integer else float(p) for p in points})
    return values


def candidates(space: dict, *, strategy: str, budget: int, seed: int) -> list[dict]:
    """The settings each trial uses: scikit-learn's ParameterGrid or ParameterSampler."""
    space = _check_space(space)
    budget = check_number(budget, "The budget (number of trials)", low=1, high=MAX_BUDGET, integer=True)
    seed = check_number(seed, "The seed", low=0, high=2**32 - 1, integer=True)
    if strategy == "grid":
        return list(ParameterGrid(grid_values(space, budget)))[:budget]
    if strategy != "random":
        raise ValueError(f"Unknown strategy {strategy!r}; choose grid or random.")
    distributions = {name: (stats.loguniform(dim.low, dim.high) if dim.log and dim.low < dim.high
                            else stats.uniform(dim.low, dim.high - dim.low)) for name, dim in space.items()}
    return [{name: int(round(value)) if space[name].integer else float(value) for name, value in trial.items()}
            for trial in ParameterSampler(distributions, n_iter=budget, random_state=seed)]


def moons(seed: int = 0) -> dict:
    """Two interleaved half-moons with noise: training, validation and test parts, standardised by training."""
    x, y = make_moons(N_TRAIN + N_VAL + N_TEST, noise=0.3, random_state=seed)
    parts = np.split(np.arange(len(y)), [N_TRAIN, N_TRAIN + N_VAL])
    xs = standardise(*(x[p].astype(np.float32) for p in parts))
    return {name: (part_x, y[p]) for name, part_x, p in zip(("training", "validation", "test"), xs, parts)}


DEFAULTS = {"learning_rate": 0.01, "units": 16, "l2": 0.0, "dropout_rate": 0.0}


def train_trial(settings: dict, *, epochs: int, patience: int | None, seed: int, data_seed: int = 0):
    """Train one setting on the moons (two hidden layers of `units`); the trainer and its result."""
    full = DEFAULTS | settings
    data = moons(data_seed)
    model = build_mlp(hidden_units=(full["units"],) * 2, l2=full["l2"], dropout_rate=full["dropout_rate"], seed=seed)
    # A plain tf.function: every trial is a new program, and XLA's compile would cost more than it saves.
    trainer = Trainer(model, batch_size=32, n_train=N_TRAIN, n_val=N_VAL, xla=False)
    trainer.start(*data["training"], *data["validation"], epochs=epochs, learning_rate=full["learning_rate"],
                  seed=seed, patience=patience)
    return trainer, trainer.run()


def hyperparameter_search(space: dict, *, strategy: str, budget: int, seed: int, epochs: int = 100,
                          patience: int | None = 10, progress: Callable[[int, dict], None] | None = None,
                          guard: Callable[[], AbstractContextManager] | None = None) -> pd.DataFrame:
    """One row per trial: its settings, validation loss and accuracy of the kept weights, epochs run.

    `progress(number, row)` is called after each trial; `guard` (e.g. the heavy-work slot) is held per trial.
    """
    epochs = check_number(epochs, "The number of epochs", low=1, high=500, integer=True)
    rows = []
    for number, settings in enumerate(candidates(space, strategy=strategy, budget=budget, seed=seed), start=1):
        with (guard or nullcontext)():
            clock = time.perf_counter()
            _, result = train_trial(settings, epochs=epochs, patience=patience, seed=seed)
        epoch = result.best_epoch if patience is not None and result.best_epoch else len(result.history)
        row = result.history.iloc[epoch - 1]
        rows.append({"trial": number, "strategy": strategy, **{n: settings[n] for n in space},
                     "val_loss": float(row["val_loss"]), "val_accuracy": float(row["val_accuracy"]),
                     "epochs_run": result.epochs_run, "seconds": time.perf_counter() - clock})
        if progress is not None:
            progress(number, rows[-1])
    return pd.DataFrame(rows)


def best_trial(results: pd.DataFrame) -> pd.Series:
    """The trial with the highest validation accuracy (the lower validation loss breaks ties)."""
    return results.sort_values(["val_accuracy", "val_loss"], ascending=[False, True], kind="stable").iloc[0]


def final_test_accuracy(trial: pd.Series, space: dict, *, epochs: int = 100, patience: int | None = 10,
                  seed: int = 0) -> float:
    """Train the chosen trial's settings again (same seed, so the same model) and score the test set once."""
    settings = {name: int(trial[name]) if dim.integer else float(trial[name]) for name, dim in space.items()}
    trainer, _ = train_trial(settings, epochs=epochs, patience=patience, seed=seed)
    x, y = moons()["test"]
    return float(np.mean((trainer.predict(x)[:, 0] >= 0.5) == y))
