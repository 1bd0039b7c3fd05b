"""The second route to the convolution page's numbers: Keras' own Conv2D and pooling layers holding the same weights."""
import keras
import numpy as np
from keras import layers


def keras_convolve2d(image, kernel, *, stride=1, padding="valid", dilation=1, bias=0.0) -> np.ndarray:
    """`keras.layers.Conv2D` (one filter, float64) with `kernel` and `bias` as its weights, on a 2-D image."""
    image, kernel = np.asarray(image, np.float64), np.asarray(kernel, np.float64)
    layer = layers.Conv2D(1, kernel.shape, strides=stride, padding=padding, dilation_rate=dilation, dtype="float64")
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel[:, :, None, None], np.array([bias], np.float64)])
    return keras.ops.convert_to_numpy(layer(image[None, :, :, None]))[0, :, :, 0]


def keras_pool2d(x, *, size=2, stride=None, kind="max") -> np.ndarray:
    """`MaxPooling2D` or `AveragePooling2D` (float64, 'valid') on a 2-D map."""
    pool = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    x = np.asarray(x, np.float64)
    return keras.ops.convert_to_numpy(pool(size, strides=stride, dtype="float64")(x[None, :, :, None]))[0, :, :, 0]
