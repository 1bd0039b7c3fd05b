"""The recurrent-networks page shows what the library computes, and bad cells get a message."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from models.sequences import gradients as gt
from models.sequences import memory
from models.sequences import rnn_steps as rs

PAGE = str(Path(__file__).resolve().parent.parent / "pages/recurrent.py")
ARGS = ("inputs", "kernel", "recurrent_kernel", "bias")


@pytest.fixture(scope="module")
def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=300).run()


def fresh(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def edit(at, key_start, row, column, text) -> AppTest:
    key = next(e.key for e in at.data_editor if e.key.startswith(key_start))
    at.session_state[key] = {"edited_rows": {row: {column: text}}, "added_rows": [], "deleted_rows": []}
    return at.run()


def steps(at) -> list[str]:
    """The written steps (the other code block is the "Link to this setup" address)."""
    return [c.value for c in at.code if "?" not in c.value]


def test_page_renders_every_section(page):
    assert not page.exception, [e.value for e in page.exception]
    headers = [h.value for h in page.header]
    assert headers == ["1 · A SimpleRNN, step by step", "2 · An LSTM cell, gate by gate",
                       "3 · Vanishing and exploding gradients through time", "4 · Memory, measured"]
    assert not page.error


def test_written_steps_equal_the_library(page):
    simple = next(iter(rs.load_presets("simple_rnn").values()))
    lstm = next(iter(rs.load_presets("lstm").values()))
    blocks = steps(page)
    expected = (["\n".join(s) for s in rs.simple_rnn_lines(*(simple[k] for k in ARGS))]
                + ["\n".join(s) for s in rs.lstm_lines(*(lstm[k] for k in ARGS))])
    assert blocks == expected


def test_keras_columns_equal_a_direct_keras_call(page):
    simple = next(iter(rs.load_presets("simple_rnn").values()))
    comparisons = [d.value for d in page.dataframe if "Keras" in d.value.columns]
    assert len(comparisons) == 2
    shown = comparisons[0]
    direct = rs.keras_simple_rnn(*(simple[k] for k in ARGS))
    assert list(shown["Keras"]) == [rs.fmt(v) for v in direct.ravel()]
    assert all(float(d) < 1e-12 for d in shown["difference"])
    lstm = next(iter(rs.load_presets("lstm").values()))
    shown = comparisons[1]
    assert list(shown["Keras"]) == [rs.fmt(v) for v in rs.keras_lstm(*(lstm[k] for k in ARGS))["h"].ravel()]


def test_gradient_sentences_equal_the_library(page):
    for cell, text in zip(gt.CELLS, [m.value for m in page.markdown if m.value.startswith("**") and "." in m.value
                                     and m.value.split(".")[0].strip("*") in gt.CELLS.values()]):
        report = gt.gradient_report(cell, length=50, recurrent_scale=0.9, activation="tanh")
        assert text == f"**{gt.CELLS[cell]}.** {gt.explain(report)}"
    chart = next(c for c in page.get("vega_lite_chart") if "log" in c.proto.spec)
    assert '"type": "log"' in chart.proto.spec or '"type":"log"' in chart.proto.spec


def test_text_cells_accept_2e3_and_a_decimal_comma():
    at = fresh()
    at = edit(at, "recurrent_simple_rnn_x_", 0, "x1", "2e3")
    at = edit(at, "recurrent_simple_rnn_w_", 0, "h1", "1,5")
    assert not at.exception and not at.error
    preset = next(iter(rs.load_presets("simple_rnn").values()))
    x = np.array(preset["inputs"])
    x[0, 0] = 2000
    w = np.array(preset["kernel"])
    w[0, 0] = 1.5
    expected = rs.simple_rnn_lines(x, w, preset["recurrent_kernel"], preset["bias"])
    assert steps(at)[0] == "\n".join(expected[0])


@pytest.mark.parametrize("key_start, column, text, message", [
    ("recurrent_simple_rnn_x_", "x1", "abc", "Inputs x, t=1, x1: 'abc' is not a number"),
    ("recurrent_simple_rnn_u_", "h2", "", "Recurrent kernel U, h1, h2 is empty"),
    ("recurrent_lstm_w_", "f:h2", "1e309", "LSTM kernel W, x1, f:h2: 1e309 is too large"),
])
def test_a_bad_cell_is_named_on_the_page(key_start, column, text, message):
    at = edit(fresh(), key_start, 0, column, text)
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_overflow_is_caught_and_explained():
    at = fresh(recurrent_grad_length=100, recurrent_grad_scale=3.0, recurrent_grad_activation="relu",
               recurrent_grad_cells=["simple_rnn"])
    assert not at.exception
    assert any("overflowed" in e.value and "inf" in e.value for e in at.error)
    assert any("Clipping cannot repair" in c.value for c in at.caption)


def test_clipnorm_paragraph_uses_keras_numbers(page):
    report = gt.gradient_report("simple_rnn", length=50, recurrent_scale=0.9, activation="tanh")
    step = gt.clipped_step(report.weight_gradient_norm, learning_rate=0.1, clipnorm=1.0)
    text = next(m.value for m in page.markdown if m.value.startswith("**The fix for exploding"))
    assert f"moves U by {rs.fmt(step['plain'])}" in text and f"moves U by {rs.fmt(step['clipped'])}" in text


def test_training_needs_a_guess_first(page):
    assert page.button(key="recurrent_mem_train").disabled


@pytest.mark.slow
def test_memory_training_on_the_page_equals_the_library():
    at = fresh(recurrent_mem_lengths=[5], recurrent_mem_units=4, recurrent_mem_epochs=2)
    at.radio(key="recurrent_mem_guess").set_value("5").run()
    at.button(key="recurrent_mem_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    result = at.session_state["recurrent_mem_result"]
    direct = memory.compare(replace(memory.DEFAULTS, lengths=(5,), units=4, epochs=2))
    assert list(result.table()["val_accuracy"]) == list(direct.table()["val_accuracy"])
    answer = direct.falls_to_chance("simple_rnn")
    verdict = next(m.value for m in [*at.success, *at.warning] if "You picked" in m.value)
    assert ("that is right" in verdict) == (answer == 5)
    assert any("validation accuracy" in c.proto.spec for c in at.get("vega_lite_chart"))
    seconds = sum(result.table()["seconds"])
    assert any(f"with seed {memory.DEFAULTS.seed} (not an average); {seconds:.1f} s" in c.value for c in at.caption)


def test_memory_task_description_states_the_library_defaults(page):
    d = memory.DEFAULTS
    text = next(m.value for m in page.markdown if m.value.startswith("The task: **the label is the first token"))
    assert f"one of {d.classes} label symbols" in text and f"guessing gives {1 / d.classes:.0%}" in text
    assert f"one of {d.noise_symbols} noise symbols plus random noise (σ = {d.noise_scale:g})" in text
    x, _ = memory.make_first_token_task(5, 4, classes=d.classes, noise_symbols=d.noise_symbols,
                                        noise_scale=d.noise_scale, marker=d.marker)
    assert x.shape[2] == d.classes + d.noise_symbols + 1 and d.marker  # "marked as the first": the marker channel


def test_bad_memory_settings_give_a_message():
    at = fresh(recurrent_mem_lengths=[])
    at.radio(key="recurrent_mem_guess").set_value(at.radio(key="recurrent_mem_guess").options[0]).run()
    at.button(key="recurrent_mem_train").click().run()
    assert not at.exception
    assert any("at least one sequence length" in e.value for e in at.error)
