"""Small toy datasets in the style of TensorFlow Playground, generated on the fly with NumPy.

Every generator is `make_<name>(n_samples, noise, seed) -> DataFrame`. Classification sets have
columns x1, x2, label (0 or 1) with coordinates roughly in [-1.5, 1.5]; `noise` is the standard
deviation of Gaussian jitter added to each coordinate (for the regression set, to y).
"""
from typing import NamedTuple

import numpy as np
import pandas as pd

from models.core.numbers import check_number

MAX_SAMPLES = 10_000


def _rng(n_samples, noise, seed) -> np.random.Generator:
    """The seeded generator of one data set, once its size and noise are checked."""
    check_number(n_samples, "The number of points", low=2, high=MAX_SAMPLES, integer=True)
    check_number(noise, "Noise", low=0)
    return np.random.default_rng(seed)


def _frame(x1, x2, label, noise, rng) -> pd.DataFrame:
    """Add the jitter, shuffle the rows, and package as a DataFrame."""
    points = np.column_stack([x1, x2]) + rng.normal(0.0, noise, size=(len(label), 2))
    order = rng.permutation(len(label))
    return pd.DataFrame({"x1": points[order, 0], "x2": points[order, 1],
                         "label": np.asarray(label, dtype=np.int64)[order]})


def _halves(n_samples):
    n0 = n_samples // 2
    return n0, n_samples - n0


def make_circles(n_samples=200, noise=0.05, seed=0) -> pd.DataFrame:
    """A disc (label 1) inside a ring (label 0)."""
    rng = _rng(n_samples, noise, seed)
    n_ring, n_disc = _halves(n_samples)
    radius = np.concatenate([rng.uniform(0.7, 1.0, n_ring), rng.uniform(0.0, 0.5, n_disc)])
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    label = np.r_[np.zeros(n_ring), np.ones(n_disc)]
    return _frame(radius * np.cos(angle), radius * np.sin(angle), label, noise, rng)


def make_moons(n_samples=200, noise=0.1, seed=0) -> pd.DataFrame:
    """Two interleaving half circles, centred on the origin."""
    rng = _rng(n_samples, noise, seed)
    n_top, n_bottom = _halves(n_samples)
    t_top, t_bottom = rng.uniform(0, np.pi, n_top), rng.uniform(0, np.pi, n_bottom)
    x1 = np.r_[np.cos(t_top), 1 - np.cos(t_bottom)] - 0.5
    x2 = np.r_[np.sin(t_top), 0.5 - np.sin(t_bottom)] - 0.25
    return _frame(x1, x2, np.r_[np.zeros(n_top), np.ones(n_bottom)], noise, rng)


def make_xor(n_samples=200, noise=0.05, seed=0) -> pd.DataFrame:
    """Four quadrants: label 1 where x1 and x2 have the same sign."""
    rng = _rng(n_samples, noise, seed)
    points = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    # Keep points a little away from the axes so that the noise-free set is cleanly separable.
    points += np.sign(points) * 0.05
    label = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
    return _frame(points[:, 0], points[:, 1], label, noise, rng)


def make_gaussians(n_samples=200, noise=0.05, seed=0) -> pd.DataFrame:
    """Two round clouds of spread 0.25, centred at (-0.6, -0.6) (label 0) and (0.6, 0.6) (label 1)."""
    rng = _rng(n_samples, noise, seed)
    n0, n1 = _halves(n_samples)
    centre = np.r_[np.full(n0, -0.6), np.full(n1, 0.6)]
    spread = rng.normal(0.0, 0.25, size=(n_samples, 2))
    return _frame(centre + spread[:, 0], centre + spread[:, 1], np.r_[np.zeros(n0), np.ones(n1)], noise, rng)


def make_spiral(n_samples=200, noise=0.05, seed=0) -> pd.DataFrame:
    """Two interleaved spiral arms, each turning 1.75 times around the origin."""
    rng = _rng(n_samples, noise, seed)
    n0, n1 = _halves(n_samples)
    x1, x2, label = [], [], []
    for arm, count in enumerate((n0, n1)):
        fraction = np.arange(count) / max(count, 1)
        angle = 1.75 * 2 * np.pi * fraction + arm * np.pi
        x1.append(fraction * np.sin(angle))
        x2.append(fraction * np.cos(angle))
        label.append(np.full(count, arm))
    return _frame(np.concatenate(x1), np.concatenate(x2), np.concatenate(label), noise, rng)


def make_sine(n_samples=100, noise=0.1, seed=0) -> pd.DataFrame:
    """1-D regression: y = sin(x) plus Gaussian noise, x uniform in [-3, 3] (columns x, y)."""
    rng = _rng(n_samples, noise, seed)
    x = np.sort(rng.uniform(-3.0, 3.0, n_samples))
    return pd.DataFrame({"x": x, "y": np.sin(x) + rng.normal(0.0, noise, n_samples)})


DATASETS = {
    "circles": make_circles,
    "two moons": make_moons,
    "XOR": make_xor,
    "two Gaussians": make_gaussians,
    "spiral": make_spiral,
    "sine (regression)": make_sine,
}
CLASSIFICATION_DATASETS = [name for name in DATASETS if name != "sine (regression)"]


class Split(NamedTuple):
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame  # empty when test_fraction is 0


def split(df: pd.DataFrame, validation_fraction: float, seed: int, test_fraction: float = 0.0) -> Split:
    """Shuffle the rows and cut them into train / validation / test parts of the given fractions."""
    for name, fraction in (("validation", validation_fraction), ("test", test_fraction)):
        check_number(fraction, f"The {name} fraction (a share between 0 and 1)", low=0, high=1, high_open=True)
    if validation_fraction + test_fraction >= 1:
        raise ValueError("The validation and test fractions together must leave some points for training.")
    n = len(df)
    n_val = round(n * validation_fraction)
    n_test = round(n * test_fraction)
    n_train = n - n_val - n_test
    sizes = {"training": n_train, "validation": n_val}
    if test_fraction > 0:
        sizes["test"] = n_test
    for name, size in sizes.items():
        if size < 2:
            raise ValueError(f"The {name} set would get {size} point(s) out of {n}; it needs at least 2. "
                             "Use more points or change the fractions.")
    order = np.random.default_rng(seed).permutation(n)
    parts = np.split(order, [n_train, n_train + n_val])
    return Split(*(df.iloc[part].reset_index(drop=True) for part in parts))
