"""Share by link on the convolution, recurrent, validation and search pages: every setting in the address, hostile
links fall back to defaults, a page opened from a link shows the numbers of the same settings set by hand."""
import math
import random
import re

import pytest
from streamlit.testing.v1 import AppTest

from models.core.links import decode, encode, ignored_text
from models.core.paths import ROOT
from pages.evaluation.search_link import SCHEMA as SEARCH
from pages.evaluation.validation_link import SCHEMA as VALIDATION
from pages.images.convolution_link import SCHEMA as CONVOLUTION
from pages.sequences.recurrent_link import SCHEMA as RECURRENT
from tests.test_links import HOSTILE, random_value

SCHEMAS = {"validation": VALIDATION, "hyperparameter_search": SEARCH, "recurrent": RECURRENT,
           "convolution": CONVOLUTION}
WIDGETS = ("number_input", "slider", "selectbox", "checkbox", "radio", "select_slider", "multiselect", "toggle",
           "text_input", "segmented_control")


def opened(page: str, params: dict, prepare=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = value
    if prepare:
        prepare(at)
    return at.run()


def address(at: AppTest) -> dict:
    return {name: values[-1] if isinstance(values, list) else values for name, values in at.query_params.items()}


def widgets(at: AppTest) -> dict:
    found = {}
    for kind in WIDGETS:
        try:
            found |= {w.key: w for w in at.get(kind)}
        except Exception:  # an element kind this page does not draw
            pass
    return found


def in_range(field, value) -> bool:
    if field.kind == "choice":
        return value in field.choices
    if field.kind == "subset":
        return set(value) <= set(field.choices) and len(set(value)) == len(value)
    if field.kind == "bool":
        return isinstance(value, bool)
    if field.kind == "text":
        return isinstance(value, str) and len(value) <= field.max_length
    kind = int if field.kind == "int" else float
    return (isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
            and field.low <= value <= field.high)


@pytest.mark.parametrize("page", sorted(SCHEMAS))
def test_every_setting_round_trips_exactly(page):
    rng = random.Random(0)
    for _ in range(200):
        values = {f.key: random_value(f, rng) for f in SCHEMAS[page] if f.kind != "text"}
        decoded, ignored = decode(SCHEMAS[page], encode(SCHEMAS[page], values))
        assert {k: decoded[k] for k in values} == values and ignored == []


@pytest.mark.parametrize("page", sorted(SCHEMAS))
def test_hostile_values_give_only_values_in_range(page):
    rng = random.Random(1)
    schema = SCHEMAS[page]
    for _ in range(300):
        params = {f.name: rng.choice(HOSTILE + ([f.encode(random_value(f, rng))] if f.kind != "text" else []))
                  for f in schema if rng.random() < 0.7}
        if rng.random() < 0.3:
            params["x" * rng.randint(1, 10_000)] = "1"
        values, ignored = decode(schema, params)
        for field in schema:
            assert in_range(field, values[field.key]), (field.key, values[field.key])
        assert len(ignored_text(ignored)) < 400 if ignored else True


def assert_ranges(at: AppTest, schema, skip=(), labels=None) -> None:
    """The widgets' (min, max) and options equal the schema's; `labels` turns a shown option back into its value."""
    shown, labels = widgets(at), labels or {}
    for field in schema:
        if field.key in skip:
            continue
        widget = shown[field.key]
        if field.kind in ("int", "float"):
            assert (widget.min, widget.max) == (field.low, field.high), field.key
        elif field.kind in ("choice", "subset"):
            options = [labels.get(field.key, str)(option) for option in widget.options]
            assert sorted(options) == sorted(map(str, field.choices)), field.key


def assert_opened(at: AppTest, schema, link: dict) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == decode(schema, link)[0]
    assert decode(schema, address(at)) == (decode(schema, link)[0], [])  # the page writes back the same setup


def assert_hostile(at: AppTest, schema) -> None:
    """Defaults everywhere, and one line about the link (a page may have warnings of its own, about other things)."""
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == {f.key: f.default for f in schema}
    [warning] = [w for w in at.warning if "link" in w.value]
    assert "cannot use" in warning.value and "<" not in warning.value and "script" not in warning.value
    assert not any("cannot use" in w.value for w in at.warning if w is not warning)


HOSTILE_LINK = {"x" * 10_000: "1", "seed": "<script>alert(1)</script>"}


# --- Validation ---

def reveal_threshold(at: AppTest) -> None:
    at.session_state["validation_f1_guess"] = "down"


VALIDATION_LINK = {"k": "3", "seed": "11", "strat": "0", "t": "0.73", "share": "0.2", "cell": "3-8"}


def test_the_validation_widgets_range_is_the_links_range():
    at = opened("validation", {}, reveal_threshold)
    at.button(key="validation_f1_lock").click().run()
    assert not at.exception
    cell = re.compile(r"true (\d) → predicted (\d) \(\d+\)")
    assert_ranges(at, VALIDATION, labels={"validation_cell": lambda text: "-".join(cell.fullmatch(text).groups())})


def test_the_validation_page_opens_from_a_link_with_the_numbers_of_the_same_settings_by_hand():
    from_link = opened("validation", VALIDATION_LINK, reveal_threshold)
    assert_opened(from_link, VALIDATION, VALIDATION_LINK)
    assert not from_link.warning
    by_hand = AppTest.from_file(str(ROOT / "pages/validation.py"), default_timeout=300).run()
    by_hand.slider(key="validation_k").set_value(3)
    by_hand.number_input(key="validation_fold_seed").set_value(11)
    by_hand.checkbox(key="validation_stratified").set_value(False)
    by_hand.slider(key="validation_share").set_value(0.2)
    by_hand.selectbox(key="validation_cell").set_value("3-8")
    by_hand.radio(key="validation_f1_guess").set_value("down").run()
    by_hand.button(key="validation_f1_lock").click().run()
    by_hand.slider(key="validation_threshold").set_value(0.73).run()
    from_link.button(key="validation_f1_lock").click().run()
    for at in (by_hand, from_link):
        assert not at.exception, [e.value for e in at.exception]
    assert address(by_hand) == address(from_link)
    metrics = [{m.label: m.value for m in at.metric} for at in (by_hand, from_link)]
    assert metrics[0] == metrics[1] and "F1" in metrics[0]
    default = AppTest.from_file(str(ROOT / "pages/validation.py"), default_timeout=300).run()
    folds = [next(c.proto.spec for c in at.get("vega_lite_chart") if '"fold' in c.proto.spec) for at in
             (by_hand, from_link, default)]
    assert folds[0] == folds[1] != folds[2]  # the same folds (the data's hash is in the spec), not the default ones
    paradox = [next(x.value for x in at.markdown if "accuracy**" in x.value) for at in (by_hand, from_link)]
    assert paradox[0] == paradox[1] and "**80.0% accuracy**" in paradox[0]


def test_a_hostile_validation_link_opens_with_defaults_and_one_line():
    at = opened("validation", HOSTILE_LINK | {"k": "1e999", "t": "nan", "share": "0.9", "cell": "<b>3-8</b>",
                                              "strat": "yes"})
    assert_hostile(at, VALIDATION)


# --- Hyperparameter search ---

SEARCH_LINK = {"search": "units,learning_rate", "budget": "2", "seed": "1", "epochs": "6", "patience": "3"}
LABEL = {"learning rate": "learning_rate", "neurons per layer": "units", "L2 penalty": "l2",
         "dropout rate": "dropout_rate"}


def test_the_search_widgets_range_is_the_links_range():
    at = opened("hyperparameter_search", {})
    assert not at.exception
    assert_ranges(at, SEARCH, labels={"search_names": LABEL.get})


def test_the_trials_picture_is_the_libraries_candidates():
    from models.evaluation import search
    from pages.evaluation.search_parts import trials_frame

    space = {n: search.SPACE[n] for n in ("learning_rate", "units")}
    trials = trials_frame(space, 5, 3)
    for strategy in search.STRATEGIES:
        part = trials[trials.strategy == strategy][list(space)].to_dict("records")
        assert part == search.candidates(space, strategy=strategy, budget=5, seed=3)


def search_by_hand() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/hyperparameter_search.py"), default_timeout=300).run()
    at.multiselect(key="search_names").set_value(["learning_rate", "units"])
    for key, value in (("budget", 2), ("seed", 1), ("epochs", 6), ("patience", 3)):
        at.number_input(key=f"search_{key}").set_value(value)
    return at.run()


def test_the_search_page_opens_from_a_link_with_the_trials_of_the_same_settings_by_hand():
    from_link, by_hand = opened("hyperparameter_search", SEARCH_LINK), search_by_hand()
    assert_opened(from_link, SEARCH, SEARCH_LINK)
    assert not [w for w in from_link.warning if "link" in w.value]
    assert address(from_link) == address(by_hand)
    pictures = [next(c.proto.spec for c in at.get("vega_lite_chart")) for at in (from_link, by_hand)]
    default = opened("hyperparameter_search", {})
    assert pictures[0] == pictures[1] != next(c.proto.spec for c in default.get("vega_lite_chart"))


@pytest.mark.slow
def test_a_search_from_a_link_equals_the_same_search_by_hand():
    results = []
    for at in (opened("hyperparameter_search", SEARCH_LINK), search_by_hand()):
        at.radio(key="search_guess").set_value("grid").run()
        at.button(key="search_run").click().run()
        assert not at.exception and not at.error
        results.append(next(d.value for d in at.dataframe if "val_accuracy" in d.value.columns))
    assert results[0].equals(results[1]) and len(results[0]) == 3  # a 1×1 grid fits a budget of 2, random uses 2


def test_a_hostile_search_link_opens_with_defaults_and_one_line():
    at = opened("hyperparameter_search", HOSTILE_LINK | {"search": "units,<img src=x onerror=alert(1)>",
                                                         "budget": "33", "epochs": "-1", "patience": "1e2"})
    assert_hostile(at, SEARCH)


# --- Recurrent networks ---

def test_a_table_of_numbers_round_trips_through_its_text():
    import numpy as np

    from pages.evaluation.present_parts import grid_text, parse_grid

    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, columns = rng.integers(1, 6, size=2)
        values = rng.normal(scale=10.0 ** rng.integers(-8, 8), size=(rows, columns))
        values[rng.random(values.shape) < 0.3] = rng.integers(-5, 5)  # whole numbers are written without ".0"
        assert np.array_equal(parse_grid(grid_text(values), columns=columns, rows=rows), values)
    for text in HOSTILE + ["1 2;3", "1 2;3 4;", "1 nan", "1 inf", "1 2 3", "٣ 1"]:
        assert parse_grid(text, columns=2, rows=None) is None or text in ("-0", "00012", "+5", " 7 "), text


RECURRENT_PRESETS = {cell: list(__import__("models.sequences.rnn_steps", fromlist=["x"]).load_presets(cell))
                     for cell in ("simple_rnn", "lstm")}
RECURRENT_LINK = {"rnn": RECURRENT_PRESETS["simple_rnn"][1], "lstm": RECURRENT_PRESETS["lstm"][1],
                  "length": "12", "scale": "1.35", "act": "relu", "cells": "lstm,gru", "lengths": "5,20",
                  "units": "3", "epochs": "2", "seed": "9", "rnn_w": "2 0.1 -0.3;0.25 1 0"}


def test_the_recurrent_widgets_range_is_the_links_range():
    from models.sequences.gradients import CELLS

    at = opened("recurrent", {})
    assert not at.exception
    names = {label: cell for cell, label in CELLS.items()}
    assert_ranges(at, RECURRENT, skip={f.key for f in RECURRENT if f.kind == "text"},
                  labels={"recurrent_grad_cells": names.get})


def recurrent_by_hand() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/recurrent.py"), default_timeout=300).run()
    at.selectbox(key="recurrent_simple_rnn_preset").set_value(RECURRENT_LINK["rnn"])
    at.selectbox(key="recurrent_lstm_preset").set_value(RECURRENT_LINK["lstm"])
    at.slider(key="recurrent_grad_length").set_value(12)
    at.slider(key="recurrent_grad_scale").set_value(1.35)
    at.selectbox(key="recurrent_grad_activation").set_value("relu")
    at.multiselect(key="recurrent_grad_cells").set_value(["lstm", "gru"])
    at.multiselect(key="recurrent_mem_lengths").set_value([5, 20])
    for key, value in (("units", 3), ("epochs", 2), ("seed", 9)):
        at.number_input(key=f"recurrent_mem_{key}").set_value(value)
    at.run()
    key = next(e.key for e in at.data_editor if e.key.startswith("recurrent_simple_rnn_w_"))
    at.session_state[key] = {"edited_rows": {0: {"h1": "2", "h2": "0.1", "h3": "-0,3"}, 1: {"h1": "0.25", "h2": "1",
                                                                                            "h3": "0"}},
                             "added_rows": [], "deleted_rows": []}  # typed as a student does, a decimal comma too
    return at.run()


def written_steps(at: AppTest) -> list[str]:
    return [c.value for c in at.code if "?" not in c.value]


def test_the_recurrent_page_opens_from_a_link_with_the_steps_and_gradients_of_the_same_settings_by_hand():
    import numpy as np

    from models.sequences import rnn_steps as rs

    from_link, by_hand = opened("recurrent", RECURRENT_LINK), recurrent_by_hand()
    assert_opened(from_link, RECURRENT, RECURRENT_LINK)
    assert not from_link.warning and not from_link.error and not by_hand.exception
    assert address(by_hand) == address(from_link)
    assert written_steps(from_link) == written_steps(by_hand)
    preset = rs.load_presets("simple_rnn")[RECURRENT_LINK["rnn"]]
    kernel = np.array([[2, 0.1, -0.3], [0.25, 1, 0]])
    expected = rs.simple_rnn_lines(preset["inputs"], kernel, preset["recurrent_kernel"], preset["bias"])
    assert written_steps(from_link)[0] == "\n".join(expected[0])  # the link's kernel, not the preset's
    sentences = [[m.value for m in at.markdown if m.value.startswith(("**LSTM.**", "**GRU.**"))] for at in
                 (from_link, by_hand)]
    assert sentences[0] == sentences[1] and len(sentences[0]) == 2


def test_a_hostile_recurrent_link_opens_with_defaults_and_one_line():
    at = opened("recurrent", HOSTILE_LINK | {"rnn": "<b>pulse</b>", "scale": "3.01", "cells": "lstm,lstm",
                                             "lengths": "5,7", "rnn_x": "1 2;3", "lstm_w": "1e999 0",
                                             "lstm_b": "<script>alert(1)</script>", "rnn_u": "9" * 5000})
    assert_hostile(at, RECURRENT)
    warning = next(w.value for w in at.warning if "link" in w.value)
    assert "and 4 more" in warning  # rnn_u (too long), and the tables the page refused: rnn_x, lstm_w, lstm_b
    at = opened("recurrent", {"rnn_x": "1 2;3", "lstm_w": "1 2"})  # ragged; one row short of the preset's shape
    [warning] = at.warning
    assert "(rnn_x, lstm_w)" in warning.value.replace("\\", "")
    assert all(at.session_state[f.key] == f.default for f in RECURRENT) and not at.exception


# --- Convolution ---

CONVOLUTION_LINK = {"input": "Handwritten digit", "digit": "7", "kernel": "sharpen", "size": "5", "stride": "2",
                    "padding": "same", "dilation": "1", "bias": "0.5", "row": "3", "col": "4", "pool": "average",
                    "window": "3", "pool_stride": "1", "shift": "2", "f1": "2", "f2": "0", "cnn_pool": "average",
                    "dense": "8", "dropout": "0.1", "epochs": "2", "seed": "5", "sample": "digit_six",
                    "weights": "0 0 0 0 0;0 0 -1 0 0;0 -1 5 -1 0;0 0 -1 0 0;0 0 0 0 1.5"}


def test_the_convolution_widgets_range_is_the_links_range():
    at = opened("convolution", {})
    assert not at.exception
    position = {"convolution_row", "convolution_col"}  # drawn with the output map's own size, kept inside it
    assert_ranges(at, CONVOLUTION, skip=position | {"convolution_kernel_text", "convolution_picture_sample"})
    at.session_state["convolution_source"] = "Picture"
    at.run()
    assert not at.exception
    picture = [f for f in CONVOLUTION if f.key == "convolution_picture_sample"]
    assert_ranges(at, picture, labels={"convolution_picture_sample": lambda text: text.replace(" ", "_")})
    for axis in ("row", "col"):
        widget = widgets(at)[f"convolution_{axis}"]
        assert 0 == widget.min and widget.max <= CONVOLUTION[[f.key for f in CONVOLUTION].index(
            f"convolution_{axis}")].high


def convolution_by_hand() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/convolution.py"), default_timeout=300).run()
    at.number_input(key="convolution_digit").set_value(7)
    at.selectbox(key="convolution_preset").set_value("sharpen")
    at.selectbox(key="convolution_size").set_value(5).run()
    at.session_state["convolution_kernel_sharpen_5"] = {"edited_rows": {4: {"c5": "1,5"}}, "added_rows": [],
                                                        "deleted_rows": []}
    for key, value in (("stride", 2), ("dilation", 1), ("bias", 0.5), ("pool_size", 3), ("pool_stride", 1),
                       ("shift", 2), ("f1", 2), ("f2", 0), ("dense", 8), ("dropout", 0.1), ("epochs", 2),
                       ("seed", 5)):
        at.number_input(key=f"convolution_{key}").set_value(value)
    at.radio(key="convolution_padding").set_value("same")
    at.radio(key="convolution_pool_kind").set_value("average")
    at.selectbox(key="convolution_cnn_pool").set_value("average").run()
    at.number_input(key="convolution_row").set_value(3)
    at.number_input(key="convolution_col").set_value(4)
    return at.run()


def shown_numbers(at: AppTest) -> dict:
    return {"arithmetic": next(c.value for c in at.code if "?" not in c.value),
            "size": next(m.value for m in at.markdown if m.value.startswith("**Output size**")),
            "shift": next(m.value for m in at.markdown if m.value.startswith("**Shift the map")),
            "layers": next(d.value for d in at.dataframe if "parameters" in d.value.columns).to_dict()}


def test_the_convolution_page_opens_from_a_link_with_the_numbers_of_the_same_settings_by_hand():
    import numpy as np

    from models.images import convolution as cv
    from models.images import digits

    from_link, by_hand = opened("convolution", CONVOLUTION_LINK), convolution_by_hand()
    assert_opened(from_link, CONVOLUTION, CONVOLUTION_LINK)
    assert not from_link.warning and not from_link.error and not by_hand.exception and not by_hand.error
    assert address(by_hand) == address(from_link)
    numbers = shown_numbers(from_link)
    assert numbers == shown_numbers(by_hand)
    kernel = np.pad(np.array(cv.KERNELS["sharpen"], float), 1)
    kernel[4, 4] = 1.5  # the link's kernel, not the preset's
    step = cv.output_arithmetic(digits.upscaled_digit(7, 3), kernel, 3, 4, stride=2, padding="same", bias=0.5)
    assert numbers["arithmetic"] == "\n".join(step.lines())


@pytest.mark.slow
def test_a_cnn_trained_from_a_link_equals_the_same_cnn_trained_by_hand():
    accuracies = []
    for at in (opened("convolution", CONVOLUTION_LINK), convolution_by_hand()):
        at.number_input(key="convolution_acc_guess").set_value(50.0).run()
        at.button(key="convolution_train").click().run()
        assert not at.exception, [e.value for e in at.exception]
        accuracies.append((at.metric[0].value, at.session_state["convolution_run"][2].history))
    assert accuracies[0][0] == accuracies[1][0]
    assert accuracies[0][1].equals(accuracies[1][1]) and len(accuracies[0][1]) == 2


def test_a_hostile_convolution_link_opens_with_defaults_and_one_line():
    at = opened("convolution", HOSTILE_LINK | {"weights": "<script>alert(1)</script>", "size": "4",
                                               "stride": "65", "bias": "1e999", "sample": "../../etc/passwd",
                                               "input": "Picture<"})
    assert_hostile(at, CONVOLUTION)
    assert "and 2 more" in next(w.value for w in at.warning if "link" in w.value)  # input, and the weights
    at = opened("convolution", {"size": "3", "weights": "1 2 3;4 5 6"})  # two rows for a 3 x 3 kernel
    [warning] = at.warning
    assert "(weights)" in warning.value.replace("\\", "") and not at.exception


def test_a_linked_output_position_stays_on_the_map():
    at = opened("convolution", {"row": "63", "col": "40"})  # the 22 x 22 map of the default settings
    assert not at.exception and not at.warning
    assert (at.session_state["convolution_row"], at.session_state["convolution_col"]) == (21, 21)


# --- Present mode ---

def layout(page: str, present: bool) -> list[tuple[str, str | None]]:
    """The page's elements in order, as (type, header text or expander label)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    if present:
        at.toggle(key="present_mode").set_value(True).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]

    def walk(node, out):
        for child in getattr(node, "children", {}).values():
            text = getattr(child, "label", None) if child.type == "expander" else None
            out.append((child.type, child.value if child.type == "header" else text))
            walk(child, out)
        return out
    return walk(at.main, [])


FOLDED = {"validation": [("2 · k-fold cross-validation", "Folds: k, seed, stratified")],
          "hyperparameter_search": [("1 · The search", "Search settings: hyperparameters, budget, seed, epochs")],
          "recurrent": [("1 · A SimpleRNN, step by step", "The inputs and weights (edit any cell)"),
                        ("3 · Vanishing and exploding gradients through time",
                         "Length, recurrent scale, activation, cells")],
          "convolution": [("1 · One convolution", "Input, kernel, stride, padding, dilation"),
                          ("2 · Pooling", "Pooling, window, stride, shift")]}


@pytest.mark.parametrize("page", sorted(FOLDED))
def test_present_mode_shows_each_sections_picture_before_its_folded_settings(page):
    elements = layout(page, present=True)
    expanders = [text for kind, text in elements if kind == "expander"]
    assert expanders[0] == "Explanation"  # the introduction, folded
    for header, settings in FOLDED[page]:
        start, end = elements.index(("header", header)), elements.index(("expander", settings))
        assert any(kind == "vega_lite_chart" for kind, _ in elements[start:end]), (header, settings)
    normal = layout(page, present=False)
    assert not any(kind == "expander" and text in dict(FOLDED[page]).values() for kind, text in normal)
    if page in ("recurrent", "convolution"):  # a picture beside the title, in the first screen
        first_header = next(i for i, (kind, _) in enumerate(normal) if kind == "header")
        assert any(kind in ("vega_lite_chart", "image") for kind, _ in normal[:first_header]), normal[:first_header]


LINKS = {"validation": VALIDATION_LINK, "hyperparameter_search": SEARCH_LINK, "recurrent": RECURRENT_LINK,
         "convolution": CONVOLUTION_LINK}


@pytest.mark.parametrize("page", sorted(LINKS))
def test_no_widget_gets_both_a_default_and_a_value_from_the_link(page, monkeypatch):
    import logging

    from streamlit.elements.lib import policies

    monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # Streamlit says it once per process
    said = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    logger = logging.getLogger(policies.__name__)
    logger.addHandler(handler)
    try:
        at = opened(page, LINKS[page])
    finally:
        logger.removeHandler(handler)
    assert not at.exception
    assert not [s for s in said if "created with a default value" in s], said


def test_the_convolution_preview_pictures_show_the_maps_values():
    import numpy as np

    from pages.images.convolution_parts import map_picture

    grid = np.array([[0.0, 0.5], [1.0, 0.25]])
    picture = map_picture(grid, scale=3)
    assert picture.shape == (6, 6, 3)
    assert (picture[::3, ::3, 0] == (grid * 255).astype(np.uint8)).all()  # grey levels, each pixel 3 x 3
    signed = map_picture(np.array([[0.0, 2.0, -2.0]]), diverging=True, scale=1)[0]
    assert list(signed[0]) == [255, 255, 255]  # 0 is white, the largest |value| full blue or full red
    assert signed[1, 2] > signed[1, 0] and signed[2, 0] > signed[2, 2]
