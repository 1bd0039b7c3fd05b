"""Over/underfitting and dropout pages: settings that survive another page, truthful endings, refused clicks."""
import io
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from models.engine.settings import TrainingResult
from models.training import dropout as do
from models.training import overfitting as ov
from models.training.live import Ending, LiveSlot, SettingsMemory, why_cut_short

ROOT = Path(__file__).resolve().parent.parent
K = "overfitting_"
SMALL = {"dataset": "two moons", "n_samples": 40, "hidden_layers": 1, "units": 6, "learning_rate": 0.05,
         "batch_size": 8, "epochs": 15, "seed": 3}


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success", "markdown", "caption")
                    for e in getattr(at, kind))


def page_at(page: str) -> AppTest:
    """The page on its own: AppTest registers button clicks only there, not after switch_page."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def app_at(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cut_short_result(epochs_run=2, epochs=6) -> TrainingResult:
    h = pd.DataFrame({"epoch": range(1, epochs_run + 1), "loss": [0.7] * epochs_run, "val_loss": [0.7] * epochs_run})
    return TrainingResult(history=h, status="running", epochs_run=epochs_run, epochs=epochs, best_epoch=None,
                          best_val_loss=None, diverged_at=None, message="")


# --- The library: what ended a run, and the settings memory ---

def test_why_cut_short_reads_the_click_that_interrupted():
    common = {"stop_key": "stop", "new_run_keys": ("train",)}
    assert why_cut_short({"stop": True}, **common, left_page=False) == Ending.STOPPED
    assert why_cut_short({"stop": False, "train": True}, **common, left_page=False) == Ending.NEW_RUN
    assert why_cut_short({}, **common, left_page=True) == Ending.LEFT_PAGE
    assert why_cut_short({"stop": False}, **common, left_page=False) == Ending.RERUN
    assert "stopped" not in Ending.LEFT_PAGE.sentence(2, 6) and "after 2 of 6 epochs" in Ending.NEW_RUN.sentence(2, 6)


def test_settings_memory_restores_what_streamlit_dropped():
    state = {"a": 1, "b": "x"}
    memory = SettingsMemory(state, "saved", ("a", "b"))
    assert not memory.came_back()
    memory.save()
    del state["a"]  # another page ran: Streamlit deleted one widget's state and left a stale value in another
    state["b"] = "stale"
    assert memory.came_back()
    memory.restore({"a": 0, "b": "default", "c": 5}, came_back=True)
    assert (state["a"], state["b"], state["c"]) == (1, "x", 5)
    state["a"] = 2
    memory.restore({"a": 0}, came_back=False)  # an ordinary rerun keeps what the widgets hold
    assert state["a"] == 2
    sometimes = SettingsMemory({"a": 1, "b": 2}, "saved", ("a", "b"), always_drawn=("a",))
    sometimes.save()
    del sometimes.state["b"]  # a widget the page drew only on some runs (e.g. per network depth)
    assert not sometimes.came_back()


# --- Over/underfitting page ---

@pytest.mark.slow
def test_overfitting_settings_survive_another_page():
    at = app_at("pages/overfitting.py")
    for name, value in {"n_samples": 60, "hidden_layers": 3, "units": 128, "epochs": 50, "seed": 7}.items():
        at.number_input(key=K + name).set_value(value)
    at.selectbox(key=K + "dataset").set_value("XOR")
    at.radio(key=K + "guess").set_value("overfitting")
    at.run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/overfitting.py").run()
    assert not at.exception
    assert [at.number_input(key=K + n).value for n in ("n_samples", "hidden_layers", "units", "epochs", "seed")] == \
        [60, 3, 128, 50, 7]
    assert at.selectbox(key=K + "dataset").value == "XOR" and at.radio(key=K + "guess").value == "overfitting"


def seeded_cut_short_run(at, number=1):
    settings = replace(ov.RunSettings(), n_samples=20, epochs=6)
    run = ov.make_run(number, "custom", settings, cut_short_result(), ov.make_data(settings), 0.1)
    live = LiveSlot()
    live.runs_cut_short.append(number)
    at.session_state[K + "runs"] = [run]
    at.session_state[K + "live"] = live
    at.session_state[K + "latest"] = ov.Attempt("single", None, (number,))


@pytest.mark.slow
def test_overfitting_run_cut_short_by_leaving_says_so():
    at = app_at("pages/overfitting.py")
    at.switch_page("pages/home.py").run()
    seeded_cut_short_run(at)  # as the interrupted run saved it when the student left
    at.switch_page("pages/overfitting.py").run()
    assert not at.exception
    assert at.dataframe[0].value.iloc[0]["status"] == "cut short: you left the page"
    assert "when you left the page" in texts(at) and "stopped" not in texts(at).lower()


@pytest.mark.slow
def test_overfitting_run_cut_short_by_a_new_train_click_says_so():
    at = page_at("pages/overfitting.py")
    seeded_cut_short_run(at)
    at.number_input(key=K + "epochs").set_value(0)  # the new click is refused, so only the old run shows
    at.button(key=K + "train").click().run()
    assert not at.exception
    assert at.dataframe[0].value.iloc[0]["status"] == "cut short by a new run"
    assert "stopped by you" not in texts(at)


@pytest.mark.slow
def test_overfitting_refused_click_keeps_the_previous_result():
    at = page_at("pages/overfitting.py")
    for name, value in SMALL.items():
        (at.selectbox if name == "dataset" else at.number_input)(key=K + name).set_value(value)
    at.button(key=K + "train").click().run()
    assert "Diagnosis:" in texts(at)
    for name, value in {"epochs": 5000, "n_samples": 5000, "hidden_layers": 3, "units": 256}.items():
        at.number_input(key=K + name).set_value(value)
    at.button(key=K + "train").click().run()
    assert not at.exception
    assert any("too much training for one click" in e.value for e in at.error)
    assert "Diagnosis:" in texts(at) and "press **Train**" not in texts(at)
    assert len(at.dataframe[0].value) == 1


@pytest.mark.slow
def test_overfitting_points_minimum_can_train():
    at = page_at("pages/overfitting.py")
    box = at.number_input(key=K + "n_samples")
    assert box.min == ov.MIN_POINTS == 4
    box.set_value(2).run()
    assert at.number_input(key=K + "n_samples").value != 2
    at.number_input(key=K + "n_samples").set_value(4)
    at.number_input(key=K + "epochs").set_value(3)
    at.button(key=K + "train").click().run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value.iloc[0]["status"] == "finished"


@pytest.mark.slow
def test_overfitting_diverged_at_epoch_1_reads_consistently_and_no_none_cells():
    at = page_at("pages/overfitting.py")
    for name, value in (SMALL | {"learning_rate": 100.0, "batch_size": 1000, "epochs": 5}).items():
        (at.selectbox if name == "dataset" else at.number_input)(key=K + name).set_value(value)
    at.button(key=K + "train").click().run()
    assert not at.exception
    shown = texts(at)
    assert "diverged at epoch 1" in shown and "No epoch finished" not in shown
    assert "during the first epoch" in shown
    display = pa.ipc.open_stream(io.BytesIO(at.dataframe[0].proto.arrow_data.styler.display_values)).read_pandas()
    cells = {str(v) for v in display.to_numpy().ravel()}
    assert not cells & {"None", "nan", "NaN", "<NA>"} and "–" in cells


# --- Dropout page ---

@pytest.mark.slow
def test_dropout_settings_survive_another_page():
    at = app_at("pages/dropout.py")
    at.slider(key="dropout_rate").set_value(0.3)
    at.selectbox(key="dropout_width").set_value(32)
    at.radio(key="dropout_depth").set_value(3).run()
    at.multiselect(key="dropout_layers_3").set_value([2])
    at.number_input(key="dropout_epochs").set_value(100)
    at.run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/dropout.py").run()
    assert not at.exception
    assert at.slider(key="dropout_rate").value == 0.3 and at.selectbox(key="dropout_width").value == 32
    assert at.radio(key="dropout_depth").value == 3 and at.multiselect(key="dropout_layers_3").value == [2]
    assert at.number_input(key="dropout_epochs").value == 100


@pytest.mark.slow
def test_dropout_run_cut_short_by_leaving_says_so():
    at = app_at("pages/dropout.py")
    at.switch_page("pages/home.py").run()
    settings = do.check_comparison(**{"dataset": "two moons", "n_samples": 40, "noise": 0.3, "hidden_units": (16, 16),
                                      "dropout_rate": 0.5, "dropout_layers": (1, 2), "epochs": 6,
                                      "learning_rate": 0.01, "seed": 0})
    live = LiveSlot()
    live.latest = do.ComparisonRun(settings, (None, None), {run: cut_short_result() for run in do.RUNS})
    live.runs_cut_short.append("dropout")
    at.session_state["dropout_live"] = live
    at.switch_page("pages/dropout.py").run()
    assert not at.exception
    notes = [e.value for e in at.info if "epochs" in e.value]
    assert len(notes) == 2 and all("when you left the page" in n for n in notes), notes
    assert "stopped by you" not in texts(at)
