"""The validation page shows what the evaluation library computes, and refuses unsafe model files."""
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers
from streamlit.testing.v1 import AppTest

from models.evaluation import metrics as m
from models.evaluation import saving
from models.evaluation import validation as v
from models.evaluation.classifiers import BINARY, DIGITS, train_classifier
from pages.shared.feedback import plain

PAGE = str(Path(__file__).resolve().parent.parent / "pages/validation.py")
K = "validation_"


@pytest.fixture(scope="module")
def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=300).run()


@pytest.fixture(scope="module")
def revealed(page) -> AppTest:
    page.radio(key=K + "f1_guess").set_value("down").run()
    return page.button(key=K + "f1_lock").click().run()


@pytest.fixture(scope="module")
def binary():
    return train_classifier(BINARY)  # trained again here, outside the page


def shown_metrics(at) -> dict:
    return {x.label: x.value for x in at.metric}


def test_page_renders_every_section(page):
    assert not page.exception, [e.value for e in page.exception]
    assert [h.value for h in page.header] == [
        "1 · Training, validation and test sets", "2 · k-fold cross-validation",
        "3 · Precision and recall at a threshold", "4 · The accuracy paradox", "5 · Many classes: per-class scores",
        "6 · Saving and loading a model"]
    assert not page.error


def test_the_threshold_section_waits_for_a_guess(page):
    assert page.button(key=K + "f1_lock").disabled or page.session_state[K + "f1_guess"] is not None
    fresh = AppTest.from_file(PAGE, default_timeout=300).run()
    assert fresh.button(key=K + "f1_lock").disabled
    assert not any(x.label == "F1" for x in fresh.metric)
    assert any("Lock in a guess" in i.value for i in fresh.info)


@pytest.mark.parametrize("threshold", [0.5, 0.85, 0.05])
def test_metrics_at_the_threshold_equal_the_library(revealed, binary, threshold):
    at = revealed.slider(key=K + "threshold").set_value(threshold).run()
    assert not at.exception
    expected = m.threshold_metrics(binary.split.y["test"], binary.scores, threshold)
    shown = shown_metrics(at)
    for label, name in (("Accuracy", "accuracy"), ("Precision", "precision"), ("Recall", "recall"), ("F1", "f1")):
        assert shown[label] == f"{expected[name]:.3f}"
    table = next(d.value for d in at.dataframe if "predicted benign" in d.value.columns)
    assert table.loc["true malignant", "predicted malignant"] == f"{expected['tp']} (TP)"
    assert table.loc["true benign", "predicted malignant"] == f"{expected['fp']} (FP)"


def test_the_verdict_uses_the_f1_trend(revealed, binary):
    answer = m.f1_trend(m.threshold_sweep(binary.split.y["test"], binary.scores))
    boxes = [b.value for b in [*revealed.success, *revealed.warning] if "You picked" in b.value]
    assert boxes and answer.replace(",", "\\,") in boxes[0]
    assert any(f"area {m.auc(m.roc_points(binary.split.y['test'], binary.scores)):.3f}" in x.value
               for x in revealed.markdown)


def test_the_accuracy_paradox_table(page):
    at = page.slider(key=K + "share").set_value(0.05).run()
    table = next(d.value for d in at.dataframe if "classifier" in d.value.columns)
    assert list(table.iloc[0][["accuracy", "recall", "f1"]]) == ["0.950", "0.000", "0.000"]
    assert any("**95.0% accuracy**" in x.value and "**0 of 50**" in x.value for x in at.markdown)


def test_per_class_table_equals_the_library(page):
    run = train_classifier(DIGITS)
    expected = m.per_class_report(run.split.y["test"], run.predicted, list(range(10)))
    shown = next(d.value for d in page.dataframe if "support" in d.value.columns)
    assert list(shown["class"]) == list(expected["class"])
    np.testing.assert_allclose(shown[["precision", "recall", "f1"]].to_numpy(float),
                               expected[["precision", "recall", "f1"]].to_numpy(float))


def test_the_saved_model_is_listed_and_loads_back_identical(page, binary):
    files = next(d.value for d in page.dataframe if "holds" in d.value.columns)
    assert sorted(files["file"]) == ["config.json", "metadata.json", "model.weights.h5"]
    assert any("gives **identical** outputs" in x.value for x in page.markdown)
    assert any(b.label.startswith("Download the tumour classifier") for b in page.get("download_button"))


def upload(at, name, data):
    at.file_uploader(key=K + "upload").set_value((name, data, "application/octet-stream"))
    return at.run()


def test_an_uploaded_lambda_model_is_refused():
    inputs = keras.Input((30,))
    archive = saving.model_to_bytes(keras.Model(inputs, layers.Lambda(lambda x: x[:, :1])(inputs)))
    at = upload(AppTest.from_file(PAGE, default_timeout=300).run(), "sneaky.keras", archive)
    assert not at.exception
    assert any(plain("sneaky.keras") in e.value and "Refused" in e.value and "Lambda" in e.value for e in at.error)


def test_an_uploaded_corrupt_file_is_refused():
    at = upload(AppTest.from_file(PAGE, default_timeout=300).run(), "broken.keras", b"\x00not a zip")
    assert not at.exception
    assert any("damaged or not a .keras file" in e.value for e in at.error)


def test_an_uploaded_good_model_is_loaded_and_scored(binary):
    at = upload(AppTest.from_file(PAGE, default_timeout=300).run(), "mine.keras", binary.archive)
    assert not at.exception and not at.error
    expected = m.threshold_metrics(binary.split.y["test"], binary.scores, 0.5)["accuracy"]
    assert any(f"accuracy **{expected:.3f}**" in x.value for x in at.markdown)
    assert any(plain("mine.keras") + " loaded: 3 layers" in s.value for s in at.success)


@pytest.mark.slow
def test_cross_validation_on_the_page_equals_the_library(page):
    page.slider(key=K + "k").set_value(3)
    at = page.button(key=K + "cv_train").click().run()
    assert not at.exception and not at.error
    cache = {}  # its own trainers, not the page's
    expected = v.cross_validation(BINARY, k=3, seed=0, cache=cache)
    shown = next(d.value for d in at.dataframe if "val_accuracy" in d.value.columns)
    np.testing.assert_allclose(shown["val_accuracy"], expected["val_accuracy"])
    single = v.single_split(BINARY, cache=cache)["val_accuracy"]
    mean = expected["val_accuracy"].mean()
    assert any(f"**Mean {100 * mean:.1f}%" in x.value and f"**{100 * single:.1f}%**" in x.value for x in at.markdown)


@pytest.mark.slow
def test_the_leak_on_the_page_equals_the_library(page):
    at = page.button(key=K + "leak").click().run()
    leak = v.selection_leak(cache={})  # its own trainers, not the page's
    best = leak.trials.iloc[leak.picked]
    shown = shown_metrics(at)
    assert shown["Test score of the pick"] == f"{100 * best['test_accuracy']:.1f}%"
    assert shown["Same model on new points"] == f"{100 * best['fresh_accuracy']:.1f}%"
    assert shown["Optimism"] == f"{100 * leak.optimism:+.1f} points"
