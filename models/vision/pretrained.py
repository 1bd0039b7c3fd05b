"""Pretrained ImageNet CNNs: honest weight loading and classification (Grad-CAM is in gradcam.py).

Weights come from, in order: the file named by the model's environment variable
(e.g. VGG16_WEIGHTS_PATH), the Keras cache ($KERAS_HOME/models, else ~/.keras/models),
or a download by Keras itself when the network answers. Otherwise `WeightsUnavailable`
says what is missing and the one command that fixes it.

CLASSROOM_WEIGHTS_HOST=host:port points the reachability check at another server (tests use a
closed local port to simulate a school without internet access).
"""
import functools
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.engine import heap
from models.engine.heavy_work import heavy_work
from models.vision import imagenet, images

PREFETCH_COMMAND = "python -m models.prefetch"
WEIGHTS_HOST = ("storage.googleapis.com", 443)
WEIGHTS_HOST_ENV = "CLASSROOM_WEIGHTS_HOST"
TOP = 5  # classes shown, and Grad-CAMs computed, per picture
_KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class Architecture:
    key: str
    label: str
    builder: str  # name in keras.applications
    preprocess_module: str  # keras.applications.<module>.preprocess_input
    weights_file: str
    weights_md5: str | None
    download_mb: int
    env_var: str
    last_conv_layer: str
    feature_layers: tuple[str, ...]
    input_size: int = 224

    @property
    def weights_url(self) -> str:
        folder = "vgg16" if self.key == "vgg16" else "mobilenet_v2"
        return f"{_KERAS_URL}{folder}/{self.weights_file}"


ARCHITECTURES = {
    "vgg16": Architecture(
        key="vgg16", label="VGG16 (528 MB, 138 M parameters)", builder="VGG16", preprocess_module="vgg16",
        weights_file="vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        weights_md5="64373286793e3c8b2b4e3219cbf3544b", download_mb=528, env_var="VGG16_WEIGHTS_PATH",
        last_conv_layer="block5_conv3", feature_layers=("block1_conv2", "block3_conv3", "block5_conv3")),
    "mobilenet_v2": Architecture(
        key="mobilenet_v2", label="MobileNetV2 (14 MB, 3.5 M parameters, for older laptops)",
        builder="MobileNetV2", preprocess_module="mobilenet_v2",
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", weights_md5=None,
        download_mb=14, env_var="MOBILENETV2_WEIGHTS_PATH", last_conv_layer="out_relu",
        feature_layers=("Conv1_relu", "block_6_expand_relu", "out_relu")),
}


class WeightsUnavailable(RuntimeError):
    """The pretrained weights are neither on disk nor downloadable right now."""

    def __init__(self, message: str, command: str = PREFETCH_COMMAND):
        super().__init__(message)
        self.command = command


def architecture(model_name: str) -> Architecture:
    try:
        return ARCHITECTURES[model_name]
    except KeyError:
        raise ValueError(f"Unknown model {model_name!r}; choose one of {', '.join(ARCHITECTURES)}.") from None


def keras_cache_dirs() -> list[Path]:
    """Where Keras keeps downloaded weights: $KERAS_HOME/models, else ~/.keras/models (or /tmp/.keras)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return [Path(home) / "models", Path("/tmp/.keras/models")]


def local_weights(model_name: str) -> Path | None:
    """The weights file to load without any network, or None if there is none."""
    arch = architecture(model_name)
    configured = os.environ.get(arch.env_var)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(
                f"{arch.env_var} points at {path}, but there is no file there. "
                f"Fix the path, or unset {arch.env_var} and fetch the weights with the command below.")
        return path
    for folder in keras_cache_dirs():
        candidate = folder / arch.weights_file
        if candidate.is_file() and candidate.stat().st_size > 0:
            return candidate
    return None


def weights_host() -> tuple[str, int]:
    """The (host, port) the reachability check dials: $CLASSROOM_WEIGHTS_HOST, else Keras' download server."""
    configured = os.environ.get(WEIGHTS_HOST_ENV, "").strip()
    if not configured:
        return WEIGHTS_HOST
    host, _, port = configured.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise WeightsUnavailable(f"{WEIGHTS_HOST_ENV} must look like host:port (e.g. example.org:443), "
                                 f"not {configured!r}. Fix or unset it.")
    return host.strip("[]"), int(port)


def network_reachable(address: tuple[str, int] | None = None, timeout: float = 3.0) -> bool:
    """Can we open a connection to the weights server? Never blocks longer than about `timeout`."""
    address = address or weights_host()
    result = []

    def attempt():  # DNS lookups ignore socket timeouts, so the whole attempt runs on a side thread
        try:
            socket.create_connection(address, timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def weights_source(model_name: str = "vgg16", *, network_timeout: float = 3.0) -> Path | None:
    """The local ImageNet weights file, or None when Keras can download it now; else WeightsUnavailable."""
    arch = architecture(model_name)
    source = local_weights(model_name)
    if source is None and not network_reachable(timeout=network_timeout):
        raise WeightsUnavailable(
            f"The ImageNet weights for {arch.builder} ({arch.download_mb} MB) are not on this computer "
            f"(looked for {arch.weights_file} in {keras_cache_dirs()[0]}) and the download server "
            f"cannot be reached. Run the command below once on a machine with internet access, "
            f"or point {arch.env_var} at a copy of the file, or set KERAS_HOME to a folder whose "
            f"models/ subfolder holds it.")
    return source


_models: dict = {}
_models_lock = threading.Lock()
# Random-weights copies are kept only while in use: one nobody has asked for in RANDOM_IDLE_S seconds is
# dropped (a VGG16 holds 0.5 GB), and built again from its seed, with the same numbers, when asked for again.
RANDOM_IDLE_S = 600.0
_last_use: dict = {}  # key of a random-weights model -> time.monotonic() of its last load_model
_sweeper: list = []  # the pending timer that drops idle random copies, at most one


def load_model(model_name: str = "vgg16", *, weights: str | None = "imagenet", network_timeout: float = 3.0,
               seed: int = 0):
    """Return the shared, warmed-up model for this process (one copy per architecture, weights and seed).

    weights="imagenet" loads real weights or raises WeightsUnavailable; weights=None gives random
    weights drawn from `seed` (see `write_random_weights`), for showing the pipeline only: the same
    seed gives the same model in every process.
    """
    import keras

    arch = architecture(model_name)
    source = None
    if weights == "imagenet":
        source = weights_source(model_name, network_timeout=network_timeout)
    elif weights is not None:
        raise ValueError('weights must be "imagenet" or None.')
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"The seed must be a whole number of 0 or more; got {seed!r}.")
    key = (model_name, weights, str(source)) + ((seed,) if weights is None else ())
    with _models_lock:
        if weights is None:
            _last_use[key] = time.monotonic()
            _schedule_sweep()
        if key not in _models:
            builder = getattr(keras.applications, arch.builder)
            if weights is None:
                model = build_random_model(builder, seed)
            else:
                try:
                    # A local file loads directly; "imagenet" without one lets Keras download and cache it.
                    model = builder(weights=str(source) if source else weights)
                except Exception as error:  # h5py, Keras and urllib raise many types: all mean "no usable weights"
                    raise WeightsUnavailable(_load_failure(arch, source, error)) from error
            predict(model, np.zeros((1, arch.input_size, arch.input_size, 3), "float32"))  # warm-up and trace
            _models[key] = model
            heap.freeze()  # the network lives as long as the process: no collection needs to walk it
        return _models[key]


def drop_idle(idle_s: float = RANDOM_IDLE_S, *, now: float | None = None) -> list[tuple]:
    """Forget the random-weights copies nobody has loaded for `idle_s` seconds; returns their keys.

    A page or run that still holds one keeps it until it lets go (reference counting frees it then); the
    next `load_model` builds a new copy from the same seed. ImageNet copies stay for the process's life.
    """
    now = time.monotonic() if now is None else now
    with _models_lock:
        idle = [key for key, used in _last_use.items() if now - used >= idle_s]
        for key in idle:
            _last_use.pop(key)
            _models.pop(key, None)
    if idle:
        heap.release()  # the network's reference cycles sit in the frozen generation: collect them once
    return idle


def _schedule_sweep() -> None:
    """With `_models_lock` held: make sure one timer will look for idle random copies."""
    if _sweeper and _sweeper[0].is_alive():
        return
    _sweeper.clear()
    oldest = min(_last_use.values(), default=time.monotonic())
    timer = threading.Timer(max(1.0, oldest + RANDOM_IDLE_S - time.monotonic()), _sweep)
    timer.daemon = True
    _sweeper.append(timer)
    timer.start()


def _sweep() -> None:
    drop_idle()
    with _models_lock:
        _sweeper.clear()
        if _last_use:
            _schedule_sweep()


def build_random_model(builder, seed: int):
    """`builder(weights=None)` with every kernel drawn once, from `seed` (see `random_kernel`).

    Keras would first fill each kernel with its own Glorot draw: for VGG16 that leaves about 850 MB of
    freed temporaries in the process's allocator for good. Built in a stateless scope, the variables wait
    uninitialised and receive our values directly; biases and batch-norm statistics get their constant
    (0 or 1) initialisers. If this Keras has no deferred initialisation, the model is built normally and
    its kernels are overwritten (`write_random_weights`), with the same values.
    """
    import keras
    from keras.src.backend.common import variables as keras_variables

    rng = np.random.default_rng(seed)
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = builder(weights=None)
        for variable in model.weights:
            if len(variable.shape) >= 2:
                variable._initializer = lambda shape, dtype, v=variable: random_kernel(rng, tuple(v.shape))
        keras_variables.initialize_all_variables()
    except (AttributeError, TypeError, ValueError, ImportError):  # another Keras: the plain route
        keras_variables.initialize_all_variables()
        model = builder(weights=None)
        write_random_weights(model, seed)
    return model


def random_kernel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Glorot-uniform values (Keras' default initializer) for one kernel, as float32.

    Drawn in slices of the first axis: the same numbers as one `rng.uniform(-limit, limit, shape)` call,
    without its float64 copy of the whole kernel (800 MB for VGG16's first dense layer).
    """
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    values = np.empty(shape, "float32")
    step = max(1, (1 << 22) // max(1, int(np.prod(shape[1:]))))  # about 4 M numbers per slice
    for start in range(0, shape[0], step):
        values[start:start + step] = rng.uniform(-limit, limit, (min(step, shape[0] - start),) + shape[1:])
    return values


def write_random_weights(model, seed: int) -> None:
    """Overwrite every kernel with Glorot-uniform values from NumPy's generator `seed` (Keras' default here).

    A model built with weights=None draws its kernels from unseeded generators; after this call the
    same seed gives the same weights everywhere. Biases and batch-norm statistics start as constants
    (0 or 1) already and are left as they are.
    """
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if len(variable.shape) >= 2:
            variable.assign(random_kernel(rng, tuple(variable.shape)))


def is_loaded(model_name: str, weights: str | None = "imagenet") -> bool:
    """Has this process already loaded that model (so getting it again is instant)?"""
    return any(key[:2] == (model_name, weights) for key in list(_models))


def _load_failure(arch: Architecture, source: Path | None, error: Exception) -> str:
    detail = f"{type(error).__name__}: {str(error)[:300]}"
    if source is None:
        return (f"Downloading the {arch.builder} weights ({arch.download_mb} MB) failed ({detail}). "
                "Run the command below, which shows the download's progress and error.")
    return (f"The weights file {source} could not be read as {arch.builder} weights ({detail}). It may be "
            "cut short by an interrupted download, or belong to another model: delete it and run the "
            "command below.")


def model_input(image: Image.Image, model_name: str = "vgg16") -> tuple[np.ndarray, Image.Image]:
    """The 224x224 image the model actually sees, and the preprocessed batch of one made from it."""
    import keras

    arch = architecture(model_name)
    seen = images.center_crop_resize(image, size=arch.input_size)
    preprocess = getattr(keras.applications, arch.preprocess_module).preprocess_input
    batch = preprocess(images.to_array(seen)[np.newaxis].copy())
    return np.asarray(batch, dtype="float32"), seen


# Compiled functions per model. Weak keys: a model nobody else holds is freed with its functions.
_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_compiled_lock = threading.Lock()


def compiled_for(model, key, make):
    with _compiled_lock:
        functions = _compiled.setdefault(model, {})
        if key not in functions:
            functions[key] = make()
        return functions[key]


def _forward(model):
    """model(x, training=False) as one traced graph: the same numbers, without Python's per-layer overhead."""
    import tensorflow as tf

    size = model.input_shape[1]
    ref = weakref.ref(model)  # the function must not keep the model alive by itself
    return compiled_for(model, "forward", lambda: tf.function(
        lambda x: ref()(x, training=False),
        input_signature=[tf.TensorSpec((None, size, size, 3), tf.float32)]))


def predict(model, batch: np.ndarray) -> np.ndarray:
    """Class probabilities for a preprocessed batch: one direct model call, no `predict` overhead."""
    forward = _forward(model)
    with heavy_work():
        return np.asarray(forward(np.asarray(batch, dtype="float32")))


@dataclass(frozen=True)
class Prediction:
    index: int  # output unit of the model, 0..999
    name: str  # readable class name, unique (see class_labels)
    probability: float


@functools.cache
def _index_of_wnid() -> dict[str, int]:
    return {wnid: i for i, (wnid, _name) in enumerate(imagenet.class_index())}


def top_predictions(probabilities: np.ndarray, top: int = 5) -> list[Prediction]:
    """The `top` most likely ImageNet classes of one image, most likely first."""
    decoded = imagenet.decode_predictions(np.asarray(probabilities).reshape(1, -1), top=top)[0]
    labels = class_labels()
    return [Prediction(_index_of_wnid()[wnid], labels[_index_of_wnid()[wnid]], float(score))
            for wnid, _name, score in decoded]


def top_classes(probabilities: np.ndarray, top: int = 5) -> list[tuple[str, float]]:
    """(readable class name, probability) for the `top` most likely ImageNet classes of one image."""
    return [(p.name, p.probability) for p in top_predictions(probabilities, top=top)]


@functools.cache
def class_labels() -> tuple[str, ...]:
    """A unique readable label per output unit; the two 'crane's and two 'maillot's get their unit number."""
    names = [imagenet.display_name(name) for _wnid, name in imagenet.class_index()]
    return tuple(f"{name} (unit {i})" if names.count(name) > 1 else name for i, name in enumerate(names))


def rank_of(probabilities: np.ndarray, class_index: int) -> tuple[int, int]:
    """(rank, ties): rank 1 is the most likely class; ties = other classes with exactly the same probability."""
    probabilities = np.asarray(probabilities).reshape(-1)
    mine = probabilities[class_index]
    return 1 + int(np.count_nonzero(probabilities > mine)), int(np.count_nonzero(probabilities == mine)) - 1


def classify(image, model_name: str = "vgg16", top: int = 5, *, model=None) -> list[tuple[str, float]]:
    """Top-`top` ImageNet classes of an image (PIL image or raw file bytes) with probabilities.

    Public API for tests and benchmarks/classify_speed.py (bytes to top-5 in one call); the page runs
    the same steps (`model_input`, `predict`, `top_predictions`) itself to keep the probabilities.
    """
    if isinstance(image, (bytes, bytearray)):
        image = images.load_image(bytes(image))
    model = model if model is not None else load_model(model_name)
    batch, _seen = model_input(image, model_name)
    return top_classes(predict(model, batch)[0], top=top)
