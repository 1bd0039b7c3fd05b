"""Where a pretrained CNN looked (Grad-CAM, Selvaraju et al., 2017) and what its layers respond to (feature maps)."""
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from PIL import Image

from models.engine import heap
from models.engine.heavy_work import heavy_work
from models.vision import imagenet
from models.vision.pretrained import TOP, Prediction, architecture, compiled_for, top_predictions

_prepared: "weakref.WeakSet" = weakref.WeakSet()  # models whose analysis is traced already
_prepared_lock = threading.Lock()


def prepare_analysis(model, model_name: str = "vgg16", n_classes: int = TOP) -> None:
    """Trace the one-pass classification and analysis once per model (a few seconds), so a student's first
    click is fast; for a model done already it returns at once."""
    with _prepared_lock:
        if model in _prepared:
            return
        size = architecture(model_name).input_size
        classify_and_analyse(model, np.zeros((1, size, size, 3), "float32"), model_name, top=n_classes)
        _prepared.add(model)
    heap.freeze()  # the traced functions live as long as the model


@dataclass(frozen=True)
class LayerMaps:
    layer: str
    maps: np.ndarray  # (height, width, shown channels), scaled together to [0, 1]
    channels: tuple[int, ...]  # which channels of the layer these are
    total_channels: int


@dataclass(frozen=True)
class Analysis:
    heatmaps: dict[int, np.ndarray]  # class index -> Grad-CAM heatmap in [0, 1]
    layers: list[LayerMaps]  # early to late


def _tail(model, model_name: str) -> list:
    """The layers between the last conv layer and the classifier (pooling, flatten, dense): a chain."""
    names = [layer.name for layer in model.layers]
    return model.layers[names.index(architecture(model_name).last_conv_layer) + 1:names.index("predictions")]


def _dense_tail(model, model_name: str) -> list:
    import keras

    return [layer for layer in _tail(model, model_name) if isinstance(layer, keras.layers.Dense)]


def _forward_function(model, model_name: str):
    """One traced pass through the whole network: the probabilities, the feature layers, the last conv layer
    and the outputs of the dense layers after it (which Grad-CAM's backward pass needs, see `_tail_gradient`)."""
    import keras
    import tensorflow as tf

    arch = architecture(model_name)

    def make():
        outputs = [model.get_layer(name).output for name in arch.feature_layers]
        dense = [layer.output for layer in _dense_tail(model, model_name)]
        # A view on the same layers (no copy of the weights) that also hands out the inner layers' outputs.
        view = keras.Model(model.input, outputs + [model.get_layer(arch.last_conv_layer).output] + dense
                           + [model.output])
        size = arch.input_size
        n_features = len(outputs)

        @tf.function(input_signature=[tf.TensorSpec((1, size, size, 3), tf.float32)])
        def run(batch):
            *inner, probabilities = view(batch, training=False)
            features, conv_output, dense_outputs = inner[:n_features], inner[n_features], inner[n_features + 1:]
            return probabilities[0], [f[0] for f in features], conv_output, dense_outputs

        return run

    return compiled_for(model, ("forward_all", model_name), make)


def _tail_gradient(tail, head, conv_output, dense_outputs, class_indices):
    """d(class score before softmax) / d(last conv output), one row per class: (classes, h, w, channels).

    The dense layers, where nearly all the cost is, are differentiated by hand. The score of class c is
    the classifier's column c applied to its input, so the gradient starts as that column; a ReLU dense
    layer passes it back through the units that were active (output > 0), then through its kernel:
    g <- (g * [out > 0]) @ kernelᵀ, computed as (kernel @ gᵀ)ᵀ so the kernel (400 MB for VGG16's fc1) is
    read in place, not copied transposed. The dense outputs come from the forward pass, so nothing is
    computed twice. The cheap layers before them (pooling, flatten) are left to automatic differentiation
    on one copy of the conv output per class. The same numbers as differentiating it all (tests compare).
    """
    import keras
    import tensorflow as tf

    first_dense = next((i for i, layer in enumerate(tail) if isinstance(layer, keras.layers.Dense)), len(tail))
    grad = tf.transpose(tf.gather(tf.convert_to_tensor(head.kernel), class_indices, axis=1))  # (classes, units)
    outputs = list(dense_outputs)
    for layer in reversed(tail[first_dense:]):
        if isinstance(layer, keras.layers.Dropout):  # passes everything at inference
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise NotImplementedError(f"Grad-CAM through a {type(layer).__name__} layer between dense layers")
        out = outputs.pop()
        if layer.activation is keras.activations.relu:
            grad = grad * tf.cast(out > 0, grad.dtype)
        elif layer.activation is not keras.activations.linear:
            raise NotImplementedError(f"Grad-CAM through a dense layer with {layer.activation.__name__}")
        grad = tf.transpose(tf.matmul(tf.convert_to_tensor(layer.kernel), grad, transpose_b=True))
    copies = tf.repeat(conv_output, tf.shape(grad)[0], axis=0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(copies)
        x = copies
        for layer in tail[:first_dense]:
            x = layer(x, training=False)
    return tape.gradient(x, copies, output_gradients=grad)


def _heatmap_function(model, model_name: str, n_classes: int):
    """Grad-CAM of `n_classes` classes from the forward pass's conv and dense outputs: no second pass
    through the dense layers."""
    import tensorflow as tf

    def make():
        head = model.get_layer("predictions")
        tail = _tail(model, model_name)
        conv_shape = tuple(model.get_layer(architecture(model_name).last_conv_layer).output.shape[1:])
        dense_specs = [tf.TensorSpec((1, layer.units), tf.float32) for layer in _dense_tail(model, model_name)]

        @tf.function(input_signature=[tf.TensorSpec((1,) + conv_shape, tf.float32), dense_specs,
                                      tf.TensorSpec((n_classes,), tf.int32)])
        def run(conv_output, dense_outputs, class_indices):
            # The class score before softmax, from the final layer's own weights (as the Keras Grad-CAM
            # example does on a copy with the softmax removed).
            grads = _tail_gradient(tail, head, conv_output, dense_outputs, class_indices)
            weights = tf.reduce_mean(grads, axis=(1, 2))  # one weight per channel and class
            return tf.nn.relu(tf.einsum("hwc,kc->khw", conv_output[0], weights))

        return run

    return compiled_for(model, ("heatmaps", model_name, n_classes), make)


def _check_classes(class_indices) -> list[int]:
    class_indices = [int(i) for i in class_indices]
    if not class_indices or not all(0 <= i < imagenet.N_CLASSES for i in class_indices):
        raise ValueError(f"class_indices must be one or more numbers from 0 to {imagenet.N_CLASSES - 1}.")
    return class_indices


def _analysis(model_name, class_indices, features, heatmaps, channels) -> Analysis:
    result = {}
    for index, heatmap in zip(class_indices, np.asarray(heatmaps)):
        peak = heatmap.max()
        result[index] = heatmap / peak if peak > 0 else heatmap
    layers = [_strongest_channels(name, np.asarray(f), channels)
              for name, f in zip(architecture(model_name).feature_layers, features)]
    return Analysis(heatmaps=result, layers=layers)


def analyse(model, batch: np.ndarray, class_indices, model_name: str = "vgg16", channels: int = 8) -> Analysis:
    """Grad-CAM heatmaps for the given classes and the `channels` most active maps of each feature layer.

    A heatmap is divided by its peak only when the peak is positive; when ReLU leaves nothing (no position
    has evidence for the class, common with random weights) it stays all zeros: see `heatmap_is_empty`.
    """
    class_indices = _check_classes(class_indices)
    forward = _forward_function(model, model_name)
    heat = _heatmap_function(model, model_name, len(class_indices))
    with heavy_work():
        _probabilities, features, conv_output, dense_outputs = forward(np.asarray(batch, dtype="float32"))
        heatmaps = heat(conv_output, dense_outputs, np.asarray(class_indices, dtype="int32"))
    return _analysis(model_name, class_indices, features, heatmaps, channels)


def classify_and_analyse(model, batch: np.ndarray, model_name: str = "vgg16", top: int = TOP, channels: int = 8,
                         on_wait=None) -> tuple[np.ndarray, list[Prediction], Analysis]:
    """(probabilities, top-`top` predictions, their `analyse`) from ONE pass through the network.

    The pass yields the probabilities, the feature layers and the last conv layer's output together; the
    Grad-CAM of the top classes then needs only a backward pass through the layers after that conv layer.
    `on_wait(place)` is called while the heavy-work queue makes this call wait (see heavy_work).
    """
    forward = _forward_function(model, model_name)
    heat = _heatmap_function(model, model_name, top)
    with heavy_work(on_wait):
        probabilities, features, conv_output, dense_outputs = forward(np.asarray(batch, dtype="float32"))
        probabilities = np.asarray(probabilities)
        predictions = top_predictions(probabilities, top)
        class_indices = [p.index for p in predictions]
        heatmaps = heat(conv_output, dense_outputs, np.asarray(class_indices, dtype="int32"))
    return probabilities, predictions, _analysis(model_name, class_indices, features, heatmaps, channels)


def _strongest_channels(layer: str, output: np.ndarray, channels: int) -> LayerMaps:
    """The channels with the largest mean response, scaled together so bright means strong in this layer."""
    order = np.argsort(-output.mean(axis=(0, 1)), kind="stable")[:channels]
    chosen = np.maximum(output[:, :, order], 0)
    peak = chosen.max()
    maps = chosen / peak if peak > 0 else chosen
    return LayerMaps(layer, maps.astype("float32"), tuple(int(c) for c in order), output.shape[-1])


def grad_cam(model, batch: np.ndarray, class_index: int, model_name: str = "vgg16") -> np.ndarray:
    """Grad-CAM heatmap in [0, 1] over the last conv layer, for one class (Selvaraju et al., 2017).

    Public API for tests (one class, one call); the page gets every top class's heatmap from `analyse`.
    All zeros when no position has positive evidence for the class (see `analyse`).
    """
    return analyse(model, batch, [class_index], model_name).heatmaps[int(class_index)]


def feature_maps(model, batch: np.ndarray, model_name: str = "vgg16", channels: int = 8) -> dict[str, np.ndarray]:
    """The `channels` most active feature maps of a few conv layers, early to late, each layer scaled to [0, 1].

    Public API for tests; the page reads the same maps from `analyse(...).layers`.
    """
    return {layer.layer: layer.maps for layer in analyse(model, batch, [0], model_name, channels).layers}


def heatmap_is_empty(heatmap: np.ndarray) -> bool:
    """True when Grad-CAM found no positive evidence anywhere: every weighted sum of maps was 0 or less."""
    return not bool(np.any(np.asarray(heatmap) > 0))


def tile_maps(maps: np.ndarray, *, columns: int = 4, tile: int = 72, gap: int = 3) -> Image.Image:
    """Lay out (height, width, n) maps in [0, 1] as one grey image, n tiles in a grid, black = no response."""
    height, width, count = maps.shape
    rows = -(-count // columns)
    sheet = Image.new("L", (columns * tile + (columns - 1) * gap, rows * tile + (rows - 1) * gap), 255)
    for k in range(count):
        cell = Image.fromarray(np.uint8(np.rint(np.clip(maps[:, :, k], 0, 1) * 255)))
        # Nearest keeps a 7x7 map's cells visible as the 49 numbers they are.
        cell = cell.resize((tile, tile), Image.Resampling.NEAREST)
        sheet.paste(cell, ((k % columns) * (tile + gap), (k // columns) * (tile + gap)))
    return sheet


def overlay_heatmap(seen: Image.Image, heatmap: np.ndarray, opacity: float = 0.45) -> Image.Image:
    """Blend a [0, 1] heatmap, upsampled and coloured red-yellow, over the image the model saw."""
    small = Image.fromarray(np.uint8(np.clip(heatmap, 0, 1) * 255))
    level = np.asarray(small.resize(seen.size, Image.Resampling.BILINEAR), dtype="float32") / 255
    colour = np.stack([np.ones_like(level), level, np.zeros_like(level)], axis=-1) * 255  # red -> yellow
    base = np.asarray(seen.convert("RGB"), dtype="float32")
    alpha = (opacity * level)[..., np.newaxis]
    return Image.fromarray(np.uint8(base * (1 - alpha) + colour * alpha))
