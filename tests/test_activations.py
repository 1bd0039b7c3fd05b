"""Activation functions: Keras values and autodiff slopes against closed forms, ranges, and the page."""
import inspect
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.foundations import activations as act

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "activations.py")

X = np.concatenate([np.linspace(-20.0, 20.0, 4001), [-1e-8, 1e-8, -0.7517915, -1.2784645]])
ERF = np.vectorize(math.erf)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


INV_SQRT2 = 1.0 / math.sqrt(2.0)


def gelu_exact(x, inv_sqrt2=INV_SQRT2):
    return 0.5 * x * (1.0 + ERF(x * inv_sqrt2))


def gelu_exact_slope(x):
    return 0.5 * (1.0 + ERF(x / math.sqrt(2.0))) + x * np.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)


def gelu_tanh(x, coeff=0.044715):
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + coeff * x**3)))


def gelu_tanh_slope(x, coeff=0.044715):
    t = np.tanh(SQRT_2_OVER_PI * (x + coeff * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * coeff * x * x)


# name -> (settings, f, f'), written from the mathematics, independent of Keras.
CLOSED_FORMS = {
    "linear": ({}, lambda x: x, np.ones_like),
    "sigmoid": ({}, sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
    "tanh": ({}, np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "relu": ({}, lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    # 0.25 and 0.5 are exact in 32 bits, the precision TensorFlow keeps the slope in.
    "leaky_relu": ({"negative_slope": 0.25}, lambda x: np.where(x > 0, x, 0.25 * x),
                   lambda x: np.where(x > 0, 1.0, 0.25)),
    "elu": ({"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
            lambda x: np.where(x > 0, 1.0, 0.5 * np.exp(x))),
    "swish": ({}, lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)))),
}
TIGHT = dict(rtol=1e-12, atol=1e-12)


def close(actual, expected, rtol, atol):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --- Fast import -------------------------------------------------------------------------------

def test_import_and_table_do_not_load_tensorflow():
    code = ("import sys, models.foundations.activations as a; a.facts_table(); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- Two routes: Keras values and autodiff slopes against closed forms -------------------------

@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_values_and_slopes_match_closed_forms(name):
    settings, f, df = CLOSED_FORMS[name]
    values, slopes = act.evaluate(name, X, **settings)
    assert values.dtype == np.float64 and slopes.dtype == np.float64 and values.shape == X.shape
    close(values, f(X), **TIGHT)
    close(slopes, df(X), **TIGHT)


@pytest.mark.parametrize("name, settings", [("sigmoid", {}), ("tanh", {}), ("elu", {"alpha": 1.7}), ("swish", {}),
                                            ("gelu", {}), ("gelu", {"approximate": True}),
                                            ("softmax", {"others": (0.0, 1.0)})])
def test_slopes_match_central_differences(name, settings):
    x, h = np.linspace(-6.0, 6.0, 241) + 0.013, 1e-5  # shifted off 0, where ELU has a corner for α ≠ 1
    slopes = act.evaluate(name, x, **settings)[1]
    numeric = (act.evaluate(name, x + h, **settings)[0] - act.evaluate(name, x - h, **settings)[0]) / (2 * h)
    close(slopes, numeric, rtol=1e-8, atol=1e-9)


def test_gelu_default_is_keras_default_exact_form():
    import keras
    import tensorflow as tf

    values, slopes = act.evaluate("gelu", X)
    assert np.array_equal(values, keras.activations.gelu(tf.constant(X, tf.float64)).numpy())
    assert inspect.signature(keras.activations.gelu).parameters["approximate"].default is False
    # TensorFlow rounds the constant 1/√2 to 32 bits, so the exact form is right to about 5e-9...
    close(values, gelu_exact(X), rtol=0, atol=1e-8)
    close(slopes, gelu_exact_slope(X), rtol=0, atol=2e-8)
    # ...and with that rounded constant it agrees to the last digits.
    close(values, gelu_exact(X, inv_sqrt2=float(np.float32(1 / math.sqrt(2)))), **TIGHT)


def test_gelu_tanh_approximation_and_its_distance_from_the_exact_form():
    values, slopes = act.evaluate("gelu", X, approximate=True)
    close(values, gelu_tanh(X, coeff=float(np.float32(0.044715))), **TIGHT)  # TensorFlow keeps 0.044715 in 32 bits
    close(values, gelu_tanh(X), rtol=0, atol=1e-8)
    close(slopes, gelu_tanh_slope(X), rtol=0, atol=1e-7)
    gap = np.max(np.abs(values - act.evaluate("gelu", X)[0]))
    assert 1e-5 < gap < 1e-3  # two different functions, but close


def test_leaky_relu_default_slope_and_keras_defaults():
    import keras

    assert act.LEAKY_RELU_DEFAULT_SLOPE == 0.2
    assert inspect.signature(keras.activations.leaky_relu).parameters["negative_slope"].default == 0.2
    assert keras.layers.LeakyReLU().negative_slope == pytest.approx(0.3)
    values, slopes = act.evaluate("leaky_relu", X)
    close(values, np.where(X > 0, X, 0.2 * X), rtol=1e-7, atol=0)  # 0.2 is not exact in 32 bits
    close(slopes, np.where(X > 0, 1.0, 0.2), rtol=1e-7, atol=0)
    assert np.all(values[X < 0] < 0)


def test_softmax_curve_is_p1_with_the_other_logits_fixed():
    others = (0.0, 1.0)
    p1, slope = act.evaluate("softmax", X, others=others)
    expected = 1.0 / (1.0 + sum(np.exp(o - X) for o in others))
    close(p1, expected, **TIGHT)
    close(slope, expected * (1.0 - expected), **TIGHT)
    assert act.evaluate("softmax", 0.0, others="0, 1")[0] == pytest.approx(1 / (2 + math.e), abs=1e-15)


def test_softmax_vector_and_jacobian():
    z = np.array([2.0, 1.0, 0.1, -3.0])
    p, jacobian = act.softmax_vector(z)
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    close(p, expected, **TIGHT)
    assert np.all((p > 0) & (p < 1)) and p.sum() == pytest.approx(1.0, abs=1e-15)
    close(jacobian, np.diag(p) - np.outer(p, p), **TIGHT)
    close(jacobian.sum(axis=1), np.zeros(4), rtol=0, atol=1e-15)
    table, labelled = act.softmax_tables("2, 1, 0.1, -3")
    assert list(table["probability p"]) == list(p) and labelled.shape == (4, 4)


# --- Ranges ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")  # one logit on purpose
def test_ranges_hold_numerically():
    x = np.linspace(-15.0, 15.0, 3001)
    s = act.evaluate("sigmoid", x)[0]
    assert np.all((s > 0) & (s < 1))
    t = act.evaluate("tanh", np.linspace(-9.0, 9.0, 1801))[0]
    assert np.all((t > -1) & (t < 1))
    r = act.evaluate("relu", x)[0]
    assert np.all(r >= 0) and np.all(r[x <= 0] == 0)
    assert np.all(act.evaluate("leaky_relu", x, negative_slope=0.01)[0][x < 0] < 0)
    assert np.all(act.evaluate("elu", x, alpha=2.0)[0] > -2.0)
    fine = np.linspace(-3.0, 0.0, 30001)
    assert round(act.evaluate("gelu", fine)[0].min(), 2) == -0.17
    assert round(act.evaluate("swish", fine)[0].min(), 3) == -0.278
    for logits in ([0.0], [2.0, 1.0, 0.1], [100.0, -100.0, 0.0]):
        p = act.softmax_vector(logits)[0]
        assert np.all(p > 0) and abs(p.sum() - 1.0) < 1e-15


def test_range_text_in_the_table_is_correct():
    ranges = {name: a.output_range for name, a in act.ACTIVATIONS.items()}
    assert ranges["linear"] == "(−∞, +∞)"
    assert ranges["sigmoid"].startswith("(0, 1)")
    assert ranges["tanh"] == "(−1, 1)"
    assert ranges["relu"].startswith("[0, +∞)")
    assert ranges["leaky_relu"].startswith("(−∞, +∞)")
    assert ranges["softmax"] == "each p_i in (0, 1), and they sum to 1"
    assert ranges["elu"].startswith("(−α, +∞)")
    assert ranges["gelu"] == "≈ [−0.17, +∞)"
    assert ranges["swish"] == "≈ [−0.278, +∞)"
    table = act.facts_table()
    assert list(table["Function"]) == [a.label for a in act.ACTIVATIONS.values()]
    assert "binary" in table.set_index("Function").loc["sigmoid", "Used in"]
    assert "multi-class" in table.set_index("Function").loc["softmax p₁", "Used in"]
    assert "regression" in table.set_index("Function").loc["linear", "Used in"]


def test_worked_sigmoid_values():
    values, _ = act.evaluate("sigmoid", [-5.0, 5.0])
    assert round(values[0], 4) == 0.0067 and round(values[1], 4) == 0.9933


# --- Bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: act.evaluate("softsign", 1.0), "no activation called 'softsign'"),
    (lambda: act.evaluate("sigmoid", 1.0, alpha=2.0), "has no setting 'alpha'"),
    (lambda: act.evaluate("leaky_relu", 1.0, negative_slope=1.5), "slope must be a number in [0, 1]"),
    (lambda: act.evaluate("leaky_relu", 1.0, negative_slope="big"), "slope must be a number"),
    (lambda: act.evaluate("elu", 1.0, alpha=0.0), "α must be a number in (0, 10]"),
    (lambda: act.evaluate("sigmoid", [1.0, float("nan")]), "ordinary, finite number"),
    (lambda: act.evaluate("sigmoid", []), "Give between 1"),
    (lambda: act.parse_vector("abc"), "'abc' is not a number"),
    (lambda: act.parse_vector("  "), "type at least one number"),
    (lambda: act.parse_vector("1, inf"), "ordinary, finite number"),
    (lambda: act.parse_vector("1, 1000"), "between −100 and 100"),
    (lambda: act.evaluate("softmax", 1.0, others="0, x"), "The other logits: 'x' is not a number"),
    (lambda: act.x_grid(2.0, 2.0), "smallest x must be less than the largest x"),
    (lambda: act.grade_prediction("sigmoid", 2.0, "curvature", 0.5), "value f(x) or the slope"),
])
def test_bad_input_gives_a_readable_value_error(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_grade_prediction():
    feedback = act.grade_prediction("sigmoid", 2.0, "value", 0.70)
    assert feedback.actual == act.evaluate("sigmoid", 2.0)[0]
    assert feedback.verdict == "off" and "0.8808" in feedback.message and "too low" in feedback.message
    assert act.grade_prediction("sigmoid", 5.0, "slope", 0.0).verdict == "spot on"


# --- The page ----------------------------------------------------------------------------------

def unescape(markdown: str) -> str:
    """What a student reads where the page escaped student text for Markdown (pages.shared.feedback.plain)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def page_text(at) -> str:
    """Every string a student can read on the page, tables included."""
    parts = [unescape(e.value) for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning",
                                            "error") for e in getattr(at, kind)]
    parts += [e.value.to_string() for e in at.dataframe] + [e.value.to_string() for e in at.table]
    return "\n".join(parts)


def chart_data(at) -> pd.DataFrame:
    import pyarrow as pa

    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # f(x) above f'(x)
    specs = [json.loads(chart.proto.spec) for chart in charts]
    assert [spec["layer"][0]["encoding"]["y"]["field"] for spec in specs] == ["value", "slope"]
    tooltip = [t.get("title", t["field"]) for t in specs[0]["layer"][1]["encoding"]["tooltip"]]
    assert tooltip == ["function", "x", "f(x)", "f′(x)"]
    tables = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in charts[0].proto.datasets]
    assert len(tables) == 1
    return tables[0]


@pytest.fixture
def page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_page_defaults_show_table_chart_probe_and_worked_example(page):
    text = page_text(page)
    assert page.title[0].value == "Activation functions"
    assert "(0, 1): never exactly 0 or 1" in text and "each p_i in (0, 1), and they sum to 1" in text
    assert "0.0067" in text and "0.9933" in text
    assert "negative_slope=0.2" in text
    data = chart_data(page)
    assert set(data["function"]) == {"sigmoid", "tanh", "ReLU", "leaky ReLU"}
    sigmoid_rows = data[data["function"] == "sigmoid"]
    values, slopes = act.evaluate("sigmoid", sigmoid_rows["x"].to_numpy())
    assert np.array_equal(sigmoid_rows["value"], values) and np.array_equal(sigmoid_rows["slope"], slopes)


@pytest.mark.slow
def test_page_probe_equals_the_library(page):
    names = ["sigmoid", "leaky_relu", "elu", "gelu", "swish", "softmax"]
    page.multiselect(key="activations_functions").set_value(names)
    page.number_input(key="activations_probe_x").set_value(-2.5)
    page.slider(key="activations_slope").set_value(0.1)
    page.number_input(key="activations_elu_alpha").set_value(1.5)
    page.text_input(key="activations_softmax_others").input("0, 2")
    page.run()
    assert not page.exception and not page.error
    settings = {"leaky_relu": {"negative_slope": 0.1}, "elu": {"alpha": 1.5}, "softmax": {"others": (0.0, 2.0)}}
    shown = page.dataframe[0].value
    assert list(shown["function"]) == [act.ACTIVATIONS[n].label for n in names]
    for name, (_, row) in zip(names, shown.iterrows()):
        value, slope = act.evaluate(name, -2.5, **settings.get(name, {}))
        assert row["x"] == -2.5 and row["f(x)"] == value and row["f′(x)"] == slope
    assert "negative_slope=0.1" in page_text(page)
    data = chart_data(page)
    assert set(data["function"]) == {act.ACTIVATIONS[n].label for n in names}
    for name in ("leaky_relu", "elu", "softmax"):  # the chart uses the same settings as the probe
        rows = data[data["function"] == act.ACTIVATIONS[name].label]
        values, slopes = act.evaluate(name, rows["x"].to_numpy(), **settings[name])
        assert np.array_equal(rows["value"], values) and np.array_equal(rows["slope"], slopes)


@pytest.mark.slow
def test_page_predict_first_flow(page):
    answer = f"{act.evaluate('sigmoid', 2.0)[0]:.4f}"
    page.button(key="activations_check").click().run()
    assert "Type a number as your guess first" in page.warning[0].value
    page.number_input(key="activations_quiz_x").set_value(2.0)
    page.number_input(key="activations_guess").set_value(0.7)
    page.run()
    assert answer not in page_text(page)  # nothing revealed before the guess is committed
    page.button(key="activations_check").click().run()
    assert not page.exception
    feedback = page.session_state["activations_feedback"][1]
    assert feedback.verdict == "off" and feedback.guess == 0.7
    assert any(answer in unescape(w.value) and "too low" in w.value for w in page.warning)
    page.number_input(key="activations_quiz_x").set_value(3.0).run()  # a new question hides the old answer
    assert not any(answer in unescape(w.value) for w in page.warning)
    page.radio(key="activations_quiz_quantity").set_value("slope")
    page.number_input(key="activations_quiz_x").set_value(0.0)
    page.number_input(key="activations_guess").set_value(0.25)
    page.button(key="activations_check").click().run()
    assert any("spot on" in s.value for s in page.success)


@pytest.mark.slow
@pytest.mark.parametrize("key, value, message", [
    ("activations_softmax_vector", "abc", "'abc' is not a number"),
    ("activations_softmax_vector", "", "type at least one number"),
    ("activations_softmax_vector", "1, nan", "ordinary, finite number"),
    ("activations_softmax_vector", "1, 2, inf", "ordinary, finite number"),
    ("activations_softmax_others", "zero", "Softmax is left out"),
])
def test_page_bad_text_input(page, key, value, message):
    page.multiselect(key="activations_functions").set_value(["sigmoid", "softmax"])
    page.text_input(key=key).input(value).run()
    assert not page.exception
    assert any(message in unescape(e.value) for e in page.error)
    assert not re.search(r"\bnan\b|\binf\b", page_text(page), flags=re.IGNORECASE)


@pytest.mark.slow
def test_page_empty_x_range_and_jacobian(page):
    page.number_input(key="activations_x_min").set_value(3.0)
    page.number_input(key="activations_x_max").set_value(3.0)
    page.checkbox(key="activations_show_jacobian").check()
    page.run()
    assert not page.exception
    assert any("smallest x must be less than the largest x" in e.value for e in page.error)
    assert not page.get("vega_lite_chart")
    jacobian = page.dataframe[-1].value.to_numpy()
    assert np.array_equal(jacobian, act.softmax_vector([2.0, 1.0, 0.1])[1])
    assert not re.search(r"\bnan\b", page_text(page), flags=re.IGNORECASE)


@pytest.mark.slow
def test_app_navigates_to_the_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page("pages/activations.py")
    at.run()
    assert not at.exception and at.title[0].value == "Activation functions"


# --- What a mischievous student tried ---------------------------------------------------------------

def test_the_other_logits_limit_reads_the_same_however_it_is_broken():
    for count in (10, 11, 30):
        with pytest.raises(ValueError, match=r"^The other logits: give at most 9 numbers\.$"):
            act.check_settings("softmax", others=", ".join(["1"] * count))
        with pytest.raises(ValueError, match=r"^The other logits: give at most 9 numbers\.$"):
            act.check_settings("softmax", others=[1.0] * count)
    assert act.check_settings("softmax", others=", ".join(["1"] * 9))["others"] == (1.0,) * 9


def styled_text(frame) -> pd.DataFrame:
    """The text the browser shows in each cell of a styled st.dataframe (the Styler's display values)."""
    import pyarrow as pa

    return pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_pandas()


@pytest.mark.slow
def test_page_never_prints_negative_zero(page):
    page.multiselect(key="activations_functions").set_value(["swish", "gelu", "tanh"])
    page.number_input(key="activations_probe_x").set_value(-100.0)
    page.run()
    assert not page.exception
    shown = styled_text(page.dataframe[0])
    assert list(shown.iloc[:, 2]) == ["-3.72008e-42", "0", "-1"]  # swish, GELU (exactly -0.0), tanh
    assert not any(re.fullmatch(r"-0(\.0*)?", v) for v in shown.to_numpy().ravel())
    values = page.dataframe[0].value
    assert values["f(x)"].iloc[0] == act.evaluate("swish", -100.0)[0]  # the table keeps the exact number


@pytest.mark.slow
def test_page_shows_student_markdown_as_text_and_big_guesses_readably(page):
    page.text_input(key="activations_softmax_others").input("$x^2$, **b**").run()
    [error] = [e.value for e in page.error if "Softmax is left out" in e.value]
    assert "\\$x^2\\$" in error.replace("\\^", "^") and unescape(error).startswith("The other logits: '$x^2$'")
    page.number_input(key="activations_guess").set_value(1e300)
    page.button(key="activations_check").click().run()
    [box] = [unescape(w.value) for w in page.warning if "You guessed" in w.value]
    assert "1.000e+300" in box and len(box) < 150
