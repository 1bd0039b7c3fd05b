"""Recurrent networks by hand against Keras, gradients through time against finite differences, memory seeded."""
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from models.sequences import gradients as gt
from models.sequences import memory
from models.sequences import rnn_steps as rs

SIZES = [(1, 2, 3, 0), (2, 3, 5, 1), (3, 2, 4, 2), (4, 5, 7, 3), (2, 1, 1, 4)]  # inputs, units, steps, seed


def random_weights(n_in, units, steps, seed, gates=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(steps, n_in)), rng.normal(size=(n_in, gates * units)),
            rng.normal(size=(units, gates * units)), rng.normal(size=gates * units),
            rng.normal(size=units), rng.normal(size=units))


@pytest.mark.parametrize("n_in, units, steps, seed", SIZES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_rnn_by_hand_equals_keras(n_in, units, steps, seed, activation):
    x, w, u, b, h0, _ = random_weights(n_in, units, steps, seed)
    hand = rs.simple_rnn_steps(x, w, u, b, h0=h0, activation=activation)
    keras_h = rs.keras_simple_rnn(x, w, u, b, h0=h0, activation=activation)
    assert hand.shape == (steps, units)
    np.testing.assert_allclose(hand, keras_h, rtol=0, atol=1e-9)


@pytest.mark.parametrize("n_in, units, steps, seed", SIZES)
def test_lstm_by_hand_equals_keras(n_in, units, steps, seed):
    x, w, u, b, h0, c0 = random_weights(n_in, units, steps, seed, gates=4)
    hand = rs.lstm_steps(x, w, u, b, h0=h0, c0=c0)
    by_keras = rs.keras_lstm(x, w, u, b, h0=h0, c0=c0)
    assert set(hand) == {"h", "c", "i", "f", "g", "o"} and all(v.shape == (steps, units) for v in hand.values())
    np.testing.assert_allclose(hand["h"], by_keras["h"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(hand["h"][-1], by_keras["h_last"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(hand["c"][-1], by_keras["c_last"], rtol=0, atol=1e-9)


def test_lstm_kernel_columns_are_i_f_c_o():
    """Only the forget block's bias is large: f must be ~1, and c_t = f·c_{t−1} + i·g must hold at every step."""
    units = 2
    bias = np.zeros(4 * units)
    bias[units:2 * units] = 30.0
    out = rs.lstm_steps([[1.0], [2.0]], np.ones((1, 8)) * 0.1, np.zeros((units, 8)), bias, c0=[0.5, -0.5])
    np.testing.assert_allclose(out["f"], 1.0, atol=1e-12)
    np.testing.assert_allclose(out["c"][0], 1.0 * np.array([0.5, -0.5]) + out["i"][0] * out["g"][0])
    np.testing.assert_allclose(out["h"], out["o"] * np.tanh(out["c"]))
    assert rs.lstm_column_names(2) == ["i:h1", "i:h2", "f:h1", "f:h2", "c:h1", "c:h2", "o:h1", "o:h2"]


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm"])
def test_every_preset_computes_and_matches_keras(cell):
    presets = rs.load_presets(cell)
    assert len(presets) >= 2
    for preset in presets.values():
        args = [preset[k] for k in ("inputs", "kernel", "recurrent_kernel", "bias")]
        tables = rs.weight_tables(preset)
        if cell == "simple_rnn":
            hand = rs.simple_rnn_steps(*args)
            assert 1 <= len(preset["inputs"][0]) <= 3 and 2 <= hand.shape[1] <= 3 and 3 <= hand.shape[0] <= 5
            np.testing.assert_allclose(hand, rs.keras_simple_rnn(*args), atol=1e-9)
            # The text tables the page edits give back the same numbers.
            np.testing.assert_allclose(rs.simple_rnn_steps(*tables.values()), hand, atol=1e-12)
        else:
            np.testing.assert_allclose(rs.lstm_steps(*args)["h"], rs.keras_lstm(*args)["h"], atol=1e-9)
            np.testing.assert_allclose(rs.lstm_steps(*tables.values())["h"], rs.lstm_steps(*args)["h"], atol=1e-12)


def test_simple_rnn_lines_write_out_the_numbers():
    preset = rs.load_presets("simple_rnn")["A pulse fading away (1 input, 2 units, 4 steps)"]
    lines = rs.simple_rnn_lines(*(preset[k] for k in ("inputs", "kernel", "recurrent_kernel", "bias")))
    assert len(lines) == 4 and len(lines[0]) == 2
    assert lines[0][0] == "h1(t=1) = tanh(1×0.5 + 0×0.8 + 0×0.3 + 0) = tanh(0.5) = 0.462117"
    h1 = math.tanh(0.5)
    h2 = math.tanh(-0.3 + 0.1)
    z = 0 * 0.5 + h1 * 0.8 + h2 * 0.3
    assert lines[1][0].endswith(f"= tanh({rs.fmt(z)}) = {rs.fmt(math.tanh(z))}")


def test_lstm_lines_show_every_gate_and_both_states():
    preset = next(iter(rs.load_presets("lstm").values()))
    args = [preset[k] for k in ("inputs", "kernel", "recurrent_kernel", "bias")]
    lines, out = rs.lstm_lines(*args), rs.lstm_steps(*args)
    step = "\n".join(lines[0])
    for gate in ("i1 = sigmoid(", "f1 = sigmoid(", "g1 = tanh(", "o1 = sigmoid(", "c1 = f·c_prev + i·g",
                 "h1 = o·tanh(c)"):
        assert gate in step
    assert f"= {rs.fmt(out['h'][0, 0])}" in step


def test_text_cells_are_parsed_like_every_other_number():
    x = pd.DataFrame({"x1": ["2e3", "1,5", "−0.25"]}, index=["t=1", "t=2", "t=3"])
    np.testing.assert_allclose(rs.as_matrix(x, "Inputs x").ravel(), [2000, 1.5, -0.25])
    out = rs.simple_rnn_steps(x, [["0,001", "0"]], [[0, 0], [0, 0]], ["0", "0"])
    np.testing.assert_allclose(out[:, 0], np.tanh([2.0, 0.0015, -0.00025]))


@pytest.mark.parametrize("call, message", [
    (lambda: rs.simple_rnn_steps(pd.DataFrame({"x1": ["abc"]}, index=["t=1"]), [[1.0]], [[0.0]], [0.0]),
     "Inputs x, t=1, x1: 'abc' is not a number"),
    (lambda: rs.simple_rnn_steps([[1.0]], pd.DataFrame({"h1": [None]}, index=["x1"]), [[0.0]], [0.0]),
     "Kernel W, x1, h1 is empty"),
    (lambda: rs.simple_rnn_steps([[1.0, 2.0]], [[1.0]], [[0.0]], [0.0]), "Kernel W has 1 row"),
    (lambda: rs.simple_rnn_steps([[1.0]], [[1.0, 1.0]], [[0.0]], [0.0, 0.0]), "Recurrent kernel U has 1 row"),
    (lambda: rs.simple_rnn_steps([[1.0]], [[1.0]], [[0.0]], [0.0, 1.0]), "Bias b has 2 numbers but needs 1"),
    (lambda: rs.simple_rnn_steps([[math.inf]], [[1.0]], [[0.0]], [0.0]), "Inputs x, row 1, column 1"),
    (lambda: rs.simple_rnn_steps([[1.0]], [[1.0]], [[0.0]], [0.0], activation="softsign"), "Unknown activation"),
    (lambda: rs.lstm_steps([[1.0]], np.zeros((1, 7)), np.zeros((1, 7)), np.zeros(7)), "needs 4 × units"),
    (lambda: rs.lstm_steps([[1.0]], np.zeros((1, 8)), np.zeros((2, 8)), [0, 0, 0, "x", 0, 0, 0, 0]),
     "LSTM bias b, row 1, column 4: 'x' is not a number"),
    (lambda: rs.lstm_steps([], np.zeros((1, 8)), np.zeros((2, 8)), np.zeros(8)), "Inputs x is empty"),
    (lambda: gt.gradient_through_time("transformer", length=5), "Unknown cell 'transformer'"),
    (lambda: gt.gradient_through_time("lstm", length=0), "The sequence length must be a whole number"),
    (lambda: gt.gradient_through_time("gru", length=5, activation="softmax"), "Unknown activation"),
])
def test_bad_input_names_the_table_and_the_cell(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("×", ".")):
        call()


# ---------- gradients through time ----------

@pytest.mark.parametrize("cell", list(gt.CELLS))
def test_gradient_through_time_equals_finite_differences(cell):
    layer, x = gt.gradient_problem(cell, length=4, units=3, recurrent_scale=1.3, seed=5, dtype="float64")
    values = x.numpy()
    numeric = np.zeros_like(values)
    eps = 1e-6
    for index in np.ndindex(values.shape):
        up, down = values.copy(), values.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (float(gt.last_step_loss(layer, tf.constant(up)))
                          - float(gt.last_step_loss(layer, tf.constant(down)))) / (2 * eps)
    norms = gt.gradient_through_time(cell, length=4, units=3, recurrent_scale=1.3, seed=5, dtype="float64")
    assert norms.shape == (4,)
    np.testing.assert_allclose(norms, np.linalg.norm(numeric[0], axis=1), rtol=1e-6)


def test_simple_rnn_gradient_falls_off_geometrically_with_scale_half():
    norms = gt.gradient_through_time("simple_rnn", length=30, recurrent_scale=0.5, dtype="float64")
    ratios = norms[:-1] / norms[1:]  # ‖∂L/∂x_{t−1}‖ / ‖∂L/∂x_t‖
    assert (ratios < 1).all()
    assert 0.2 < np.exp(np.mean(np.log(ratios))) < 0.5  # at most the scale: the tanh slope is ≤ 1
    slope, intercept = np.polyfit(np.arange(30), np.log(norms), 1)
    fitted = slope * np.arange(30) + intercept
    r_squared = 1 - np.sum((np.log(norms) - fitted) ** 2) / np.sum((np.log(norms) - np.log(norms).mean()) ** 2)
    assert r_squared > 0.98  # a straight line on the log scale: geometric
    linear = gt.gradient_report("simple_rnn", length=30, recurrent_scale=0.5, activation="linear", dtype="float64")
    assert linear.step_factor == pytest.approx(0.5, abs=0.03)  # orthogonal × 0.5, no activation slope


def test_scale_above_one_explodes_and_overflow_is_explained():
    growing = gt.gradient_report("simple_rnn", length=60, recurrent_scale=1.5, activation="linear")
    assert growing.finite and growing.step_factor > 1.4 and growing.first_to_last > 1e8
    assert "explodes" in gt.explain(growing)
    broken = gt.gradient_report("simple_rnn", length=100, recurrent_scale=3.0, activation="relu")
    assert not broken.finite
    assert "inf" in gt.explain(broken) and "float32" in gt.explain(broken)


def test_lstm_keeps_more_gradient_than_simple_rnn_at_the_same_scale():
    simple = gt.gradient_report("simple_rnn", length=40, recurrent_scale=0.5, dtype="float64")
    lstm = gt.gradient_report("lstm", length=40, recurrent_scale=0.5, dtype="float64")
    assert lstm.step_factor > simple.step_factor
    assert lstm.first_to_last > 1e3 * simple.first_to_last
    assert "forget gate" in gt.explain(lstm)


@pytest.mark.parametrize("norm", [0.5, 3.0, 1e6])
def test_clipnorm_step_is_learning_rate_times_the_clipped_norm(norm):
    step = gt.clipped_step(norm, learning_rate=0.1, clipnorm=1.0)
    # Keras keeps the learning rate as a float32 variable: 0.1 is stored as 0.100000001.
    assert step["plain"] == pytest.approx(0.1 * norm, rel=1e-7)
    assert step["clipped"] == pytest.approx(0.1 * min(norm, 1.0), rel=1e-7)


def test_clipping_cannot_repair_an_infinite_gradient():
    assert math.isnan(gt.clipped_step(math.inf)["clipped"])


def test_gradients_are_seeded():
    a = gt.gradient_through_time("gru", length=10, seed=3)
    np.testing.assert_array_equal(a, gt.gradient_through_time("gru", length=10, seed=3))
    assert not np.array_equal(a, gt.gradient_through_time("gru", length=10, seed=4))


# ---------- memory ----------

def test_first_token_task_labels_are_the_first_token():
    x, y = memory.make_first_token_task(6, 50, classes=3, noise_symbols=2, noise_scale=0.0, seed=1)
    assert x.shape == (50, 6, 6)  # 3 label symbols, 2 noise symbols, the first-token marker
    np.testing.assert_array_equal(x[:, 0, :5].argmax(-1), y)
    assert (x[:, 1:, :5].argmax(-1) >= 3).all()  # noise symbols only after the first step
    np.testing.assert_array_equal(x[:, :, 5], np.eye(6)[0][None].repeat(50, 0))  # the marker: first step only
    x2, y2 = memory.make_first_token_task(6, 50, classes=3, noise_symbols=2, noise_scale=0.0, seed=1)
    np.testing.assert_array_equal(x, x2)
    same_symbols, _ = memory.make_first_token_task(6, 50, classes=3, noise_symbols=0, marker=False, seed=1)
    assert same_symbols.shape == (50, 6, 3)


def test_noise_is_gaussian_on_every_symbol_after_the_first_token():
    clean, y = memory.make_first_token_task(30, 400, noise_scale=0.0, seed=2)
    noisy, y2 = memory.make_first_token_task(30, 400, noise_scale=0.7, seed=2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(noisy[:, 0], clean[:, 0])  # the label token is clean
    np.testing.assert_array_equal(noisy[..., -1], clean[..., -1])  # and so is the marker
    added = (noisy - clean)[:, 1:, :-1]
    assert abs(added.mean()) < 0.02 and abs(added.std() - 0.7) < 0.02


TINY = replace(memory.DEFAULTS, lengths=(3, 6), units=4, n_train=32, n_val=16, epochs=3, batch_size=16, seed=7)


@pytest.mark.slow
def test_memory_comparison_is_seeded():
    cache = {}
    first = memory.compare(TINY, cache=cache, chunk=2)
    again = memory.compare(TINY, cache={}, chunk=3)  # other chunking, other trainer objects: the same curves
    pd.testing.assert_frame_equal(first.table().drop(columns="seconds"), again.table().drop(columns="seconds"))
    for a, b in zip(first.runs, again.runs):
        pd.testing.assert_frame_equal(a.history, b.history)
    assert [(r.cell, r.length) for r in first.runs] == [("simple_rnn", 3), ("lstm", 3), ("simple_rnn", 6),
                                                        ("lstm", 6)]
    other = memory.compare(replace(TINY, seed=8), cache=cache)  # the same compiled programs, another seed
    assert not first.table()["val_accuracy"].equals(other.table()["val_accuracy"]) or not all(
        a.history["loss"].equals(b.history["loss"]) for a, b in zip(first.runs, other.runs))


@pytest.mark.slow
def test_a_reused_trainer_starts_from_the_seeds_weights():
    cache = {}
    trainer = memory.get_trainer(TINY, "lstm", cache)
    data = memory.task_data(TINY, 3)
    *_, first = trainer.train(*data, epochs=2, learning_rate=0.01, seed=1)
    assert memory.get_trainer(TINY, "lstm", cache) is trainer
    *_, again = trainer.train(*data, epochs=2, learning_rate=0.01, seed=1)
    pd.testing.assert_frame_equal(first, again)
    fresh = memory.build_sequence_model("lstm", symbols=memory.symbols(TINY), classes=TINY.classes,
                                        units=TINY.units, seed=1)
    trainer.reset(1, 0.01)
    for a, b in zip(trainer.model.weights, fresh.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.slow
def test_validation_curve_equals_keras_on_the_trained_model():
    trainer = memory.get_trainer(TINY, "simple_rnn")
    x, y, xv, yv = memory.task_data(TINY, 6)
    *_, history = trainer.train(x, y, xv, yv, epochs=3, learning_rate=0.05, seed=3)
    p = trainer.model.predict_on_batch(xv)
    assert history["val_accuracy"].iloc[-1] == pytest.approx(np.mean(p.argmax(-1) == yv), abs=1e-6)
    loss = -np.mean(np.log(p[np.arange(len(yv)), yv]))
    assert history["val_loss"].iloc[-1] == pytest.approx(loss, rel=1e-4)


@pytest.mark.slow
def test_simple_rnn_falls_to_chance_and_the_lstm_holds_on():
    """The page's default settings (seed 0) at a short and the longest default length: a measurement that can fail."""
    comparison = memory.compare(replace(memory.DEFAULTS, lengths=(10, 40)))
    accuracy = {(r.cell, r.length): r.val_accuracy for r in comparison.runs}
    assert accuracy["simple_rnn", 10] > 0.9 and accuracy["lstm", 10] > 0.9  # short sequences: both remember
    assert abs(accuracy["simple_rnn", 40] - comparison.chance) < 0.1
    assert accuracy["lstm", 40] > accuracy["simple_rnn", 40] + 0.3
    assert comparison.falls_to_chance("simple_rnn") == 40 and comparison.falls_to_chance("lstm") is None


def test_falls_to_chance_reads_the_longest_run_of_chance_lengths():
    def run(cell, length, accuracy):
        return memory.RunResult(cell, length, pd.DataFrame({"val_accuracy": [accuracy]}), 0.0)
    runs = (run("simple_rnn", 5, 1.0), run("simple_rnn", 10, 0.3), run("simple_rnn", 20, 0.9),
            run("simple_rnn", 40, 0.26), run("simple_rnn", 80, 0.2), run("lstm", 80, 1.0))
    comparison = memory.Comparison(replace(memory.DEFAULTS, classes=4), runs)
    assert comparison.chance == 0.25
    assert comparison.falls_to_chance("simple_rnn") == 40
    assert comparison.falls_to_chance("lstm") is None


@pytest.mark.parametrize("change, message", [
    ({"lengths": (1,)}, "Every sequence length must be a whole number between 2 and 100"),
    ({"lengths": ()}, "at least one sequence length"),
    ({"units": 0}, "The number of units"),
    ({"learning_rate": 0.0}, "The learning rate must be a number"),
    ({"cells": ("gru",)}, "Unknown cell 'gru'"),
    ({"lengths": (100,), "epochs": 200, "units": 64}, "too much training for one click"),
])
def test_bad_memory_settings_give_messages(change, message):
    with pytest.raises(ValueError, match=message):
        memory.check_settings(replace(memory.DEFAULTS, **change))
