"""Scores of a classifier: the confusion counts at a threshold, ROC and precision-recall curves, per-class tables."""
import numpy as np
import pandas as pd
from sklearn import metrics as skm

from models.core.numbers import check_number

AVERAGES = ("macro", "micro", "weighted")


def _labels(y_true, n: int | None = None, what: str = "The true labels") -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{what} should be one list of labels with at least one entry.")
    if n is not None and len(y) != n:
        raise ValueError(f"There are {len(y)} labels for {n} scores; every example needs one of each.")
    return y


def _binary(y_true, scores):
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or len(scores) == 0:
        raise ValueError("The scores should be one list of numbers, one per example, with at least one entry.")
    y = _labels(y_true, len(scores))
    if not np.isin(y, (0, 1)).all():
        raise ValueError("The true labels of a yes/no classifier must be 0 or 1.")
    if not np.isfinite(scores).all():
        raise ValueError("The scores contain missing or infinite values.")
    return y.astype(int), scores


def _ratio(top: int, bottom: int) -> float:
    return top / bottom if bottom else 0.0  # scikit-learn's zero_division=0


def counts_metrics(tn: int, fp: int, fn: int, tp: int) -> dict:
    """Accuracy, precision, recall and F1 from the four confusion counts (0 where a ratio has nothing below)."""
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"accuracy": _ratio(tp + tn, tn + fp + fn + tp), "precision": precision, "recall": recall,
            "f1": _ratio(2 * tp, 2 * tp + fp + fn), "tn": tn, "fp": fp, "fn": fn, "tp": tp}


def threshold_metrics(y_true, scores, threshold: float) -> dict:
    """Predict 1 where score >= threshold; accuracy, precision, recall, F1 and the counts tn, fp, fn, tp."""
    threshold = check_number(threshold, "The threshold", low=0.0, high=1.0)
    y, scores = _binary(y_true, scores)
    predicted = scores >= threshold
    positive = y == 1
    return counts_metrics(tn=int(np.sum(~predicted & ~positive)), fp=int(np.sum(predicted & ~positive)),
                          fn=int(np.sum(~predicted & positive)), tp=int(np.sum(predicted & positive)))


def threshold_sweep(y_true, scores, thresholds=None) -> pd.DataFrame:
    """One row of `threshold_metrics` per threshold (default 0, 0.01, ..., 1)."""
    thresholds = np.linspace(0, 1, 101) if thresholds is None else thresholds
    return pd.DataFrame([{"threshold": float(t), **threshold_metrics(y_true, scores, t)} for t in thresholds])


def f1_trend(sweep: pd.DataFrame, low: float = 0.1, high: float = 0.9) -> str:
    """How F1 moves as the threshold rises from `low` to `high`: "up", "down" or "up, then down"."""
    part = sweep[(sweep["threshold"] >= low - 1e-9) & (sweep["threshold"] <= high + 1e-9)]
    f1 = part["f1"].to_numpy()
    peak = int(np.argmax(f1))
    if 0 < peak < len(f1) - 1 and f1[peak] > max(f1[0], f1[-1]):
        return "up, then down"
    return "up" if f1[-1] > f1[0] else "down"


def roc_points(y_true, scores) -> pd.DataFrame:
    """The ROC curve: false- and true-positive rate at every threshold that changes a prediction."""
    y, scores = _binary(y_true, scores)
    if len(np.unique(y)) < 2:
        raise ValueError("A ROC curve needs examples of both classes (0 and 1).")
    fpr, tpr, thresholds = skm.roc_curve(y, scores, drop_intermediate=False)
    return pd.DataFrame({"threshold": np.minimum(thresholds, 1.0), "fpr": fpr, "tpr": tpr})


def pr_points(y_true, scores) -> pd.DataFrame:
    """The precision-recall curve at every distinct score used as a threshold (highest threshold first)."""
    y, scores = _binary(y_true, scores)
    if not y.any():
        raise ValueError("A precision-recall curve needs at least one positive example (label 1).")
    rows = [{"threshold": float(t), **threshold_metrics(y, scores, t)}
            for t in np.unique(np.clip(scores, 0, 1))[::-1]]
    return pd.DataFrame(rows)[["threshold", "precision", "recall"]]


def auc(points: pd.DataFrame) -> float:
    """The area under a ROC curve's points (trapezoids)."""
    return float(np.trapezoid(points["tpr"], points["fpr"]))


def confusion(y_true, y_pred, classes) -> np.ndarray:
    """Counts: row = true class, column = predicted class, in the order of `classes`."""
    y_true, y_pred = _labels(y_true), _labels(y_pred, None, "The predicted labels")
    if len(y_true) != len(y_pred):
        raise ValueError(f"There are {len(y_true)} true labels and {len(y_pred)} predictions.")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted((set(map(str, y_true)) | set(map(str, y_pred))) - {str(c) for c in classes})
    if unknown:
        raise ValueError(f"Label {unknown[0]} is not one of the classes {', '.join(map(str, classes))}.")
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[index[t], index[p]] += 1
    return matrix


def confusion_examples(y_true, y_pred, classes) -> dict:
    """(true class, predicted class) -> the indices of the examples in that cell of the confusion matrix."""
    confusion(y_true, y_pred, classes)  # checks the labels
    cells = {(t, p): [] for t in classes for p in classes}
    for i, (t, p) in enumerate(zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist())):
        cells[(t, p)].append(i)
    return cells


def per_class_report(y_true, y_pred, classes) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, then the macro, micro and weighted averages."""
    matrix = confusion(y_true, y_pred, classes)
    tp = np.diag(matrix)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    rows = []
    for i, c in enumerate(classes):
        precision, recall = _ratio(tp[i], predicted[i]), _ratio(tp[i], support[i])
        rows.append({"class": str(c), "precision": precision, "recall": recall,
                     "f1": _ratio(2 * tp[i], predicted[i] + support[i]), "support": int(support[i])})
    table = pd.DataFrame(rows)
    total = int(support.sum())
    micro = _ratio(int(tp.sum()), total)  # every example is predicted once, so micro P = R = F1 = accuracy
    weights = support / total if total else np.zeros(len(classes))
    averages = [
        {"class": "macro avg", **{m: float(table[m].mean()) for m in ("precision", "recall", "f1")}},
        {"class": "micro avg", "precision": micro, "recall": micro, "f1": micro},
        {"class": "weighted avg", **{m: float(np.dot(table[m], weights)) for m in ("precision", "recall", "f1")}},
    ]
    return pd.concat([table, pd.DataFrame(averages).assign(support=total)], ignore_index=True)


def always_majority(y_true) -> dict:
    """The scores of a "classifier" that always predicts the most common label (0 on a tie)."""
    y = _labels(y_true).astype(int)
    majority = int(np.mean(y) > 0.5)
    return threshold_metrics(y, np.full(len(y), float(majority)), 0.5)


def imbalanced_labels(n: int, positive_share: float, *, seed: int = 0) -> np.ndarray:
    """`n` labels of which `positive_share` (rounded) are 1, in random order."""
    n = check_number(n, "The number of examples", low=2, high=10**6, integer=True)
    share = check_number(positive_share, "The share of positives", low=0.0, high=1.0)
    y = np.zeros(n, dtype=int)
    y[: round(n * share)] = 1
    return np.random.default_rng(seed).permutation(y)
