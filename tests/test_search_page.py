"""The hyperparameter-search page shows what the search library computes; its keras-tuner code builds a model."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from models.evaluation import search
from pages.evaluation.search_parts import KERAS_TUNER

PAGE = str(Path(__file__).resolve().parent.parent / "pages/hyperparameter_search.py")
K = "search_"
SMALL = {"budget": 2, "epochs": 6, "patience": 3, "seed": 1}


def fresh(**values) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for name, value in values.items():
        at.session_state[K + name] = value
    return at.run()


@pytest.fixture(scope="module")
def searched() -> AppTest:
    at = fresh(**SMALL, names=["learning_rate", "units"])
    at.radio(key=K + "guess").set_value("random").run()
    return at.button(key=K + "run").click().run()


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    space = {n: search.SPACE[n] for n in ("learning_rate", "units")}
    return pd.concat([search.hyperparameter_search(space, strategy=s, budget=2, seed=1, epochs=6, patience=3)
                      for s in search.STRATEGIES], ignore_index=True)


def test_page_renders_and_waits_for_a_guess():
    at = fresh()
    assert not at.exception and not at.error
    assert at.button(key=K + "run").disabled
    assert [h.value for h in at.header] == ["1 · The search", "2 · Results", "4 · The same search with keras-tuner"]
    assert any("tensorboard" in w.value for w in at.warning)


def test_an_empty_search_space_gets_a_message():
    at = fresh(names=[])
    at.radio(key=K + "guess").set_value("grid").run()
    at = at.button(key=K + "run").click().run()
    assert not at.exception
    assert any("The search space is empty" in e.value for e in at.error)


@pytest.mark.slow
def test_the_results_table_equals_the_library(searched, expected):
    assert not searched.exception and not searched.error
    shown = next(d.value for d in searched.dataframe if "val_accuracy" in d.value.columns)
    shown = shown.sort_values(["strategy", "trial"]).reset_index(drop=True)
    want = expected.sort_values(["strategy", "trial"]).reset_index(drop=True)
    np.testing.assert_allclose(shown["val_accuracy"], want["val_accuracy"])
    np.testing.assert_allclose(shown["learning_rate"], want["learning_rate"])
    tried = next(d.value for d in searched.dataframe if "neurons per layer" in d.value.columns)
    assert list(tried["learning rate"]) == [want[want.strategy == s]["learning_rate"].nunique()
                                            for s in ("grid", "random")]
    assert len([c for c in searched.get("vega_lite_chart") if "val_accuracy" in c.proto.spec]) == 2


@pytest.mark.slow
def test_the_verdict_and_the_test_score_revealed_once(searched, expected):
    best = {s: search.best_trial(part)["val_accuracy"] for s, part in expected.groupby("strategy")}
    answer = "a tie" if best["grid"] == best["random"] else max(best, key=best.get)
    assert any(answer in box.value for box in [*searched.success, *searched.warning] if "You picked" in box.value)
    at = searched.button(key=K + "reveal").click().run()
    assert not at.exception
    chosen = search.best_trial(expected)
    space = {n: search.SPACE[n] for n in ("learning_rate", "units")}
    test = search.final_test_accuracy(chosen, space, epochs=6, patience=3, seed=1)
    metrics = {x.label: x.value for x in at.metric}
    assert metrics["Test accuracy"] == f"{test:.3f}"
    assert metrics["Validation accuracy"] == f"{chosen['val_accuracy']:.3f}"
    assert at.button(key=K + "reveal").disabled


class FakeHyperparameters:
    """Enough of keras_tuner.HyperParameters to build the shown model with each range's low end."""

    def Int(self, name, low, high, sampling=None):  # noqa: N802 (keras-tuner's names)
        return low

    def Float(self, name, low, high, sampling=None):  # noqa: N802
        return low


def test_the_keras_tuner_code_builds_a_compiled_model():
    source = KERAS_TUNER.split("tuner = ")[0].replace("import keras_tuner as kt", "")
    names = {}
    exec(compile(source, "keras_tuner_code", "exec"), names)  # our own constant text, not student input
    model = names["build_model"](FakeHyperparameters())
    assert model.count_params() == (2 + 1) * 2 + (2 + 1) * 2 + (2 + 1) * 1
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-4)
