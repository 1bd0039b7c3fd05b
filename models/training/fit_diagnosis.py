"""Reading a run's curves: where validation loss turns up, the loss of guessing, and a one-paragraph diagnosis."""
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

# Thresholds of the automatic diagnosis; "guess loss" is the loss of always predicting the
# training set's average (the base rate for 0/1 labels, the mean for regression).
OVERFIT_RATIO = 1.5  # validation loss at least this many times the training loss ...
GAP_SHARE = 0.1  # ... and above it by at least this share of the guess loss
UNDERFIT_SHARE = 0.6  # training loss at least this share of the guess loss (classification)
NOT_LEARNING_SHARE = 0.9
TURN_UP_RISE = 0.1  # the last epochs' validation loss at least 10% above its minimum
TAIL_SHARE = 0.1  # "the last epochs": the last 10% of the run, at least 3 epochs
REMEDIES = {
    "overfitting": "Remedies: more training data, an L1/L2 penalty, dropout, early stopping, or a smaller model.",
    "underfitting": "Remedies: a larger model (more layers or neurons), more epochs or a better learning rate. "
                    "Regularisation would make it worse.",
}


class TurnUp(NamedTuple):
    epoch: int  # the epoch of the lowest validation loss
    lowest: float
    last: float  # mean validation loss over the last epochs
    rising_for: int  # epochs after the lowest point


def turn_up(history: pd.DataFrame, *, rise=TURN_UP_RISE, tail_share=TAIL_SHARE) -> TurnUp | None:
    """Where validation loss bottoms out, when the last epochs are clearly (by `rise`) higher; else None."""
    val = history["val_loss"].to_numpy(dtype=float)
    n = len(val)
    tail = max(3, math.ceil(tail_share * n))
    if n < tail + 2:
        return None
    best = int(np.argmin(val))
    last = float(val[-tail:].mean())
    if best >= n - tail or last < val[best] * (1 + rise):
        return None
    return TurnUp(epoch=int(history["epoch"].iloc[best]), lowest=float(val[best]), last=last, rising_for=n - 1 - best)


def guess_loss(y_train, regression: bool) -> float:
    """The loss of always predicting the training average: the base rate's entropy, or the variance."""
    y = np.asarray(y_train, dtype=float)
    if regression:
        return float(np.var(y))
    p = float(np.clip(y.mean(), 1e-7, 1 - 1e-7))
    return float(-(p * math.log(p) + (1 - p) * math.log(1 - p)))


class Diagnosis(NamedTuple):
    kind: str  # "overfitting", "underfitting", "good fit", "diverged" or "no epochs"
    text: str


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 100 else "over 100×"


def diagnose(history: pd.DataFrame, *, guess: float, status: str, regression: bool = False, floor: float = 0.0,
             learning_rate: float = 0.01) -> Diagnosis:
    """A one-paragraph verdict on a run from its numbers; `floor` is the MSE the noise alone causes (regression)."""
    if status == "diverged":
        return Diagnosis("diverged", "The run diverged, so there is no fit to judge. Lower the learning rate.")
    if history.empty:
        return Diagnosis("no epochs", "No epoch finished, so there is nothing to judge yet.")
    train, val = float(history["loss"].iloc[-1]), float(history["val_loss"].iloc[-1])
    share = train / guess if guess > 0 else math.inf
    gap, ratio = val - train, val / train if train > 0 else math.inf
    bend = turn_up(history)
    numbers = f"Training loss {train:.3f}, validation loss {val:.3f}"
    if "accuracy" in history:
        numbers += (f" (accuracy {history['accuracy'].iloc[-1]:.0%} on training, "
                    f"{history['val_accuracy'].iloc[-1]:.0%} on validation)")
    numbers += f"; a model that ignores the input and always predicts the training average would score {guess:.3f}. "
    tail = max(3, math.ceil(TAIL_SHARE * len(history)))
    still_falling = len(history) > tail and history["loss"].iloc[-1] < 0.95 * history["loss"].iloc[-tail - 1]
    later = (" The training loss was still falling at the end, so more epochs would lower it further."
             if still_falling else "")
    if share >= NOT_LEARNING_SHARE:
        cause = (f" The learning rate {learning_rate:g} is probably too large." if learning_rate > 1 and share > 1.05
                 else "")
        return Diagnosis("underfitting", numbers + f"The training loss is {share:.0%} of that: the model has learned "
                         f"almost nothing, on training or validation data. Underfitting.{cause}{later} "
                         + REMEDIES["underfitting"])
    if gap >= GAP_SHARE * guess and (ratio >= OVERFIT_RATIO or bend is not None):
        text = numbers + f"Validation loss is {_times(ratio)} training loss"
        if bend is not None:
            text += (f" and rose for the last {bend.rising_for} epochs, from its lowest, {bend.lowest:.3f} "
                     f"at epoch {bend.epoch}")
        text += ": low training error, higher validation error. Overfitting."
        if share >= UNDERFIT_SHARE:
            text += " The training loss is still high too: the model fits even its training data poorly."
        return Diagnosis("overfitting", text + " " + REMEDIES["overfitting"])
    if regression_underfit(train, guess, floor) if regression else share >= UNDERFIT_SHARE:
        where = (f"the noise alone would give about {floor:.3f}" if regression
                 else f"{share:.0%} of the guessing loss")
        return Diagnosis("underfitting", numbers + f"Both losses are high ({where}) and close to each other "
                         f"(validation {_times(ratio)} training). Underfitting.{later} " + REMEDIES["underfitting"])
    return Diagnosis("good fit", numbers + f"Validation loss is {_times(ratio)} training loss and both are well "
                     f"below guessing: a good fit for this data.{later}")


def regression_underfit(train: float, guess: float, floor: float) -> bool:
    """Training MSE still more than a quarter of the way from the noise floor up to guessing the mean."""
    return train >= floor + 0.25 * max(guess - floor, 0.0)


def markers(run_history: pd.DataFrame, *, best_epoch: int | None, early_stopping: bool) -> pd.DataFrame:
    """Vertical markers for a loss chart: where validation loss turns up, and the epoch early stopping restored."""
    rows = []
    bend = turn_up(run_history) if not run_history.empty else None
    if bend is not None:
        rows.append({"epoch": bend.epoch, "marker": f"validation loss turns up after epoch {bend.epoch}",
                     "short": f"turns up ({bend.epoch})"})
    if early_stopping and best_epoch:
        rows.append({"epoch": best_epoch, "marker": f"early stopping restored the weights of epoch {best_epoch}",
                     "short": f"restored ({best_epoch})"})
    return pd.DataFrame(rows, columns=["epoch", "marker", "short"])
