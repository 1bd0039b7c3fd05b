"""The foundations pages' settings in the address: round trips, hostile links, the page opened from a link."""
import io
import json
import math
import random

import pytest
from streamlit.testing.v1 import AppTest

from models.core.links import decode, encode
from models.core.paths import ROOT
from models.foundations import activations as act
from models.training import loss_fit as F
from models.training import losses as L
from pages.foundations import activations_link, forward_pass_link
from pages.foundations.checked_links import apply_checks
from pages.training import loss_functions_link, optimizers_link
from tests.test_links import HOSTILE, random_value

LINKS = {"activations": activations_link, "loss_functions": loss_functions_link, "optimizers": optimizers_link,
         "forward_pass": forward_pass_link}


def random_numbers(rng: random.Random, count: int, low: float = -100.0, high: float = 100.0) -> str:
    return ", ".join(repr(round(rng.uniform(low, high), rng.randint(0, 6))) for _ in range(count))


def random_points(rng: random.Random) -> str:
    count = rng.randint(2, F.MAX_POINTS)
    xs = [0.0, 1.0] + [round(rng.uniform(-50, 50), rng.randint(0, 17)) for _ in range(count - 2)]
    return loss_functions_link.points_text(xs, [rng.uniform(-50, 50) for _ in xs])


def random_network(rng: random.Random) -> str:
    """A preset with every number changed, as the address carries it."""
    import copy

    from pages.foundations.forward_pass_parts import link_text

    spec = copy.deepcopy(rng.choice(list(forward_pass_link.PRESETS.values())))
    for layer in spec["layers"]:
        layer["weights"] = [[rng.uniform(-5, 5) for _ in row] for row in layer["weights"]]
        layer["biases"] = [round(rng.uniform(-5, 5), rng.randint(0, 17)) for _ in layer["biases"]]
    spec["inputs"] = [rng.uniform(-3, 3) for _ in spec["inputs"]]
    spec["learning_rate"] = rng.uniform(1e-6, 100.0)
    return link_text(spec)


TEXTS = {  # a text a student could type into each text box (or a multiselect's choices in order)
    "activations_functions_link": lambda rng: ",".join(rng.sample(activations_link.NAMES, rng.randint(0, 9))),
    "activations_softmax_others": lambda rng: random_numbers(rng, rng.randint(1, 9)),
    "activations_softmax_vector": lambda rng: random_numbers(rng, rng.randint(1, 10)),
    "loss_points_link": random_points,
    "optim_optimizers_link": lambda rng: ",".join(rng.sample(optimizers_link.NAMES, rng.randint(0, 6))),
    "optim_learning_rate": lambda rng: repr(rng.uniform(1e-6, 10.0)),
    "optim_fit_learning_rate": lambda rng: rng.choice(["0.1", "1e-3", "0,5", "2"]),
    "forward_pass_net": random_network,
}


def any_value(field, rng):
    return TEXTS[field.key](rng) if field.kind == "text" else random_value(field, rng)


def link_of(module, values) -> dict:
    return encode(module.SCHEMA, values)


@pytest.mark.parametrize("page", sorted(LINKS))
def test_every_setting_round_trips_exactly(page):
    schema, rng = LINKS[page].SCHEMA, random.Random(0)
    for _ in range(200):
        values = {f.key: any_value(f, rng) for f in schema}
        decoded, ignored = decode(schema, encode(schema, values))
        assert decoded == values and ignored == []
        assert apply_checks(schema, decoded, LINKS[page].CHECKS) == (values, [])  # the page's parsers take them


@pytest.mark.parametrize("page", sorted(LINKS))
def test_hostile_values_give_only_values_the_widgets_take(page):
    module, rng = LINKS[page], random.Random(1)
    for _ in range(300):
        params = {f.name: rng.choice(HOSTILE + ["x" * 10_000, f.encode(any_value(f, rng))]) for f in module.SCHEMA
                  if rng.random() < 0.7}
        if rng.random() < 0.3:
            params["<b>" * rng.randint(1, 3000)] = "1"
        values, ignored = decode(module.SCHEMA, params)
        values, refused = apply_checks(module.SCHEMA, values, module.CHECKS)
        for field in module.SCHEMA:
            value = values[field.key]
            if field.kind == "choice":
                assert value in field.choices
            elif field.kind == "subset":
                assert set(value) <= set(field.choices) and len(set(value)) == len(value)
            elif field.kind == "bool":
                assert isinstance(value, bool)
            elif field.kind == "text":
                assert isinstance(value, str) and len(value) <= field.max_length
                if field.key in module.CHECKS:
                    module.CHECKS[field.key](value)  # never raises now
            else:
                assert isinstance(value, int if field.kind == "int" else float) and not isinstance(value, bool)
                assert math.isfinite(value) and field.low <= value <= field.high
            if field.name not in params:
                assert value == field.default and field.name not in ignored + refused


def widgets(at: AppTest) -> dict:
    return {w.key: w for kind in ("number_input", "slider", "selectbox", "checkbox", "toggle", "radio",
                                  "select_slider", "multiselect", "text_input") for w in at.get(kind)}


def assert_ranges(at: AppTest, schema, shown=lambda key, choice: str(choice), widget_of=None) -> None:
    """Every field's widget takes exactly the field's range, choices or length of text."""
    drawn, widget_of = widgets(at), widget_of or {}
    for field in schema:
        widget = drawn[widget_of.get(field.key, field.key)]
        if field.kind in ("int", "float"):
            assert (widget.min, widget.max) == (field.low, field.high), field.key
        elif field.kind in ("choice", "subset"):
            assert list(widget.options) == [shown(field.key, c) for c in field.choices], field.key
        elif field.kind == "text" and field.choices:  # a multiselect whose order the link keeps
            assert list(widget.options) == [shown(field.key, c) for c in field.choices], field.key
        elif field.kind == "text":
            assert widget.proto.max_chars == field.max_length, field.key


def opened(page: str, params: dict, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def address(at: AppTest) -> dict:
    return {name: values[-1] if isinstance(values, list) else values for name, values in at.query_params.items()}


def assert_state_is_the_link(at: AppTest, schema, params) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == decode(schema, params)[0]
    assert decode(schema, address(at)) == (decode(schema, params)[0], [])  # the address it writes back


def assert_one_plain_warning(at: AppTest, schema) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == {f.key: f.default for f in schema}
    [warning] = at.warning
    assert "cannot use" in warning.value and "<" not in warning.value and "script" not in warning.value


def layout(node) -> list[str]:
    """The main area in reading order: "chart" for each chart, "[label]" for each expander, "h:" for each header."""
    seen = []
    for child in getattr(node, "children", {}).values():
        kind = getattr(child, "type", "")
        if kind in ("vega_lite_chart", "graphviz_chart"):
            seen.append("chart")
        elif type(child).__name__ == "Expander":
            seen.append(f"[{child.label}]")
        elif kind in ("header", "subheader"):
            seen.append(f"h:{child.value}")
        seen += layout(child)
    return seen


HOSTILE_LINK = {"x" * 10_000: "1", "unknown": "<script>alert(1)</script>"}  # names are echoed (escaped)


# --- Activations ---

ACT = activations_link
ACT_LINK = {"f": "gelu,softmax,elu", "xmin": "-3.5", "xmax": "2.25", "slope": "0.1", "alpha": "1.5", "gelu_tanh": "1",
            "others": "0, 2", "quiz": "elu", "quiz_of": "slope", "quiz_x": "-1.5", "probe": "-2.5",
            "logits": "3, -1, 0.5, 2", "jacobian": "1"}


def act_shown(key, choice):
    if key == "activations_quiz_quantity":
        return {"value": "value f(x)", "slope": "slope f′(x)"}[choice]
    return act.ACTIVATIONS[choice].label


def chart_rows(at: AppTest):
    import pyarrow as pa

    return [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for c in at.get("vega_lite_chart")
            for d in c.proto.datasets]


def test_activations_widgets_take_exactly_the_links_range():
    at = opened("activations", {})
    at.session_state["activations_functions"] = list(ACT.NAMES)
    assert_ranges(at.run(), ACT.SCHEMA, act_shown, {"activations_functions_link": "activations_functions"})


def test_activations_open_from_a_link_as_set_by_hand():
    from_link = opened("activations", ACT_LINK)
    assert_state_is_the_link(from_link, ACT.SCHEMA, ACT_LINK)
    assert not from_link.warning and not from_link.error
    by_hand = opened("activations", {})
    by_hand.multiselect(key="activations_functions").set_value(["gelu", "softmax", "elu"])
    by_hand.number_input(key="activations_x_min").set_value(-3.5)
    by_hand.number_input(key="activations_x_max").set_value(2.25)
    by_hand.slider(key="activations_slope").set_value(0.1)
    by_hand.number_input(key="activations_elu_alpha").set_value(1.5)
    by_hand.toggle(key="activations_gelu_approximate").set_value(True)
    by_hand.text_input(key="activations_softmax_others").input("0, 2")
    by_hand.selectbox(key="activations_quiz_function").set_value("elu")
    by_hand.radio(key="activations_quiz_quantity").set_value("slope")
    by_hand.number_input(key="activations_quiz_x").set_value(-1.5)
    by_hand.number_input(key="activations_probe_x").set_value(-2.5)
    by_hand.text_input(key="activations_softmax_vector").input("3, -1, 0.5, 2")
    by_hand.checkbox(key="activations_show_jacobian").check().run()
    assert not by_hand.exception
    assert address(by_hand) == ACT_LINK | {"xmin": "-3.5", "xmax": "2.25"}
    probe = from_link.dataframe[0].value
    assert probe.equals(by_hand.dataframe[0].value)
    value, slope = act.evaluate("gelu", -2.5, approximate=True)  # the library, directly
    gelu = probe.set_index("function").loc[act.ACTIVATIONS["gelu"].label]
    assert (gelu["f(x)"], gelu["f′(x)"]) == (value, slope)
    for a, b in zip(from_link.dataframe, by_hand.dataframe):  # the softmax table and its Jacobian too
        assert a.value.equals(b.value)
    assert len(from_link.dataframe) == 3
    assert from_link.multiselect(key="activations_functions").value == ["gelu", "softmax", "elu"]  # in its order
    assert list(probe["function"]) == [act.ACTIVATIONS[n].label for n in ("gelu", "softmax", "elu")]
    curves = chart_rows(from_link)
    assert all(a.equals(b) for a, b in zip(curves, chart_rows(by_hand))) and len(curves) == 2
    assert curves[0]["x"].min() == -3.5 and curves[0]["x"].max() == 2.25


def test_activations_hostile_link_opens_with_defaults_and_one_line():
    at = opened("activations", HOSTILE_LINK | {"f": "relu,<script>", "xmin": "1e999", "slope": "2", "alpha": "nan",
                                               "others": "<img src=x onerror=alert(1)>", "logits": "9" * 150,
                                               "quiz": "softsign", "jacobian": "yes", "probe": "[1](http://e.x)"})
    assert_one_plain_warning(at, ACT.SCHEMA)
    assert not at.error  # the bad texts were not drawn into the text boxes


def test_activations_present_mode_puts_the_curves_first_and_folds_the_settings():
    at = opened("activations", {}, present_mode=True)
    assert not at.exception
    assert layout(at.main)[:5] == ["[Explanation]", "h:Compare shapes and slopes", "chart", "chart",
                                   "[Settings: functions, x range, slopes]"]
    normal = opened("activations", {})
    assert layout(normal.main)[:4] == ["h:Compare shapes and slopes", "chart", "chart",
                                       "[Settings for ELU, GELU and softmax]"]


# --- Loss functions ---

LOSS = loss_functions_link
LOSS_LINK = {"task": "regression", "y": "0", "p": "0.25", "ry": "-2.5", "rp": "7.0", "delta": "1.5", "zy": "0",
             "z": "3.5", "points": "0,1.2;1,2.7;2,5.3;3,6.9;4,9.1;5,11.2;6,12.8;7,40", "fit_delta": "2.0"}


def test_loss_widgets_take_exactly_the_links_range():
    shown = {"loss_task": LOSS.TASKS.get}
    for task in LOSS.TASKS:  # each task draws its own target and prediction
        at = opened("loss_functions", {"task": task})
        drawn = [f for f in LOSS.SCHEMA if f.key in widgets(at)]
        assert {f.key for f in LOSS.SCHEMA} - {f.key for f in drawn} == (
            {"loss_points_link", "loss_regression_target", "loss_regression_prediction", "loss_delta"}
            if task == "classification" else {"loss_points_link", "loss_target", "loss_prediction"})
        assert_ranges(at, drawn, lambda key, c: shown.get(key, str)(c))


def written_lines(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("At y ="))


def test_loss_functions_open_from_a_link_as_set_by_hand():
    from_link = opened("loss_functions", LOSS_LINK)
    assert_state_is_the_link(from_link, LOSS.SCHEMA, LOSS_LINK)
    assert not from_link.warning and not from_link.error
    assert from_link.dataframe[0].value["y"].tolist()[-1] == "40"  # the table holds the link's points
    by_hand = opened("loss_functions", {})
    by_hand.radio(key="loss_task").set_value("regression").run()
    by_hand.number_input(key="loss_regression_target").set_value(-2.5)
    by_hand.number_input(key="loss_regression_prediction").set_value(7.0)
    by_hand.slider(key="loss_delta").set_value(1.5)
    by_hand.radio(key="loss_logit_target").set_value(0)
    by_hand.number_input(key="loss_logit").set_value(3.5)
    by_hand.slider(key="loss_fit_delta").set_value(2.0)
    by_hand.button(key="loss_jump").click().run()  # point 8 jumps to y = 40
    by_hand.session_state["loss_target"] = 0
    by_hand.session_state["loss_prediction"] = 0.25
    by_hand.run()
    assert not by_hand.exception
    assert decode(LOSS.SCHEMA, address(by_hand))[0] == decode(LOSS.SCHEMA, LOSS_LINK)[0]
    expected = [L.written_out(name, -2.5, 7.0, **({"delta": 1.5} if name == "huber" else {}))[:2]
                for name in L.REGRESSION]  # the library, directly
    for at in (from_link, by_hand):
        assert all(value in written_lines(at) and slope in written_lines(at) for value, slope in expected)
    assert written_lines(from_link) == written_lines(by_hand)
    assert [m.value for m in from_link.markdown] == [m.value for m in by_hand.markdown]  # the logit numbers too
    tables = []
    for at in (from_link, by_hand):  # the three lines fitted to the link's points and to the typed ones
        at.radio(key="loss_guess").set_value("MSE").run()
        at.button(key="loss_fit").click().run()
        assert not at.exception, [e.value for e in at.exception]
        tables.append(at.dataframe[1].value)
    assert tables[0].equals(tables[1]) and F.most_moved(tables[0]) == "MSE"


def test_loss_functions_hostile_link_opens_with_defaults_and_one_line():
    at = opened("loss_functions", HOSTILE_LINK | {"task": "<b>regression</b>", "y": "2", "p": "1e999", "z": "nan",
                                                  "points": "<script>alert(1)</script>", "fit_delta": "9" * 400,
                                                  "zy": "[0](http://evil.example)"})
    assert_one_plain_warning(at, LOSS.SCHEMA)
    assert not at.error
    at = opened("loss_functions", {"points": ";".join(["1,1"] * 41)})  # one bad part: named, the rest kept
    assert "(points)" in at.warning[0].value.replace("\\", "") and not at.error
    assert at.dataframe[0].value.equals(F.as_table(F.REFERENCE))


def test_loss_functions_present_mode_puts_the_curves_first_and_folds_the_settings():
    at = opened("loss_functions", {}, present_mode=True)
    assert not at.exception
    assert layout(at.main)[:6] == ["[Explanation]", "h:1 · Loss against prediction", "chart", "chart",
                                   "[Task, target and prediction]", "[Explanation]"]
    normal = opened("loss_functions", {})
    assert layout(normal.main)[:3] == ["h:1 · Loss against prediction", "chart", "chart"]


# --- Optimisers ---

OPT = optimizers_link
OPT_LINK = {"surface": "bowl", "opt": "adam,momentum", "lr": "0.05", "m": "0.8", "steps": "120", "step": "60",
            "k": "7", "fit_lr": "0.2", "epochs": "5", "points": "60", "noise": "0.8", "seed": "42"}


def revealed(at: AppTest) -> AppTest:
    at.radio(key="optim_guess").set_value(at.radio(key="optim_guess").options[0]).run()
    return at.button(key="optim_reveal").click().run()


def test_optimizers_widgets_take_exactly_the_links_range():
    at = revealed(opened("optimizers", {"steps": "500"}))  # the step sliders appear after the guess, up to steps
    assert not at.exception
    labels = {"optim_optimizers_link": optimizers_link.opt.OPTIMIZERS.get}
    assert_ranges(at, OPT.SCHEMA, lambda key, c: labels.get(key, str)(c),
                  {"optim_optimizers_link": "optim_optimizers"})


def test_optimizers_open_from_a_link_as_set_by_hand():
    from_link = opened("optimizers", OPT_LINK)
    assert_state_is_the_link(from_link, OPT.SCHEMA, OPT_LINK)
    assert not from_link.warning and not from_link.error
    assert from_link.multiselect(key="optim_optimizers").value == ["adam", "momentum"]  # in the link's order
    by_hand = opened("optimizers", {})
    by_hand.selectbox(key="optim_surface").set_value("bowl").run()
    by_hand.text_input(key="optim_learning_rate").input("0.05")
    by_hand.slider(key="optim_momentum").set_value(0.8)
    by_hand.slider(key="optim_steps").set_value(120)
    by_hand.multiselect(key="optim_optimizers").set_value(["adam", "momentum"])
    by_hand.text_input(key="optim_fit_learning_rate").input("0.2")
    by_hand.slider(key="optim_fit_epochs").set_value(5)
    by_hand.slider(key="optim_points").set_value(60)
    by_hand.slider(key="optim_noise").set_value(0.8)
    by_hand.number_input(key="optim_seed").set_value(42).run()
    assert not by_hand.exception
    batches = [at.dataframe[0].value for at in (from_link, by_hand)]
    assert batches[0].equals(batches[1]) and list(batches[0]["batch size"]) == [60, 32, 1]
    from models.training import optim_line_fit as lf  # the library, directly: the full-batch fit's last w

    points = lf.make_line_points(60, 0.8, 42)
    direct = lf.line_fit_path(points["x"], points["y"], batch_size=60, epochs=5, learning_rate=0.2, seed=42)
    assert batches[0]["w"].iloc[0] == direct["w"].iloc[-1]
    for at in (from_link, by_hand):
        revealed(at)
    by_hand.slider(key="optim_step").set_value(60)
    by_hand.slider(key="optim_update").set_value(7).run()
    assert not by_hand.exception and not from_link.exception
    races = [at.dataframe[0].value for at in (from_link, by_hand)]
    assert races[0].equals(races[1]) and list(races[0]["step"]) == [60, 60]
    assert [c.value for c in from_link.code] == [c.value for c in by_hand.code]  # update 7, written out


def test_optimizers_hostile_link_opens_with_defaults_and_one_line():
    at = opened("optimizers", HOSTILE_LINK | {"surface": "<i>bowl</i>", "opt": "adam,<script>", "lr": "1e999",
                                              "m": "1", "steps": "5", "fit_lr": "<img src=x>", "seed": "-1",
                                              "points": "1" * 21, "noise": "[x](http://evil.example)"})
    assert_one_plain_warning(at, OPT.SCHEMA)
    assert not at.error
    at = opened("optimizers", {"lr": "0", "fit_lr": "11"})  # numbers, but not learning rates the page takes
    assert "lr" in at.warning[0].value and not at.error


def test_optimizers_present_mode_puts_the_surface_first_and_folds_the_settings():
    at = opened("optimizers", {}, present_mode=True)
    assert not at.exception
    assert layout(at.main)[:4] == ["[Explanation]", "h:1 · The race", "chart",
                                   "[Race settings: surface, learning rate, momentum, optimisers]"]
    normal = opened("optimizers", {})
    assert layout(normal.main)[:2] == ["h:1 · The race", "chart"]
    revealed(at)  # once the paths are shown they are the picture: the start is not drawn again above them
    assert layout(at.main)[:5] == ["[Explanation]", "h:1 · The race",
                                   "[Race settings: surface, learning rate, momentum, optimisers]", "[Explanation]",
                                   "h:2 · Your prediction"]
    assert layout(at.main).count("chart") == layout(revealed(normal).main).count("chart") - 1


# --- Forward pass ---

FWD = forward_pass_link


def edited_classic() -> dict:
    import copy

    spec = copy.deepcopy(FWD.PRESETS["Classic example 2-2-2 (sigmoid, targets 0.01 and 0.99)"])
    spec["layers"][0]["weights"][0][0] = 0.5
    return spec


def fwd_numbers(at: AppTest) -> tuple:
    """The losses before and after the step, and the gradient and new-value tables."""
    tables = [t.value for t in at.dataframe if {"gradient", "new value"} & set(t.value.columns)]
    return [m.value for m in at.metric], tables


def test_forward_pass_link_holds_the_network_and_a_too_large_one_is_refused_plainly():
    from models.foundations import network_spec
    from pages.foundations.forward_pass_parts import link_text

    assert [f.kind for f in FWD.SCHEMA] == ["text", "bool"] and FWD.SCHEMA[0].max_length == 4000
    for spec in FWD.PRESETS.values():  # every preset fits, and reads back number for number
        assert len(link_text(spec)) < 1000 and FWD.preset_of(network_spec.spec_from_json(link_text(spec)))
    at = opened("forward_pass", {})
    assert widgets(at)["forward_pass_show_all"].type == "toggle"
    widest = {"inputs": [1.0] * 12, "targets": [0.5] * 12, "loss": "mse", "learning_rate": 0.1,
              "layers": [{"weights": [[0.123456789] * 12] * 12, "biases": [0.1] * 12, "activation": "tanh"}] * 6}
    assert len(link_text(widest)) > 4000
    at.file_uploader(key="forward_pass_upload").set_value(("w.json", json.dumps(widest).encode(),
                                                           "application/json")).run()
    assert not at.exception and any("more than a link holds" in c.value for c in at.caption)
    assert "net" not in address(at) or address(at)["net"] != link_text(widest)


def test_forward_pass_opens_from_a_link_as_set_by_hand():
    from models.foundations import forward_pass as fp
    from pages.foundations.forward_pass_parts import link_text

    spec = edited_classic()
    link = {"net": link_text(spec), "answers": "1"}
    from_link = opened("forward_pass", link)
    assert_state_is_the_link(from_link, FWD.SCHEMA, link)
    assert not from_link.warning and not from_link.error
    assert from_link.selectbox(key="forward_pass_preset").value == f"From a link: {spec['name']}"[:60] + "…"
    by_hand = opened("forward_pass", {})
    by_hand.selectbox(key="forward_pass_preset").set_value(spec["name"]).run()
    key = by_hand.data_editor[1].key  # layer 1's table: row x1, column h1
    by_hand.session_state[key] = {"edited_rows": {0: {"to h1": 0.5}}, "added_rows": [], "deleted_rows": []}
    by_hand.toggle(key="forward_pass_show_all").set_value(True).run()
    assert not by_hand.exception
    assert address(by_hand) == link  # the address follows the edited table
    metrics, tables = fwd_numbers(from_link)
    assert (metrics, [t.to_dict() for t in tables]) == (fwd_numbers(by_hand)[0],
                                                        [t.to_dict() for t in fwd_numbers(by_hand)[1]])
    assert metrics[0] == fp.fmt(fp.loss_value(spec))  # the library, directly
    assert len(tables) == 2
    assert tables[1]["new value"].tolist() == [fp.fmt(v) for v in fp.parameter_table(spec)["updated"]]


def test_forward_pass_hostile_link_opens_with_defaults_and_one_line():
    at = opened("forward_pass", HOSTILE_LINK | {"net": "<script>alert(1)</script>", "answers": "yes"})
    assert_one_plain_warning(at, FWD.SCHEMA)
    assert not at.error and at.selectbox(key="forward_pass_preset").value == next(iter(FWD.PRESETS))
    for net in ('{"inputs": [1e999]}', json.dumps({"inputs": [1], "layers": []}), "[" * 3000, "9" * 3999):
        at = opened("forward_pass", {"net": net})
        assert not at.exception and not at.error and len(at.warning) == 1
    bold = edited_classic() | {"name": "**bold** <b>x</b>", "description": "[click](http://evil.example)"}
    from pages.foundations.forward_pass_parts import link_text

    at = opened("forward_pass", {"net": link_text(bold)})  # a valid network: its texts stay plain text
    assert not at.warning and at.text[0].value == bold["description"]
    assert not any("evil" in m.value for m in at.markdown)


def test_forward_pass_present_mode_puts_the_network_first_and_folds_the_tables():
    at = opened("forward_pass", {}, present_mode=True)
    assert not at.exception
    assert layout(at.main)[:3] == ["[Explanation]", "chart", "[1. The network: inputs, weights, targets, loss]"]
    normal = opened("forward_pass", {})
    assert layout(normal.main)[:2] == ["chart", "h:1. The network"]
    dot = normal.get("graphviz_chart")[0].proto.spec
    assert '"x1" -> "h1" [color="#4c78a8", penwidth=1.97, label="0.4"]' in dot  # the lecture network's weights
