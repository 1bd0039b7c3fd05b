"""Settings in the address: the schema round-trips, hostile links fall back to defaults, pages open from links."""
import math
import random

import pytest
from streamlit.testing.v1 import AppTest

from models.core.links import MAX_VALUE_LENGTH, Field, check_schema, decode, encode, ignored_text
from models.core.paths import ROOT
from models.engine.settings import OPTIMIZERS
from pages.dropout import DEFAULTS as DROPOUT_DEFAULTS
from pages.training.dropout_link import schema as dropout_schema
from pages.training.overfitting_link import SCHEMA as OVERFITTING

SCHEMAS = {"overfitting": OVERFITTING, "dropout": dropout_schema(DROPOUT_DEFAULTS)}
HOSTILE = ["", " ", "abc", "1e999", "-1e999", "nan", "inf", "NaN", "0x10", "1_000", "١٢٣", "1.5.2", "<script>alert(1)"
           "</script>", "**bold**", "[x](http://evil.example)", "${7*7}", "'; DROP TABLE runs; --", "\x00", "☃",
           "9" * 400, "1" * 21, "-0", "00012", "+5", " 7 ", "True", "true", "2", "-1", "1e308", "4.9e-324"]


def random_value(field: Field, rng: random.Random):
    if field.kind == "bool":
        return rng.random() < 0.5
    if field.kind == "choice":
        return rng.choice(field.choices)
    if field.kind == "subset":
        return [c for c in field.choices if rng.random() < 0.5]
    if field.kind == "int":
        return rng.randint(int(field.low), int(field.high))
    return rng.uniform(field.low, field.high)


@pytest.mark.parametrize("page", sorted(SCHEMAS))
def test_every_setting_round_trips_exactly(page):
    rng = random.Random(0)
    for _ in range(200):
        values = {f.key: random_value(f, rng) for f in SCHEMAS[page]}
        decoded, ignored = decode(SCHEMAS[page], encode(SCHEMAS[page], values))
        assert decoded == values and ignored == []


@pytest.mark.parametrize("page", sorted(SCHEMAS))
def test_hostile_values_fall_back_to_defaults_and_are_named(page):
    rng = random.Random(1)
    schema = SCHEMAS[page]
    for _ in range(300):
        params = {f.name: rng.choice(HOSTILE + [f.encode(random_value(f, rng))]) for f in schema if rng.random() < 0.7}
        if rng.random() < 0.3:
            params["x" * rng.randint(1, 10_000)] = "1"  # an unknown, maybe huge, name
        values, ignored = decode(schema, params)
        for field in schema:
            value = values[field.key]
            if field.kind == "choice":
                assert value in field.choices
            elif field.kind == "subset":
                assert set(value) <= set(field.choices) and len(set(value)) == len(value)
            elif field.kind == "bool":
                assert isinstance(value, bool)
            else:
                assert isinstance(value, int if field.kind == "int" else float) and not isinstance(value, bool)
                assert math.isfinite(value) and field.low <= value <= field.high
            if field.name in params and field.name not in ignored:
                assert field.encode(value) == field.encode(field.decode(params[field.name].strip()))
        assert len(ignored_text(ignored)) < 400 if ignored else True


def test_a_ten_kilobyte_value_is_ignored_unread():
    field = Field("k", "n", "float", 0.5, low=0.0, high=1.0)
    values, ignored = decode([field], {"n": "0." + "5" * 10_000})
    assert values == {"k": 0.5} and ignored == ["n"]
    assert decode([field], {"n": "0." + "5" * (MAX_VALUE_LENGTH - 2)})[1] == []


def test_decoding_follows_the_rules():
    fields = [Field("a", "a", "int", 3, low=1, high=10), Field("b", "b", "bool", False),
              Field("c", "c", "choice", "x", choices=("x", "y")), Field("d", "d", "float", 0.0, low=-1, high=1)]
    assert decode(fields, {}) == ({"a": 3, "b": False, "c": "x", "d": 0.0}, [])
    assert decode(fields, {"a": "10", "b": "1", "c": "y", "d": "-1"}) == ({"a": 10, "b": True, "c": "y", "d": -1.0}, [])
    assert decode(fields, {"a": ["2", "7"]})[0]["a"] == 7  # a repeated parameter: the last one counts
    values, ignored = decode(fields, {"a": "11", "b": "yes", "c": "X", "d": "0.1.", "e": "1"})
    assert values == {"a": 3, "b": False, "c": "x", "d": 0.0} and ignored == ["a", "b", "c", "d", "e"]
    assert "a, b, c, d, e" in ignored_text(ignored)


def test_a_schema_refuses_a_default_outside_its_range_or_two_fields_with_one_name():
    with pytest.raises(ValueError):
        Field("k", "n", "int", 0, low=1, high=3)
    with pytest.raises(ValueError):
        Field("k", "n", "choice", "z", choices=("x",))
    with pytest.raises(ValueError):
        check_schema([Field("a", "n", "bool", False), Field("b", "n", "bool", True)])


# --- The page opened from a link ---

PAGE = str(ROOT / "pages/overfitting.py")
LINK = {"data": "two moons", "noise": "0.35", "points": "120", "val": "0.4", "layers": "2", "units": "12",
        "act": "tanh", "epochs": "40", "opt": "sgd", "lr": "0.05", "batch": "16", "seed": "7", "l1": "0.0",
        "l2": "0.001", "stop": "1", "patience": "5"}


def opened(params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def test_the_overfitting_page_opens_every_control_from_a_link():
    at = opened(LINK)
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in OVERFITTING} == decode(OVERFITTING, LINK)[0]
    assert at.selectbox(key="overfitting_dataset").value == "two moons"
    assert at.number_input(key="overfitting_seed").value == 7
    assert not at.warning


@pytest.mark.parametrize("page", sorted(SCHEMAS))
def test_the_widgets_range_is_the_links_range(page):
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=300)
    for depth in (1, 2, 3):  # the dropout page draws one layer picker, for the chosen depth
        at.session_state["dropout_depth"] = depth
        at.run()
        widgets = {w.key: w for kind in ("number_input", "slider", "selectbox", "checkbox", "radio", "select_slider",
                                         "multiselect") for w in at.get(kind)}
        for field in SCHEMAS[page]:
            if field.key not in widgets:
                assert field.key.startswith("dropout_layers_"), field.key
                continue
            widget = widgets[field.key]
            if field.kind in ("int", "float"):
                assert (widget.min, widget.max) == (field.low, field.high), field.key
            elif field.kind in ("choice", "subset"):  # the optimizer box shows each choice by its label
                shown = {"overfitting_optimizer": OPTIMIZERS}.get(field.key, {c: c for c in field.choices})
                options = [str(shown[c]) for c in field.choices]
                if field.key.startswith("dropout_layers_"):
                    options = [f"hidden layer {c}" for c in field.choices]
                assert list(widget.options) == options, field.key


def test_the_address_follows_the_widgets_and_a_run_from_a_link_equals_one_set_by_hand():
    by_hand = AppTest.from_file(PAGE, default_timeout=300).run()
    by_hand.selectbox(key="overfitting_dataset").set_value("two moons")
    by_hand.number_input(key="overfitting_epochs").set_value(40)
    by_hand.number_input(key="overfitting_seed").set_value(7).run()
    link = {name: values[-1] if isinstance(values, list) else values for name, values in by_hand.query_params.items()}
    assert link["data"] == "two moons" and link["seed"] == "7" and set(link) == {f.name for f in OVERFITTING}
    from_link = opened(link)
    for at in (by_hand, from_link):
        at.button(key="overfitting_train").click().run()
        assert not at.exception, [e.value for e in at.exception]
    runs = [at.session_state["overfitting_runs"][-1] for at in (by_hand, from_link)]
    assert runs[0].settings == runs[1].settings
    assert runs[0].history.equals(runs[1].history)  # the same link gives the same curves


def test_a_hostile_link_opens_the_page_with_defaults_and_one_line_about_it():
    at = opened({"noise": "<script>alert(1)</script>", "epochs": "1e999", "seed": "-4", "layers": "9" * 400,
                 "x" * 10_000: "1", "lr": "nan", "data": "[spiral](http://evil.example)"})
    assert not at.exception, [e.value for e in at.exception]
    defaults = {f.key: f.default for f in OVERFITTING}
    assert {f.key: at.session_state[f.key] for f in OVERFITTING} == defaults
    [warning] = at.warning
    assert "cannot use" in warning.value and "script" not in warning.value and "<" not in warning.value


# --- Present mode ---

def test_present_mode_puts_the_picture_first_and_folds_the_controls():
    normal = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    normal.switch_page("pages/overfitting.py").run()
    assert not normal.exception and not normal.expander[0].label.startswith("Data, model")
    assert any("▲ validation" in c.value for c in normal.caption)  # the data, beside the title, before any training
    presenting = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    presenting.toggle(key="present_mode").set_value(True).run()
    presenting.switch_page("pages/overfitting.py").run()
    assert not presenting.exception, [e.value for e in presenting.exception]
    labels = [e.label for e in presenting.expander]
    assert labels[:2] == ["Explanation", "Data, model and prediction"]
    # the larger type applies to the whole app while the switch is on
    assert any("font-size" in h.proto.body for h in presenting.get("html"))


def test_the_dropout_page_opens_from_a_link_and_keeps_its_numbers_in_the_address():
    schema = dropout_schema(DROPOUT_DEFAULTS)
    link = {"rate": "0.3", "data": "two moons", "points": "200", "noise": "0.25", "width": "128", "layers": "2",
            "epochs": "60", "lr": "0.003", "seed": "42", "drop2": "2", "drop1": "", "drop3": "1,3"}
    at = AppTest.from_file(str(ROOT / "pages/dropout.py"), default_timeout=300)
    for name, value in link.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == decode(schema, link)[0]
    assert at.session_state["dropout_width"] == 128 and at.session_state["dropout_layers_2"] == [2]
    assert not at.warning
    written = {name: values[-1] if isinstance(values, list) else values for name, values in at.query_params.items()}
    assert decode(schema, written) == (decode(schema, link)[0], [])
    at.button(key="dropout_train").click().run()
    assert not at.exception, [e.value for e in at.exception]


def softmax_from_link(params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/softmax.py"), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def test_the_softmax_page_opens_its_logits_and_temperature_from_a_link():
    from models.foundations.softmax import parse_logits, softmax_steps

    at = softmax_from_link({"logits": "yes: 2, no: 0", "t": "2.0"})
    assert not at.exception and not at.warning
    assert at.text_input(key="softmax_text").value == "yes: 2, no: 0"
    assert at.slider(key="softmax_temperature").value == 2
    at.button(key="softmax_reveal").click().run()
    expected = softmax_steps(parse_logits("yes: 2, no: 0"), 2.0)
    shown = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    assert list(shown["probability"].round(12)) == list(expected["probability"].round(12))


@pytest.mark.parametrize("logits", ["<script>alert(1)</script>", "**a**: 1e999", "[x](http://evil.example): 1",
                                    "1, " * 2000])
def test_hostile_softmax_links_give_a_message_not_a_traceback(logits):
    at = softmax_from_link({"logits": logits, "t": "1e999"})
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot use" in w.value for w in at.warning)  # at least the temperature, 1e999
    assert at.slider(key="softmax_temperature").value == 1.0
    assert len(at.text_input(key="softmax_text").value) <= 4000


@pytest.mark.parametrize("page", ["activations", "augmentation", "dropout", "forward_pass", "loss_functions",
                                  "optimizers", "softmax", "overfitting"])
def test_present_mode_folds_each_pages_introduction(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.toggle(key="present_mode").set_value(True).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.expander and at.expander[0].label == "Explanation"
