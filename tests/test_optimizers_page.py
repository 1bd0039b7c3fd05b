"""Gradient-descent and optimisers page: what it shows equals a direct library call, and bad input gives a message."""
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES
from models.training.optim_updates import pair, written_update

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/optimizers.py")
START = SURFACES["ravine"].start


def page_text(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "info", "caption", "success", "warning", "error")
                     for e in getattr(at, kind))


def unescaped(text: str) -> str:
    return text.replace("\\", "")


def headers(at) -> list[str]:
    return [h.value for h in at.header]


def chart_data(chart, column: str = "step") -> pd.DataFrame:
    """The largest data table with this column that a chart carries (the paths, not the contour grid)."""
    tables = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in chart.proto.datasets]
    return max((t for t in tables if column in t), key=len)


def reveal(at, guess="Adam"):
    at.radio(key="optim_guess").set_value(guess).run()
    at.button(key="optim_reveal").click().run()
    return at


@pytest.fixture
def at():
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_the_race_stays_hidden_until_the_guess_is_locked_in(at):
    assert not at.exception
    assert "2 · Predict first" in headers(at) and "3 · The paths" not in headers(at)
    assert at.button(key="optim_reveal").disabled  # no guess yet
    paths = opt.optimizer_paths("ravine", list(opt.OPTIMIZERS), start=START, steps=200, learning_rate=0.1,
                                momentum=0.9)
    winner, reached = opt.first_to_minimum(paths, "ravine")
    reveal(at, opt.OPTIMIZERS[winner])
    assert not at.exception
    assert "3 · The paths" in headers(at) and "4 · What each optimiser keeps" in headers(at)
    verdict = unescaped(at.success[0].value)
    assert f"the answer is '{opt.OPTIMIZERS[winner]}'" not in verdict and "that is right" in verdict
    assert f"**{opt.OPTIMIZERS[winner]}** at step {reached[winner]}" in verdict
    at.button(key="optim_hide").click().run()
    assert "3 · The paths" not in headers(at)


def test_a_wrong_guess_is_told_the_librarys_answer(at):
    paths = opt.optimizer_paths("ravine", list(opt.OPTIMIZERS), start=START, steps=200, learning_rate=0.1)
    winner, _ = opt.first_to_minimum(paths, "ravine")
    wrong = next(label for name, label in opt.OPTIMIZERS.items() if name != winner)
    reveal(at, wrong)
    assert f"the answer is '{opt.OPTIMIZERS[winner]}'" in unescaped(at.warning[0].value)


def test_the_paths_and_the_table_equal_the_library(at):
    reveal(at)
    at.slider(key="optim_step").set_value(37).run()
    paths = opt.optimizer_paths("ravine", list(opt.OPTIMIZERS), start=START, steps=200, learning_rate=0.1,
                                momentum=0.9)
    at37 = paths[paths["step"] == 37].reset_index(drop=True)
    table = at.dataframe[0].value.reset_index(drop=True)
    assert table["optimiser"].tolist() == list(opt.OPTIMIZERS.values())
    np.testing.assert_allclose(table[["x", "y", "loss"]].to_numpy(), at37[["x", "y", "loss"]].to_numpy())
    charts = at.get("vega_lite_chart")[1:]  # after the surface at the start, in section 1
    assert chart_data(charts[0], "label")["label"].tolist() == list(opt.OPTIMIZERS.values())  # the legend
    drawn = chart_data(charts[1], "optimizer")
    assert drawn["step"].max() == 37
    np.testing.assert_allclose(drawn.sort_values(["optimizer", "step"])[["x", "y"]].to_numpy(),
                               paths[paths["step"] <= 37].sort_values(["optimizer", "step"])[["x", "y"]].to_numpy())


def test_each_tab_writes_out_the_librarys_update_and_kerass_result(at):
    reveal(at)
    at.slider(key="optim_update").set_value(3).run()
    codes = [c.value for c in at.code if "&steps=" not in c.value]  # not the address in the link box
    assert len(codes) == len(opt.OPTIMIZERS)
    text = unescaped(page_text(at))
    for code, name in zip(codes, opt.OPTIMIZERS):
        detail = opt.optimizer_step_detail("ravine", name, start=START, step=3, learning_rate=0.1, momentum=0.9)
        written = written_update(detail)
        assert "\n".join(written.lines) in code
        assert f"moved w to **{pair(detail.weights_after)}**" in text
        assert pair(written.weights) == pair(detail.weights_after)
    assert "m̂ = m / (1 − β₁ᵗ)" in codes[list(opt.OPTIMIZERS).index("adam")]


def test_the_batch_table_equals_line_fit_path(at):
    table = at.dataframe[0].value
    points = lf.make_line_points(100, 0.5, 0)
    assert table["batch size"].tolist() == [100, 32, 1]
    assert table["iterations per epoch"].tolist() == [1, 4, 100]
    for row, size in zip(table.itertuples(), (100, 32, 1)):
        fit = lf.line_fit_path(points["x"], points["y"], batch_size=size, epochs=10, learning_rate=0.1, seed=0)
        assert row.updates == len(fit) - 1
        assert (row.w, row.b, row.loss) == pytest.approx(tuple(fit[["w", "b", "loss"]].iloc[-1]), rel=1e-12)
    assert "an **epoch** is every point once" in page_text(at)


def test_the_learning_rate_section_shows_the_librarys_fits(at):
    points = lf.make_line_points(100, 0.5, 0)
    largest, limit = lf.stability_limit(points["x"])
    assert f"2/λ = **{limit:.3f}**" in page_text(at)
    curves = chart_data(at.get("vega_lite_chart")[-1])
    for name, rate in lf.learning_rate_presets(points["x"]).items():
        fit = lf.line_fit_path(points["x"], points["y"], batch_size=100, epochs=20, learning_rate=rate)
        drawn = curves[curves["rate"] == f"{name} ({rate:g})"]
        np.testing.assert_allclose(drawn["loss"].to_numpy(), fit["loss"].to_numpy())


def test_a_diverging_optimiser_is_said_plainly(at):
    at.selectbox(key="optim_surface").set_value("bowl").run()
    assert at.text_input(key="optim_learning_rate").value == str(SURFACES["bowl"].learning_rate)
    at.text_input(key="optim_learning_rate").set_value("1.5").run()
    reveal(at)
    assert not at.exception
    warnings = [unescaped(w.value) for w in at.warning]
    assert any(w.startswith("**SGD** diverged at step 1: it left the plot") for w in warnings), warnings
    tab = [unescaped(w.value) for w in at.warning if "diverged before step" in w.value]
    assert tab and tab[0].startswith("SGD diverged before step 5")


@pytest.mark.parametrize("key", ["optim_learning_rate", "optim_fit_learning_rate"])
@pytest.mark.parametrize("typed, message", [
    ("0", "The learning rate must be a number in (0, 10]; got 0.0."),
    ("1e9", "The learning rate must be a number in (0, 10]; got 1000000000.0."),
    ("fast", "The learning rate: 'fast' is not a number"),
    ("", "The learning rate is empty; type a number."),
])
def test_bad_learning_rates_get_a_message_not_a_traceback(at, key, typed, message):
    at.text_input(key=key).set_value(typed).run()
    assert not at.exception
    assert any(message in unescaped(e.value) for e in at.error), [e.value for e in at.error]


def test_no_optimiser_chosen_gets_a_message(at):
    at.multiselect(key="optim_optimizers").set_value([]).run()
    assert not at.exception
    assert "Choose at least one optimiser." in unescaped(at.error[0].value)
