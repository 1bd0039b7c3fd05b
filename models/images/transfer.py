"""Transfer learning the Teachable Machine way: a frozen pretrained base, features cached once, a small head.

The base is never copied: feature extractors are views that call the layers of the one shared model
from `pretrained.load_model`. Fine-tuning trains a per-session copy of the last block only.
"""
import hashlib
import json
import math
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from PIL import Image

from models.engine.heavy_work import heavy_work
from models.engine.mlp import layer_seed
from models.engine.runs import cached_trainer
from models.engine.trainer import Trainer
from models.vision import images

MIN_CLASSES, MAX_CLASSES = 2, 5
MIN_IMAGES_PER_CLASS = 2
MAX_IMAGES_PER_CLASS = 40
MAX_COPIES = 4  # augmented copies per training picture
MAX_FINE_TUNE_EPOCHS = 5
BATCH_SIZE = 16  # pictures per base pass: fills both cores without a large memory peak
MAX_STORE_ITEMS = 4000


@dataclass(frozen=True)
class BaseSpec:
    """Where each architecture is cut: `cut` ends the part that always stays frozen and shared;
    the layers after it, up to `last`, form the block that fine-tuning copies and trains."""
    cut: str
    last: str
    sizes: tuple[int, ...]
    block_label: str


BASES = {
    # 128 px costs (128/224)^2 = 0.33 of the 224 px compute; block5 still sees 8x8 maps.
    "vgg16": BaseSpec(cut="block4_pool", last="block5_pool", sizes=(128, 224), block_label="block5"),
    # MobileNetV2 is built for 224 px and is cheap there (about 1/50 of VGG16 at 224 px).
    "mobilenet_v2": BaseSpec(cut="block_15_add", last="out_relu", sizes=(224,), block_label="block_16 + Conv_1"),
}
# keras.applications.vgg16.preprocess_input ("caffe" mode): RGB -> BGR, then subtract the ImageNet means.
CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)


def _spec(model_name: str) -> BaseSpec:
    try:
        return BASES[model_name]
    except KeyError:
        raise ValueError(f"Unknown model {model_name!r}; choose one of {', '.join(BASES)}.") from None


def check_input_size(model_name: str, input_size: int) -> int:
    sizes = _spec(model_name).sizes
    if input_size not in sizes:
        raise ValueError(f"{model_name} works here at {' or '.join(map(str, sizes))} pixels, not {input_size!r}.")
    return int(input_size)


# --- The frozen base, as views on the shared model ---

def preprocess_layer(model_name: str, input_size: int) -> layers.Layer:
    """`preprocess_input` of the architecture as a plain Keras layer, so a saved model runs on raw 0..255 RGB."""
    if model_name == "mobilenet_v2":
        return layers.Rescaling(1 / 127.5, offset=-1.0, name="preprocess")
    _spec(model_name)
    # A 1x1 convolution with a permutation kernel swaps RGB to BGR; its bias subtracts the means.
    layer = layers.Conv2D(3, 1, name="preprocess", trainable=False)
    layer.build((None, input_size, input_size, 3))
    kernel = np.zeros((1, 1, 3, 3), np.float32)
    for out_channel, in_channel in enumerate((2, 1, 0)):
        kernel[0, 0, in_channel, out_channel] = 1.0
    layer.set_weights([kernel, -np.array(CAFFE_MEANS_BGR, np.float32)])
    return layer


def _layers_between(model, first_after: str | None, last: str) -> list:
    names = [layer.name for layer in model.layers]
    start = 1 if first_after is None else names.index(first_after) + 1
    return model.layers[start:names.index(last) + 1]


def _apply(layer_list, x):
    """Call layers in order; BatchNormalization always in inference mode (the Keras guide's advice)."""
    for layer in layer_list:
        x = layer(x, training=False) if isinstance(layer, layers.BatchNormalization) else layer(x)
    return x


def _front(model, model_name: str, x):
    """Run the shared layers from the image up to the cut."""
    spec = _spec(model_name)
    if model_name == "vgg16":  # a plain chain of size-agnostic layers: call them on any input size
        return _apply(_layers_between(model, None, spec.cut), x)
    view = keras.Model(model.input, model.get_layer(spec.cut).output, name=f"{model_name}_front")
    return view(x, training=False)


# Views per model, weakly: a random-weights base that the process drops is freed with its views.
_views: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def feature_extractor(model, model_name: str, *, input_size: int, stage: str = "pooled") -> keras.Model:
    """A view of the shared model from raw RGB pixels to pooled features ("pooled") or to the cut maps ("cut").

    Shares the model's layer objects (no weight copy); one view per model, size and stage in this process.
    """
    check_input_size(model_name, input_size)
    if stage not in ("pooled", "cut"):
        raise ValueError('stage must be "pooled" or "cut".')
    key = (model_name, input_size, stage)
    with _views_lock:
        views = _views.setdefault(model, {})
        if key in views:
            return views[key]
        inputs = keras.Input((input_size, input_size, 3), name="image")
        x = _front(model, model_name, preprocess_layer(model_name, input_size)(inputs))
        if stage == "pooled":
            spec = _spec(model_name)
            x = _apply(_layers_between(model, spec.cut, spec.last), x)
            x = layers.GlobalAveragePooling2D(name="features")(x)
        view = keras.Model(inputs, x, name=f"{model_name}_{stage}_{input_size}")
        views[key] = view
        return view


def base_parameter_count(model, model_name: str, input_size: int) -> int:
    """Weights in the frozen base (the preprocess layer's fixed 12 numbers are not counted)."""
    view = feature_extractor(model, model_name, input_size=input_size)
    return sum(layer.count_params() for layer in view.layers if layer.name != "preprocess" and layer.weights)


def tail_parameter_count(model, model_name: str) -> int:
    """Trainable weights in the last block, the part that fine-tuning copies (BatchNorm statistics excluded)."""
    spec = _spec(model_name)
    return int(sum(int(np.prod(w.shape)) for layer in _layers_between(model, spec.cut, spec.last)
                   for w in layer.weights if w.trainable))


# --- The head ---

def build_head(*, n_features: int, n_classes: int, units: int = 64, dropout_rate: float = 0.3,
               seed: int = 0) -> keras.Model:
    """Dense(units, relu) -> Dropout -> Dense(n_classes, softmax) on pooled features; uncompiled.

    Layer names and initial weights follow `build_mlp`, so `models.training.Trainer` can train it.
    """
    for name, value, low, high in (("The number of features", n_features, 1, 100_000),
                                   ("The number of classes", n_classes, MIN_CLASSES, MAX_CLASSES),
                                   ("The number of hidden units", units, 1, 1024)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
    if not (isinstance(dropout_rate, (int, float)) and math.isfinite(dropout_rate) and 0 <= dropout_rate < 1):
        raise ValueError(f"The dropout rate must be at least 0 and below 1; got {dropout_rate!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"The seed must be a whole number of 0 or more; got {seed!r}.")
    inputs = keras.Input((int(n_features),), name="features")
    x = layers.Dense(int(units), activation="relu", name="hidden_1",
                     kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed(seed, 1)))(inputs)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, seed=layer_seed(seed, 101), name="dropout_1")(x)
    outputs = layers.Dense(int(n_classes), activation="softmax", name="output",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed(seed, 0)))(x)
    return keras.Model(inputs, outputs, name="head")


def head_trainer(*, n_features: int, n_classes: int, units: int, dropout_rate: float, n_train: int, n_val: int,
                 cache: dict | None = None, max_cached: int = 3) -> Trainer:
    """A compiled trainer for a head of these settings, reused from `cache` (keep it per session)."""
    key = (n_features, n_classes, units, float(dropout_rate), n_train, n_val)
    def build():
        head = build_head(n_features=n_features, n_classes=n_classes, units=units, dropout_rate=dropout_rate)
        return Trainer(head, loss="categorical_crossentropy", optimizer="adam", batch_size=BATCH_SIZE,
                       n_train=n_train, n_val=n_val)

    return cached_trainer(cache, key, build, max_cached=max_cached)


# --- Pictures, features and the cache ---

def image_digest(image: Image.Image) -> str:
    """A hash of the picture's pixels: the same picture gets the same cached features, whatever its file."""
    rgb = image.convert("RGB")
    return hashlib.sha256(f"{rgb.size}".encode() + rgb.tobytes()).hexdigest()


def to_pixels(picture: Image.Image, input_size: int) -> np.ndarray:
    """The centre square the base sees, as float32 0..255 of shape (size, size, 3)."""
    return images.to_array(images.center_crop_resize(picture, size=input_size))


def augmented_copies(pixels: np.ndarray, *, copies: int, seed: int) -> np.ndarray:
    """`copies` randomly flipped, rotated and zoomed versions of one picture (Keras layers, explicit seeds)."""
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"The number of augmented copies must be from 1 to {MAX_COPIES}; got {copies!r}.")
    seed = int(seed) % (2**31 - 1)
    augment = keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(0.05, seed=seed + 1),  # up to 0.05 of a full turn: 18 degrees either way
        layers.RandomZoom(0.15, seed=seed + 2),
    ])
    batch = np.repeat(np.asarray(pixels, np.float32)[np.newaxis], copies, axis=0)
    return np.clip(np.asarray(augment(batch, training=True)), 0, 255).astype(np.float32)


def copy_seed(digest: str, seed: int) -> int:
    """The augmentation seed of one picture: depends on the picture and the run's seed, nothing else."""
    return (int(digest[:8], 16) ^ (seed * 0x9E3779B1)) % (2**31 - 1)


def run_base(extractor: Callable, pixels: np.ndarray, *, batch_size: int = BATCH_SIZE,
             on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The base's output for a stack of pictures, in batches, each batch holding one heavy-work slot."""
    outputs = []
    for start in range(0, len(pixels), batch_size):
        with heavy_work():
            outputs.append(np.asarray(extractor(pixels[start:start + batch_size], training=False)))
        if on_batch is not None:
            on_batch(min(start + batch_size, len(pixels)), len(pixels))
    return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)


@dataclass
class FeatureRequest:
    """One row of features to look up: which picture, and which (augmented) version of it."""
    digest: str
    picture: Image.Image
    copy: int = 0  # 0: the picture itself; 1..copies: augmented copies
    aug_seed: int = 0
    copies: int = 0
    store: dict | None = None  # where this row's features live (a shared store for built-in pictures)


def cached_features(requests: list[FeatureRequest], extractor: Callable, *, model_key: tuple, input_size: int,
                    default_store: dict, on_batch: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
    """Features for every request: cached rows are reused, the rest go through the base in batches.

    Returns (features, how many rows were computed now). Keys are (pixels hash, model, size, version).
    """
    def store_of(r):
        return r.store if r.store is not None else default_store

    def key_of(r):
        version = ("original",) if r.copy == 0 else ("augmented", r.aug_seed, r.copies, r.copy)
        return (r.digest, *model_key, input_size, *version)

    missing = [i for i, r in enumerate(requests) if key_of(r) not in store_of(r)]
    if missing:
        stacks, done = [], set()
        for i in missing:  # augmented copies are made together, one set per picture
            r = requests[i]
            if r.copy == 0:
                stacks.append((i, to_pixels(r.picture, input_size)[np.newaxis]))
            elif (r.digest, r.aug_seed, r.copies) not in done:
                done.add((r.digest, r.aug_seed, r.copies))
                pixels = augmented_copies(to_pixels(r.picture, input_size), copies=r.copies, seed=r.aug_seed)
                stacks.append((i, pixels))
        pixels = np.concatenate([s for _i, s in stacks])
        computed = run_base(extractor, pixels, on_batch=on_batch)
        row = 0
        for i, stack in stacks:
            r = requests[i]
            if r.copy == 0:
                _put(store_of(r), key_of(r), computed[row])
            else:
                for c in range(1, r.copies + 1):
                    twin = FeatureRequest(r.digest, r.picture, c, r.aug_seed, r.copies, r.store)
                    _put(store_of(r), key_of(twin), computed[row + c - 1])
            row += len(stack)
        n_computed = len(pixels)
    else:
        n_computed = 0
    return np.stack([store_of(r)[key_of(r)] for r in requests]), n_computed


def _put(store: dict, key, value) -> None:
    store[key] = np.asarray(value, np.float32)
    while len(store) > MAX_STORE_ITEMS:  # oldest first
        store.pop(next(iter(store)), None)


# --- Inference ---

def head_probabilities(head: keras.Model, features: np.ndarray, tail: list | None = None) -> np.ndarray:
    """Class probabilities at inference time from pooled features, or from cut maps through a tuned tail."""
    x = tf.constant(np.asarray(features, np.float32))
    if tail is not None:
        x = layers.GlobalAveragePooling2D()(_apply(tail, x))
    return np.asarray(head(x, training=False))


# --- Fine-tuning a per-session copy of the last block ---

def clone_tail(model, model_name: str) -> list:
    """Fresh copies (same weights, new names) of the layers after the cut: the block that fine-tuning trains."""
    spec = _spec(model_name)
    copies = []
    for layer in _layers_between(model, spec.cut, spec.last):
        config = layer.get_config() | {"name": f"{layer.name}_tuned", "trainable": True}
        twin = type(layer).from_config(config)
        twin.build(layer.input.shape)
        twin.set_weights(layer.get_weights())
        copies.append(twin)
    return copies


def fine_tune(tail: list, head: keras.Model, x_train, y_train, x_val, y_val, *, epochs: int = 3,
              learning_rate: float = 1e-5, seed: int = 0) -> Iterator[dict]:
    """Train the tail copy and the head together on cached cut maps; yield one row of curves per epoch.

    BatchNormalization layers stay in inference mode; the shared model is never touched.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_FINE_TUNE_EPOCHS:
        raise ValueError(f"Fine-tune for 1 to {MAX_FINE_TUNE_EPOCHS} epochs; got {epochs!r}.")
    n_classes = int(head.outputs[0].shape[-1])
    y_train_hot = np.eye(n_classes, dtype=np.float32)[np.asarray(y_train)]
    y_val_hot = np.eye(n_classes, dtype=np.float32)[np.asarray(y_val)]
    variables = [v for layer in tail for v in layer.trainable_weights] + list(head.trainable_weights)
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.CategoricalCrossentropy()
    pool = layers.GlobalAveragePooling2D()

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            p = head(pool(_apply(tail, xb)), training=True)
            loss = loss_fn(yb, p)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss * tf.cast(tf.shape(xb)[0], tf.float32), tf.reduce_sum(
            tf.cast(tf.equal(tf.argmax(p, -1), tf.argmax(yb, -1)), tf.float32))

    rng = np.random.default_rng(seed)
    x_train = np.asarray(x_train, np.float32)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        loss_sum = correct = 0.0
        for start in range(0, len(order), BATCH_SIZE):
            pick = order[start:start + BATCH_SIZE]
            with heavy_work():
                batch_loss, hits = step(tf.constant(x_train[pick]), tf.constant(y_train_hot[pick]))
            loss_sum, correct = loss_sum + float(batch_loss), correct + float(hits)
        with heavy_work():
            p_val = head_probabilities(head, x_val, tail)
        val_loss = float(loss_fn(y_val_hot, p_val))
        yield {"epoch": epoch, "loss": loss_sum / len(order), "accuracy": correct / len(order),
               "val_loss": val_loss, "val_accuracy": float(np.mean(p_val.argmax(-1) == np.asarray(y_val)))}


# --- Export ---

def build_export_model(model, model_name: str, *, input_size: int, head: keras.Model,
                       tail: list | None = None) -> keras.Model:
    """Pixels (0..255 RGB, input_size square) to class probabilities: preprocess, base, (tuned block), head."""
    check_input_size(model_name, input_size)
    inputs = keras.Input((input_size, input_size, 3), name="image")
    if tail is None:
        x = feature_extractor(model, model_name, input_size=input_size)(inputs)
    else:
        x = feature_extractor(model, model_name, input_size=input_size, stage="cut")(inputs)
        x = layers.GlobalAveragePooling2D(name="features")(_apply(tail, x))
    return keras.Model(inputs, head(x), name=f"{model_name}_transfer")


def keras_file_bytes(model: keras.Model) -> bytes:
    """The model saved in the .keras format, as bytes for a download."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def classes_json(class_names: list[str], *, model_name: str, input_size: int) -> str:
    """The class list in output order, with what the saved model expects as input."""
    return json.dumps({"classes": list(class_names), "model": model_name,
                       "input": f"RGB pictures of {input_size}x{input_size} pixels, values 0 to 255 "
                                "(centre-cropped; the model does its own preprocessing)"}, indent=2)

