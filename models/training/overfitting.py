"""Over- and underfitting: run settings and their checks, the jobs of one click, runs and the run table, pictures.

A page trains with the engine; this module turns settings into data and trainers, and a finished (or
cut short) run into the numbers, tables and grids the page shows. Curve reading is in fit_diagnosis.
"""
import contextlib
import io
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from models.engine.mlp import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_UNITS
from models.engine.mlp import count_weights as mlp_weights
from models.engine.runs import make_trainer
from models.engine.settings import (
    MAX_EPOCHS,
    MAX_STEPS,
    MAX_WORK,
    OPTIMIZERS,
    RunStatus,
    TrainingResult,
    check_work,
    training_work,
)
from models.training.datasets import DATASETS, split
from models.training.fit_diagnosis import (  # noqa: F401  (the page and tests read them from here)
    REMEDIES,
    Diagnosis,
    TurnUp,
    diagnose,
    guess_loss,
    markers,
    regression_underfit,
    turn_up,
)
from models.training.live import Ending
from models.training.presets import CAPACITY_PRESETS, PRESET_DATA

REGRESSION = "sine (regression)"
PRESETS = tuple(CAPACITY_PRESETS)  # underfit, good fit, overfit
KINDS = ("underfitting", "good fit", "overfitting")  # the answers of the single-run question
GRID_RESOLUTION = 60
MAX_RUNS = 40  # runs kept per student; the oldest go first
MIN_POINTS = 4  # the fewest points that leave 2 for training and 2 for validation (at a share of one half)


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a run; the same settings give the same curves."""
    dataset: str = PRESET_DATA["dataset"]
    noise: float = PRESET_DATA["noise"]
    n_samples: int = PRESET_DATA["n_samples"]
    validation_fraction: float = PRESET_DATA["validation_fraction"]
    hidden_layers: int = 1
    units: int = 8
    activation: str = "relu"
    optimizer: str = PRESET_DATA["optimizer"]
    learning_rate: float = PRESET_DATA["learning_rate"]
    batch_size: int = PRESET_DATA["batch_size"]
    epochs: int = 300
    l1: float = 0.0
    l2: float = 0.0
    patience: int | None = None  # early stopping when set
    seed: int = 0

    @property
    def regression(self) -> bool:
        return self.dataset == REGRESSION

    @property
    def hidden_units(self) -> tuple:
        return (self.units,) * self.hidden_layers

    @property
    def loss(self) -> str:
        return "mse" if self.regression else "binary_crossentropy"

    def model_kwargs(self) -> dict:
        """Arguments for build_mlp."""
        return {"input_dim": 1 if self.regression else 2, "hidden_units": self.hidden_units,
                "activation": self.activation, "output_activation": "linear" if self.regression else "sigmoid",
                "l1": float(self.l1), "l2": float(self.l2), "seed": self.seed}

    def layers_text(self) -> str:
        """Neurons per layer from input to output, e.g. 2-8-1."""
        return "-".join(map(str, (1 if self.regression else 2, *self.hidden_units, 1)))


def preset_settings(name: str, base: RunSettings | None = None, *, keep_data=False) -> RunSettings:
    """A capacity preset's settings; with keep_data, on `base`'s data and seed instead of the preset data."""
    preset = CAPACITY_PRESETS[name]
    hidden = tuple(preset["model"]["hidden_units"])
    base = base or RunSettings()
    data = {} if keep_data else {k: PRESET_DATA[k] for k in ("dataset", "noise", "n_samples", "validation_fraction")}
    return replace(base, **data, hidden_layers=len(hidden), units=hidden[0] if hidden else base.units,
                   activation="relu", optimizer=PRESET_DATA["optimizer"], learning_rate=PRESET_DATA["learning_rate"],
                   batch_size=PRESET_DATA["batch_size"], epochs=preset["epochs"], l1=0.0, l2=0.0, patience=None)


def run_label(settings: RunSettings) -> str:
    """The preset these settings equal on their own data (units are ignored without hidden layers), or "custom"."""
    for name in PRESETS:
        if preset_settings(name, settings, keep_data=True) == settings:
            return name
    return "custom"


def count_weights(settings: RunSettings) -> int:
    """Weights and biases of the run's MLP."""
    return mlp_weights(input_dim=1 if settings.regression else 2, hidden_units=settings.hidden_units)


# --- Widgets <-> settings (the page keeps one widget per field, under the page prefix) ---

def widget_values(settings: RunSettings, prefix: str) -> dict:
    """The widget values that show `settings`: one key per field, early stopping as a switch plus a patience."""
    values = {prefix + f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "patience"}
    return values | {prefix + "early_stopping": settings.patience is not None, prefix + "patience": settings.patience
                     or 20}


def settings_from_widgets(values, prefix: str) -> RunSettings:
    """The settings the widgets show (numbers as Python numbers, patience only with early stopping on)."""
    given = {f.name: f.type(values[prefix + f.name]) if f.type in (int, float) else values[prefix + f.name]
             for f in fields(RunSettings) if f.name != "patience"}
    patience = int(values[prefix + "patience"]) if values[prefix + "early_stopping"] else None
    return RunSettings(**given, patience=patience)


class Data(NamedTuple):
    train: pd.DataFrame
    validation: pd.DataFrame
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def make_data(settings: RunSettings) -> Data:
    """Generate the points with the run's seed and split them into training and validation sets."""
    if settings.dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {settings.dataset!r}; choose one of {', '.join(DATASETS)}.")
    parts = split(DATASETS[settings.dataset](settings.n_samples, settings.noise, settings.seed),
                  settings.validation_fraction, settings.seed)
    features, target = (["x"], "y") if settings.regression else (["x1", "x2"], "label")
    return Data(parts.train, parts.validation, parts.train[features].to_numpy(), parts.train[target].to_numpy(),
                parts.validation[features].to_numpy(), parts.validation[target].to_numpy())


def check_settings(settings: RunSettings) -> tuple[Data, list[str]]:
    """The run's data and notes to show; ValueError with a student-readable message for bad settings."""
    s = settings
    if not 1 <= s.epochs <= MAX_EPOCHS:
        raise ValueError(f"Choose between 1 and {MAX_EPOCHS} epochs; got {s.epochs}. "
                         "With 0 epochs the network never sees the data.")
    if not (math.isfinite(s.learning_rate) and s.learning_rate > 0):
        raise ValueError(f"The learning rate must be above 0; got {s.learning_rate:g}. "
                         "With a learning rate of 0 the weights never change, so nothing is learned.")
    if not 0 <= s.hidden_layers <= MAX_HIDDEN_LAYERS:
        raise ValueError(f"Choose between 0 and {MAX_HIDDEN_LAYERS} hidden layers; got {s.hidden_layers}.")
    if s.hidden_layers and not 1 <= s.units <= MAX_UNITS:
        raise ValueError(f"Each hidden layer needs between 1 and {MAX_UNITS} neurons; got {s.units}. "
                         "For a model without hidden layers, set the number of hidden layers to 0.")
    if s.batch_size < 1:
        raise ValueError(f"The batch size must be at least 1; got {s.batch_size}.")
    if s.patience is not None and s.patience < 1:
        raise ValueError(f"Early-stopping patience must be at least 1 epoch; got {s.patience}.")
    if s.activation not in ACTIVATIONS or s.optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown activation {s.activation!r} or optimizer {s.optimizer!r}.")
    data = make_data(s)
    n_train = len(data.train)
    check_work(epochs=s.epochs, n_points=s.n_samples, n_params=count_weights(s),
               steps_per_epoch=-(-n_train // s.batch_size))
    notes = []  # a batch larger than the training set is fine: the engine uses all points and says so
    if s.learning_rate > 1:
        notes.append(f"A learning rate of {s.learning_rate:g} is very large: expect the loss to jump around "
                     "or blow up. Typical values are 0.001 to 0.1.")
    return data, notes


def start_trainer(settings: RunSettings, data: Data, cache: dict | None = None, max_cached: int = 3):
    """A trainer (from this student's `cache` when the shapes match) reset to the run's seed and data."""
    trainer = make_trainer(settings.model_kwargs(), loss=settings.loss, optimizer=settings.optimizer,
                           batch_size=settings.batch_size, n_train=len(data.train), n_val=len(data.validation),
                           cache=cache, max_cached=max_cached)
    trainer.start(data.x_train, data.y_train, data.x_val, data.y_val, epochs=settings.epochs,
                  learning_rate=float(settings.learning_rate), seed=settings.seed, patience=settings.patience)
    return trainer


def warm_up_presets(guard: Callable[[], AbstractContextManager] = contextlib.nullcontext) -> None:
    """Compile the programs of the three presets on the preset data (the page's defaults) ahead of any click.

    The engine shares compiled programs between sessions, so this spares every student's first click its compile.
    """
    for name in PRESETS:
        settings = preset_settings(name)
        trainer = start_trainer(settings, make_data(settings))
        with guard():  # one preset at a time, so other students' heavy work can go in between
            trainer.warm_up()


def work_share(settings: RunSettings) -> tuple[int, float]:
    """(epochs x points x weights, its share of the per-click limit)."""
    work = training_work(epochs=settings.epochs, n_points=settings.n_samples, n_params=count_weights(settings))
    return work, work / MAX_WORK


def work_text(settings: RunSettings) -> str:
    work, share = work_share(settings)
    return (f"{limits_text()} This run: {settings.epochs:,} epochs × {settings.n_samples:,} points × "
            f"{count_weights(settings):,} weights = {work:,} ({'under 1%' if share < 0.01 else f'{share:.0%}'} "
            "of that limit).")


# --- One click: its jobs, each checked once ---

@dataclass(frozen=True)
class Job:
    """One run to train: checked settings, their data, and the notes to show first."""
    settings: RunSettings
    label: str
    data: "Data"
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    """What the results section answers: one run ("single") or the three presets ("compare"), and the guess."""
    question: str
    guess: str | None
    numbers: tuple[int, ...] = ()


def plan_jobs(settings: RunSettings, *, compare: bool) -> list[Job]:
    """The runs of a Train (one) or Compare (the three presets on these data) click; ValueError before any trains."""
    wanted = ([(preset_settings(name, settings, keep_data=True), name) for name in PRESETS] if compare
              else [(settings, run_label(settings))])
    jobs = []
    for job_settings, label in wanted:
        data, notes = check_settings(job_settings)
        jobs.append(Job(job_settings, label, data, tuple(notes)))
    return jobs


def limits_text() -> str:
    return (f"Limit per click: {MAX_EPOCHS:,} epochs, {MAX_STEPS:,} optimizer steps (epochs × batches per epoch), "
            f"and {MAX_WORK:,} for epochs × points × weights (about 2 seconds of this server's time).")


def noise_floor(settings: RunSettings) -> float:
    """The MSE that the noise alone causes on the regression set (0 when unknown)."""
    return float(settings.noise) ** 2 if settings.regression else 0.0


# --- Pictures: decision boundary and fitted curve ---

def decision_grid(predict: Callable, points: pd.DataFrame, resolution: int = GRID_RESOLUTION) -> pd.DataFrame:
    """The model's P(label 1) at the centres of a resolution x resolution grid covering the points plus a margin."""
    lows, highs = points[["x1", "x2"]].min().to_numpy(), points[["x1", "x2"]].max().to_numpy()
    margin = 0.1 * np.maximum(highs - lows, 1e-3)
    lows, highs = lows - margin, highs + margin
    step = (highs - lows) / resolution
    c1 = lows[0] + step[0] * (np.arange(resolution) + 0.5)
    c2 = lows[1] + step[1] * (np.arange(resolution) + 0.5)
    g1, g2 = np.meshgrid(c1, c2)
    grid = pd.DataFrame({"x1": g1.ravel(), "x2": g2.ravel()})
    grid["probability"] = np.asarray(predict(grid[["x1", "x2"]].to_numpy(np.float32)), dtype=float).reshape(-1)
    half = step / 2
    grid["x1_start"], grid["x1_end"] = grid["x1"] - half[0], grid["x1"] + half[0]
    grid["x2_start"], grid["x2_end"] = grid["x2"] - half[1], grid["x2"] + half[1]
    return grid


def fitted_curve(predict: Callable, points: pd.DataFrame, n: int = 200) -> pd.DataFrame:
    """The model's prediction and the true sin(x) on n evenly spaced x across the points plus a margin."""
    low, high = float(points["x"].min()), float(points["x"].max())
    margin = 0.05 * max(high - low, 1e-3)
    x = np.linspace(low - margin, high + margin, n)
    prediction = np.asarray(predict(x.astype(np.float32)[:, None]), dtype=float).reshape(-1)
    return pd.DataFrame({"x": x, "prediction": prediction, "true": np.sin(x)})


def points_frame(data: Data) -> pd.DataFrame:
    """Training and validation points in one frame with a `set` column."""
    return pd.concat([data.train.assign(set="training"), data.validation.assign(set="validation")],
                     ignore_index=True)


# --- Runs and the run table ---

@dataclass(frozen=True)
class Run:
    """One training run of a session, kept for the run table."""
    number: int
    label: str
    settings: RunSettings
    history: pd.DataFrame
    result_status: RunStatus  # the engine's status when the run was saved
    epochs_run: int
    best_epoch: int | None
    best_val_loss: float | None
    diverged_at: int | None
    engine_message: str
    seconds: float
    guess_loss: float
    diagnosis: Diagnosis
    picture: pd.DataFrame | None = None  # decision grid or fitted curve
    points: pd.DataFrame | None = None
    ending: Ending | None = None  # why a run that did not finish ended

    @property
    def name(self) -> str:
        return f"#{self.number} {self.label}"

    @property
    def status(self) -> RunStatus | Ending:
        return self.result_status if self.result_status.done else (self.ending or Ending.CUT_SHORT)

    @property
    def message(self) -> str:
        if self.result_status.done:
            return self.engine_message
        return (self.ending or Ending.CUT_SHORT).sentence(self.epochs_run, self.settings.epochs)


def make_run(number: int, label: str, settings: RunSettings, result: TrainingResult, data: Data, seconds: float,
             predict: Callable | None = None, *, ending: Ending | None = None) -> Run:
    """Package a TrainingResult (finished, stopped early, diverged, or cut short: then `ending` says why) as a Run."""
    guess = guess_loss(data.y_train, settings.regression)
    diagnosis = diagnose(result.history, guess=guess, status=result.status, regression=settings.regression,
                         floor=noise_floor(settings), learning_rate=settings.learning_rate)
    if not result.done:
        diagnosis = diagnosis._replace(text=f"(After {result.epochs_run} of {result.epochs} epochs.) " + diagnosis.text)
    points = points_frame(data)
    picture = None
    if predict is not None and not result.history.empty:
        picture = fitted_curve(predict, points) if settings.regression else decision_grid(predict, points)
    return Run(number=number, label=label, settings=settings, history=result.history.copy(),
               result_status=RunStatus(result.status), epochs_run=result.epochs_run, best_epoch=result.best_epoch,
               best_val_loss=result.best_val_loss, diverged_at=result.diverged_at, engine_message=result.message,
               seconds=seconds, guess_loss=guess, diagnosis=diagnosis, picture=picture, points=points, ending=ending)


def without_pictures(runs: list[Run]) -> list[Run]:
    """The runs without their decision grids or fitted curves (about 200 kB each): only the shown runs need them."""
    return [replace(run, picture=None) if run.picture is not None else run for run in runs]


def settle_endings(runs: list[Run], numbers, ending: Ending) -> list[Run]:
    """The runs with the cut-short ones among `numbers` given their now known `ending`."""
    return [replace(run, ending=ending) if run.number in numbers and not run.result_status.done else run
            for run in runs]


def _last(history, column):
    return float(history[column].iloc[-1]) if column in history and not history.empty else math.nan


def run_row(run: Run) -> dict:
    """One row of the run table: the results first, then the settings."""
    s, h = run.settings, run.history
    return {"run": run.number, "label": run.label, "status": str(run.status), "diagnosis": run.diagnosis.kind,
            "final training loss": _last(h, "loss"), "final validation loss": _last(h, "val_loss"),
            "best validation loss": math.nan if run.best_val_loss is None else run.best_val_loss,
            "best epoch": run.best_epoch, "epochs run": len(h), "final training accuracy": _last(h, "accuracy"),
            "final validation accuracy": _last(h, "val_accuracy"), "seconds": run.seconds,
            "dataset": s.dataset, "noise": s.noise, "points": s.n_samples, "validation share": s.validation_fraction,
            "network": s.layers_text(), "activation": s.activation, "optimizer": s.optimizer,
            "learning rate": s.learning_rate, "batch size": s.batch_size, "epochs asked": s.epochs, "L1": s.l1,
            "L2": s.l2, "patience": s.patience, "seed": s.seed}


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """The run table, oldest run first."""
    table = pd.DataFrame([run_row(run) for run in runs])
    return table.astype({"patience": "Int64", "best epoch": "Int64"}) if len(table) else table


TABLE_FORMATS = {"seconds": "{:.2f}", "learning rate": "{:g}", "noise": "{:g}", "validation share": "{:g}",
                 "L1": "{:g}", "L2": "{:g}"}


def shown_table(table: pd.DataFrame):
    """The run table as a page shows it: 4 decimals for losses and accuracies, and "–" (never "None") where a
    run has no value (no finished epoch, no early stopping)."""
    formats = {c: "{:.4f}" for c in table.columns if "loss" in c or "accuracy" in c} | {
        c: f for c, f in TABLE_FORMATS.items() if c in table.columns}
    return table.style.format(formats, na_rep="–")


def curves_table(runs: list[Run]) -> pd.DataFrame:
    """Every epoch of every run: run, label, epoch, loss, val_loss (and accuracies for classification)."""
    columns = ["run", "label", "epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    frames = [run.history.assign(run=run.number, label=run.label) for run in runs if not run.history.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    curves = pd.concat(frames, ignore_index=True)
    return curves.reindex(columns=columns).astype({"loss": float, "val_loss": float, "accuracy": float,
                                                  "val_accuracy": float})


def to_csv(table: pd.DataFrame) -> str:
    """CSV text that pandas reads back to the same numbers."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def thin_history(history: pd.DataFrame, *, max_points: int = 400) -> pd.DataFrame:
    """About `max_points` evenly spaced epochs of a history, always with the last one (for drawing long runs)."""
    step = max(1, math.ceil(len(history) / max_points))
    keep = list(range(0, len(history), step)) + ([len(history) - 1] if (len(history) - 1) % step else [])
    return history.iloc[keep]


def largest_gap(runs: list[Run]) -> str | None:
    """The label of the run whose final validation loss exceeds its training loss the most."""
    gaps = {run.label: _last(run.history, "val_loss") - _last(run.history, "loss")
            for run in runs if run.status != RunStatus.DIVERGED and not run.history.empty}
    return max(gaps, key=gaps.get) if gaps else None

