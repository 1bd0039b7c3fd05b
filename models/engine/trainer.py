"""Fast, seeded training of a `build_mlp` model, in chunks of epochs that a page can redraw between.

`model.fit` spends about 60 ms per epoch on bookkeeping for a tiny network. Here each chunk of
epochs (shuffles, mini-batch steps, validation, early stopping) is one XLA-compiled TensorFlow
program, shared by every session that trains the same network on data of the same shape
(programs.py): a trainer keeps only its run's weights and optimizer state. Shuffles and dropout
masks come from a counter-based hash of (seed, epoch, step), which XLA compiles into a few integer
operations, so a run depends only on its settings: not on chunk sizes, other threads or any global seed.
"""
import threading

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from models.core.numbers import check_number
from models.engine.mlp import reinitialize
from models.engine.programs import ProgramKey, architecture, shared_program
from models.engine.settings import (
    CHUNK_CAPACITY,
    DIVERGENCE_FACTOR,
    LOSSES,
    MAX_EPOCHS,
    REGRESSION_LOSSES,
    RunStatus,
    TrainingResult,
    check_work,
    make_loss,
    make_optimizer,
    whole,
)


class Trainer:
    """Trains one model on data of one shape; reusable (`start` again) without recompiling.

    The compiled program is shared by every trainer of the same architecture, loss, optimizer, batch size
    and data shape (programs.py); this object keeps one run's own numbers. Not for two threads at once.
    """

    def __init__(self, model: keras.Model, *, loss="binary_crossentropy", optimizer="adam", batch_size=32,
                 n_train: int, n_val: int, shuffle=True, momentum=0.9, huber_delta=1.0, xla=True):
        self._model = model
        self.huber_delta = check_number(huber_delta, "The Huber delta", low=0, low_open=True)
        self.shuffle = bool(shuffle)
        self.loss_name, self.optimizer_name = loss, optimizer
        self.n_train = whole(n_train, "The number of training points", 2)
        self.n_val = whole(n_val, "The number of validation points", 2)
        self.requested_batch_size = whole(batch_size, "The batch size", 1)
        self.batch_size = min(self.requested_batch_size, self.n_train)
        shape = architecture(model)  # checks the layers (Dense and Dropout only)
        self._layers = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
        self.input_dim = int(model.inputs[0].shape[-1])
        self.output_units = int(model.outputs[0].shape[-1])
        self._check_loss_fits_model(self._layers[-1])
        self._loss = make_loss(loss, huber_delta=self.huber_delta)
        make_optimizer(optimizer, 0.01, momentum)  # checks the name
        self.n_params = int(model.count_params())
        self.program = shared_program(ProgramKey(shape, loss, float(self.huber_delta), optimizer,
                                                 float(momentum) if optimizer == "momentum" else 0.0,
                                                 self.batch_size, self.n_train, self.n_val, self.shuffle,
                                                 bool(xla)), model)
        self._chunk = self.program.chunk
        self._lock = threading.Lock()
        self._data = None
        self.learning_rate = 0.01
        self.reset(0)

    @property
    def compiled(self) -> bool:
        return self.program.compiled

    @property
    def model(self) -> keras.Model:
        """The Keras model holding this run's latest weights."""
        with self._lock:
            self._sync_model()
        return self._model

    def _sync_model(self):
        if self._model_stale:
            for variable, value in zip(self._model.trainable_variables, self._state.weights):
                variable.assign(value)
            self._model_stale = False

    def _check_loss_fits_model(self, output_layer):
        activation = keras.activations.serialize(output_layer.activation)
        if self.loss_name == "binary_crossentropy" and (self.output_units != 1 or activation != "sigmoid"):
            raise ValueError("Binary cross-entropy needs an output layer of 1 neuron with a sigmoid activation.")
        if self.loss_name == "categorical_crossentropy" and (self.output_units < 2 or activation != "softmax"):
            raise ValueError("Categorical cross-entropy needs an output layer with one neuron per class "
                             "(at least 2) and a softmax activation.")
        if self.loss_name not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss_name!r}; choose one of {', '.join(LOSSES)}.")

    # --- Setting up a run ---

    def reset(self, seed: int) -> None:
        """New initial weights (as `build_mlp(seed=seed)`), fresh optimizer state, empty history."""
        seed = whole(seed, "The seed", 0, 2**31 - 1)
        with self._lock:
            reinitialize(self._model, seed)
            self._state = self.program.initial_state([v.numpy() for v in self._model.trainable_variables])
            self._model_stale = False
            self.seed = seed
            self.epochs, self.epoch, self.patience = 0, 0, None
            self.status, self.diverged_at = RunStatus.READY, None
            self._rows = []

    def start(self, x_train, y_train, x_val, y_val, *, epochs: int, learning_rate: float, seed: int = 0,
              patience: int | None = None) -> None:
        """Reset to `seed` and get ready to train on these arrays for `epochs` epochs.

        Labels: 0/1 for binary cross-entropy, class numbers 0..k-1 (or one-hot rows) for categorical
        cross-entropy, target values for the regression losses (MSE, MAE, Huber). `patience` turns on
        early stopping on the validation loss.
        """
        epochs = whole(epochs, "The number of epochs", 1, MAX_EPOCHS)
        try:
            learning_rate = check_number(learning_rate, "The learning rate", low=0, low_open=True)
        except ValueError as problem:
            raise ValueError(f"{problem} With a learning rate of 0 the weights never change.") from None
        if patience is not None:
            patience = whole(patience, "The early-stopping patience", 1)
        data = (self._features(x_train, self.n_train, "training"), self._labels(y_train, self.n_train, "training"),
                self._features(x_val, self.n_val, "validation"), self._labels(y_val, self.n_val, "validation"))
        check_work(epochs=epochs, n_points=self.n_train + self.n_val, n_params=self.n_params,
                   steps_per_epoch=-(-self.n_train // self.batch_size))
        self.reset(seed)
        with self._lock:
            penalties = self._model.losses
            untrained = self._loss(data[1], self._model(data[0], training=False))
            untrained_loss = float(untrained + tf.add_n(penalties) if penalties else untrained)
            self._loss_limit = DIVERGENCE_FACTOR * max(untrained_loss, 1.0)
            self._data = tuple(tf.constant(part) for part in data)
            self.epochs, self.patience, self.learning_rate = epochs, patience, float(learning_rate)

    def _features(self, x, n, name):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1 and self.input_dim == 1:
            x = x[:, None]
        if x.shape != (n, self.input_dim):
            raise ValueError(f"The {name} features should have shape ({n}, {self.input_dim}); got {x.shape}. "
                             "Make a new trainer when the number of points changes.")
        if not np.isfinite(x).all():
            raise ValueError(f"The {name} features contain missing or infinite values.")
        return x

    def _labels(self, y, n, name):
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"There are {len(y)} {name} labels for {n} points.")
        if self.loss_name == "categorical_crossentropy" and y.ndim == 1:
            if not (np.issubdtype(y.dtype, np.integer) and y.min() >= 0 and y.max() < self.output_units):
                raise ValueError(f"The {name} labels must be class numbers from 0 to {self.output_units - 1}.")
            y = np.eye(self.output_units, dtype=np.float32)[y]
        y = y.astype(np.float32).reshape(n, -1)
        if y.shape[1] != self.output_units:
            raise ValueError(f"The {name} labels have {y.shape[1]} column(s); the model has "
                             f"{self.output_units} output(s).")
        if not np.isfinite(y).all():
            raise ValueError(f"The {name} labels contain missing or infinite values.")
        if self.loss_name == "binary_crossentropy" and not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"The {name} labels must be 0 or 1 for binary cross-entropy.")
        return y

    # --- Running ---

    @property
    def done(self) -> bool:
        return self.status.done

    def warm_up(self) -> None:
        """Compile now (about a second the first time) without training."""
        if self._data is None:
            raise RuntimeError("Call start() before warm_up().")
        with self._lock:
            if self.compiled:
                return
            saved, self._state = self._state, self.program.initial_state(self._state.weights)  # even when done
            try:
                self._call_chunk(0)
            finally:
                self._state = saved

    def run(self, max_epochs: int | None = None) -> TrainingResult:
        """Train up to `max_epochs` more epochs (default: all that remain) and return the run so far."""
        if self._data is None:
            raise RuntimeError("Call start() before run().")
        if max_epochs is not None:
            max_epochs = whole(max_epochs, "The number of epochs per chunk", 1)
        with self._lock:
            remaining = self.epochs - self.epoch
            todo = remaining if max_epochs is None else min(max_epochs, remaining)
            while todo > 0 and not self.done:
                self.status = RunStatus.RUNNING
                rows, done, diverged, stopped = self._call_chunk(min(todo, CHUNK_CAPACITY))
                self._rows.append(rows[:done])
                self.epoch += done
                todo -= done
                if diverged:
                    self.status, self.diverged_at = RunStatus.DIVERGED, self.epoch + 1
                elif stopped:
                    self.status = RunStatus.STOPPED_EARLY
                elif self.epoch == self.epochs:
                    self.status = RunStatus.FINISHED
            if self.done and self._state.slots is not None:
                self._finish()
            return self._result()

    def _finish(self):
        """Restore the best weights (early stopping), then let go of what only training needed."""
        state = self._state
        if self.patience is not None and self.status in (RunStatus.FINISHED, RunStatus.STOPPED_EARLY):
            state = state._replace(weights=list(state.best))
        self._state, self._model_stale = state._replace(slots=None, best=None), True

    def _call_chunk(self, n_epochs):
        patience = 2**30 if self.patience is None else self.patience
        state, rows, done, diverged, stopped = self.program(
            self._state, self._data, seed=self.seed, epoch=self.epoch, n_epochs=n_epochs, patience=patience,
            loss_limit=self._loss_limit, learning_rate=self.learning_rate)
        if n_epochs:
            self._state, self._model_stale = state, True
        return rows.numpy(), int(done), bool(diverged), bool(stopped)

    def _result(self) -> TrainingResult:
        rows = np.concatenate(self._rows) if self._rows else np.zeros((0, 4), np.float32)
        history = pd.DataFrame({"epoch": np.arange(1, len(rows) + 1), "loss": rows[:, 0], "val_loss": rows[:, 2]})
        if self.loss_name not in REGRESSION_LOSSES:
            history["accuracy"], history["val_accuracy"] = rows[:, 1], rows[:, 3]
        best_epoch = int(self._state.best_epoch) or None
        best_val = float(self._state.best_val) if best_epoch else None
        return TrainingResult(history=history, status=self.status, epochs_run=self.epoch, epochs=self.epochs,
                              best_epoch=best_epoch, best_val_loss=best_val, diverged_at=self.diverged_at,
                              message=self._message(best_epoch, best_val))

    def _message(self, best_epoch, best_val):
        note = ""
        if self.batch_size < self.requested_batch_size:
            note = (f" The batch size {self.requested_batch_size} is more than the {self.n_train} training points, "
                    f"so every step used all {self.n_train}.")
        if self.status == RunStatus.DIVERGED:
            during = " (during it, so no epoch finished)" if self.diverged_at == 1 else ""
            return (f"Training diverged at epoch {self.diverged_at}{during}: the loss blew up (it became infinite, "
                    f"not a number, or over {DIVERGENCE_FACTOR:g} times its value before training). "
                    f"The learning rate {self.learning_rate:g} is probably too large; try a smaller one.{note}")
        if self.status == RunStatus.STOPPED_EARLY:
            return (f"Stopped early after epoch {self.epoch}: the validation loss had not improved for "
                    f"{self.patience} epochs. The weights from epoch {best_epoch} (validation loss "
                    f"{best_val:.4f}) were restored.{note}")
        if self.status == RunStatus.FINISHED and self.patience is not None:
            return (f"Trained all {self.epochs} epochs. The weights from the best epoch, {best_epoch} "
                    f"(validation loss {best_val:.4f}), were restored.{note}")
        if self.status == RunStatus.FINISHED:
            return f"Trained all {self.epochs} epochs.{note}"
        return f"Trained {self.epoch} of {self.epochs} epochs.{note}"

    def predict(self, x) -> np.ndarray:
        """The model's outputs at inference time (dropout off), e.g. on a grid for a decision boundary."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.input_dim)
        return keras.ops.convert_to_numpy(self.model(x, training=False))

    def _forward(self, x, training, seed=None, epoch=None, step=None):
        """The compiled program's forward pass on this run's weights (dropout masks as in training)."""
        return self.program.forward(self._state.weights, x, training, seed, epoch, step)[0]
