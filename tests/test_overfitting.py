"""Over- and underfitting: settings checks, curve reading, diagnosis, grids, the run table, and the page."""
import io
import math
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from models.engine.mlp import build_mlp
from models.engine.settings import TrainingResult
from models.engine.trainer import Trainer
from models.training import overfitting as ov
from models.training.datasets import make_circles, make_moons, make_sine, split
from models.training.live import Ending
from pages.shared.charts import long_curves

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "overfitting.py")
K = "overfitting_"


def history(train, val, accuracy=None):
    """A hand-made history frame in the engine's format."""
    h = pd.DataFrame({"epoch": np.arange(1, len(train) + 1), "loss": np.asarray(train, float),
                      "val_loss": np.asarray(val, float)})
    if accuracy is not None:
        h["accuracy"], h["val_accuracy"] = accuracy
    return h


def result_of(h, *, status="finished", epochs=None, best_epoch=None, best_val_loss=None, diverged_at=None):
    return TrainingResult(history=h, status=status, epochs_run=len(h), epochs=epochs or len(h),
                          best_epoch=best_epoch, best_val_loss=best_val_loss, diverged_at=diverged_at,
                          message="hand-made")


# ---- Settings -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layers, units, dataset", [(0, 8, "circles"), (1, 8, "circles"), (3, 128, "XOR"),
                                                    (2, 5, ov.REGRESSION)])
def test_count_weights_matches_keras(layers, units, dataset):
    settings = replace(ov.RunSettings(), hidden_layers=layers, units=units, dataset=dataset)
    assert ov.count_weights(settings) == build_mlp(**settings.model_kwargs()).count_params()


def test_count_weights_by_hand():
    # 2 inputs -> 8 -> 1: (2 + 1) * 8 + (8 + 1) * 1 = 33; 1 input -> 1: 2
    assert ov.count_weights(ov.RunSettings(hidden_layers=1, units=8)) == 33
    assert ov.count_weights(ov.RunSettings(dataset=ov.REGRESSION, hidden_layers=0)) == 2


def test_presets_and_labels():
    overfit = ov.preset_settings("overfit")
    assert (overfit.hidden_layers, overfit.units, overfit.epochs) == (3, 128, 300)
    assert ov.preset_settings("underfit").hidden_layers == 0
    for name in ov.PRESETS:
        assert ov.run_label(ov.preset_settings(name)) == name
        on_moons = ov.preset_settings(name, replace(ov.RunSettings(), dataset="two moons", seed=4), keep_data=True)
        assert on_moons.dataset == "two moons" and on_moons.seed == 4 and ov.run_label(on_moons) == name
    assert ov.run_label(replace(ov.preset_settings("underfit"), units=77)) == "underfit"  # no layer uses units
    assert ov.run_label(replace(ov.preset_settings("good fit"), l2=0.01)) == "custom"


@pytest.mark.parametrize("change, message", [
    ({"epochs": 0}, "Choose between 1 and 5000 epochs; got 0"),
    ({"learning_rate": 0.0}, "learning rate must be above 0"),
    ({"hidden_layers": 2, "units": 0}, "Each hidden layer needs between 1 and 1024 neurons; got 0"),
    ({"n_samples": 3}, "would get 1 point(s) out of 3; it needs at least 2"),
    ({"n_samples": 2}, "would get 1 point(s) out of 2"),
    ({"epochs": 5000, "n_samples": 5000, "hidden_layers": 3, "units": 256}, "too much training for one click"),
    ({"epochs": 5000, "n_samples": 1000, "batch_size": 1, "hidden_layers": 0}, "too many training steps"),
    ({"patience": 0}, "patience must be at least 1"),
])
def test_bad_settings_raise_readable_messages(change, message):
    with pytest.raises(ValueError) as error:
        ov.check_settings(replace(ov.RunSettings(), **change))
    assert message in str(error.value)


def test_large_learning_rate_gets_a_note_and_good_settings_none():
    _, notes = ov.check_settings(replace(ov.RunSettings(), learning_rate=100.0))
    assert any("very large" in note for note in notes)
    data, notes = ov.check_settings(ov.RunSettings())
    assert notes == [] and len(data.train) == 100 and len(data.validation) == 100


def test_make_data_is_the_seeded_split():
    settings = replace(ov.RunSettings(), dataset="two moons", n_samples=50, noise=0.3, validation_fraction=0.4, seed=9)
    data = ov.make_data(settings)
    parts = split(make_moons(50, 0.3, 9), 0.4, 9)
    np.testing.assert_array_equal(data.x_train, parts.train[["x1", "x2"]].to_numpy())
    np.testing.assert_array_equal(data.y_val, parts.validation["label"].to_numpy())
    sine = ov.make_data(replace(settings, dataset=ov.REGRESSION))
    assert sine.x_train.shape == (30, 1)


# ---- Reading curves ------------------------------------------------------------------------------------

def test_turn_up_on_a_hand_made_curve():
    # Falls to 0.30 at epoch 20, then climbs linearly to 0.90 at epoch 100.
    val = np.r_[np.linspace(1.0, 0.30, 20), np.linspace(0.3075, 0.90, 80)]
    bend = ov.turn_up(history(np.linspace(1.0, 0.01, 100), val))
    assert bend.epoch == 20 and bend.lowest == pytest.approx(0.30) and bend.rising_for == 80
    assert bend.last == pytest.approx(np.mean(val[-10:]))


def test_no_turn_up_when_still_falling_flat_or_bottoming_at_the_end():
    assert ov.turn_up(history(np.ones(100), np.linspace(1.0, 0.2, 100))) is None  # still falling
    flat = np.r_[np.linspace(1.0, 0.5, 50), 0.5 + 0.02 * np.sin(np.arange(50))]  # wiggles of 4%, not a turn
    assert ov.turn_up(history(np.ones(100), flat)) is None
    late = np.r_[np.linspace(1.0, 0.4, 95), [0.45, 0.6, 0.7, 0.8, 0.9]]  # lowest point inside the last 10%
    assert ov.turn_up(history(np.ones(100), late)) is None
    assert ov.turn_up(history([1, 1, 1, 1], [1, 0.5, 2, 3])) is None  # too short to tell


def test_guess_loss_is_the_loss_of_a_constant_prediction():
    y = np.array([0, 0, 0, 1])
    by_hand = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    keras_loss = float(keras.losses.BinaryCrossentropy()(y[:, None].astype("float32"), np.full((4, 1), 0.25)))
    assert ov.guess_loss(y, False) == pytest.approx(by_hand, rel=1e-12)
    assert ov.guess_loss(y, False) == pytest.approx(keras_loss, rel=1e-5)
    assert ov.guess_loss([1.0, 2.0, 4.0], True) == pytest.approx(14 / 9)  # mean 7/3, variance 14/9


def test_diagnosis_of_hand_made_runs():
    guess = math.log(2)
    rising = np.r_[np.linspace(0.7, 0.3, 50), np.linspace(0.31, 0.6, 150)]
    over = ov.diagnose(history(np.linspace(0.7, 0.1, 200), rising), guess=guess, status="finished")
    assert over.kind == "overfitting"
    assert "6.0× training loss" in over.text and "rose for the last 150 epochs" in over.text
    assert "0.300 at epoch 50" in over.text and "early stopping" in over.text
    under = ov.diagnose(history(np.full(50, 0.68), np.full(50, 0.69)), guess=guess, status="finished")
    assert under.kind == "underfitting" and "98%" in under.text  # 0.68 / ln 2 = 0.981
    good = ov.diagnose(history(np.linspace(0.6, 0.30, 50), np.linspace(0.6, 0.33, 50),
                               (np.full(50, 0.9), np.full(50, 0.88))), guess=guess, status="finished")
    assert good.kind == "good fit" and "1.1×" in good.text
    assert "accuracy 90% on training, 88% on validation" in good.text
    assert ov.diagnose(history([], []), guess=guess, status="diverged").kind == "diverged"
    too_fast = ov.diagnose(history(np.full(20, 12.0), np.full(20, 12.0)), guess=guess, status="finished",
                           learning_rate=100.0)
    assert too_fast.kind == "underfitting" and "learning rate 100 is probably too large" in too_fast.text


def test_regression_diagnosis_uses_the_noise_floor():
    # Variance of the targets 0.5, noise 0.2 (floor 0.04): a straight line at 0.21 underfits, 0.045 fits.
    line = ov.diagnose(history(np.full(30, 0.21), np.full(30, 0.22)), guess=0.5, status="finished",
                       regression=True, floor=0.04)
    assert line.kind == "underfitting" and "0.040" in line.text
    curve = ov.diagnose(history(np.full(30, 0.045), np.full(30, 0.05)), guess=0.5, status="finished",
                        regression=True, floor=0.04)
    assert curve.kind == "good fit"


def test_markers_for_turn_up_and_early_stopping():
    val = np.r_[np.linspace(1.0, 0.30, 20), np.linspace(0.31, 0.90, 80)]
    marks = ov.markers(history(np.ones(100), val), best_epoch=20, early_stopping=True)
    assert list(marks["epoch"]) == [20, 20]
    assert "turns up after epoch 20" in marks["marker"][0] and "restored the weights of epoch 20" in marks["marker"][1]
    assert ov.markers(history(np.ones(100), val), best_epoch=20, early_stopping=False)["epoch"].tolist() == [20]


def test_long_curves_thins_long_runs_but_keeps_the_last_epoch():
    h = history(np.linspace(1, 0, 1001), np.linspace(1, 0.5, 1001))
    long = long_curves(ov.thin_history(h, max_points=400))
    epochs = long.loc[long["set"] == "training", "epoch"]
    assert epochs.iloc[0] == 1 and epochs.iloc[-1] == 1001 and len(epochs) <= 402
    merged = long[long["set"] == "validation"].merge(h, on="epoch")
    np.testing.assert_array_equal(merged["loss_x"], merged["val_loss"])


# ---- Pictures ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_trainer():
    settings = replace(ov.RunSettings(), dataset="two moons", n_samples=40, hidden_layers=2, units=6, epochs=5,
                       learning_rate=0.05, seed=2)
    data, _ = ov.check_settings(settings)
    trainer = ov.start_trainer(settings, data)
    trainer.run()
    return settings, data, trainer


def forward_by_hand(model, x):
    """The MLP in NumPy: ReLU hidden layers, sigmoid output."""
    h = np.asarray(x, np.float64)
    weights = model.get_weights()
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        h = np.maximum(h, 0) if i < len(weights) - 2 else 1 / (1 + np.exp(-h))
    return h


@pytest.mark.slow
def test_decision_grid_equals_predict_and_the_hand_forward_pass(small_trainer):
    _, data, trainer = small_trainer
    points = ov.points_frame(data)
    grid = ov.decision_grid(trainer.predict, points, resolution=60)
    assert len(grid) == 3600
    np.testing.assert_array_equal(grid["probability"], trainer.predict(grid[["x1", "x2"]].to_numpy()).ravel())
    np.testing.assert_allclose(grid["probability"], forward_by_hand(trainer.model, grid[["x1", "x2"]]).ravel(),
                               rtol=1e-5, atol=1e-6)
    # The cells tile a rectangle that holds every point.
    x1 = np.sort(grid["x1_start"].unique())
    assert len(x1) == 60 and np.allclose(np.diff(x1), x1[1] - x1[0])
    assert np.allclose(grid["x1_end"] - grid["x1_start"], x1[1] - x1[0])
    assert grid["x1_start"].min() < points["x1"].min() and grid["x1_end"].max() > points["x1"].max()
    assert grid["x2_start"].min() < points["x2"].min() and grid["x2_end"].max() > points["x2"].max()


@pytest.mark.slow
def test_fitted_curve_equals_predict():
    settings = replace(ov.RunSettings(), dataset=ov.REGRESSION, n_samples=30, hidden_layers=1, units=4, epochs=3)
    data, _ = ov.check_settings(settings)
    trainer = ov.start_trainer(settings, data)
    trainer.run()
    curve = ov.fitted_curve(trainer.predict, ov.points_frame(data), n=50)
    np.testing.assert_allclose(curve["true"], np.sin(curve["x"]))
    model = trainer.model
    np.testing.assert_allclose(curve["prediction"], keras.ops.convert_to_numpy(model(curve[["x"]].to_numpy()))
                               .ravel(), rtol=1e-6)
    assert curve["x"].min() < data.train["x"].min()


# ---- Runs, the run table and CSV -----------------------------------------------------------------------

def test_run_rows_come_from_the_history():
    settings = replace(ov.RunSettings(), n_samples=20, epochs=6, patience=3, seed=5)
    data = ov.make_data(settings)
    h = history([0.7, 0.6, 0.5, 0.45, 0.44, 0.43], [0.69, 0.62, 0.55, 0.56, 0.57, 0.58],
                ([0.5, 0.6, 0.7, 0.8, 0.8, 0.85], [0.5, 0.5, 0.6, 0.6, 0.6, 0.55]))
    run = ov.make_run(7, "custom", settings, result_of(h, status="stopped early", best_epoch=3,
                                                       best_val_loss=0.55), data, 0.25)
    row = ov.run_row(run)
    assert (row["run"], row["label"], row["status"], row["epochs run"], row["best epoch"]) == (7, "custom",
                                                                                             "stopped early", 6, 3)
    assert row["final training loss"] == 0.43 and row["final validation loss"] == 0.58
    assert row["best validation loss"] == 0.55 and row["final validation accuracy"] == 0.55
    assert (row["points"], row["patience"], row["seed"], row["network"]) == (20, 3, 5, "2-8-1")
    assert run.picture is None and len(run.points) == 20 and set(run.points["set"]) == {"training", "validation"}

    cut = ov.make_run(8, "custom", settings, result_of(h.iloc[:2], status="running", epochs=6), data, 0.1,
                      ending=Ending.STOPPED)
    assert cut.status == "stopped by you" and "after 2 of 6 epochs" in cut.message
    assert cut.diagnosis.text.startswith("(After 2 of 6 epochs.)")
    empty = ov.make_run(9, "custom", settings, result_of(h.iloc[:0], status="diverged", epochs=6, diverged_at=1),
                        data, 0.1)
    row = ov.run_row(empty)
    assert row["epochs run"] == 0 and math.isnan(row["final training loss"]) and empty.diagnosis.kind == "diverged"


def test_csv_round_trip():
    settings = replace(ov.RunSettings(), n_samples=20)
    data = ov.make_data(settings)
    rng = np.random.default_rng(0)
    runs = [ov.make_run(1, "good fit", settings, result_of(history(rng.random(5), rng.random(5),
                                                                   (rng.random(5), rng.random(5))),
                                                           best_epoch=2, best_val_loss=0.1), data, 0.5),
            ov.make_run(2, "custom", replace(settings, dataset=ov.REGRESSION, patience=4),
                        result_of(history(rng.random(3), rng.random(3))), ov.make_data(replace(settings,
                                                                                               dataset=ov.REGRESSION)),
                        1 / 3)]
    table = ov.runs_table(runs)
    back = pd.read_csv(io.StringIO(ov.to_csv(table))).astype({"patience": "Int64", "best epoch": "Int64"})
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    curves = ov.curves_table(runs)
    assert len(curves) == 8 and curves["accuracy"].isna().sum() == 3  # regression has no accuracy
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(ov.to_csv(curves))), curves, check_exact=True)
    assert ov.largest_gap(runs) in {"good fit", "custom"}


def test_largest_gap_by_hand():
    settings = ov.RunSettings(n_samples=20)
    data = ov.make_data(settings)
    runs = [ov.make_run(i, name, settings, result_of(history([0.5, t], [0.5, v])), data, 0.1)
            for i, (name, t, v) in enumerate([("underfit", 0.69, 0.70), ("good fit", 0.3, 0.35),
                                              ("overfit", 0.01, 0.9)])]
    assert ov.largest_gap(runs) == "overfit"
    assert ov.largest_gap(runs[:2]) == "good fit"


# ---- The page ------------------------------------------------------------------------------------------

def new_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_controls(at, **values):
    widgets = {"dataset": at.selectbox, "noise": at.slider, "validation_fraction": at.slider,
               "activation": at.selectbox, "optimizer": at.selectbox, "early_stopping": at.checkbox}
    for name, value in values.items():
        widgets.get(name, at.number_input)(key=K + name).set_value(value)


def engine_run(settings_values, *, regression=False):
    """The same run straight from the engine, without the page or models.overfitting."""
    s = settings_values
    maker = make_sine if regression else {"two moons": make_moons, "circles": make_circles}[s["dataset"]]
    parts = split(maker(s["n_samples"], s["noise"], s["seed"]), s["validation_fraction"], s["seed"])
    cols, target = (["x"], "y") if regression else (["x1", "x2"], "label")
    x, y = parts.train[cols].to_numpy(), parts.train[target].to_numpy()
    xv, yv = parts.validation[cols].to_numpy(), parts.validation[target].to_numpy()
    model = build_mlp(input_dim=len(cols), hidden_units=(s["units"],) * s["hidden_layers"],
                      output_activation="linear" if regression else "sigmoid")
    trainer = Trainer(model, loss="mse" if regression else "binary_crossentropy", optimizer=s["optimizer"],
                      batch_size=s["batch_size"], n_train=len(x), n_val=len(xv))
    trainer.start(x, y, xv, yv, epochs=s["epochs"], learning_rate=s["learning_rate"], seed=s["seed"],
                  patience=s.get("patience"))
    return trainer, trainer.run()


def chart_tables(at):
    """Every chart's data tables, per chart."""
    return [[pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in chart.proto.datasets]
            for chart in at.get("vega_lite_chart")]


def texts(at):
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success", "markdown", "caption")
                    for e in getattr(at, kind))


SMALL = {"dataset": "two moons", "noise": 0.25, "n_samples": 40, "validation_fraction": 0.5, "hidden_layers": 1,
         "units": 6, "optimizer": "adam", "learning_rate": 0.05, "batch_size": 8, "epochs": 15, "seed": 3}


@pytest.mark.slow
def test_page_run_equals_a_direct_engine_run():
    at = new_page()
    set_controls(at, **SMALL)
    at.radio(key=K + "guess").set_value("overfitting")
    at.button(key=K + "train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    trainer, result = engine_run(SMALL)
    table = at.dataframe[0].value
    assert len(table) == 1
    row = table.iloc[0]
    last = result.history.iloc[-1]
    assert row["final training loss"] == pytest.approx(last["loss"], rel=1e-6)
    assert row["final validation loss"] == pytest.approx(last["val_loss"], rel=1e-6)
    assert row["best validation loss"] == pytest.approx(result.best_val_loss, rel=1e-6)
    assert (row["epochs run"], row["status"], row["label"]) == (15, "finished", "custom")
    # Loss chart, accuracy chart and the decision boundary, whose grid equals the engine model's output.
    tables = chart_tables(at)
    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any('"rect"' in spec for spec in specs)
    grid = next(t for charts in tables for t in charts if "probability" in t.columns)
    assert len(grid) == ov.GRID_RESOLUTION ** 2
    np.testing.assert_allclose(grid["probability"], trainer.predict(grid[["x1", "x2"]].to_numpy()).ravel(),
                               rtol=1e-5, atol=1e-6)
    curves = next(t for charts in tables for t in charts if "set" in t.columns and "loss" in t.columns)
    shown = curves[curves["set"] == "validation"].set_index("epoch")["loss"]
    np.testing.assert_allclose(shown.to_numpy(), result.history.set_index("epoch").loc[shown.index, "val_loss"],
                               rtol=1e-6)
    # The diagnosis and the graded guess.
    kind = table.iloc[0]["diagnosis"]
    assert f"Diagnosis: {kind}." in texts(at)
    feedback = (at.success[0] if at.success else at.warning[0]).value
    assert "You picked 'overfitting'" in feedback and (kind == "overfitting") == ("that is right" in feedback)


@pytest.mark.slow
def test_page_early_stopping_marks_the_restored_epoch():
    values = SMALL | {"hidden_layers": 1, "units": 16, "n_samples": 60, "epochs": 200, "patience": 10,
                      "learning_rate": 0.02}
    at = new_page()
    set_controls(at, **{k: v for k, v in values.items() if k != "patience"}, early_stopping=True)
    at.run()  # the patience box is enabled only once early stopping is on
    at.number_input(key=K + "patience").set_value(10)
    at.button(key=K + "train").click().run()
    assert not at.exception and not at.error
    _, result = engine_run(values)
    assert result.status == "stopped early"
    row = at.dataframe[0].value.iloc[0]
    assert (row["status"], row["best epoch"], row["epochs run"]) == ("stopped early", result.best_epoch,
                                                                     result.epochs_run)
    marks = [t for charts in chart_tables(at) for t in charts if "short" in t.columns]
    assert [f"restored ({result.best_epoch})"] == [m for t in marks for m in t["short"] if m.startswith("restored")]
    assert f"The weights from epoch {result.best_epoch}" in texts(at)


@pytest.mark.slow
def test_page_regression_draws_the_fitted_curve():
    values = SMALL | {"dataset": ov.REGRESSION, "noise": 0.1, "epochs": 10}
    at = new_page()
    set_controls(at, **values)
    at.button(key=K + "train").click().run()
    assert not at.exception and not at.error
    _, result = engine_run(values, regression=True)
    row = at.dataframe[0].value.iloc[0]
    assert row["final training loss"] == pytest.approx(result.history["loss"].iloc[-1], rel=1e-6)
    assert math.isnan(row["final training accuracy"])
    tables = [t for charts in chart_tables(at) for t in charts]
    assert any({"x", "curve", "y"} <= set(t.columns) for t in tables)  # the fitted and the true curve
    assert not any("accuracy" in t.columns for t in tables)


@pytest.mark.slow
@pytest.mark.parametrize("change, message", [
    ({"epochs": 0}, "Choose between 1 and 5000 epochs; got 0"),
    ({"learning_rate": 0.0}, "learning rate must be above 0"),
    ({"units": 0}, "Each hidden layer needs between 1 and 1024 neurons; got 0"),
    ({"n_samples": 4, "validation_fraction": 0.1}, "it needs at least 2"),  # the widget refuses fewer than 4
    ({"epochs": 5000, "n_samples": 5000, "hidden_layers": 3, "units": 256}, "too much training for one click"),
])
def test_page_bad_settings_show_their_message(change, message):
    at = new_page()
    set_controls(at, **(SMALL | change))
    at.button(key=K + "train").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert "nan" not in texts(at).lower().split()


@pytest.mark.slow
def test_page_huge_learning_rate_and_batch_give_a_clean_result():
    values = SMALL | {"learning_rate": 100.0, "batch_size": 1000, "epochs": 5}
    at = new_page()
    set_controls(at, **values)
    at.button(key=K + "train").click().run()
    assert not at.exception
    _, result = engine_run(values)
    assert result.status == "diverged"  # Adam at 100 on this data blows up at once
    message = " ".join(e.value for e in at.error)
    assert f"Training diverged at epoch {result.diverged_at}" in message
    assert "The batch size 1000 is more than the 20 training points, so every step used all 20" in message
    assert any("very large" in e.value for e in at.info)
    assert "Diagnosis: diverged." in texts(at) and "no curve to draw" in texts(at)
    row = at.dataframe[0].value.iloc[0]
    assert (row["status"], row["epochs run"]) == ("diverged", result.epochs_run)
    assert "nan" not in texts(at).lower().split()


@pytest.mark.slow
def test_page_compare_presets_and_grade_the_gap_question():
    at = new_page()
    set_controls(at, n_samples=60)
    at.radio(key=K + "compare_guess").set_value("overfit")
    at.button(key=K + "compare").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["label"]) == list(ov.PRESETS)
    gaps = table["final validation loss"] - table["final training loss"]
    widest = table["label"][gaps.idxmax()]
    feedback = (at.success[0] if at.success else at.warning[0]).value
    assert "You picked 'overfit'" in feedback and (widest == "overfit") == ("that is right" in feedback)
    assert list(table["network"]) == ["2-1", "2-8-1", "2-128-128-128-1"]
    assert set(table["points"]) == {60} and set(table["epochs run"]) == {300}
    assert len([c for c in at.get("vega_lite_chart") if '"rect"' in c.proto.spec]) == 3


def test_each_session_cache_gets_its_own_trainer():
    settings = replace(ov.RunSettings(), n_samples=20, epochs=2)
    data = ov.make_data(settings)
    mine, theirs = {}, {}
    first = ov.start_trainer(settings, data, mine)
    assert ov.start_trainer(replace(settings, seed=1, learning_rate=0.5), data, mine) is first  # reused
    assert ov.start_trainer(settings, data, theirs) is not first
    assert len(mine) == len(theirs) == 1


@pytest.mark.slow
def test_an_idle_rerun_encodes_no_chart_and_shows_the_same_charts(monkeypatch):
    from pages.training import fit_charts

    encoded = []
    real_encode = fit_charts.encode
    monkeypatch.setattr(fit_charts, "encode", lambda chart: encoded.append(chart) or real_encode(chart))
    at = new_page()
    encoded.clear()
    set_controls(at, **SMALL)
    at.button(key=K + "train").click().run()
    assert not at.exception
    first = [(chart.proto.spec, chart_tables_of(chart)) for chart in at.get("vega_lite_chart")]
    assert len(encoded) == len(first) == 5  # data preview, loss, accuracy, decision boundary, overlay
    at.run()  # nothing changed
    again = [(chart.proto.spec, chart_tables_of(chart)) for chart in at.get("vega_lite_chart")]
    assert len(encoded) == 5
    assert [spec for spec, _ in again] == [spec for spec, _ in first]
    for (_, ours), (_, theirs) in zip(again, first):
        for a, b in zip(ours, theirs):
            pd.testing.assert_frame_equal(a, b)
    at.toggle(key=K + "with_training").set_value(True).run()  # a changed chart is encoded anew, only it
    assert len(encoded) == 6 and len(at.session_state[K + "charts"]) == 5


def chart_tables_of(chart):
    return [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in chart.proto.datasets]


@pytest.mark.slow
def test_only_the_shown_runs_keep_their_pictures():
    at = new_page()
    set_controls(at, **SMALL)
    at.button(key=K + "train").click().run()
    at.button(key=K + "train").click().run()
    assert not at.exception
    runs = at.session_state[K + "runs"]
    assert [run.picture is not None for run in runs] == [False, True]  # a decision grid is about 200 kB
    assert all(len(run.history) == SMALL["epochs"] for run in runs)  # the table and the overlay keep every curve
    assert len(at.dataframe[0].value) == 2


@pytest.mark.slow
def test_every_chart_the_pages_encode_passes_the_schema_check_the_pages_skip(monkeypatch):
    """Pages encode charts without Altair's schema check; the checked route raises on a spec Vega-Lite would
    reject, and must give the very same spec for every chart a training run draws."""
    import altair as alt

    from models.training import dropout as do
    from models.vision.pretrained import Prediction
    from pages.images.classify_parts import top5_chart
    from pages.shared.charts import encode
    from pages.training import fit_charts

    drawn = []
    monkeypatch.setattr(fit_charts, "encode", lambda chart: drawn.append(chart) or encode(chart))
    at = new_page()
    set_controls(at, **SMALL)
    at.button(key=K + "train").click().run()
    at.toggle(key=K + "with_training").set_value(True).run()
    assert not at.exception
    top = [Prediction(i, f"class {i}", p) for i, p in enumerate((0.5, 0.2, 0.1, 0.05, 0.01))]
    mask = np.random.default_rng(0).random((6, 10)) < 0.5
    charts = drawn + [top5_chart(top, True), fit_charts.mask_chart(do.mask_frame(mask))]
    assert len(drawn) >= 6  # data preview, live and final loss, accuracy, decision boundary, two overlays
    for chart in charts:
        assert encode(chart) == encode(chart, validate=True)
    broken = alt.Chart(pd.DataFrame({"a": [1.0]})).mark_line().encode(x={"field": "a", "type": "nonsense"})
    assert encode(broken)["encoding"]["x"]["type"] == "nonsense"  # unchecked, it is encoded as it is
    with pytest.raises(alt.utils.schemapi.SchemaValidationError, match="nonsense"):
        encode(broken, validate=True)
