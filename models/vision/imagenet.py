"""The 1000 ImageNet class names, shipped with the app so that nothing is downloaded."""
import functools
import json

import numpy as np

from models.core.paths import DATA_DIR

CLASS_INDEX_FILE = DATA_DIR / "imagenet_class_index.json"
N_CLASSES = 1000


@functools.cache
def _class_index() -> tuple[tuple[str, str], ...]:
    raw = json.loads(CLASS_INDEX_FILE.read_text(encoding="utf-8"))
    if sorted(raw, key=int) != [str(i) for i in range(N_CLASSES)]:
        raise ValueError(f"{CLASS_INDEX_FILE} must have the keys '0' to '{N_CLASSES - 1}'.")
    return tuple((raw[str(i)][0], raw[str(i)][1]) for i in range(N_CLASSES))


def class_index() -> list[tuple[str, str]]:
    """(wnid, name) for each output of an ImageNet model, in Keras order: 0 is ('n01440764', 'tench')."""
    return list(_class_index())


def display_name(name: str) -> str:
    """A class name for people: 'toilet_tissue' -> 'toilet tissue'."""
    return name.replace("_", " ")


def decode_predictions(probs: np.ndarray, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The top classes of each row of a (N, 1000) score array, as Keras returns them: (wnid, name, score)."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != N_CLASSES:
        raise ValueError(f"decode_predictions expects a batch of scores of shape (N, {N_CLASSES}), "
                         f"one row per image; got shape {probs.shape}.")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= N_CLASSES:
        raise ValueError(f"top must be a whole number from 1 to {N_CLASSES}, not {top!r}.")
    if probs.dtype.kind not in "iuf" or not np.all(np.isfinite(probs)):
        raise ValueError("The scores must be ordinary finite numbers (no NaN or infinity).")
    names = _class_index()
    results = []
    for row in probs:
        best = row.argsort()[-top:][::-1]  # the same ordering rule as keras.applications
        result = [(*names[i], float(row[i])) for i in best]
        result.sort(key=lambda item: item[2], reverse=True)
        results.append(result)
    return results
