"""Dropout page: Keras' and the engine's scaling by hand, the masks, the with/without comparison, and the page."""
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from streamlit.testing.v1 import AppTest

from models.core.guess import grade_choice
from models.engine.mlp import build_mlp
from models.engine.randomness import apply_dropout, hash_key
from models.engine.runs import chunk_epochs
from models.engine.settings import CHUNK_CAPACITY, TrainingResult
from models.training import dropout as do

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/dropout.py")
TINY = {"dataset": "two moons", "n_samples": 40, "noise": 0.3, "hidden_units": (16, 16), "dropout_rate": 0.5,
        "dropout_layers": (1, 2), "epochs": 6, "learning_rate": 0.01, "seed": 0}


# --- Scaling: kept units times 1/(1 - rate), dropped ones 0, inference unchanged ---

@pytest.mark.parametrize("rate", [0.5, 0.3, 0.8])
def test_keras_dropout_scales_kept_units_in_training_only(rate):
    x = np.linspace(0.5, 3.0, 2000, dtype=np.float32)
    layer = keras.layers.Dropout(rate, seed=7)
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    inferred = keras.ops.convert_to_numpy(layer(x, training=False))
    kept = trained != 0
    assert 0 < kept.sum() < x.size
    # By hand: 1/(1 - 0.5) = 2 exactly; for other rates within float32 rounding.
    np.testing.assert_allclose(trained[kept], x[kept].astype(np.float64) / (1 - rate), rtol=2e-7)
    if rate == 0.5:
        np.testing.assert_array_equal(trained[kept], x[kept] * 2)
    assert (trained[~kept] == 0).all()
    np.testing.assert_array_equal(inferred, x)


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_engine_mask_path_scales_kept_units(rate):
    h = tf.constant(np.linspace(0.5, 3.0, 2000, dtype=np.float32).reshape(40, 50))
    out = apply_dropout(h, rate, hash_key(3, 1, 2, 1)).numpy()
    x = h.numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept].astype(np.float64) / (1 - rate), rtol=2e-7)
    assert (out[~kept] == 0).all()
    if rate == 0.5:
        np.testing.assert_array_equal(out[kept], x[kept] * 2)


def test_scaling_example_table_by_hand():
    table = do.scaling_example(0.5, seed=4)
    x = table["activation"].to_numpy()
    np.testing.assert_array_equal(x, np.round(x, 1))  # one decimal, so a hand check is easy
    kept = (table["kept"] == "kept").to_numpy()
    assert (table["training output"].to_numpy() != 0).tolist() == kept.tolist()
    np.testing.assert_array_equal(table["training output"].to_numpy()[kept], x[kept] * 2)
    assert (table["training output"].to_numpy()[~kept] == 0).all()
    np.testing.assert_array_equal(table["inference output"].to_numpy(), x)
    # The same seed gives the same mask; a fresh layer each time, so nothing carries over between calls.
    pd.testing.assert_frame_equal(table, do.scaling_example(0.5, seed=4))


def test_training_output_keeps_the_mean_over_many_units():
    mean_in, mean_out, dropped = do.large_sample_means(0.3, seed=1)
    x = np.random.default_rng(1).uniform(0.1, 2.0, 10_000)
    assert mean_in == pytest.approx(x.mean(), rel=1e-6)
    assert dropped == pytest.approx(0.3, abs=0.015)  # binomial sd is 0.0046
    assert mean_out == pytest.approx(mean_in, rel=0.03)


# --- Masks ---

MASK = {"rate": 0.3, "seed": 5, "epoch": 2, "step": 1, "layer": 2, "dropout_layers": (1, 2), "units": 256,
        "batch_size": 400}


def test_mask_fraction_is_close_to_the_rate():
    for rate in (0.1, 0.5, 0.9):
        mask = do.training_mask(**{**MASK, "rate": rate})
        assert mask.shape == (400, 256) and mask.dtype == bool
        assert (~mask).mean() == pytest.approx(rate, abs=0.01)  # 102,400 units: sd at most 0.0016


def test_same_seed_same_mask_new_seed_or_step_new_mask():
    mask = do.training_mask(**MASK)
    np.testing.assert_array_equal(mask, do.training_mask(**MASK))
    for change in ({"seed": 6}, {"step": 2}, {"epoch": 3}, {"layer": 1}):
        assert not np.array_equal(mask, do.training_mask(**{**MASK, **change})), change


def test_layer_position_matches_the_built_model():
    for chosen in [(1,), (2,), (3,), (1, 2), (1, 3), (2, 3), (1, 2, 3)]:
        model = build_mlp(hidden_units=(4, 4, 4), dropout_rate=0.5, dropout_layers=chosen)
        names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        for layer in chosen:
            assert do.layer_position(layer, chosen) == names.index(f"dropout_{layer}")


@pytest.mark.parametrize("chosen", [(2,), (1, 2)])
def test_shown_mask_is_the_mask_training_applies(chosen):
    """A hand forward pass with the viewer's masks equals the engine's own training-time forward pass."""
    settings = do.check_comparison(**{**TINY, "dropout_layers": chosen, "seed": 3})
    trainer = do.start_comparison(settings)[do.WITH]
    assert trainer.batch_size == 20  # 20 training points: every batch is all of them
    xb = np.random.default_rng(0).normal(size=(trainer.batch_size, 2)).astype(np.float32)
    epoch, step = 4, 1
    engine = trainer._forward(tf.constant(xb), True, tf.constant(3), tf.constant(epoch), tf.constant(step)).numpy()
    h = xb.astype(np.float64)
    for k in (1, 2):
        dense = trainer.model.get_layer(f"hidden_{k}")
        h = np.maximum(h @ dense.kernel.numpy() + dense.bias.numpy(), 0.0)
        if k in chosen:
            mask = do.training_mask(rate=0.5, seed=3, epoch=epoch, step=step, layer=k, dropout_layers=chosen,
                                    units=16, batch_size=trainer.batch_size)
            h = np.where(mask, h * 2.0, 0.0)
    out = trainer.model.get_layer("output")
    by_hand = 1 / (1 + np.exp(-(h @ out.kernel.numpy() + out.bias.numpy())))
    np.testing.assert_allclose(engine, by_hand, rtol=1e-4, atol=1e-6)


# --- The comparison ---

def test_both_runs_get_the_same_data_and_initial_weights():
    settings = do.check_comparison(**{**TINY, "seed": 2})
    trainers = do.start_comparison(settings)
    off, on = trainers[do.WITHOUT], trainers[do.WITH]
    for ours, theirs in zip(off._data, on._data):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x, y, xv, yv = do.comparison_data(settings)
    np.testing.assert_array_equal(off._data[0].numpy(), x.astype(np.float32))
    assert len(x) == settings.n_train == 20 and len(xv) == settings.n_val == 20
    assert len(off.model.get_weights()) == len(on.model.get_weights()) == 6
    for ours, theirs in zip(off.model.get_weights(), on.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert [type(layer).__name__ for layer in on.model.layers].count("Dropout") == 2
    assert [type(layer).__name__ for layer in off.model.layers].count("Dropout") == 0
    dense = lambda model: [(layer.name, layer.units) for layer in model.layers if isinstance(layer, keras.layers.Dense)]  # noqa: E731
    assert dense(off.model) == dense(on.model)
    assert do.count_weights((16, 16)) == off.model.count_params() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def result_of(history: dict) -> TrainingResult:
    h = pd.DataFrame(history)
    return TrainingResult(history=h, status="finished", epochs_run=len(h), epochs=len(h), best_epoch=None,
                          best_val_loss=None, diverged_at=None, message="")


def test_gap_table_and_answers_from_the_histories():
    off = result_of({"epoch": [1, 2, 3], "loss": [0.6, 0.3, 0.1], "val_loss": [0.5, 0.4, 0.9]})
    on = result_of({"epoch": [1, 2, 3], "loss": [0.7, 0.5, 0.4], "val_loss": [0.6, 0.45, 0.35]})
    table = do.gap_table({do.WITHOUT: off, do.WITH: on}).set_index("run")
    assert list(table.columns) == ["epochs", "train loss", "val loss", "gap", "best epoch", "lowest val loss",
                                   "gap at best"]
    assert table.loc[do.WITHOUT].tolist() == pytest.approx([3, 0.1, 0.9, 0.8, 2, 0.4, 0.1])
    assert table.loc[do.WITH].tolist() == pytest.approx([3, 0.4, 0.35, -0.05, 3, 0.35, -0.05])
    answer = do.answers({do.WITHOUT: off, do.WITH: on})
    assert (answer["epoch"], answer["training"], answer["validation"]) == (3, "higher", "lower")
    # A run stopped earlier: compare at the last epoch both reached.
    short = result_of({"epoch": [1, 2], "loss": [0.7, 0.2], "val_loss": [0.6, 0.3]})
    answer = do.answers({do.WITHOUT: off, do.WITH: short})
    assert (answer["epoch"], answer["training"], answer["validation"]) == (2, "lower", "lower")
    empty = result_of({"epoch": [], "loss": [], "val_loss": []})
    assert do.answers({do.WITHOUT: off, do.WITH: empty}) is None
    assert do.gap_table({do.WITHOUT: empty, do.WITH: on})["run"].tolist() == [do.WITH]


@pytest.fixture(scope="module")
def tiny_run():
    """The TINY comparison trained side by side in many small chunks, as the page does."""
    settings = do.check_comparison(**TINY)
    cache = {}
    trainers = do.start_comparison(settings, cache=cache)
    snapshots = list(do.train_side_by_side(trainers, seconds_per_chunk=0.0001))
    return settings, cache, snapshots


@pytest.mark.slow
def test_side_by_side_equals_each_run_alone(tiny_run):
    settings, cache, snapshots = tiny_run
    final = snapshots[-1]
    assert list(final) == list(do.RUNS) and len(snapshots) == 2 * settings.epochs  # one epoch per chunk
    assert [r.status for r in final.values()] == ["finished", "finished"]
    trainers = do.start_comparison(settings, cache=cache)  # cached: the same compiled trainers, restarted
    for run, trainer in trainers.items():
        while not trainer.done:  # this run alone, same chunk length (so nothing new to compile)
            alone = trainer.run(1)
        assert final[run].history.equals(alone.history), run
    epochs_seen = [tuple(r.epochs_run for r in snap.values()) for snap in snapshots]
    assert epochs_seen == sorted(epochs_seen)  # the curves only grow


@pytest.mark.slow
def test_divergence_gives_a_clean_result(tiny_run):
    _, cache, _ = tiny_run
    settings = do.check_comparison(**{**TINY, "learning_rate": 1e6})
    final = list(do.train_side_by_side(do.start_comparison(settings, cache=cache), seconds_per_chunk=0.0001))[-1]
    for result in final.values():
        assert result.status == "diverged" and result.done
        assert f"diverged at epoch {result.diverged_at}" in result.message
        assert np.isfinite(result.history[["loss", "val_loss"]].to_numpy()).all()
    table = do.gap_table(final)
    assert np.isfinite(table.drop(columns="run").to_numpy(dtype=float)).all()


def test_one_chunk_policy_for_both_pages():
    """The engine's policy (any length: its compiled loop never recompiles); no second list of lengths here."""
    assert chunk_epochs(0.2, 0.001) == 200
    assert chunk_epochs(0.15, 0.14) == 1  # a slow epoch: Stop still works within a chunk
    assert chunk_epochs(10.0, 1e-6) == CHUNK_CAPACITY
    assert not hasattr(do, "CHUNK_SIZES") and not hasattr(do, "chunk_epochs")


# --- Bad settings ---

@pytest.mark.parametrize("change, message", [
    ({"dropout_rate": 1.0}, "below 1"), ({"dropout_rate": -0.1}, "at least 0"),
    ({"dropout_rate": float("nan")}, "must be a number"), ({"dropout_rate": 0.0}, "drops nothing"),
    ({"dropout_layers": ()}, "at least one hidden layer"), ({"dropout_layers": (3,)}, "hidden layers 1 to 2"),
    ({"epochs": 0}, "at least 1 epoch"), ({"learning_rate": 0.0}, "above 0"),
    ({"n_samples": 3}, "too few"), ({"n_samples": 20_000}, "at most 10000"),
    ({"dataset": "sine (regression)"}, "Unknown dataset"), ({"noise": -1.0}, "noise"), ({"seed": -1}, "seed"),
    ({"hidden_units": (512, 512, 512), "n_samples": 1000, "epochs": 5000}, "too much training"),
])
def test_bad_settings_give_clear_messages(change, message):
    with pytest.raises(ValueError, match=message):
        do.check_comparison(**{**TINY, **change})


def test_half_the_work_cap_per_run():
    weights = do.count_weights((512, 512))
    epochs = do.MAX_WORK_PER_RUN // (1000 * weights)
    do.check_comparison(**{**TINY, "hidden_units": (512, 512), "n_samples": 1000, "epochs": int(epochs)})
    with pytest.raises(ValueError, match="too much training"):
        do.check_comparison(**{**TINY, "hidden_units": (512, 512), "n_samples": 1000, "epochs": int(epochs) + 1})
    assert do.MAX_WORK_PER_RUN * 2 <= 10**10


# --- The page ---

def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=300).run()


def texts(at) -> str:
    return "\n".join(e.value for kind in ("error", "warning", "info", "success", "markdown", "caption")
                     for e in getattr(at, kind))


@pytest.mark.slow
def test_page_trains_and_shows_the_direct_numbers(tiny_run):
    settings, _, snapshots = tiny_run
    final = snapshots[-1]
    at = page()
    assert not at.exception
    at.number_input(key="dropout_epochs").set_value(TINY["epochs"])
    at.selectbox(key="dropout_width").set_value(16)
    at.slider(key="dropout_points").set_value(TINY["n_samples"])
    at.radio(key="dropout_guess_training").set_value("lower")
    at.button(key="dropout_train").click().run()
    assert not at.exception, [e.value for e in at.exception]

    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert len(specs) == 2 and '"line"' in specs[0] and '"rect"' in specs[1]
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), do.gap_table(final))
    answer = do.answers(final)
    on, off = answer["values"]["training"][1], answer["values"]["training"][0]
    assert grade_choice("lower", answer["training"]).message in texts(at)
    assert f"the training loss was {on:.4f} with dropout, {off:.4f} without" in texts(at)

    # The mask statement equals a direct call of the engine's mask path.
    mask = do.training_mask(rate=0.5, seed=0, epoch=0, step=0, layer=1, dropout_layers=(1, 2), units=16,
                            batch_size=20)
    assert f"Epoch 1, batch 1 of 1: **{(~mask).sum()} of 320** units dropped" in texts(at)
    at.button(key="dropout_new_mask").click().run()
    mask = do.training_mask(rate=0.5, seed=0, epoch=1, step=0, layer=1, dropout_layers=(1, 2), units=16,
                            batch_size=20)
    assert f"Epoch 2, batch 1 of 1: **{(~mask).sum()} of 320** units dropped" in texts(at)

    # The scaling example equals Keras' own layer.
    example = at.dataframe[1].value
    trained, inferred = (keras.ops.convert_to_numpy(keras.layers.Dropout(0.5, seed=0)(
        example["activation"].to_numpy(), training=flag)) for flag in (True, False))
    np.testing.assert_array_equal(example["training output"].to_numpy(), trained)
    np.testing.assert_array_equal(example["inference output"].to_numpy(), inferred)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["training-output mean"] == f"{trained.mean():.4f}"
    assert metrics["scale 1/(1 − rate)"] == "2"
    assert not at.exception


@pytest.mark.slow
@pytest.mark.parametrize("widget, key, value, message", [
    ("multiselect", "dropout_layers_2", [], "Pick at least one hidden layer"),
    ("number_input", "dropout_epochs", 0, "Train for at least 1 epoch"),
    ("slider", "dropout_rate", 0.0, "drops nothing"),
])
def test_page_bad_settings_show_messages(widget, key, value, message):
    at = page()
    getattr(at, widget)(key=key).set_value(value).run()
    assert not at.exception
    assert message in " ".join(e.value for e in at.error)
    assert at.button(key="dropout_train").disabled


@pytest.mark.slow
def test_page_states_the_work_cap_and_refuses_too_much():
    at = page()
    at.selectbox(key="dropout_width").set_value(512)
    at.radio(key="dropout_depth").set_value(3).run()
    at.slider(key="dropout_points").set_value(1000)
    at.number_input(key="dropout_epochs").set_value(5000).run()
    assert not at.exception
    assert "too much training for one click" in " ".join(e.value for e in at.error)
    assert f"{do.MAX_WORK_PER_RUN:,}" in texts(at)
    assert at.button(key="dropout_train").disabled
