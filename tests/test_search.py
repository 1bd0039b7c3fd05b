"""Hyperparameter search: grid and random candidates from scikit-learn, reproducible, and readable refusals."""
import math

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from models.evaluation import search as s


def test_a_grid_visits_every_combination_once():
    trials = s.candidates(s.SPACE, strategy="grid", budget=16, seed=0)
    assert len(trials) == 16
    assert len({tuple(sorted(t.items())) for t in trials}) == 16
    values = s.grid_values(s.SPACE, 16)
    assert all(len(v) == 2 for v in values.values())  # 2 × 2 × 2 × 2 = 16
    assert sorted(map(str, trials)) == sorted(map(str, ParameterGrid(values)))
    assert values["learning_rate"] == pytest.approx([1e-4, 0.3]) and values["units"] == [2, 64]


def test_grid_levels_follow_the_budget_and_log_scale():
    values = s.grid_values({"learning_rate": s.Dimension(1e-3, 1e-1, log=True)}, 3)
    assert values["learning_rate"] == pytest.approx([1e-3, 1e-2, 1e-1])
    two = s.grid_values({"units": s.Dimension(2, 32, log=True, integer=True),
                         "dropout_rate": s.Dimension(0.0, 0.5)}, 9)
    assert two == {"units": [2, 8, 32], "dropout_rate": [0.0, 0.25, 0.5]}


def test_random_search_is_reproducible_and_tries_more_values():
    a = s.candidates(s.SPACE, strategy="random", budget=16, seed=3)
    assert a == s.candidates(s.SPACE, strategy="random", budget=16, seed=3)
    assert a != s.candidates(s.SPACE, strategy="random", budget=16, seed=4)
    grid = s.candidates(s.SPACE, strategy="grid", budget=16, seed=3)
    assert len({t["learning_rate"] for t in a}) == 16 > len({t["learning_rate"] for t in grid}) == 2
    for trial in a:
        for name, dim in s.SPACE.items():
            assert dim.low <= trial[name] <= dim.high
        assert isinstance(trial["units"], int)
    rates = np.log10([t["learning_rate"] for t in s.candidates(s.SPACE, strategy="random", budget=32, seed=0)])
    assert rates.min() < -3 and rates.max() > -1.5  # spread over the log scale, not bunched at the top


@pytest.mark.parametrize("space, strategy, budget, message", [
    ({}, "grid", 16, "The search space is empty"),
    (s.SPACE, "grid", 0, "The budget"),
    (s.SPACE, "random", 33, "The budget"),
    (s.SPACE, "bayes", 4, "Unknown strategy 'bayes'"),
    ({"momentum": s.Dimension(0, 1)}, "grid", 4, "Unknown hyperparameter 'momentum'"),
    ({"learning_rate": s.Dimension(0.1, 0.01)}, "grid", 4, "the low end must come first"),
    ({"learning_rate": s.Dimension(0.0, 0.1, log=True)}, "random", 4, "must start above 0"),
])
def test_bad_searches_get_a_readable_message(space, strategy, budget, message):
    with pytest.raises(ValueError, match=message):
        s.candidates(space, strategy=strategy, budget=budget, seed=0)


@pytest.mark.slow
def test_a_search_trains_every_trial_and_is_reproducible():
    space = {"learning_rate": s.Dimension(1e-3, 1e-1, log=True)}
    first = s.hyperparameter_search(space, strategy="random", budget=2, seed=1, epochs=8, patience=3)
    again = s.hyperparameter_search(space, strategy="random", budget=2, seed=1, epochs=8, patience=3)
    assert list(first["trial"]) == [1, 2] and first["strategy"].eq("random").all()
    columns = ["learning_rate", "val_loss", "val_accuracy", "epochs_run"]
    assert first[columns].equals(again[columns])
    best = s.best_trial(first)
    trainer, result = s.train_trial({"learning_rate": best["learning_rate"]}, epochs=8, patience=3, seed=1)
    x, y = s.moons()["validation"]
    assert best["val_accuracy"] == pytest.approx(np.mean((trainer.predict(x)[:, 0] >= 0.5) == y))
    assert 0 <= s.final_test_accuracy(best, space, epochs=8, patience=3, seed=1) <= 1
    assert math.isfinite(best["val_loss"])
