import numpy as np
import pandas as pd
import pytest

from models.training.datasets import CLASSIFICATION_DATASETS, DATASETS, make_circles, make_sine, make_xor, split


@pytest.mark.parametrize("name", CLASSIFICATION_DATASETS)
def test_classification_sets_shape_labels_and_balance(name):
    df = DATASETS[name](101, 0.1, 0)
    assert list(df.columns) == ["x1", "x2", "label"]
    assert len(df) == 101
    assert set(df["label"]) == {0, 1}
    if name != "XOR":  # XOR labels follow the uniformly drawn points' quadrants
        assert df["label"].value_counts().min() == 50  # an odd count splits 50 / 51
    assert np.isfinite(df[["x1", "x2"]].to_numpy()).all()
    assert df[["x1", "x2"]].abs().max().max() < 3


def test_regression_set_columns_and_curve():
    df = make_sine(200, 0.0, 0)
    assert list(df.columns) == ["x", "y"] and len(df) == 200
    np.testing.assert_allclose(df["y"], np.sin(df["x"]))


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_points_other_seed_other_points(name):
    make = DATASETS[name]
    pd.testing.assert_frame_equal(make(60, 0.1, 7), make(60, 0.1, 7))
    assert not make(60, 0.1, 7).equals(make(60, 0.1, 8))


def test_noise_moves_points_and_mixes_labels():
    clean, noisy = make_circles(400, 0.0, 1), make_circles(400, 0.3, 1)
    radius = lambda df: np.hypot(df["x1"], df["x2"])  # noqa: E731
    # Without noise the disc (label 1) and the ring (label 0) do not overlap.
    assert radius(clean)[clean["label"] == 1].max() <= 0.5 < 0.7 <= radius(clean)[clean["label"] == 0].min()
    assert radius(noisy)[noisy["label"] == 1].max() > radius(noisy)[noisy["label"] == 0].min()
    # XOR without noise: the label is exactly "same sign".
    xor = make_xor(300, 0.0, 0)
    assert ((xor["x1"] * xor["x2"] > 0).astype(int) == xor["label"]).all()
    sine = make_sine(2000, 0.5, 0)
    assert np.std(sine["y"] - np.sin(sine["x"])) == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize("n, noise, match", [(1, 0.1, "between 2"), (2.5, 0.1, "whole number"),
                                             (50, -0.1, "Noise"), (50, float("nan"), "Noise")])
def test_generator_rejects_bad_arguments(n, noise, match):
    with pytest.raises(ValueError, match=match):
        make_circles(n, noise, 0)


def test_split_sizes_disjoint_and_seeded():
    df = make_circles(100, 0.1, 0)
    parts = split(df, 0.2, seed=3, test_fraction=0.1)
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (70, 20, 10)
    together = pd.concat(parts).sort_values(["x1", "x2"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, df.sort_values(["x1", "x2"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(split(df, 0.2, seed=3).validation, split(df, 0.2, seed=3).validation)
    assert not split(df, 0.2, seed=3).validation.equals(split(df, 0.2, seed=4).validation)
    assert len(split(df, 0.25, seed=0).test) == 0


@pytest.mark.parametrize("n, val, test, match", [
    (10, 0.05, 0.0, "validation set would get 0"),
    (10, 0.5, 0.45, "training set would get 1"),
    (30, 0.2, 0.02, "test set would get 1"),
    (10, 1.0, 0.0, "between 0 and 1"),
    (10, 0.6, 0.4, "leave some points"),
])
def test_split_rejects_too_small_parts(n, val, test, match):
    with pytest.raises(ValueError, match=match):
        split(make_circles(n, 0.1, 0), val, seed=0, test_fraction=test)
