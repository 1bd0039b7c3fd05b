"""scikit-learn's handwritten digits for the CNN lesson: a seeded split, pictures reduced to what the model sees."""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SIDE = 8  # the digits are 8 x 8 ...
TOP = 16  # ... with intensities 0 (background) to 16 (ink)
BLANK_BELOW = 0.05  # a drawing with less ink than this (share of the brightest stroke) counts as blank


@dataclass(frozen=True)
class DigitRun:
    """The settings of one training run on the digits."""
    epochs: int = 20
    learning_rate: float = 0.003
    batch_size: int = 32
    val_fraction: float = 0.2
    seed: int = 0


@dataclass(frozen=True)
class DigitSplit:
    x_train: np.ndarray  # (n, 8, 8, 1), scaled to 0..1
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


@lru_cache(maxsize=1)
def _digits():
    data = load_digits()
    return data.images.astype(np.float32), data.target.astype(np.int64)


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as (images 8 x 8 at 0..16, labels); copies, so callers may change them."""
    images, labels = _digits()
    return images.copy(), labels.copy()


def split_digits(*, val_fraction: float = 0.2, seed: int = 0) -> DigitSplit:
    """A stratified, seeded split into training and validation digits, scaled to 0..1 with a channel axis."""
    if not 0.05 <= val_fraction <= 0.5:
        raise ValueError(f"Keep between 5% and 50% of the digits for validation; got {val_fraction:.0%}.")
    images, labels = _digits()
    x_train, x_val, y_train, y_val = train_test_split(images / TOP, labels, test_size=val_fraction,
                                                      random_state=seed, stratify=labels)
    return DigitSplit(x_train[..., None], y_train, x_val[..., None], y_val)


def upscaled_digit(index: int, scale: int = 3) -> np.ndarray:
    """Digit number `index`, each pixel repeated scale x scale times, at 0..1 (a bigger picture to convolve)."""
    images, _ = _digits()
    if not 0 <= index < len(images):
        raise ValueError(f"Pick a digit from 0 to {len(images) - 1}; got {index}.")
    return np.kron(images[index] / TOP, np.ones((scale, scale)))


def to_grayscale(image: Image.Image, size: int = 28) -> np.ndarray:
    """A picture as size x size grayscale at 0 (black) .. 1 (white)."""
    return np.asarray(image.convert("L").resize((size, size), Image.Resampling.BOX), np.float64) / 255


def ink_to_digit(ink: np.ndarray) -> np.ndarray:
    """Ink (0 = none, larger = more) as the digits draw it: cropped to the strokes, centred in a square, 8 x 8, 0..16.

    Raises ValueError for a blank picture.
    """
    ink = np.asarray(ink, np.float64)
    if ink.ndim != 2 or ink.size == 0 or not np.isfinite(ink).all() or ink.max() <= 0:
        raise ValueError("The picture is blank: draw or upload a digit with visible strokes.")
    mask = ink > BLANK_BELOW * ink.max()
    if mask.sum() < 3:
        raise ValueError("The picture is blank: draw or upload a digit with visible strokes.")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(crop.shape)  # the digits fill their 8 x 8 box, top to bottom
    square = np.zeros((side, side))
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    small = np.asarray(Image.fromarray((square / square.max() * 255).astype(np.uint8)).resize(
        (SIDE, SIDE), Image.Resampling.BOX), np.float64)
    return small / max(small.max(), 1e-9) * TOP


def drawing_to_digit(rgba: np.ndarray) -> np.ndarray:
    """The canvas' RGBA drawing (light strokes on a black background) as the 8 x 8 digit the model sees."""
    rgba = np.asarray(rgba)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] < 3:
        raise ValueError("The drawing could not be read; clear the canvas and draw again.")
    light = rgba[..., :3].astype(np.float64).mean(axis=2)
    if rgba.shape[2] == 4:
        light = light * (rgba[..., 3] / 255)
    return ink_to_digit(light)


def picture_to_digit(image: Image.Image) -> np.ndarray:
    """An uploaded picture of one digit as the 8 x 8 digit the model sees (dark ink on paper works too)."""
    gray = np.asarray(image.convert("L"), np.float64)
    ink = 255 - gray if np.median(gray) > 127 else gray  # a light background means dark ink
    return ink_to_digit(np.clip(ink - np.median(ink), 0, None))


def confusion(y_true, y_pred, classes: int = 10) -> np.ndarray:
    """Counts: row = the true digit, column = the predicted one."""
    table = np.zeros((classes, classes), np.int64)
    np.add.at(table, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return table


def confusion_table(matrix: np.ndarray) -> pd.DataFrame:
    """A confusion matrix in long form (true, predicted, count) for a heat map."""
    return pd.DataFrame([{"true": str(i), "predicted": str(j), "count": int(matrix[i, j])}
                         for i in range(matrix.shape[0]) for j in range(matrix.shape[1])])


def misclassified(y_true, probabilities) -> pd.DataFrame:
    """The validation digits the model got wrong: position, true digit, predicted digit, its probability."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    return pd.DataFrame({"index": wrong, "true": np.asarray(y_true)[wrong], "predicted": predicted[wrong],
                         "probability": probabilities[wrong, predicted[wrong]]})
