"""A small convolutional network (Conv2D, pooling, Flatten, Dropout, Dense) and its fast, seeded trainer.

`model.fit` pays a few milliseconds of bookkeeping per batch, and XLA on CPU runs Keras' own convolution
and pooling gradients slowly. Here a chunk of epochs is one XLA program written with plain tensor
operations: each 'same' convolution is nine shifted slices and one matrix product, each pooling a
reshape and a max or mean, Adam is written out as Keras does it. The weights go in and come out as
arguments, so the compiled program holds no state and one compile serves every session.
"""
import math
import threading
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from models.core.numbers import check_number
from models.engine.mlp import layer_seed
from models.engine.randomness import SHUFFLE_STREAM, apply_dropout, hash_key, random_bits
from models.engine.trainer import RunStatus, TrainingResult

POOLINGS = ("max", "average", "none")
MAX_FILTERS = 64
MAX_CONV_LAYERS = 3
CHUNK_CAPACITY = 200  # most epochs one compiled call runs
MAX_EPOCHS = 200
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' Adam defaults


def _whole(value, what, low=1, high=math.inf) -> int:
    return check_number(value, what, low=low, high=high, integer=True)


def build_cnn(*, input_shape=(8, 8, 1), filters=(16, 32), kernel_size=3, pooling="max", pool_size=2,
              dense_units=64, dropout_rate=0.25, classes=10, seed=0) -> keras.Model:
    """Conv2D ('same', ReLU) layers of `filters` kernels, each followed by pooling; then Flatten, Dropout,
    a ReLU Dense layer of `dense_units` (0: none) and a softmax output; uncompiled."""
    filters = tuple(filters)
    if not 1 <= len(filters) <= MAX_CONV_LAYERS:
        raise ValueError(f"Use 1 to {MAX_CONV_LAYERS} convolutional layers; got {len(filters)}.")
    for i, count in enumerate(filters, start=1):
        _whole(count, f"The number of filters of convolutional layer {i}", 1, MAX_FILTERS)
    kernel_size = _whole(kernel_size, "The kernel size", 1, 7)
    if pooling not in POOLINGS:
        raise ValueError(f"Unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
    pool_size = _whole(pool_size, "The pool size", 2, 4)
    dense_units = _whole(dense_units, "The number of neurons of the dense layer", 0, 1024)
    dropout_rate = check_number(dropout_rate, "The dropout rate", low=0.0, high=1.0, high_open=True)
    seed = _whole(seed, "The seed", 0, 2**31 - 1)
    height, width, _ = input_shape
    if pooling != "none":
        side = min(height, width)
        sides = [side // pool_size**i for i in range(len(filters) + 1)]
        if sides[-1] < 1:
            raise ValueError(f"Each {pool_size}×{pool_size} pooling divides the picture's side by {pool_size}: "
                             f"{' → '.join(map(str, sides))}. With {len(filters)} convolution+pooling stages nothing "
                             "is left; use fewer layers or no pooling.")

    def init(index):
        return keras.initializers.GlorotUniform(seed=layer_seed(seed, index))

    inputs = keras.Input(shape=tuple(input_shape), name="picture")
    x = inputs
    for i, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, kernel_size, padding="same", activation="relu", kernel_initializer=init(i),
                          name=f"conv_{i}")(x)
        if pooling == "max":
            x = layers.MaxPooling2D(pool_size, name=f"max_pool_{i}")(x)
        elif pooling == "average":
            x = layers.AveragePooling2D(pool_size, name=f"average_pool_{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, seed=layer_seed(seed, 100), name="dropout")(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu", kernel_initializer=init(50), name="dense")(x)
    outputs = layers.Dense(classes, activation="softmax", kernel_initializer=init(0), name="output")(x)
    return keras.Model(inputs, outputs, name="cnn")


def initial_weights(model: keras.Model, seed: int) -> list[np.ndarray]:
    """The weights `build_cnn(seed=seed)` starts with, for a model of this shape (kernel, bias, per layer)."""
    weights = []
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            index = 0 if layer.name == "output" else 50 if layer.name == "dense" else int(layer.name.split("_")[1])
            initializer = keras.initializers.GlorotUniform(seed=layer_seed(seed, index))
            weights += [keras.ops.convert_to_numpy(initializer(layer.kernel.shape)), np.zeros(layer.bias.shape, "f")]
    return weights


def layer_table(model: keras.Model) -> pd.DataFrame:
    """Every layer with its output shape and parameter count, and how that count is made."""
    rows = []
    for layer in model.layers[1:]:
        shape = "×".join(str(d) for d in layer.output.shape[1:])
        if isinstance(layer, layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            count, how = (kh * kw * c_in + 1) * c_out, f"({kh}·{kw}·{c_in} + 1)·{c_out}"
        elif isinstance(layer, layers.Dense):
            c_in, c_out = layer.kernel.shape
            count, how = (c_in + 1) * c_out, f"({c_in} + 1)·{c_out}"
        else:
            count, how = 0, "no weights"
        rows.append({"layer": layer.name, "kind": type(layer).__name__, "output shape": shape,
                     "parameters": count, "how": how})
    return pd.DataFrame(rows)


# --- The compiled program: a pure function of weights, optimiser state and data ---

@dataclass(frozen=True)
class _Step:
    kind: str  # "conv", "max", "average", "flatten", "dropout", "dense"
    size: int = 0  # kernel or pool size
    rate: float = 0.0
    activation: str = ""


def _plan(model: keras.Model) -> tuple[_Step, ...]:
    steps = []
    for layer in model.layers[1:]:
        if isinstance(layer, layers.Conv2D):
            if layer.padding != "same" or max(layer.strides) > 1 or max(layer.dilation_rate) > 1:
                raise ValueError("The CNN trainer handles 'same' convolutions with stride 1 (see build_cnn).")
            steps.append(_Step("conv", layer.kernel_size[0], activation=layer.activation.__name__))
        elif isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
            if layer.pool_size[0] != layer.strides[0] or layer.pool_size[0] != layer.pool_size[1]:
                raise ValueError("The CNN trainer handles square pooling with stride = size (see build_cnn).")
            steps.append(_Step("max" if isinstance(layer, layers.MaxPooling2D) else "average", layer.pool_size[0]))
        elif isinstance(layer, layers.Flatten):
            steps.append(_Step("flatten"))
        elif isinstance(layer, layers.Dropout):
            steps.append(_Step("dropout", rate=float(layer.rate)))
        elif isinstance(layer, layers.Dense):
            steps.append(_Step("dense", activation=layer.activation.__name__))
        else:
            raise ValueError(f"The CNN trainer handles Conv2D, pooling, Flatten, Dropout and Dense layers; "
                             f"{layer.name!r} is a {type(layer).__name__}.")
    return tuple(steps)


def _activate(h, name):
    return {"relu": tf.nn.relu, "softmax": tf.nn.softmax, "linear": tf.identity}[name](h)


def forward(plan, weights, h, key=None, *, feature_maps=False):
    """The network's output for a batch (dropout on when `key` is given); with `feature_maps`, every conv output."""
    maps, w = [], iter(weights)
    for index, step in enumerate(plan):
        if step.kind == "conv":
            kernel, bias = next(w), next(w)
            k, (height, width) = step.size, h.shape[1:3]
            before = (k - 1) // 2  # 'same' with stride 1: the odd extra pixel goes after, as in TensorFlow
            padded = tf.pad(h, [[0, 0], [before, k - 1 - before], [before, k - 1 - before], [0, 0]])
            patches = tf.concat([padded[:, i:i + height, j:j + width, :] for i in range(k) for j in range(k)], -1)
            h = _activate(tf.tensordot(patches, tf.reshape(kernel, [-1, kernel.shape[-1]]), 1) + bias,
                          step.activation)
            maps.append(h)
        elif step.kind in ("max", "average"):
            p, (height, width, channels) = step.size, h.shape[1:]
            h = h[:, :height // p * p, :width // p * p, :]
            blocks = tf.reshape(h, [-1, height // p, p, width // p, p, channels])
            h = (tf.reduce_max if step.kind == "max" else tf.reduce_mean)(blocks, axis=[2, 4])
        elif step.kind == "flatten":
            h = tf.reshape(h, [-1, math.prod(h.shape[1:])])
        elif step.kind == "dropout":
            if key is not None and step.rate > 0:
                h = apply_dropout(h, step.rate, hash_key(key, index))
        else:
            kernel, bias = next(w), next(w)
            h = _activate(tf.matmul(h, kernel) + bias, step.activation)
    return (h, maps) if feature_maps else h


_PROGRAMS: dict = {}  # most recently used last
_PROGRAMS_LOCK = threading.Lock()
MAX_PROGRAMS = 12  # compiled architectures kept per process; older ones are compiled again when needed


def _program(plan, n_train: int, batch_size: int, shuffle: bool):
    """The compiled chunk of epochs for this architecture and data size, shared by every session."""
    key = (plan, n_train, batch_size, shuffle)
    with _PROGRAMS_LOCK:
        program = _PROGRAMS.pop(key, None) or tf.function(_chunk_function(plan, n_train, batch_size, shuffle),
                                                          jit_compile=True)
        _PROGRAMS[key] = program
        while len(_PROGRAMS) > MAX_PROGRAMS:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        return program


def _chunk_function(plan, n, size, shuffle):
    steps = -(-n // size)
    padding = steps * size - n

    def loss_of(y, p, weight):
        losses = keras.losses.sparse_categorical_crossentropy(y, p)
        hits = tf.cast(tf.equal(tf.argmax(p, -1, output_type=tf.int32), y), tf.float32)
        return tf.reduce_sum(losses * weight) / tf.reduce_sum(weight), tf.reduce_sum(hits * weight)

    def train_epoch(weights, m, v, t, x, y, seed, epoch, learning_rate):
        if shuffle:
            order = tf.argsort(tf.bitcast(random_bits(hash_key(seed, epoch, SHUFFLE_STREAM), [n]), tf.int32))
        else:
            order = tf.range(n)
        order = tf.concat([order, tf.zeros([padding], tf.int32)], 0)  # padding rows get weight 0
        xs = tf.reshape(tf.gather(x, order), [steps, size, *x.shape[1:]])
        ys = tf.reshape(tf.gather(y, order), [steps, size])
        ws = tf.reshape(tf.concat([tf.ones([n]), tf.zeros([padding])], 0), [steps, size])
        loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
        for step in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                p = forward(plan, weights, xs[step], hash_key(seed, epoch, step))
                loss, hits = loss_of(ys[step], p, ws[step])
            grads = tape.gradient(loss, weights)
            t = t + 1.0
            alpha = learning_rate * tf.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
            m = [BETA_1 * a + (1 - BETA_1) * g for a, g in zip(m, grads)]
            v = [BETA_2 * b + (1 - BETA_2) * g * g for b, g in zip(v, grads)]
            weights = [w - alpha * a / (tf.sqrt(b) + EPSILON) for w, a, b in zip(weights, m, v)]
            loss_sum += loss * tf.reduce_sum(ws[step])
            correct += hits
        return weights, m, v, t, loss_sum / n, correct / n

    def chunk(weights, m, v, t, x, y, xv, yv, seed, start_epoch, n_epochs, learning_rate):
        rows = tf.TensorArray(tf.float32, size=CHUNK_CAPACITY, element_shape=[4])
        for i in tf.range(CHUNK_CAPACITY):  # a fixed trip count with an early exit: one compile for any chunk size
            if i >= n_epochs:
                break
            weights, m, v, t, loss, accuracy = train_epoch(weights, m, v, t, x, y, seed, start_epoch + i,
                                                           learning_rate)
            val_loss, val_hits = loss_of(yv, forward(plan, weights, xv), tf.ones([tf.shape(yv)[0]]))
            rows = rows.write(i, tf.stack([loss, accuracy, val_loss, val_hits / tf.cast(tf.shape(yv)[0], tf.float32)]))
        return weights, m, v, t, rows.stack()

    return chunk


class CNNTrainer:
    """Trains one `build_cnn` model on digits of one shape, chunk by chunk; keep one per student session."""

    def __init__(self, model: keras.Model, *, n_train: int, n_val: int, batch_size: int = 32, shuffle: bool = True):
        self.model, self.plan = model, _plan(model)
        self.n_train, self.n_val = _whole(n_train, "The number of training pictures", 2), _whole(n_val, "n_val", 1)
        self.batch_size = min(_whole(batch_size, "The batch size"), self.n_train)
        self.shuffle = bool(shuffle)
        self.n_params = int(model.count_params())
        self.input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
        self.epochs, self.epoch, self._rows, self._data = 0, 0, [], None
        self.status = RunStatus.READY

    @property
    def compiled(self) -> bool:
        program = _PROGRAMS.get((self.plan, self.n_train, self.batch_size, self.shuffle))
        return program is not None and program.experimental_get_tracing_count() > 0

    @property
    def done(self) -> bool:
        return self.status.done

    def start(self, x_train, y_train, x_val, y_val, *, epochs: int, learning_rate: float = 0.003,
              seed: int = 0) -> None:
        """Reset to the weights of `build_cnn(seed=seed)` and get ready to train `epochs` epochs."""
        self.epochs = _whole(epochs, "The number of epochs", 1, MAX_EPOCHS)
        self.learning_rate = check_number(learning_rate, "The learning rate", low=0, low_open=True, high=1)
        self.seed = _whole(seed, "The seed", 0, 2**31 - 1)
        self._data = (self._pictures(x_train, self.n_train, "training"), self._labels(y_train, self.n_train),
                      self._pictures(x_val, self.n_val, "validation"), self._labels(y_val, self.n_val))
        self.weights = [tf.constant(w) for w in initial_weights(self.model, self.seed)]
        self._m = [tf.zeros_like(w) for w in self.weights]
        self._v = [tf.zeros_like(w) for w in self.weights]
        self._t = tf.constant(0.0)
        self.model.set_weights([w.numpy() for w in self.weights])
        self.epoch, self._rows, self.status = 0, [], RunStatus.READY

    def _pictures(self, x, n, name):
        x = np.asarray(x, np.float32).reshape(-1, *self.input_shape) if np.size(x) else np.zeros(0)
        if x.shape != (n, *self.input_shape) or not np.isfinite(x).all():
            raise ValueError(f"The {name} pictures should be {n} finite arrays of shape {self.input_shape}.")
        return tf.constant(x)

    def _labels(self, y, n):
        y = np.asarray(y)
        classes = int(self.model.outputs[0].shape[-1])
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= classes:
            raise ValueError(f"The labels must be {n} class numbers from 0 to {classes - 1}.")
        return tf.constant(y.astype(np.int32))

    def warm_up(self) -> None:
        """Compile now (several seconds the first time in a process) without training."""
        self._call(0)

    def _call(self, n_epochs):
        if self._data is None:
            raise RuntimeError("Call start() before training.")
        program = _program(self.plan, self.n_train, self.batch_size, self.shuffle)
        return program(self.weights, self._m, self._v, self._t, *self._data, tf.constant(self.seed),
                       tf.constant(self.epoch), tf.constant(n_epochs), tf.constant(self.learning_rate, tf.float32))

    def run(self, max_epochs: int | None = None) -> TrainingResult:
        """Train up to `max_epochs` more epochs (default: all that remain) and return the run so far."""
        todo = self.epochs - self.epoch if max_epochs is None else min(max_epochs, self.epochs - self.epoch)
        while todo > 0:
            count = min(todo, CHUNK_CAPACITY)
            self.status = RunStatus.RUNNING
            self.weights, self._m, self._v, self._t, rows = self._call(count)
            self._rows.append(rows.numpy()[:count])
            self.epoch += count
            todo -= count
        if self.epoch == self.epochs:
            self.status = RunStatus.FINISHED
        self.model.set_weights([w.numpy() for w in self.weights])
        return self.result()

    def result(self) -> TrainingResult:
        rows = np.concatenate(self._rows) if self._rows else np.zeros((0, 4), np.float32)
        history = pd.DataFrame({"epoch": np.arange(1, len(rows) + 1), "loss": rows[:, 0], "accuracy": rows[:, 1],
                                "val_loss": rows[:, 2], "val_accuracy": rows[:, 3]})
        message = (f"Trained all {self.epochs} epochs." if self.status == RunStatus.FINISHED
                   else f"Trained {self.epoch} of {self.epochs} epochs.")
        return TrainingResult(history=history, status=self.status, epochs_run=self.epoch, epochs=self.epochs,
                              best_epoch=None, best_val_loss=None, diverged_at=None, message=message)

    def predict(self, x, *, feature_maps=False):
        """Class probabilities (dropout off) and, with `feature_maps`, every conv layer's output, as NumPy."""
        x = tf.constant(np.asarray(x, np.float32).reshape(-1, *self.input_shape))
        out = forward(self.plan, self.weights, x, feature_maps=feature_maps)
        if feature_maps:
            return out[0].numpy(), [m.numpy() for m in out[1]]
        return out.numpy()
