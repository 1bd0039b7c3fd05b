"""Memory, measured: "the label is the first token, the rest is noise", learnt by a SimpleRNN and an LSTM.

Each cell gets one compiled training program (`tf.function` over whole chunks of epochs, with the
sequence length left open), so the four lengths share one trace per cell and a run is a few calls.
Data, initial weights and shuffles come from explicit seeds only.
"""
import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from models.core.numbers import check_number

CELLS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM"}
MAX_LENGTH = 100
MAX_UNITS = 64
MAX_WORK = 2 * 10**8  # sequences x steps x epochs x units per click, summed over both cells and all lengths


@dataclass(frozen=True)
class MemorySettings:
    """One comparison: both cells trained at every length with the same data and seeds."""
    lengths: tuple = (5, 10, 20, 40)
    classes: int = 2
    noise_symbols: int = 2  # noise tokens are other symbols than the labels (0: the label symbols again)
    noise_scale: float = 1.0  # Gaussian noise on every symbol channel after the first token
    marker: bool = True  # an extra input channel that is 1 on the first token only
    units: int = 16
    n_train: int = 512
    n_val: int = 256
    epochs: int = 40
    batch_size: int = 128  # few, large batches: a step costs about the same at any batch size this small
    learning_rate: float = 0.01
    seed: int = 0
    cells: tuple = ("simple_rnn", "lstm")


DEFAULTS = MemorySettings()


def check_settings(settings: MemorySettings) -> MemorySettings:
    """Return the settings with whole numbers checked, or raise ValueError with a student's message."""
    lengths = tuple(check_number(n, "Every sequence length", low=2, high=MAX_LENGTH, integer=True)
                    for n in settings.lengths)
    if not lengths:
        raise ValueError("Choose at least one sequence length.")
    unknown = [c for c in settings.cells if c not in CELLS]
    if unknown or not settings.cells:
        raise ValueError(f"Unknown cell {unknown[0] if unknown else None!r}; choose from {', '.join(CELLS)}.")
    checked = replace(
        settings, lengths=tuple(sorted(set(lengths))),
        classes=check_number(settings.classes, "The number of classes", low=2, high=10, integer=True),
        noise_symbols=check_number(settings.noise_symbols, "The number of noise symbols", low=0, high=10,
                                   integer=True),
        noise_scale=check_number(settings.noise_scale, "The noise level", low=0, high=10),
        units=check_number(settings.units, "The number of units", low=1, high=MAX_UNITS, integer=True),
        n_train=check_number(settings.n_train, "The number of training sequences", low=16, high=4096, integer=True),
        n_val=check_number(settings.n_val, "The number of validation sequences", low=16, high=4096, integer=True),
        epochs=check_number(settings.epochs, "The number of epochs", low=1, high=200, integer=True),
        batch_size=check_number(settings.batch_size, "The batch size", low=1, high=4096, integer=True),
        learning_rate=check_number(settings.learning_rate, "The learning rate", low=0, high=1, low_open=True),
        seed=check_number(settings.seed, "The seed", low=0, high=2**31 - 1, integer=True))
    work = checked.n_train * sum(checked.lengths) * checked.epochs * checked.units * len(checked.cells)
    if work > MAX_WORK:
        raise ValueError(f"That is too much training for one click ({work:.2g} sequences × steps × epochs × units, "
                         f"the limit is {MAX_WORK:.2g}). Use fewer epochs, shorter sequences or fewer units.")
    return checked


def make_first_token_task(length: int, n: int, *, classes: int = 2, noise_symbols: int = 2, noise_scale: float = 1.0,
                          marker: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sequences (n, length, symbols): the label is the first token; the rest is noise.

    The first token is a clean one-hot label symbol, flagged (with `marker`) in an extra last channel. Every later
    token is one of `noise_symbols` further symbols (0: the label symbols again) plus Gaussian noise of standard
    deviation `noise_scale` on every symbol channel, so no input weight can shut the noise out.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    low, high = (classes, classes + noise_symbols) if noise_symbols else (0, classes)
    tokens = np.concatenate([labels[:, None], rng.integers(low, high, size=(n, length - 1))], axis=1)
    x = np.eye(classes + noise_symbols, dtype=np.float32)[tokens]
    x[:, 1:] += (noise_scale * rng.standard_normal(x[:, 1:].shape)).astype(np.float32)
    if marker:
        x = np.concatenate([x, np.zeros((n, length, 1), np.float32)], axis=2)
        x[:, 0, -1] = 1
    return x, labels


def build_sequence_model(cell: str, *, symbols: int = 8, classes: int = 4, units: int = 16,
                         seed: int = 0) -> keras.Model:
    """Tokens → one recurrent layer (last state only) → softmax over the classes; any sequence length; uncompiled."""
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}; choose from {', '.join(CELLS)}.")
    recurrent = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM}[cell]
    return keras.Sequential([
        keras.Input((None, symbols)),
        recurrent(units, kernel_initializer=keras.initializers.GlorotUniform(seed),
                  recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 1), name=cell),
        layers.Dense(classes, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed + 2),
                     name="output"),
    ], name=f"{cell}_memory")


@dataclass(frozen=True)
class RunResult:
    """One cell trained at one length: the curves and the final validation accuracy."""
    cell: str
    length: int
    history: pd.DataFrame  # epoch, loss, accuracy, val_loss, val_accuracy
    seconds: float

    @property
    def val_accuracy(self) -> float:
        return float(self.history["val_accuracy"].iloc[-1]) if len(self.history) else math.nan


@dataclass(frozen=True)
class Comparison:
    """Every run of one comparison so far."""
    settings: MemorySettings
    runs: tuple = field(default_factory=tuple)

    @property
    def chance(self) -> float:
        return 1 / self.settings.classes

    def table(self) -> pd.DataFrame:
        """One row per finished run: cell, length, final validation accuracy."""
        return pd.DataFrame({"cell": [CELLS[r.cell] for r in self.runs], "length": [r.length for r in self.runs],
                             "val_accuracy": [r.val_accuracy for r in self.runs],
                             "seconds": [r.seconds for r in self.runs]})

    def falls_to_chance(self, cell: str = "simple_rnn", margin: float = 0.1) -> int | None:
        """The shortest length from which `cell` stays within `margin` of chance, or None if it never does."""
        accuracy = {r.length: r.val_accuracy for r in self.runs if r.cell == cell}
        answer = None
        for length in sorted(accuracy, reverse=True):
            if accuracy[length] > self.chance + margin:
                break
            answer = length
        return answer


class MemoryTrainer:
    """One cell's model, optimizer and compiled training program; reusable for every length and seed.

    Holds TensorFlow variables: keep one per student session, never in a cache shared by sessions.
    """

    def __init__(self, cell: str, *, symbols: int, classes: int, units: int, n_train: int, n_val: int,
                 batch_size: int):
        self.cell, self.n_train, self.batch_size = cell, n_train, min(batch_size, n_train)
        self.sizes = {"symbols": symbols, "classes": classes, "units": units}
        self.model = build_sequence_model(cell, **self.sizes)
        self.optimizer = keras.optimizers.Adam(0.01)
        self.optimizer.build(self.model.trainable_variables)
        self._loss = keras.losses.SparseCategoricalCrossentropy()
        spec = [tf.TensorSpec([n_train, None, symbols], tf.float32), tf.TensorSpec([n_train], tf.int32),
                tf.TensorSpec([n_val, None, symbols], tf.float32), tf.TensorSpec([n_val], tf.int32),
                tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)]
        self._chunk = tf.function(self._run_epochs, input_signature=spec)

    def reset(self, seed: int, learning_rate: float) -> None:
        """The initial weights of `build_sequence_model(seed=seed)` and a fresh Adam."""
        fresh = build_sequence_model(self.cell, **self.sizes, seed=seed)
        for variable, value in zip(self.model.weights, fresh.weights):
            variable.assign(value)
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros(variable.shape, variable.dtype))
        self.optimizer.learning_rate = float(learning_rate)

    def _run_epochs(self, x, y, xv, yv, seed, first_epoch, n_epochs):
        steps = self.n_train // self.batch_size  # whole batches only: every step has one fixed shape
        rows = tf.TensorArray(tf.float32, size=n_epochs, element_shape=[4])
        variables = self.model.trainable_variables
        for i in tf.range(n_epochs):
            epoch = first_epoch + i
            order = tf.argsort(tf.random.stateless_uniform([self.n_train], seed=tf.stack([seed, epoch])))
            loss_sum, hits = tf.constant(0.0), tf.constant(0.0)
            for step in tf.range(steps):
                batch = order[step * self.batch_size:(step + 1) * self.batch_size]
                xb, yb = tf.gather(x, batch), tf.gather(y, batch)
                with tf.GradientTape() as tape:
                    p = self.model(xb, training=True)
                    loss = self._loss(yb, p)
                self.optimizer.apply(tape.gradient(loss, variables), variables)
                loss_sum += loss
                hits += tf.reduce_sum(tf.cast(tf.equal(tf.argmax(p, -1, output_type=tf.int32), yb), tf.float32))
            pv = self.model(xv, training=False)
            val_hits = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(pv, -1, output_type=tf.int32), yv), tf.float32))
            rows = rows.write(i, tf.stack([loss_sum / tf.cast(steps, tf.float32),
                                           hits / tf.cast(steps * self.batch_size, tf.float32),
                                           self._loss(yv, pv), val_hits]))
        return rows.stack()

    def train(self, x, y, xv, yv, *, epochs: int, learning_rate: float, seed: int, chunk: int = 5,
              guard: Callable[[], AbstractContextManager] | None = None) -> Iterator[pd.DataFrame]:
        """Train from `seed`'s initial weights, yielding the history so far after every `chunk` epochs."""
        guard = guard or nullcontext
        data = [tf.constant(x), tf.constant(y, tf.int32), tf.constant(xv), tf.constant(yv, tf.int32)]
        self.reset(seed, learning_rate)
        parts, done = [], 0
        while done < epochs:
            n = min(chunk, epochs - done)
            with guard():
                parts.append(self._chunk(*data, tf.constant(seed, tf.int32), tf.constant(done, tf.int32),
                                         tf.constant(n, tf.int32)).numpy())
            done += n
            rows = np.concatenate(parts)
            yield pd.DataFrame({"epoch": np.arange(1, done + 1), "loss": rows[:, 0], "accuracy": rows[:, 1],
                                "val_loss": rows[:, 2], "val_accuracy": rows[:, 3]})


def symbols(settings: MemorySettings) -> int:
    """Input channels: one per symbol, plus the first-token marker."""
    return settings.classes + settings.noise_symbols + int(settings.marker)


def trainer_key(settings: MemorySettings, cell: str) -> tuple:
    return (cell, settings.classes, settings.noise_symbols, settings.marker, settings.units, settings.n_train,
            settings.n_val, settings.batch_size)


def get_trainer(settings: MemorySettings, cell: str, cache: dict | None = None) -> MemoryTrainer:
    """The trainer for these settings from a per-session `cache` dict, or a new one (kept there)."""
    key = trainer_key(settings, cell)
    if cache is not None and key in cache:
        return cache[key]
    trainer = MemoryTrainer(cell, symbols=symbols(settings), classes=settings.classes,
                            units=settings.units, n_train=settings.n_train,
                            n_val=settings.n_val, batch_size=settings.batch_size)
    if cache is not None:
        for old in [k for k in cache if k[0] == cell]:
            cache.pop(old)  # one trainer per cell and session is enough
        cache[key] = trainer
    return trainer


def task_data(settings: MemorySettings, length: int):
    """Training and validation sets for one length; the same settings always give the same sequences."""
    seed = settings.seed * 1000 + length
    x, y = make_first_token_task(length, settings.n_train + settings.n_val, classes=settings.classes,
                                 noise_symbols=settings.noise_symbols, noise_scale=settings.noise_scale,
                                 marker=settings.marker, seed=seed)
    return x[:settings.n_train], y[:settings.n_train], x[settings.n_train:], y[settings.n_train:]


def run_comparison(settings: MemorySettings, *, cache: dict | None = None, chunk: int = 5,
                   guard: Callable[[], AbstractContextManager] | None = None) -> Iterator[tuple[Comparison, RunResult]]:
    """Train every cell at every length; yield (comparison so far, the run in progress) after every chunk."""
    settings = check_settings(settings)
    finished: list[RunResult] = []
    for length in settings.lengths:
        data = task_data(settings, length)
        for cell in settings.cells:
            trainer, clock = get_trainer(settings, cell, cache), time.perf_counter()
            history = pd.DataFrame()
            for history in trainer.train(*data, epochs=settings.epochs, learning_rate=settings.learning_rate,
                                         seed=settings.seed, chunk=chunk, guard=guard):
                yield Comparison(settings, tuple(finished)), RunResult(cell, length, history,
                                                                      time.perf_counter() - clock)
            finished.append(RunResult(cell, length, history, time.perf_counter() - clock))
    yield Comparison(settings, tuple(finished)), None


def compare(settings: MemorySettings = DEFAULTS, **kwargs) -> Comparison:
    """The whole comparison in one go."""
    *_, (comparison, _) = run_comparison(settings, **kwargs)
    return comparison
