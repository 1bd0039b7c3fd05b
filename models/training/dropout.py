"""Dropout, measured: training masks, Keras' 1/(1 - rate) scaling, and the same network trained with and without it.

Builds on the training engine (models/engine/): the masks shown are the ones its training steps draw.
"""
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from models.core.numbers import check_number
from models.engine.mlp import count_weights as mlp_weights
from models.engine.randomness import apply_dropout, hash_key
from models.engine.runs import make_trainer, train_in_turns
from models.engine.settings import MAX_EPOCHS, MAX_STEPS, MAX_WORK, TrainingResult, check_work
from models.engine.trainer import Trainer
from models.training.datasets import CLASSIFICATION_DATASETS, DATASETS, MAX_SAMPLES, split
from models.training.live import Ending

WITHOUT, WITH = "without dropout", "with dropout"
RUNS = (WITHOUT, WITH)
# One click trains two networks, so each may use half of the engine's per-click budget.
MAX_WORK_PER_RUN = MAX_WORK // 2
MAX_STEPS_PER_RUN = MAX_STEPS // 2
# Few noisy points and a wide network: without dropout the validation loss bottoms out within
# about 25 epochs and then climbs, while with dropout 0.5 it keeps improving.
DEFAULTS = {"dataset": "two moons", "n_samples": 100, "noise": 0.3, "validation_fraction": 0.5,
            "hidden_units": (128, 128), "activation": "relu", "dropout_rate": 0.5, "dropout_layers": (1, 2),
            "epochs": 300, "learning_rate": 0.01, "batch_size": 32, "optimizer": "adam", "seed": 0}
ANSWERS = ("higher", "lower")


@dataclass(frozen=True)
class Comparison:
    """Checked settings of one with/without-dropout comparison."""
    dataset: str
    n_samples: int
    noise: float
    hidden_units: tuple
    dropout_rate: float
    dropout_layers: tuple
    epochs: int
    learning_rate: float
    seed: int
    validation_fraction: float = DEFAULTS["validation_fraction"]
    activation: str = DEFAULTS["activation"]
    batch_size: int = DEFAULTS["batch_size"]
    optimizer: str = DEFAULTS["optimizer"]

    @property
    def n_val(self) -> int:
        return round(self.n_samples * self.validation_fraction)

    @property
    def n_train(self) -> int:
        return self.n_samples - self.n_val

    def model_kwargs(self, run: str) -> dict:
        """`build_mlp` arguments of one run; the two differ only in their dropout."""
        rate = self.dropout_rate if run == WITH else 0.0
        return {"input_dim": 2, "hidden_units": self.hidden_units, "activation": self.activation,
                "dropout_rate": rate, "dropout_layers": self.dropout_layers if run == WITH else (),
                "seed": self.seed}


# --- Checks with messages a student understands ---

def check_rate(rate) -> float:
    """The dropout rate as a float in [0, 1), or a ValueError saying why not."""
    rate = check_number(rate, "The dropout rate")
    if not 0 <= rate < 1:
        raise ValueError(f"The dropout rate is the fraction of units dropped, so it must be at least 0 and "
                         f"below 1; got {rate:g}. At 1 every unit would be dropped and nothing would reach "
                         "the next layer.")
    return float(rate)


def check_layers(dropout_layers, n_hidden: int) -> tuple:
    """The hidden layers (1 = first) that get dropout, sorted; at least one is required."""
    layers = tuple(sorted(set(dropout_layers)))
    if not layers:
        raise ValueError("Pick at least one hidden layer to get dropout; with none, both runs would be the "
                         "same network.")
    if not set(layers) <= set(range(1, n_hidden + 1)):
        raise ValueError(f"Dropout can follow hidden layers 1 to {n_hidden}; got {list(layers)}.")
    return layers


def count_weights(hidden_units, input_dim: int = 2, output_units: int = 1) -> int:
    """Weights and biases of a `build_mlp` network (dropout adds none)."""
    return mlp_weights(input_dim=input_dim, hidden_units=hidden_units, output_units=output_units)


def check_comparison(*, dataset: str, n_samples: int, noise: float, hidden_units, dropout_rate, dropout_layers,
                     epochs: int, learning_rate: float, seed: int) -> Comparison:
    """Validate every setting (including the work cap for two runs) before anything is built."""
    if dataset not in CLASSIFICATION_DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}; choose one of {', '.join(CLASSIFICATION_DATASETS)}.")
    rate = check_rate(dropout_rate)
    if rate == 0:
        raise ValueError("A dropout rate of 0 drops nothing, so both runs would be the same network. "
                         "Pick a rate above 0.")
    hidden_units = tuple(int(units) for units in hidden_units)
    if not hidden_units:
        raise ValueError("Dropout here follows hidden layers, so the network needs at least one.")
    layers = check_layers(dropout_layers, len(hidden_units))
    epochs = check_number(epochs, "Train for at least 1 epoch: the number of epochs", low=1, high=MAX_EPOCHS,
                          integer=True)
    learning_rate = check_number(learning_rate, "The learning rate", low=0, low_open=True)
    noise = check_number(noise, "The noise", low=0)
    seed = check_number(seed, "The seed", low=0, high=2**31 - 1, integer=True)
    n_samples = check_number(n_samples, "The number of points", integer=True)
    settings = Comparison(dataset=dataset, n_samples=n_samples, noise=noise, hidden_units=hidden_units,
                          dropout_rate=rate, dropout_layers=layers, epochs=epochs, learning_rate=learning_rate,
                          seed=seed)
    if settings.n_samples > MAX_SAMPLES:
        raise ValueError(f"Use at most {MAX_SAMPLES} points; got {n_samples}.")
    if settings.n_train < 2 or settings.n_val < 2:
        raise ValueError(f"{n_samples} points leave too few for training and validation; use at least 4.")
    check_work(epochs=settings.epochs, n_points=settings.n_samples, n_params=count_weights(hidden_units),
               steps_per_epoch=steps_per_epoch(settings.n_train, settings.batch_size), max_work=MAX_WORK_PER_RUN,
               max_steps=MAX_STEPS_PER_RUN)
    return settings


@dataclass(frozen=True)
class ComparisonRun:
    """One click of "Train both": its settings, the guesses made before it, and each run's latest result."""
    settings: Comparison
    guesses: tuple  # (training, validation), None where no guess was made
    results: dict  # run name -> TrainingResult
    ending: Ending | None = None  # why it ended, when a run did not finish

    def notes(self) -> list[str]:
        """One line per run that diverged or was cut short."""
        lines = []
        for run, result in self.results.items():
            if result.status == "diverged":
                lines.append(f"**{run}**: {result.message}")
            elif not result.done:
                lines.append(f"**{run}**: " + (self.ending or Ending.CUT_SHORT).sentence(result.epochs_run,
                                                                                          result.epochs))
        return lines


# --- The comparison: two trainers, the same data, the same initial weights ---

def comparison_data(settings: Comparison) -> tuple:
    """(x_train, y_train, x_val, y_val), identical for both runs."""
    df = DATASETS[settings.dataset](settings.n_samples, settings.noise, settings.seed)
    parts = split(df, settings.validation_fraction, settings.seed)
    return (parts.train[["x1", "x2"]].to_numpy(), parts.train["label"].to_numpy(),
            parts.validation[["x1", "x2"]].to_numpy(), parts.validation["label"].to_numpy())


def start_comparison(settings: Comparison, *, cache: dict | None = None) -> dict[str, Trainer]:
    """Both trainers, started on the same data with the same seed (so the same initial weights)."""
    data = comparison_data(settings)
    trainers = {}
    for run in RUNS:
        trainer = make_trainer(settings.model_kwargs(run), loss="binary_crossentropy", optimizer=settings.optimizer,
                               batch_size=settings.batch_size, n_train=settings.n_train, n_val=settings.n_val,
                               cache=cache, max_cached=4)
        trainer.start(*data, epochs=settings.epochs, learning_rate=settings.learning_rate, seed=settings.seed)
        trainers[run] = trainer
    return trainers


def train_side_by_side(trainers: dict[str, Trainer], *, seconds_per_chunk: float = 0.15,
                       guard: Callable[[], AbstractContextManager] | None = None,
                       ) -> Iterator[dict[str, TrainingResult]]:
    """Alternate chunks of the started runs (the engine's one chunk policy); yield every run's latest result."""
    return train_in_turns(trainers, seconds_per_chunk=seconds_per_chunk, guard=guard)


def curves(results: dict[str, TrainingResult]) -> pd.DataFrame:
    """Long table for the chart: epoch, run, set ("training" / "validation"), loss."""
    frames = []
    for run, result in results.items():
        h = result.history
        for curve, column in (("training", "loss"), ("validation", "val_loss")):
            frames.append(pd.DataFrame({"epoch": h["epoch"], "run": run, "set": curve, "loss": h[column]}))
    if not frames:
        return pd.DataFrame({"epoch": [], "run": [], "set": [], "loss": []})
    return pd.concat(frames, ignore_index=True)


def gap_table(results: dict[str, TrainingResult]) -> pd.DataFrame:
    """Per run: the last epoch's losses and gap (validation - training); the lowest validation loss and its gap."""
    rows = []
    for run, result in results.items():
        h = result.history
        if h.empty:
            continue
        last = h.iloc[-1]
        best = h.loc[h["val_loss"].idxmin()]
        rows.append({"run": run, "epochs": int(last["epoch"]), "train loss": float(last["loss"]),
                     "val loss": float(last["val_loss"]),
                     "gap": float(last["val_loss"] - last["loss"]),
                     "best epoch": int(best["epoch"]), "lowest val loss": float(best["val_loss"]),
                     "gap at best": float(best["val_loss"] - best["loss"])})
    return pd.DataFrame(rows, columns=["run", "epochs", "train loss", "val loss", "gap", "best epoch",
                                       "lowest val loss", "gap at best"])


def answers(results: dict[str, TrainingResult]) -> dict | None:
    """With dropout vs without, at the last epoch both runs reached: is each loss "higher" or "lower"?"""
    if set(results) != set(RUNS) or results[WITHOUT].history.empty or results[WITH].history.empty:
        return None
    epoch = min(len(results[WITHOUT].history), len(results[WITH].history))
    off, on = results[WITHOUT].history.iloc[epoch - 1], results[WITH].history.iloc[epoch - 1]
    return {"epoch": epoch,
            "training": "higher" if on["loss"] > off["loss"] else "lower",
            "validation": "higher" if on["val_loss"] > off["val_loss"] else "lower",
            "values": {"training": (float(off["loss"]), float(on["loss"])),
                       "validation": (float(off["val_loss"]), float(on["val_loss"]))}}


WHY = {  # the explanation of each answer, by (loss, answer)
    ("training", "higher"): "Training loss: with dropout it is measured with part of every layer switched off (as "
                            "`fit` reports it), and the network cannot memorise single points as easily, so it "
                            "stays higher.",
    ("training", "lower"): "Training loss: lower with dropout in this run, which is unusual; after few epochs the two "
                           "runs are still close and chance decides.",
    ("validation", "lower"): "Validation loss: computed with all units. Without dropout the wide network memorises "
                             "the noisy training points: its training loss heads for 0 while its validation loss "
                             "climbs (overfitting). Dropout holds that back.",
    ("validation", "higher"): "Validation loss: not lower with dropout in this run. Dropout helps a network that "
                              "overfits; with few epochs, a small network or a high rate it mostly slows learning or "
                              "makes the network underfit.",
}


# --- The mask of one training step, drawn exactly as the engine draws it ---

def layer_position(layer: int, dropout_layers) -> int:
    """Where hidden layer `layer`'s Dropout sits among the model's layers (input excluded), as the engine counts."""
    return layer + sum(1 for other in dropout_layers if other < layer)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return -(-n_train // min(batch_size, n_train))


def training_mask(*, rate: float, seed: int, epoch: int, step: int, layer: int, dropout_layers, units: int,
                  batch_size: int) -> np.ndarray:
    """Kept (True) / dropped (False) units of one hidden layer at one training step; rows are batch examples.

    `epoch` and `step` count from 0, as inside the engine: key = hash_key(seed, epoch, step, position).
    """
    rate = check_rate(rate)
    layers = tuple(sorted(set(dropout_layers)))
    if layer not in layers:
        raise ValueError(f"Hidden layer {layer} has no dropout in these settings.")
    key = hash_key(seed, epoch, step, layer_position(layer, layers))
    out = apply_dropout(tf.ones([batch_size, units]), rate, key)
    return out.numpy() != 0


@dataclass(frozen=True)
class BatchMask:
    """The mask of one training batch as the page shows it: which batch, and its kept (True) units."""
    epoch: int  # from 1
    batch: int  # from 1
    batches_per_epoch: int
    mask: np.ndarray  # rows: the batch's real examples (the padding of a short last batch left out)


def batch_mask(*, n_samples: int, rate: float, seed: int, layer: int, dropout_layers, units: int, draw: int,
               validation_fraction: float = DEFAULTS["validation_fraction"],
               batch_size: int = DEFAULTS["batch_size"]) -> BatchMask:
    """The mask of the `draw`-th training batch (0 = the first) of the *with dropout* run with these settings."""
    n_train = n_samples - round(n_samples * validation_fraction)
    batch = min(batch_size, n_train)
    per_epoch = steps_per_epoch(n_train, batch)
    epoch, step = divmod(draw, per_epoch)
    mask = training_mask(rate=rate, seed=seed, epoch=epoch, step=step, layer=layer, dropout_layers=dropout_layers,
                         units=units, batch_size=batch)
    return BatchMask(epoch + 1, step + 1, per_epoch, mask[:n_train - step * batch])


def mask_frame(mask: np.ndarray) -> pd.DataFrame:
    """Long table of a mask for a grid chart: example, unit (both from 1), state."""
    rows, cols = np.indices(mask.shape)
    return pd.DataFrame({"example": rows.ravel() + 1, "unit": cols.ravel() + 1,
                         "state": np.where(mask.ravel(), "kept", "dropped")})


# --- Keras' own layer: inverted dropout, worked through ---

def example_activations(n: int = 10, seed: int = 0) -> np.ndarray:
    """Positive activations with one decimal (so a dropped unit is the only zero), easy to check by hand."""
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(0.1, 2.0, n), 1).astype(np.float32)


def keras_dropout(x, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training output, inference output) of a fresh keras.layers.Dropout(rate, seed=seed) on x."""
    layer = keras.layers.Dropout(check_rate(rate), seed=seed)
    x = np.asarray(x, np.float32)
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    inferred = keras.ops.convert_to_numpy(layer(x, training=False))
    return trained, inferred


def scaling_example(rate: float, seed: int, n: int = 10) -> pd.DataFrame:
    """Per unit: the activation, whether Keras kept it, the training output and the inference output."""
    x = example_activations(n, seed)
    trained, inferred = keras_dropout(x, rate, seed)
    return pd.DataFrame({"unit": np.arange(1, n + 1), "activation": x,
                         "kept": np.where(trained != 0, "kept", "dropped"),
                         "training output": trained, "inference output": inferred})


def large_sample_means(rate: float, seed: int, n: int = 10_000) -> tuple[float, float, float]:
    """(input mean, training-output mean, fraction dropped) of Keras' Dropout over many units."""
    x = np.random.default_rng(seed).uniform(0.1, 2.0, n).astype(np.float32)
    trained, _ = keras_dropout(x, rate, seed)
    return float(x.mean()), float(trained.mean()), float((trained == 0).mean())
