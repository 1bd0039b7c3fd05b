"""Compiled training programs, shared by every session that trains the same kind of network on data of one shape.

A program is a pure function: it takes a run's state (weights, optimizer state, best weights, early-stopping
counters) and data as inputs and returns the next state, so one XLA compile serves every student. Programs
live in a small process-wide cache behind a lock; they hold a weightless template of the architecture and
never a student's numbers.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import keras
import tensorflow as tf
from keras import layers

from models.engine.randomness import SHUFFLE_STREAM, apply_dropout, hash_key, random_bits
from models.engine.settings import CHUNK_CAPACITY, make_loss, make_optimizer

MAX_PROGRAMS = 12  # distinct (architecture, loss, optimizer, batch, data shape) programs kept per server
SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "rmsprop": 1}  # optimizer state arrays per weight array

_programs: OrderedDict = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class ProgramKey:
    """Everything a compiled program depends on (no weights, no seed, no data values)."""
    architecture: tuple
    loss: str
    huber_delta: float
    optimizer: str
    momentum: float
    batch_size: int
    n_train: int
    n_val: int
    shuffle: bool
    xla: bool


class RunState(NamedTuple):
    """One run's numbers between chunks: the inputs and outputs of a program."""
    weights: list
    slots: list
    iterations: tf.Tensor
    best: list
    best_val: tf.Tensor
    best_epoch: tf.Tensor
    wait: tf.Tensor


def _config(regularizer):
    if regularizer is None:
        return None
    return type(regularizer).__name__, tuple(sorted(regularizer.get_config().items()))


def architecture(model: keras.Model) -> tuple:
    """The layers of a Dense/Dropout network as plain values: equal for models that compute the same function."""
    parts = [("input", int(model.inputs[0].shape[-1]))]
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        if isinstance(layer, layers.Dense):
            parts.append(("dense", int(layer.units), keras.activations.serialize(layer.activation), layer.use_bias,
                          _config(layer.kernel_regularizer), _config(layer.bias_regularizer), layer.dtype))
        elif isinstance(layer, layers.Dropout):
            parts.append(("dropout", float(layer.rate)))
        else:
            raise ValueError(f"The trainer handles Dense and Dropout layers (see build_mlp); "
                             f"{layer.name!r} is a {type(layer).__name__}.")
    return tuple(parts)


def shared_program(key: ProgramKey, model: keras.Model) -> "Program":
    """The program for `key` from the process-wide cache (least recently used dropped first), or a new one."""
    with _lock:
        program = _programs.pop(key, None)
        if program is None:
            program = Program(key, model)
        _programs[key] = program
        while len(_programs) > MAX_PROGRAMS:
            _programs.popitem(last=False)  # sessions still holding it keep using it
        return program


def cached_programs() -> list:
    """The programs in the cache, least recently used first (for tests and benchmarks)."""
    with _lock:
        return list(_programs.values())


def clear_programs() -> None:
    with _lock:
        _programs.clear()


class Program:
    """One compiled chunk of training for one `ProgramKey`; safe to call from several threads at once."""

    def __init__(self, key: ProgramKey, model: keras.Model):
        self.key = key
        self.template = keras.models.clone_model(model)  # fresh variables: only the mapping keys of a call
        self._layers = [layer for layer in self.template.layers if not isinstance(layer, layers.InputLayer)]
        self._variables = list(self.template.trainable_variables)
        self.input_dim = int(model.inputs[0].shape[-1])
        self.output_units = int(model.outputs[0].shape[-1])
        self.batch_size = min(key.batch_size, key.n_train)
        self._loss = make_loss(key.loss, huber_delta=key.huber_delta)
        self._per_point_loss = make_loss(key.loss, reduction=None, huber_delta=key.huber_delta)
        self._hyper = make_optimizer(key.optimizer, 0.01, key.momentum)  # Keras' own defaults (betas, epsilon, rho)
        self.traces = 0  # Python runs of the body: one per trace
        self.compiled = False
        self._compile_lock = threading.Lock()
        shapes = [tuple(v.shape) for v in self._variables]
        weights = [tf.TensorSpec(s, tf.float32) for s in shapes]
        state = RunState(weights, weights * SLOTS[key.optimizer], tf.TensorSpec([], tf.int64), weights,
                         tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32))
        out = self.output_units
        data = [tf.TensorSpec([n, width], tf.float32) for n in (key.n_train, key.n_val)
                for width in (self.input_dim, out)]
        signature = [state, data[0], data[1], data[2], data[3]] + [tf.TensorSpec([], tf.int32)] * 4 + [
                     tf.TensorSpec([], tf.float32)] * 2
        def chunk(state, x, y, xv, yv, seed, start_epoch, n_epochs, patience, loss_limit, lr):
            return self._run_chunk(state, x, y, xv, yv, seed, start_epoch, n_epochs, patience, loss_limit, lr)

        # A function of its own per program: TensorFlow warns of "retracing" when one function traces often.
        self.chunk = tf.function(chunk, input_signature=signature, jit_compile=key.xla)

    def initial_state(self, weights: list) -> RunState:
        """A fresh run from these initial weights: optimizer state at zero, no best epoch yet."""
        weights = [tf.constant(w, tf.float32) for w in weights]
        zeros = [tf.zeros_like(w) for w in weights]
        return RunState(weights, zeros * SLOTS[self.key.optimizer], tf.constant(0, tf.int64), list(weights),
                        tf.constant(float("inf")), tf.constant(0), tf.constant(0))

    def __call__(self, state: RunState, data: tuple, *, seed, epoch, n_epochs, patience, loss_limit, learning_rate):
        """Train up to `n_epochs` epochs from `state`; (next state, rows, epochs done, diverged, stopped)."""
        args = [tf.constant(v, tf.int32) for v in (seed, epoch, n_epochs, patience)] + [
            tf.constant(loss_limit, tf.float32), tf.constant(learning_rate, tf.float32)]
        if self.compiled:
            return self.chunk(state, *data, *args)
        with self._compile_lock:  # two students arriving at once compile it once
            outputs = self.chunk(state, *data, *args)
            self.compiled = True
        return outputs

    # --- The traced body ---

    def forward(self, weights, x, training, seed=None, epoch=None, step=None):
        """The network's outputs and its L1/L2 penalties, computed from `weights` (not from any variable)."""
        with keras.StatelessScope(state_mapping=list(zip(self._variables, weights))):
            h = x
            for index, layer in enumerate(self._layers):
                if isinstance(layer, layers.Dropout):
                    if training and layer.rate > 0:
                        h = apply_dropout(h, layer.rate, hash_key(seed, epoch, step, index))
                else:
                    h = layer(h)
            penalties = self.template.losses
        return h, penalties

    def _total_loss(self, y, p, penalties, weight=None):
        """The data loss (a weighted mean when `weight` masks padding) plus the L1/L2 penalties."""
        if weight is None:
            loss = self._loss(y, p)
        else:
            loss = tf.reduce_sum(self._per_point_loss(y, p) * weight) / tf.reduce_sum(weight)
        return loss + (tf.add_n(penalties) if penalties else 0.0)

    def _correct(self, y, p, weight=None):
        """How many predictions are right, as Keras' "accuracy" metric counts them."""
        if self.key.loss == "binary_crossentropy":
            hits = tf.reduce_all(tf.equal(tf.cast(p > 0.5, tf.float32), y), axis=-1)
        elif self.key.loss == "categorical_crossentropy":
            hits = tf.equal(tf.argmax(p, axis=-1), tf.argmax(y, axis=-1))
        else:
            return tf.constant(0.0)
        hits = tf.cast(hits, tf.float32)
        return tf.reduce_sum(hits if weight is None else hits * weight)

    def _update(self, weights, slots, iterations, grads, lr):
        """One optimizer step, written out as Keras 3 writes it (same operations in the same order)."""
        kind, hyper, n = self.key.optimizer, self._hyper, len(weights)
        if kind == "sgd":
            return [w - g * lr for w, g in zip(weights, grads)], [], iterations + 1
        if kind == "momentum":
            momentum = tf.cast(hyper.momentum, tf.float32)
            ms = [m * momentum - g * lr for m, g in zip(slots, grads)]
            return [w + m for w, m in zip(weights, ms)], ms, iterations + 1
        if kind == "adam":
            local_step = tf.cast(iterations + 1, tf.float32)
            beta_1_power = tf.pow(tf.cast(hyper.beta_1, tf.float32), local_step)
            beta_2_power = tf.pow(tf.cast(hyper.beta_2, tf.float32), local_step)
            alpha = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            ms = [m + (g - m) * (1 - hyper.beta_1) for m, g in zip(slots[:n], grads)]
            vs = [v + (tf.square(g) - v) * (1 - hyper.beta_2) for v, g in zip(slots[n:], grads)]
            new = [w - (m * alpha) / (tf.sqrt(v) + hyper.epsilon) for w, m, v in zip(weights, ms, vs)]
            return new, ms + vs, iterations + 1
        rho = hyper.rho  # rmsprop, no momentum, not centred (Keras' defaults)
        vs = [rho * v + (1 - rho) * tf.square(g) for v, g in zip(slots, grads)]
        new = [w - (lr * g) / tf.sqrt(v + hyper.epsilon) for w, g, v in zip(weights, grads, vs)]
        return new, vs, iterations + 1

    def _train_step(self, state, xb, yb, weight, seed, epoch, step, lr):
        with tf.GradientTape() as tape:
            tape.watch(state.weights)
            p, penalties = self.forward(state.weights, xb, True, seed, epoch, step)
            loss = self._total_loss(yb, p, penalties, weight)
        grads = tape.gradient(loss, state.weights)
        weights, slots, iterations = self._update(state.weights, state.slots, state.iterations, grads, lr)
        return state._replace(weights=weights, slots=slots, iterations=iterations), loss, self._correct(yb, p, weight)

    def _train_epoch(self, state, x, y, seed, epoch, lr):
        n, size = self.key.n_train, self.batch_size
        steps = -(-n // size)
        if self.key.shuffle:
            order = tf.argsort(tf.bitcast(random_bits(hash_key(seed, epoch, SHUFFLE_STREAM), [n]), tf.int32))
        else:
            order = tf.range(n)
        # Pad the shuffled order to whole batches; padding rows get weight 0, so the last step
        # computes exactly fit's smaller last batch while every step keeps one fixed shape.
        padding = steps * size - n
        order = tf.concat([order, tf.zeros([padding], tf.int32)], 0)
        xs = tf.reshape(tf.gather(x, order), [steps, size, self.input_dim])
        ys = tf.reshape(tf.gather(y, order), [steps, size, self.output_units])
        ws = tf.reshape(tf.concat([tf.ones([n]), tf.zeros([padding])], 0), [steps, size])
        loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
        for step in tf.range(steps):
            weight = ws[step] if padding else None
            state, loss, hits = self._train_step(state, xs[step], ys[step], weight, seed, epoch, step, lr)
            loss_sum += loss * tf.reduce_sum(ws[step])
            correct += hits
        return state, loss_sum / n, correct / n

    def _run_chunk(self, state, x, y, xv, yv, seed, start_epoch, n_epochs, patience, loss_limit, lr):
        self.traces += 1
        rows = tf.TensorArray(tf.float32, size=CHUNK_CAPACITY, element_shape=[4])
        done, diverged, stopped = tf.constant(0), tf.constant(False), tf.constant(False)
        # A fixed trip count with an early exit: XLA compiles a loop bound that comes from an argument
        # once per value, so `tf.range(n_epochs)` recompiled for every new chunk size.
        for i in tf.range(CHUNK_CAPACITY):
            if i >= n_epochs:
                break
            epoch = start_epoch + i
            state, loss, accuracy = self._train_epoch(state, x, y, seed, epoch, lr)
            pv, penalties = self.forward(state.weights, xv, False)
            val_loss = self._total_loss(yv, pv, penalties)
            val_accuracy = self._correct(yv, pv) / self.key.n_val
            if tf.logical_not((loss <= loss_limit) & (val_loss <= loss_limit)):  # false for NaN too
                diverged = tf.constant(True)
                break
            rows = rows.write(i, tf.stack([loss, accuracy, val_loss, val_accuracy]))
            done = i + 1
            better = val_loss < state.best_val
            state = state._replace(best=[tf.where(better, w, b) for w, b in zip(state.weights, state.best)],
                                   best_val=tf.where(better, val_loss, state.best_val),
                                   best_epoch=tf.where(better, epoch + 1, state.best_epoch),
                                   wait=tf.where(better, 0, state.wait + 1))
            if state.wait >= patience:
                stopped = tf.constant(True)
                break
        return state, rows.stack(), done, diverged, stopped
