"""Pretrained ImageNet CNNs: honest weight loading, classification, Grad-CAM and feature maps.

Weights come from, in order: the file named by the model's environment variable
(e.g. VGG16_WEIGHTS_PATH), the Keras cache ($KERAS_HOME/models, else ~/.keras/models),
or a download by Keras itself when the network answers. Otherwise `WeightsUnavailable`
says what is missing and the one command that fixes it.
"""
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models import images, imagenet
from models.heavy_work import heavy_work

PREFETCH_COMMAND = "python -m models.prefetch"
WEIGHTS_HOST = ("storage.googleapis.com", 443)
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


def network_reachable(address: tuple[str, int] | None = None, timeout: float = 3.0) -> bool:
    """Can we open a connection to the weights server? Never blocks longer than about `timeout`."""
    address = address or WEIGHTS_HOST
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


_models: dict = {}
_models_lock = threading.Lock()


def load_model(model_name: str = "vgg16", *, weights: str | None = "imagenet", network_timeout: float = 3.0):
    """Return the shared, warmed-up model for this process (one copy per architecture and weights).

    weights="imagenet" loads real weights or raises WeightsUnavailable; weights=None gives random
    weights, for showing the pipeline only.
    """
    import keras

    arch = architecture(model_name)
    source = None
    if weights == "imagenet":
        source = local_weights(model_name)
        if source is None and not network_reachable(timeout=network_timeout):
            raise WeightsUnavailable(
                f"The ImageNet weights for {arch.builder} ({arch.download_mb} MB) are not on this computer "
                f"(looked for {arch.weights_file} in {keras_cache_dirs()[0]}) and the download server "
                f"cannot be reached. Run the command below once on a machine with internet access, "
                f"or point {arch.env_var} at a copy of the file.")
    elif weights is not None:
        raise ValueError('weights must be "imagenet" or None.')
    key = (model_name, weights, str(source))
    with _models_lock:
        if key not in _models:
            builder = getattr(keras.applications, arch.builder)
            # A local file loads directly; "imagenet" without one lets Keras download and cache it.
            model = builder(weights=str(source) if source else weights)
            model(np.zeros((1, arch.input_size, arch.input_size, 3), "float32"), training=False)  # warm-up
            _models[key] = model
        return _models[key]


def model_input(image: Image.Image, model_name: str = "vgg16") -> tuple[np.ndarray, Image.Image]:
    """The 224x224 image the model actually sees, and the preprocessed batch of one made from it."""
    import keras

    arch = architecture(model_name)
    seen = images.center_crop_resize(image, size=arch.input_size)
    preprocess = getattr(keras.applications, arch.preprocess_module).preprocess_input
    batch = preprocess(images.to_array(seen)[np.newaxis].copy())
    return np.asarray(batch, dtype="float32"), seen


def predict(model, batch: np.ndarray) -> np.ndarray:
    """Class probabilities for a preprocessed batch: one direct call, no `predict` overhead."""
    with heavy_work():
        return np.asarray(model(batch, training=False))


def top_classes(probabilities: np.ndarray, top: int = 5) -> list[tuple[str, float]]:
    """(readable class name, probability) for the `top` most likely ImageNet classes of one image."""
    decoded = imagenet.decode_predictions(np.asarray(probabilities).reshape(1, -1), top=top)[0]
    return [(imagenet.display_name(name), float(score)) for _wnid, name, score in decoded]


def classify(image, model_name: str = "vgg16", top: int = 5, *, model=None) -> list[tuple[str, float]]:
    """Top-`top` ImageNet classes of an image (PIL image or raw file bytes) with probabilities."""
    if isinstance(image, (bytes, bytearray)):
        image = images.load_image(bytes(image))
    model = model if model is not None else load_model(model_name)
    batch, _seen = model_input(image, model_name)
    return top_classes(predict(model, batch)[0], top=top)


_analysis_models: dict = {}


def _analysis_model(model, model_name: str):
    """A view of the same layers that also returns the feature maps and the logits' inputs (no weight copy)."""
    import keras

    key = (id(model), model_name)
    if key not in _analysis_models:
        arch = architecture(model_name)
        head = model.get_layer("predictions")
        outputs = [model.get_layer(name).output for name in arch.feature_layers]
        outputs += [model.get_layer(arch.last_conv_layer).output, head.input]
        _analysis_models[key] = (keras.Model(model.input, outputs), head)
    return _analysis_models[key]


def grad_cam(model, batch: np.ndarray, class_index: int, model_name: str = "vgg16") -> np.ndarray:
    """Grad-CAM heatmap in [0, 1] over the last conv layer, for one class (Selvaraju et al., 2017).

    The gradient is taken of the class logit (before softmax), as in the Keras Grad-CAM example,
    computed from the final layer's own weights so the shared model is never modified.
    """
    import tensorflow as tf

    view, head = _analysis_model(model, model_name)
    with heavy_work(), tf.GradientTape() as tape:
        *_features, conv_output, penultimate = view(batch, training=False)
        tape.watch(conv_output)
        logits = tf.matmul(penultimate, head.kernel) + head.bias
        class_logit = logits[:, class_index]
    grads = tape.gradient(class_logit, conv_output)
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.nn.relu(tf.reduce_sum(conv_output[0] * weights, axis=-1)).numpy()
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap


def feature_maps(model, batch: np.ndarray, model_name: str = "vgg16", channels: int = 8) -> dict[str, np.ndarray]:
    """The first `channels` feature maps of a few conv layers, early to late, each scaled to [0, 1]."""
    view, _head = _analysis_model(model, model_name)
    with heavy_work():
        outputs = view(batch, training=False)
    maps = {}
    for name, output in zip(architecture(model_name).feature_layers, outputs):
        chosen = np.asarray(output)[0, :, :, :channels]
        low = chosen.min(axis=(0, 1), keepdims=True)
        span = chosen.max(axis=(0, 1), keepdims=True) - low
        maps[name] = np.divide(chosen - low, span, out=np.zeros_like(chosen), where=span > 0)
    return maps


def overlay_heatmap(seen: Image.Image, heatmap: np.ndarray, opacity: float = 0.45) -> Image.Image:
    """Blend a [0, 1] heatmap, upsampled and coloured red-yellow, over the image the model saw."""
    small = Image.fromarray(np.uint8(np.clip(heatmap, 0, 1) * 255))
    level = np.asarray(small.resize(seen.size, Image.Resampling.BILINEAR), dtype="float32") / 255
    colour = np.stack([np.ones_like(level), level, np.zeros_like(level)], axis=-1) * 255  # red -> yellow
    base = np.asarray(seen.convert("RGB"), dtype="float32")
    alpha = (opacity * level)[..., np.newaxis]
    return Image.fromarray(np.uint8(base * (1 - alpha) + colour * alpha))
