"""The training engine's choices (losses, optimizers), its per-click limits, and how a run reports itself.

Plain Python and Keras objects only: the trainer (trainer.py) and the run helpers (runs.py) build on these,
and pages may import the names and limits to label their widgets.
"""
import math
from dataclasses import dataclass
from enum import StrEnum

import keras
import pandas as pd

from models.core.numbers import check_number

LOSSES = {
    "binary_crossentropy": "Binary cross-entropy",
    "categorical_crossentropy": "Categorical cross-entropy",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "huber": "Huber",
}
REGRESSION_LOSSES = ("mse", "mae", "huber")  # no accuracy curve for these
OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "rmsprop": "RMSprop"}
MAX_WORK = 10**10  # epochs x points x parameters per click: about 2 s of this 2-core machine
MAX_STEPS = 250_000  # optimizer steps per click (tiny batches cost time per step, whatever the size)
MAX_EPOCHS = 5000
CHUNK_CAPACITY = 500  # most epochs one compiled call runs; run() splits longer requests
SECONDS_PER_CHUNK = 0.2  # a page redraws (and a Stop click takes effect) about this often
# A run counts as diverged when its loss is NaN or infinite, or grows past this many times the
# untrained model's loss (at least 1): sigmoid outputs keep cross-entropy finite even when it explodes.
DIVERGENCE_FACTOR = 100.0

# --- Settings checks with messages a student understands ---

def training_work(*, epochs: int, n_points: int, n_params: int) -> int:
    """How much arithmetic a run costs, in epochs x points x parameters."""
    return epochs * n_points * n_params


def check_work(*, epochs: int, n_points: int, n_params: int, steps_per_epoch: int = 1,
               max_work: int = MAX_WORK, max_steps: int = MAX_STEPS) -> None:
    """Raise ValueError when one click would keep the shared CPU busy for too long."""
    work = training_work(epochs=epochs, n_points=n_points, n_params=n_params)
    if work > max_work:
        raise ValueError(
            f"That is too much training for one click: {epochs} epochs x {n_points} points x "
            f"{n_params} weights = {work:.3g}, and the limit is {max_work:.3g}. "
            "Use fewer epochs, fewer points or a smaller network.")
    if epochs * steps_per_epoch > max_steps:
        raise ValueError(
            f"That is too many training steps for one click: {epochs} epochs x {steps_per_epoch} batches "
            f"= {epochs * steps_per_epoch}, and the limit is {max_steps}. Use a larger batch size or fewer epochs.")


def whole(value, what, low, high=math.inf) -> int:
    return check_number(value, what, low=low, high=high, integer=True)


def make_optimizer(name: str, learning_rate: float, momentum: float):
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")


def make_loss(name: str, reduction="sum_over_batch_size", huber_delta: float = 1.0):
    if name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(reduction=reduction)
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(reduction=reduction)
    if name == "mse":
        return keras.losses.MeanSquaredError(reduction=reduction)
    if name == "mae":
        return keras.losses.MeanAbsoluteError(reduction=reduction)
    if name == "huber":
        return keras.losses.Huber(delta=huber_delta, reduction=reduction)
    raise ValueError(f"Unknown loss {name!r}; choose one of {', '.join(LOSSES)}.")


class RunStatus(StrEnum):
    """Where a run stands; equal to its text ("finished" == RunStatus.FINISHED)."""
    READY = "ready"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED_EARLY = "stopped early"
    DIVERGED = "diverged"

    @property
    def done(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.STOPPED_EARLY, RunStatus.DIVERGED)


@dataclass(frozen=True)
class TrainingResult:
    """What a run has produced so far: the curves and how it ended."""
    history: pd.DataFrame  # epoch (from 1), loss, val_loss and, for classification, accuracy, val_accuracy
    status: RunStatus
    epochs_run: int
    epochs: int
    best_epoch: int | None  # the epoch with the lowest validation loss
    best_val_loss: float | None
    diverged_at: int | None  # the first epoch whose loss was NaN or infinite
    message: str

    @property
    def done(self) -> bool:
        return RunStatus(self.status).done

