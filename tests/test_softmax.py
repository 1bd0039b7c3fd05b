"""Softmax calculator: the library against Keras and hand arithmetic, extreme and bad input, and the page."""
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from models.core.guess import grade_choice, grade_number
from models.foundations.softmax import (
    EXAMPLE_TEXT,
    MAX_CLASSES,
    LogitsError,
    cross_entropy,
    grade_prediction,
    logits_from_table,
    parse_logits,
    softmax_steps,
    top_classes,
)
from pages.shared.feedback import plain

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "softmax.py")
NAN_WORD = re.compile(r"\bnan\b", re.IGNORECASE)


# ---- Library: two routes to every number ----------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 2.5, 10.0])
def test_matches_keras_softmax(seed, temperature):
    import keras

    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, [1.0, 5.0, 30.0][seed % 3], size=int(rng.integers(2, 12)))
    expected = keras.ops.convert_to_numpy(
        keras.activations.softmax(keras.ops.convert_to_tensor(logits[None, :] / temperature, dtype="float64")))[0]
    probability = softmax_steps(logits, temperature)["probability"].to_numpy()
    np.testing.assert_allclose(probability, expected, rtol=1e-6, atol=1e-12)


def test_hand_arithmetic_small_case():
    steps = softmax_steps([1.0, 2.0, 3.0])
    exps = [math.exp(1), math.exp(2), math.exp(3)]
    assert steps["probability"].tolist() == pytest.approx([e / sum(exps) for e in exps], rel=1e-12)
    assert steps["shifted"].tolist() == [-2.0, -1.0, 0.0]
    assert steps["exp"].tolist() == pytest.approx([math.exp(-2), math.exp(-1), 1.0], rel=1e-12)
    assert steps.attrs["exp_sum"] == pytest.approx(math.exp(-2) + math.exp(-1) + 1.0, rel=1e-12)
    assert steps["class"].tolist() == ["class 1", "class 2", "class 3"]
    assert steps["probability"].dtype == np.float64

    hot = softmax_steps([1.0, 2.0, 3.0], temperature=2.0)["probability"].tolist()
    halves = [math.exp(0.5), math.exp(1.0), math.exp(1.5)]
    assert hot == pytest.approx([e / sum(halves) for e in halves], rel=1e-12)


def test_course_example_and_properties():
    steps = softmax_steps(EXAMPLE_TEXT)
    assert steps.loc[steps["probability"].idxmax(), "class"] == "dog"
    assert steps["probability"].max() == pytest.approx(0.9025, abs=1e-4)  # the notes' "0.90" for logit 5.1
    assert steps["probability"].sum() == pytest.approx(1.0, abs=1e-15)
    assert ((steps["probability"] > 0) & (steps["probability"] < 1)).all()  # (0, 1), not (-inf, +inf)
    shifted_by_constant = softmax_steps({name: z + 1000.0 for name, z in parse_logits(EXAMPLE_TEXT).items()})
    np.testing.assert_allclose(shifted_by_constant["probability"], steps["probability"], rtol=1e-12)


def test_cross_entropy_matches_minus_log_p():
    for true_class in range(3):
        p = softmax_steps([1.0, 2.0, 3.0], 0.7)["probability"].iloc[true_class]
        assert cross_entropy([1.0, 2.0, 3.0], true_class, 0.7) == pytest.approx(-math.log(p), rel=1e-12)
    assert cross_entropy(EXAMPLE_TEXT, "dog") == pytest.approx(-math.log(0.902538), rel=1e-5)


# ---- Extreme input --------------------------------------------------------------------------------

@pytest.mark.parametrize("logits, temperature, expected", [
    ([1000.0, -1000.0], 1.0, [1.0, 0.0]),
    ([-1000.0, -1000.0], 1.0, [0.5, 0.5]),
    ([1e308, 1e308], 1.0, [0.5, 0.5]),
    ([1e308, -1e308], 1.0, [1.0, 0.0]),
    ([1e308, -1e308], 0.1, [1.0, 0.0]),
    ([-1e308, 1e308], 0.1, [0.0, 1.0]),
    ([1e308, 1e308, 1e308], 0.1, [1 / 3, 1 / 3, 1 / 3]),
    ([-1e308, -1e308], 0.1, [0.5, 0.5]),
    ([1e308, 0.0], 10.0, [1.0, 0.0]),
])
def test_extreme_logits_give_finite_correct_probabilities(logits, temperature, expected):
    steps = softmax_steps(logits, temperature)
    probability = steps["probability"].to_numpy()
    assert np.isfinite(probability).all() and np.isfinite(steps["exp"]).all()
    np.testing.assert_allclose(probability, expected, rtol=1e-12, atol=0)
    assert not steps[["logit", "shifted", "exp", "probability"]].isna().any().any()


def test_cross_entropy_stays_finite_when_p_underflows():
    assert softmax_steps([0.0, -1000.0])["probability"].iloc[1] == 0.0  # log(p) would be -inf
    assert cross_entropy([0.0, -1000.0], 1) == pytest.approx(1000.0, rel=1e-12)
    assert cross_entropy([1000.0, -1000.0], "class 2") == pytest.approx(2000.0, rel=1e-12)
    assert cross_entropy([1000.0, -1000.0], "class 2", temperature=0.5) == pytest.approx(4000.0, rel=1e-12)
    assert cross_entropy([1000.0, -1000.0], "class 1") == 0.0
    assert cross_entropy([1e308, 1e308], 0) == pytest.approx(math.log(2), rel=1e-12)
    assert cross_entropy([1e308, 0.0], 1, temperature=0.5) == math.inf  # exact loss 2e308 is beyond float64


# ---- Bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("logits, temperature, message", [
    ("abc", 1.0, "'abc' is not a number"),
    ("cat: 1.3, dog: x", 1.0, "'x' is not a number"),
    ("", 1.0, "no logits yet"),
    (" , ; ", 1.0, "no logits yet"),
    ([], 1.0, "no logits yet"),
    ({}, 1.0, "no logits yet"),
    ([1.0, float("nan")], 1.0, "logit of 'class 2' is not a real number"),
    ("cat: nan", 1.0, "logit of 'cat' is not a real number"),
    ([1.0, math.inf], 1.0, "infinite or too large"),
    ("cat: -inf", 1.0, "infinite or too large"),
    ("1e309", 1.0, "infinite or too large"),
    ("cat: 1, cat: 2", 1.0, "'cat' appears more than once"),
    (": 3", 1.0, "no class name"),
    ("cat:", 1.0, "no number after its colon"),
    ([[1.0, 2.0]], 1.0, "one flat list"),
    (["a", "b"], 1.0, "must be numbers"),
    ([1.0, 2.0], 0.0, "greater than 0"),
    ([1.0, 2.0], -1.0, "greater than 0"),
    ([1.0, 2.0], float("nan"), "greater than 0"),
    ([1.0, 2.0], math.inf, "greater than 0"),
    ([1.0, 2.0], "warm", "greater than 0"),
])
def test_bad_input_gives_clear_message(logits, temperature, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        softmax_steps(logits, temperature)
    assert isinstance(raised.value, LogitsError)
    assert not NAN_WORD.search(str(raised.value))


def test_bad_true_class_and_too_many_classes():
    with pytest.raises(ValueError, match="'zebra' is not one of the classes"):
        cross_entropy(EXAMPLE_TEXT, "zebra")
    with pytest.raises(ValueError, match="Class number 5 does not exist"):
        cross_entropy([1.0, 2.0], 5)
    with pytest.raises(ValueError, match="greater than 0"):
        cross_entropy([1.0, 2.0], 0, temperature=0)
    with pytest.raises(ValueError, match=f"at most {MAX_CLASSES}"):
        parse_logits(", ".join(["1"] * (MAX_CLASSES + 1)))


def test_table_input():
    table = pd.DataFrame({"class": ["cat", None, "", None, "  "], "logit": [1.0, 2.0, None, float("nan"), 3.0]})
    assert logits_from_table(table) == {"cat": 1.0, "class 2": 2.0, "class 3": 3.0}  # blank rows skipped
    with pytest.raises(ValueError, match="Class 'dog' has no logit"):
        logits_from_table(pd.DataFrame({"class": ["cat", "dog"], "logit": [1.0, None]}))
    with pytest.raises(ValueError, match="'dog' appears more than once"):
        logits_from_table(pd.DataFrame({"class": ["dog", "dog"], "logit": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="no logits yet"):
        logits_from_table(pd.DataFrame({"class": [None, ""], "logit": [None, None]}))
    with pytest.raises(ValueError, match="'abc' is not a number"):
        logits_from_table(pd.DataFrame({"class": ["cat"], "logit": ["abc"]}))


def test_text_syntax():
    assert parse_logits("cat: 1.3, dog: -5.1e0; bird:2\nfish : 0.7,") == {
        "cat": 1.3, "dog": -5.1, "bird": 2.0, "fish": 0.7}
    assert parse_logits("1.3, 5.1, 2e3") == {"class 1": 1.3, "class 2": 5.1, "class 3": 2000.0}


def test_grade_prediction_counts_ties():
    steps = softmax_steps("a: 2, b: 2, c: 0")
    assert top_classes(steps) == ["a", "b"]
    choice, mass = grade_prediction(steps, "b", 0.44)
    assert choice.verdict == "spot on" and mass.verdict == "close"
    assert mass.actual == pytest.approx(math.exp(2) / (2 * math.exp(2) + 1), rel=1e-12)
    assert grade_prediction(steps, "c", 0.44)[0].verdict == "off"


# ---- The page ---------------------------------------------------------------------------------------

def run_page(text=None, temperature=None, reveal=False) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    if text is not None:
        at.text_input(key="softmax_text").set_value(text)
    if temperature is not None:
        at.slider(key="softmax_temperature").set_value(temperature)
    at.run()
    if reveal:
        at.button(key="softmax_reveal").click().run()
    assert not at.exception
    return at


def rendered_text(at: AppTest) -> str:
    parts = [el.value for kind in ("title", "header", "subheader", "markdown", "caption", "latex",
                                   "error", "warning", "info", "success") for el in getattr(at, kind)]
    parts += [f"{metric.label} {metric.value}" for metric in at.metric]
    parts += [frame.value.to_string() for frame in at.dataframe]
    parts += [chart.proto.spec for chart in at.get("vega_lite_chart")]
    return "\n".join(parts)


def unescape(markdown: str) -> str:
    """What a student reads where the page escaped student text for Markdown (pages.shared.feedback.plain)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if unescape(m.label).startswith(label_start))


def test_page_equals_library():
    text, temperature = "ant: 0.5, bee: -1, cow: 2.5, doe: 2.4", 0.7
    at = run_page(text, temperature, reveal=True)
    at.selectbox(key="softmax_true_class").set_value("bee").run()
    assert not at.exception
    expected = softmax_steps(text, temperature)
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, check_dtype=False)
    assert float(metric(at, "3 · sum")) == pytest.approx(expected.attrs["exp_sum"], rel=1e-5)
    assert float(metric(at, "p(bee)")) == pytest.approx(expected["probability"].iloc[1], rel=1e-5)
    assert float(metric(at, "loss")) == pytest.approx(cross_entropy(text, "bee", temperature), rel=1e-5)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "probability" in charts[0].proto.spec
    assert not NAN_WORD.search(rendered_text(at))


def test_page_table_input_equals_library():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button_group(key="softmax_input_mode").set_value("Table").run()
    at.session_state["softmax_table"] = {"edited_rows": {0: {"logit": 3.0}, 2: {"class": None, "logit": None}},
                                         "added_rows": [{"class": "emu", "logit": -2.0}, {}], "deleted_rows": [4]}
    at.run()
    at.button(key="softmax_reveal").click().run()
    assert not at.exception and not at.error
    expected = softmax_steps({"cat": 3.0, "dog": 5.1, "fish": 0.7, "emu": -2.0})
    [shown] = [frame for frame in at.dataframe if frame.editing_mode == "read_only"]
    pd.testing.assert_frame_equal(shown.value.reset_index(drop=True), expected, check_dtype=False)

    at.session_state["softmax_table"] = {"edited_rows": {1: {"logit": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert [unescape(e.value) for e in at.error] == ["Class 'dog' has no logit. Fill in its cell or delete the row."]


def test_predict_first_flow():
    at = run_page()
    assert not at.dataframe and not at.get("vega_lite_chart")  # nothing revealed before the guess
    assert any("Predict first" in h.value for h in at.header)
    at.selectbox(key="softmax_guess_class").set_value("dog")
    at.number_input(key="softmax_guess_mass").set_value(0.85)
    at.button(key="softmax_reveal").click().run()
    assert not at.exception
    steps = softmax_steps(EXAMPLE_TEXT)
    expected_choice = grade_choice("dog", "dog").message
    expected_mass = grade_number(0.85, steps["probability"].max(), close_within=0.1, digits=3).message
    assert [unescape(s.value) for s in at.success] == [expected_choice]
    assert [unescape(i.value) for i in at.info] == [expected_mass]  # 0.053 too low: "close"
    assert at.dataframe and at.get("vega_lite_chart")

    at.slider(key="softmax_temperature").set_value(2.0).run()  # exploring T keeps the answer shown
    assert at.dataframe and any("You guessed at T = 1" in c.value for c in at.caption)

    at.text_input(key="softmax_text").set_value("cat: 1, dog: 2").run()  # new logits: guess again
    assert not at.exception and not at.dataframe and not at.get("vega_lite_chart")
    at.button(key="softmax_reveal").click().run()
    assert at.dataframe
    at.button(key="softmax_hide").click().run()
    assert not at.exception and not at.dataframe


@pytest.mark.parametrize("text", ["abc", "", "cat: nan", "1, inf", "nan, nan", "cat: 1, cat: 2", "1e309", ": 2"])
def test_page_shows_bad_input_as_error(text):
    at = run_page(text)
    with pytest.raises(ValueError) as raised:
        parse_logits(text)
    assert [unescape(e.value) for e in at.error] == [str(raised.value)]
    assert not at.dataframe and not at.get("vega_lite_chart") and not at.button
    assert not NAN_WORD.search(rendered_text(at))


def test_page_extreme_input():
    at = run_page("big: 1e308, small: -1e308", 0.1, reveal=True)
    pd.testing.assert_frame_equal(at.dataframe[0].value.reset_index(drop=True),
                                  softmax_steps("big: 1e308, small: -1e308", 0.1), check_dtype=False)
    assert at.dataframe[0].value["probability"].tolist() == [1.0, 0.0]
    at.selectbox(key="softmax_true_class").set_value("small").run()
    assert metric(at, "loss") == "over 1.8e308" and at.warning
    assert not NAN_WORD.search(rendered_text(at))

    at.text_input(key="softmax_text").set_value("a: 0, b: -1000").run()
    at.button(key="softmax_reveal").click().run()
    at.selectbox(key="softmax_true_class").set_value("b").run()
    assert float(metric(at, "p(b)")) == 0.0 and float(metric(at, "loss")) == pytest.approx(10000.0)


def test_app_navigates_to_the_page(monkeypatch):
    monkeypatch.setenv("CLASSROOM_PRELOAD_TENSORFLOW", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    at.switch_page("pages/softmax.py").run()
    assert not at.exception and at.title[0].value == "Softmax calculator"


def test_page_does_not_import_tensorflow():
    code = textwrap.dedent(f"""
        import json, sys
        import models.foundations.softmax
        after_import = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({PAGE!r}, default_timeout=60).run()
        at.button(key="softmax_reveal").click().run()
        after_page = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print(json.dumps({{"import": after_import, "page": after_page, "exception": bool(at.exception),
                          "chart": len(at.get("vega_lite_chart"))}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"import": [], "page": [], "exception": False, "chart": 1}


# ---- What a mischievous student tried --------------------------------------------------------------

def display_values(frame) -> pd.DataFrame:
    """The text the browser shows in each cell of a styled st.dataframe (the Styler's display values)."""
    import pyarrow as pa

    return pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_pandas()


@pytest.mark.parametrize("typed, value", [("2e3", 2000.0), ("1,5", 1.5), ("1e7", 1e7), (" −2 ", -2.0)])
def test_table_cells_are_read_as_typed(typed, value):
    assert logits_from_table(pd.DataFrame({"class": ["cat", "dog"], "logit": [typed, "0"]})) == {"cat": value,
                                                                                              "dog": 0.0}


def test_table_cell_beyond_float64_is_refused():
    with pytest.raises(LogitsError, match="The logit of 'cat': 1e309 is too large"):
        logits_from_table(pd.DataFrame({"class": ["cat"], "logit": ["1e309"]}))


def test_long_class_names_are_refused():
    with pytest.raises(LogitsError, match="has 3,000 characters .* keep names to 40 characters or fewer"):
        parse_logits("x" * 3000 + ": 1, b: 2")
    assert list(parse_logits("x" * 40 + ": 1")) == ["x" * 40]


def test_overflow_note_names_what_overflows():
    from models.foundations.softmax import overflow_note

    note = overflow_note(softmax_steps("a: 0.7e308, b: 0", 0.1))
    assert "−7.00e+307/0.1 = −7.00e+308" in note and "−1.8e308" in note and "'b'" in note
    assert overflow_note(softmax_steps([1.0, 2.0], 0.1)) == ""


def table_page(*edits) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button_group(key="softmax_input_mode").set_value("Table").run()
    at.session_state["softmax_table"] = {"edited_rows": dict(edits), "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("typed, value", [("2e3", 2000.0), ("1,5", 1.5), ("1e7", 1e7)])
def test_page_table_cell_holds_what_was_typed(typed, value):
    at = table_page((0, {"logit": typed}))
    assert not at.error
    at.button(key="softmax_reveal").click().run()
    [shown] = [frame for frame in at.dataframe if frame.editing_mode == "read_only"]
    expected = softmax_steps({"cat": value, "dog": 5.1, "bird": 2.2, "fish": 0.7, "frog": 1.1})
    pd.testing.assert_frame_equal(shown.value.reset_index(drop=True), expected, check_dtype=False)


def test_page_table_cell_beyond_float64_says_so():
    at = table_page((0, {"logit": "1e309"}))
    assert [unescape(e.value) for e in at.error] == [
        "The logit of 'cat': 1e309 is too large for a computer's floating-point numbers (the largest is about "
        "1.8e308)."]


def test_page_overflow_shows_a_symbol_and_a_correct_explanation():
    at = run_page("a: 0.7e308, b: 0", 0.1, reveal=True)
    shown = display_values(at.dataframe[0])
    assert list(shown.iloc[:, 2]) == ["0", "−∞"] and "Infinity" not in shown.to_string()
    note = unescape(next(c.value for c in at.caption if "step 1" in c.value))
    assert "−7.00e+307/0.1 = −7.00e+308" in note and "beyond float64 (more than 1.8e308)" not in note


def test_page_shows_student_markdown_as_text():
    text = "**bold**: 3, $x^2$: 3, [a](b.png): 0"
    at = run_page(text, reveal=True)
    assert any(unescape(i.value) == "Tie: **bold**, $x^2$ share the highest probability." and "\\*\\*" in i.value
               for i in at.info)
    at.selectbox(key="softmax_true_class").set_value("$x^2$").run()
    assert [m.label for m in at.metric][2:] == [plain("p($x^2$)"), plain("loss −log p($x^2$)")]
    picked = [v.value for kind in (at.success, at.warning) for v in kind if "You picked" in v.value]
    assert picked and all("\\*\\*bold\\*\\*" in v for v in picked)
    at = run_page("[x](b): 1, [x](b): 2")
    assert [e.value for e in at.error] == [plain(str(LogitsError(
        "Class name '[x](b)' appears more than once. Give each class its own name.")))]
