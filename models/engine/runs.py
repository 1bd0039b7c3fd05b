"""Running trainers for a page: one chunk policy, taking turns between runs, a per-session trainer cache.

A page starts a `Trainer` (trainer.py) and iterates `train_in_chunks` / `train_in_turns`, redrawing its
charts after each chunk; `make_trainer` reuses a session's trainer when the settings repeat (its program is shared).
"""
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager

import keras
import numpy as np

from models.engine import heap
from models.engine.mlp import build_mlp
from models.engine.settings import CHUNK_CAPACITY, SECONDS_PER_CHUNK, TrainingResult
from models.engine.trainer import Trainer


def chunk_epochs(seconds_per_chunk: float, seconds_per_epoch: float) -> int:
    """The one chunk policy: as many epochs as fit in `seconds_per_chunk` at the measured speed (1 to CHUNK_CAPACITY).

    Any length is fine: the compiled loop has a fixed trip count, so a new length never recompiles.
    """
    return int(min(max(seconds_per_chunk / max(seconds_per_epoch, 1e-6), 1), CHUNK_CAPACITY))


def train_in_turns(trainers: Mapping, *, seconds_per_chunk: float = SECONDS_PER_CHUNK,
                   guard: Callable[[], AbstractContextManager] | None = None) -> Iterator[dict]:
    """Run started trainers to the end, a chunk each in turn; after each chunk yield every run's latest result.

    The first chunk is one epoch, to measure; later ones last about `seconds_per_chunk`. `guard`, if given, is
    entered around each chunk (e.g. a process-wide limit on heavy work), so students take turns chunk by chunk.
    """
    guard = guard or contextlib.nullcontext
    chunks, latest = dict.fromkeys(trainers, 1), {}
    for trainer in trainers.values():
        if not trainer.compiled:
            with guard():
                trainer.warm_up()
    while not all(trainer.done for trainer in trainers.values()):
        for name, trainer in trainers.items():
            if trainer.done:
                continue
            with guard():
                before, clock = trainer.epoch, time.perf_counter()
                latest[name] = trainer.run(chunks[name])
                elapsed = time.perf_counter() - clock
            chunks[name] = chunk_epochs(seconds_per_chunk, elapsed / max(trainer.epoch - before, 1))
            yield {key: latest[key] for key in trainers if key in latest}


def train_in_chunks(trainer: Trainer, *, seconds_per_chunk: float = SECONDS_PER_CHUNK,
                    guard: Callable[[], AbstractContextManager] | None = None) -> Iterator[TrainingResult]:
    """Run one started trainer to the end, yielding the run so far about every `seconds_per_chunk`."""
    for results in train_in_turns({0: trainer}, seconds_per_chunk=seconds_per_chunk, guard=guard):
        yield results[0]


def prime() -> float:
    """Pay TensorFlow's one-time start-up costs (first trace and XLA compile) once per process; seconds taken.

    Trains a throwaway two-neuron network. Then it moves every object alive so far (mostly TensorFlow's and
    Keras' modules) out of the garbage collector's reach (see `heap`): Streamlit runs full collections after
    every page run, and they walked them all, about 0.25 s of CPU each.
    """
    clock = time.perf_counter()
    x = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    y = np.array([0, 1])
    trainer = Trainer(build_mlp(hidden_units=(2,)), batch_size=2, n_train=2, n_val=2)
    trainer.start(x, y, x, y, epochs=1, learning_rate=0.1)
    trainer.run()
    heap.freeze()
    return time.perf_counter() - clock


def make_trainer(model_kwargs: dict, *, loss="binary_crossentropy", optimizer="adam", batch_size=32,
                 n_train: int, n_val: int, huber_delta=1.0, cache: dict | None = None,
                 max_cached: int = 4) -> Trainer:
    """A trainer for `build_mlp(**model_kwargs)`, taken from `cache` when one with these settings exists.

    Keep `cache` per student session (e.g. a dict in session state): a trainer holds its run's weights. The
    compiled program behind it is shared by every session anyway (programs.py), so a small cache is enough.
    """
    settings = {k: v for k, v in model_kwargs.items() if k != "seed"}
    key = (tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple, set, range)) else v)
                        for k, v in settings.items())),
           loss, optimizer, batch_size, n_train, n_val, huber_delta)
    return cached_trainer(cache, key, lambda: Trainer(build_mlp(**model_kwargs), loss=loss, optimizer=optimizer,
                                                      batch_size=batch_size, n_train=n_train, n_val=n_val,
                                                      huber_delta=huber_delta),
                          max_cached=max_cached)


def cached_trainer(cache: dict | None, key, build: Callable[[], "Trainer"], *, max_cached: int) -> "Trainer":
    """The trainer kept under `key` in a per-session dict (least recently used dropped first), or a new one."""
    if cache is not None and key in cache:
        cache[key] = cache.pop(key)  # most recently used last
        return cache[key]
    trainer = build()
    if cache is not None:
        cache[key] = trainer
        while len(cache) > max_cached:
            cache.pop(next(iter(cache)))
    return trainer


def train(model: keras.Model, x_train, y_train, x_val, y_val, *, epochs: int, learning_rate: float,
          loss="binary_crossentropy", optimizer="adam", batch_size=32, seed=0, patience=None,
          huber_delta=1.0) -> TrainingResult:
    """Train `model` in one go (its weights are first reset to `seed`) and return the whole run.

    Used by tests and benchmarks; pages keep a `Trainer` per session instead.
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, batch_size=batch_size,
                      n_train=len(x_train), n_val=len(x_val), huber_delta=huber_delta)
    trainer.start(x_train, y_train, x_val, y_val, epochs=epochs, learning_rate=learning_rate, seed=seed,
                  patience=patience)
    return trainer.run()
