"""Loss-functions page: what it shows equals a direct library call, and bad input gives a message."""
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from models.core.numbers import format_number
from models.training import loss_fit as F
from models.training import losses as L

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/loss_functions.py")


def page_text(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "info", "caption", "success", "warning", "error")
                     for e in getattr(at, kind))


def chart_data(chart) -> pd.DataFrame:
    """The largest data table a chart carries (the curves, not the marker rule)."""
    tables = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in chart.proto.datasets]
    return max(tables, key=len)


@pytest.fixture
def at():
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_page_renders_with_the_worked_bce_example(at):
    assert not at.exception
    text = page_text(at)
    value, slope, *_ = L.written_out("binary_crossentropy", 1.0, 0.9)
    assert value in text and slope in text
    assert "−ln 0.9 = 0.1054" in text
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # loss and slope; loss and gradient against the logit
    curves = chart_data(charts[1]).reset_index(drop=True)
    expected = L.loss_curves(("binary_crossentropy", "mse"), "classification", 1.0)
    pd.testing.assert_frame_equal(curves[list(expected.columns)], expected)
    logit_table = chart_data(charts[3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(logit_table[["pairing", "logit", "loss", "gradient"]],
                                  L.logit_gradients(1, np.linspace(-8, 8, 161)))
    assert "ONE neuron" in at.table[0].value.to_string()


def test_the_logit_numbers_equal_the_library(at):
    probe = L.logit_probe(1, -6.0)
    text = page_text(at)
    assert f"**{format_number(probe[L.PAIRINGS[0]][1])}**" in text  # about -0.0049: nearly vanishes
    assert f"**{format_number(probe[L.PAIRINGS[1]][1])}**" in text  # -0.9975
    at.number_input(key="loss_logit").set_value(2.0).run()
    assert f"**{format_number(L.logit_probe(1, 2.0)[L.PAIRINGS[1]][1])}**" in page_text(at)


def test_exact_zero_prediction_is_explained(at):
    at.number_input(key="loss_prediction").set_value(0.0).run()
    assert not at.exception
    value, slope, *_ = L.written_out("binary_crossentropy", 1.0, 0.0)
    assert "16.1181" in value and value in page_text(at)


def test_regression_curves_and_written_values(at):
    at.radio(key="loss_task").set_value("regression").run()
    at.number_input(key="loss_regression_target").set_value(1.0).run()
    at.number_input(key="loss_regression_prediction").set_value(4.0).run()
    at.slider(key="loss_delta").set_value(1.5).run()
    assert not at.exception
    text = page_text(at)
    for name in L.REGRESSION:
        value, slope, *_ = L.written_out(name, 1.0, 4.0, **({"delta": 1.5} if name == "huber" else {}))
        assert value in text and slope in text
    curves = chart_data(at.get("vega_lite_chart")[0])
    expected = L.loss_curves(L.REGRESSION, "regression", 1.0, delta=1.5)
    pd.testing.assert_frame_equal(curves[list(expected.columns)].reset_index(drop=True), expected)


def test_outliers_are_hidden_until_a_guess_then_equal_the_library(at):
    assert at.button(key="loss_fit").disabled  # no guess, and the points are still the starting ones
    at.button(key="loss_jump").click().run()
    at.radio(key="loss_guess").set_value("MAE").run()
    assert not at.button(key="loss_fit").disabled
    assert len(at.dataframe) == 1  # only the editable table; the results wait for the guess
    assert at.dataframe[0].value["y"].tolist()[-1] == "40.0"
    at.button(key="loss_fit").click().run()
    assert not at.exception
    shown = at.dataframe[1].value
    x, y = F.parse_points(F.jumped(F.as_table(F.REFERENCE)))
    before = F.fit_lines(F.REFERENCE["x"], F.REFERENCE["y"])
    expected = F.movement(before, F.fit_lines(x, y), 0.0, 7.0)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, atol=1e-6)
    assert F.most_moved(expected) == "MSE"
    verdict = at.warning[0].value.replace("\\", "")  # the guess MAE was off: amber box, text escaped
    assert "the answer is 'MSE'" in verdict and f"{expected['largest move'].max():.2f} at most" in verdict


def test_a_bad_cell_gets_a_message_naming_it():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["loss_points"] = pd.DataFrame({"x": ["0", "1", "2"], "y": ["1", "abc", "1,5"]})
    at.run()
    assert not at.exception
    assert any("Row 2, column y: 'abc' is not a number" in e.value for e in at.error)
    at.session_state["loss_points"] = pd.DataFrame({"x": ["0"], "y": ["1"]})
    at.run()
    assert any("at least 2 points" in e.value for e in at.error)
