"""Forward pass and backprop: hand arithmetic vs Keras, chain rule vs GradientTape, published numbers, the page."""
import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from models.core.guess import grade_number
from models.foundations import forward_pass as fp

PRESETS = fp.load_presets()
CLASSIC = next(spec for name, spec in PRESETS.items() if name.startswith("Classic"))
OUTPUT_FOR_LOSS = {"half_sse": fp.ACTIVATIONS, "mse": fp.ACTIVATIONS,
                   "binary_crossentropy": ("sigmoid",), "categorical_crossentropy": ("softmax",)}
COMBINATIONS = [(hidden, output, loss) for loss, outputs in OUTPUT_FOR_LOSS.items()
                for output in outputs for hidden in fp.ACTIVATIONS]


def random_spec(rng, hidden: str, output: str, loss: str, *, sizes=None) -> dict:
    """A random network; targets are valid for the loss (probabilities, one-hot for categorical)."""
    sizes = sizes or [int(n) for n in rng.integers(1, 5, size=int(rng.integers(2, 5)))]
    sizes = [max(n, 2) if k and "softmax" in (hidden, output) else n for k, n in enumerate(sizes)]
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append({"weights": rng.normal(0, 0.8, (n_in, n_out)).tolist(),
                       "biases": rng.normal(0, 0.3, n_out).tolist(),
                       "activation": output if index == len(sizes) - 2 else hidden})
    n_out = sizes[-1]
    if loss == "categorical_crossentropy":
        targets = np.eye(n_out)[rng.integers(n_out)].tolist()
    elif loss == "binary_crossentropy":
        targets = rng.uniform(0, 1, n_out).round(2).tolist()
    else:
        targets = rng.normal(0, 1, n_out).tolist()
    return {"inputs": rng.normal(0, 1, sizes[0]).tolist(), "layers": layers, "targets": targets,
            "loss": loss, "learning_rate": 0.3}


def random_specs(count: int = 12, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [random_spec(rng, *COMBINATIONS[k % len(COMBINATIONS)]) for k in range(count)]


def max_gap(hand: list[dict], other: list[dict]) -> float:
    return max(max(np.abs(np.array(h["weights"]) - np.array(o["weights"])).max(),
                   np.abs(np.array(h["biases"]) - np.array(o["biases"])).max()) for h, o in zip(hand, other))


# ---------- two routes to every number ----------

@pytest.mark.slow
@pytest.mark.parametrize("spec", list(PRESETS.values()) + random_specs(), ids=lambda s: s.get("name", "random")[:20])
def test_hand_forward_pass_matches_keras(spec):
    by_keras = fp.keras_results(spec)
    for hand, keras_a in zip(fp.forward(spec), by_keras["activations"]):
        np.testing.assert_allclose(hand["a"], keras_a, rtol=0, atol=1e-9)
    assert fp.backprop_step(spec)["loss"] == pytest.approx(by_keras["loss"], abs=1e-9)


def test_keras_builder_is_uncompiled_float64_with_the_spec_weights():
    model = fp.build_network_model(CLASSIC)
    assert not model.compiled
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.dtype for layer in dense] == ["float64", "float64"]
    np.testing.assert_array_equal(dense[0].get_weights()[0], [[0.15, 0.25], [0.20, 0.30]])
    np.testing.assert_array_equal(dense[1].get_weights()[1], [0.60, 0.60])


@pytest.mark.slow
@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_chain_rule_matches_gradient_tape(hidden, output, loss):
    rng = np.random.default_rng(abs(hash((hidden, output, loss))) % 2**32)
    spec = random_spec(rng, hidden, output, loss, sizes=[3, 4, 3])
    by_keras = fp.keras_results(spec)
    step = fp.backprop_step(spec)
    assert step["loss"] == pytest.approx(by_keras["loss"], abs=1e-9)
    assert max_gap(step["gradients"], by_keras["gradients"]) < 1e-9


@pytest.mark.parametrize("spec", random_specs(6, seed=3), ids=lambda s: s["loss"])
def test_chain_rule_matches_finite_differences(spec):
    """A third route that needs no TensorFlow: nudge each weight and watch the loss."""
    step, h = fp.backprop_step(spec), 1e-6
    for index, layer in enumerate(spec["layers"]):
        for i, row in enumerate(layer["weights"]):
            for j in range(len(row)):
                up, down = copy.deepcopy(spec), copy.deepcopy(spec)
                up["layers"][index]["weights"][i][j] += h
                down["layers"][index]["weights"][i][j] -= h
                numeric = (fp.loss_value(up) - fp.loss_value(down)) / (2 * h)
                assert step["gradients"][index]["weights"][i][j] == pytest.approx(numeric, abs=1e-6)


@pytest.mark.slow
def test_saturated_sigmoid_cross_entropy_is_finite_and_matches_keras_logits_path():
    import keras

    spec = {"inputs": [1.0], "layers": [{"weights": [[40.0, -30.0]], "biases": [0.0, 0.0], "activation": "sigmoid"}],
            "targets": [0.0, 1.0], "loss": "binary_crossentropy", "learning_rate": 0.1}
    step, by_keras = fp.backprop_step(spec), fp.keras_results(spec)
    assert math.isfinite(step["loss"]) and step["loss"] == pytest.approx(35.0, abs=1e-9)
    assert step["loss"] == pytest.approx(by_keras["loss"], abs=1e-9)
    assert max_gap(step["gradients"], by_keras["gradients"]) < 1e-9
    # Given probabilities instead of the layer's output, Keras clips them to [ε, 1 − ε]: a different number.
    a = np.array([fp.forward(spec)[-1]["a"]])
    clipped = float(keras.losses.binary_crossentropy(np.array([spec["targets"]]), a)[0])
    assert clipped < 17 < step["loss"]


# ---------- the published example ----------

def test_published_numbers_of_the_classic_example():
    out = fp.forward(CLASSIC)[-1]["a"]
    assert out == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    step = fp.backprop_step(CLASSIC)
    assert step["loss"] == pytest.approx(0.298371109, abs=1e-9)
    new = step["updated"]["layers"]
    assert new[1]["weights"][0][0] == pytest.approx(0.35891648, abs=1e-8)  # w5: h1 → o1
    assert new[0]["weights"][0][0] == pytest.approx(0.149780716, abs=1e-9)  # w1: i1 → h1
    assert new[0]["weights"][1][1] == pytest.approx(0.29950229, abs=1e-8)  # w4: i2 → h2
    assert new[1]["weights"][1][1] == pytest.approx(0.561370121, abs=1e-9)  # w8: h2 → o2
    markdown = fp.answer_key_markdown(CLASSIC)
    for text in ("0.3775", "0.593269992", "0.75136507", "0.298371109", "0.35891648", "0.149780716"):
        assert text in markdown


@pytest.mark.parametrize("spec", list(PRESETS.values()), ids=lambda s: s["name"][:20])
def test_update_is_a_gradient_descent_step_that_lowers_the_loss(spec):
    step, rate = fp.backprop_step(spec), spec["learning_rate"]
    for old, grad, new in zip(spec["layers"], step["gradients"], step["updated"]["layers"]):
        np.testing.assert_allclose(new["weights"], np.array(old["weights"]) - rate * np.array(grad["weights"]),
                                   atol=1e-15)
        np.testing.assert_allclose(new["biases"], np.array(old["biases"]) - rate * np.array(grad["biases"]), atol=1e-15)
    assert step["loss_after"] == pytest.approx(fp.loss_value(step["updated"]))
    assert step["loss_after"] < step["loss"]


def test_arithmetic_strings_and_tables():
    first = fp.forward_steps(CLASSIC)[0][0]
    assert first["sum"] == "z_h1 = 0.15×0.05 + 0.2×0.1 + 0.35 = 0.3775"
    assert first["activation"] == "a_h1 = sigmoid(0.3775) = 0.593269992"
    assert fp.loss_steps(CLASSIC)[-1].endswith("= 0.298371109")
    assert fp.term(-0.5) == "(-0.5)" and fp.fmt(-0.0) == "0"
    table = fp.layer_table(CLASSIC, 1)
    assert list(table.index) == ["from h1", "from h2", "bias"] and list(table.columns) == ["to o1", "to o2"]
    assert fp.layer_from_table(table, "sigmoid") == CLASSIC["layers"][1]
    csv = fp.answer_key_csv(CLASSIC).splitlines()
    assert csv[0] == "layer,parameter,value,chain rule,gradient,update,updated" and len(csv) == 13
    assert fp.spec_from_json(fp.spec_to_json(CLASSIC)) == CLASSIC


# ---------- bad input ----------

def bad(mutate):
    spec = copy.deepcopy(CLASSIC)
    mutate(spec)
    return spec


BAD_SPECS = [
    (lambda s: s["layers"][1]["weights"][0].__setitem__(1, "abc"),
     "Layer 2, weights row 1, column 2: 'abc' is not a number"),
    (lambda s: s["layers"][0]["weights"][1].__setitem__(0, "0.2"), "Layer 1, weights row 2, column 1: '0.2' is text"),
    (lambda s: s["layers"][0]["weights"][1].append(0.1), "Layer 1, weights row 2 has 3 numbers but row 1 has 2"),
    (lambda s: s["layers"][1]["weights"].append([0.1, 0.2]), "Layer 2, weights has 3 rows but layer 1 has 2 neurons"),
    (lambda s: s["layers"][0]["weights"].pop(), "Layer 1, weights has 1 rows but there are 2 inputs"),
    (lambda s: s["layers"][0].update(activation="sigmod"), "Layer 1: unknown activation 'sigmod'"),
    (lambda s: s.update(loss="mae"), "Unknown loss 'mae'"),
    (lambda s: s["layers"][0]["biases"].__setitem__(1, float("nan")),
     "Layer 1, biases, position 2 is empty or not a number (NaN)"),
    (lambda s: s["inputs"].__setitem__(0, float("inf")), "Inputs, position 1: inf is infinite"),
    (lambda s: s["layers"][1].update(weights=[]), "Layer 2 has no weights"),
    (lambda s: s["layers"][1].update(weights=[[], []]), "Layer 2, weights row 1 is empty"),
    (lambda s: s.update(layers=[]), "Layers must be a non-empty list"),
    (lambda s: s.pop("targets"), "The spec is missing 'targets'"),
    (lambda s: s["layers"][0].pop("biases"), "Layer 1 is missing 'biases'"),
    (lambda s: s["layers"][1]["biases"].pop(), "Layer 2, biases has 1 numbers but there must be 2"),
    (lambda s: s["targets"].append(0.5), "Targets has 3 numbers but there must be 2 (one per output neuron)"),
    (lambda s: s.update(loss="binary_crossentropy", targets=[0.0, 1.5]), "Targets, position 2: 1.5 is outside [0, 1]"),
    (lambda s: s.update(loss="categorical_crossentropy"), "categorical_crossentropy needs a softmax output layer"),
    (lambda s: s.update(learning_rate=0), "Learning rate 0 is out of range"),
    (lambda s: s.update(learning_rate=500), "Learning rate 500 is out of range"),
    (lambda s: s["inputs"].__setitem__(1, None), "Inputs, position 2 is empty"),
    (lambda s: s["inputs"].__setitem__(1, True), "Inputs, position 2: true is not a number"),
    (lambda s: s["inputs"].__setitem__(1, 1e300), "is too large"),
    (lambda s: s["layers"][1].update(weights=[[0.4], [0.45]], biases=[0.6], activation="softmax"),
     "Layer 2: softmax over a single neuron always gives 1"),
]


@pytest.mark.parametrize("mutate,message", BAD_SPECS, ids=[m for _, m in BAD_SPECS])
def test_bad_specs_name_the_place(mutate, message):
    spec = bad(mutate)
    for function in (fp.validate_spec, fp.forward, fp.backprop_step):
        with pytest.raises(fp.SpecError) as caught:
            function(spec)
        assert message in str(caught.value)
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data,message", [
    (b"{not json", "The file is not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8 text"),
    (b"[1, 2]", "The spec must be a JSON object"),
    (b'{"inputs": [NaN]}', "The spec is missing 'layers'"),
])
def test_bad_files(data, message):
    with pytest.raises(fp.SpecError) as caught:
        fp.spec_from_json(data)
    assert message in str(caught.value)


# ---------- the page ----------

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/forward_pass.py"


def page(**state) -> AppTest:
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def choose(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="forward_pass_preset").set_value(name).run()
    assert not at.exception
    return at


def table_with(at: AppTest, column: str):
    return next(t.value for t in at.dataframe if column in t.value.columns)


def unescape(markdown: str) -> str:
    """What a student reads in a box whose student text was escaped for Markdown (pages.shared.feedback.plain)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def working(at: AppTest) -> list:
    """The page's worked steps: every code block but the address in the link box."""
    return [code for code in at.code if "net=" not in code.value]


def errors(at: AppTest) -> list[str]:
    return [unescape(e.value) for e in at.error]


@pytest.mark.slow
def test_page_shows_what_the_library_computes():
    at = choose(page(forward_pass_show_all=True), CLASSIC["name"])
    shown = "\n".join(code.value for code in working(at))
    for layer in fp.forward_steps(CLASSIC):
        for row in layer:
            assert row["sum"] in shown and row["activation"] in shown
    deltas = [line for layer in fp.delta_steps(CLASSIC) for r in layer for line in r["lines"]]
    for line in fp.loss_steps(CLASSIC) + deltas:
        assert line in shown
    step = fp.backprop_step(CLASSIC)
    assert [m.value for m in at.metric] == [fp.fmt(step["loss"]), fp.fmt(step["loss_after"])]
    gradients, expected = table_with(at, "GradientTape"), fp.parameter_table(CLASSIC)
    assert list(gradients["gradient"]) == [fp.fmt(g) for g in expected["gradient"]]
    assert list(gradients["chain rule"]) == list(expected["chain rule"])
    np.testing.assert_allclose(gradients["GradientTape"].astype(float), expected["gradient"], atol=1e-9)
    assert list(table_with(at, "new value")["new value"]) == [fp.fmt(v) for v in expected["updated"]]
    assert "0.35891648" in list(table_with(at, "new value")["new value"])
    compare = table_with(at, "difference")
    assert list(compare["by hand"]) == [fp.fmt(v) for p in fp.forward(CLASSIC) for v in p["a"]] + [fp.fmt(step["loss"])]
    assert compare["difference"].astype(float).max() < 1e-9
    assert not errors(at)


@pytest.mark.slow
def test_editing_a_table_cell_recomputes_and_an_empty_cell_names_itself():
    at = choose(page(forward_pass_show_all=True), CLASSIC["name"])
    key = at.data_editor[1].key  # layer 1's table: rows from x1, x2, bias
    at.session_state[key] = {"edited_rows": {0: {"to h1": 0.5}}, "added_rows": [], "deleted_rows": []}
    at.run()
    edited = copy.deepcopy(CLASSIC)
    edited["layers"][0]["weights"][0][0] = 0.5
    assert fp.forward_steps(edited)[0][0]["sum"] in working(at)[0].value
    assert at.metric[0].value == fp.fmt(fp.loss_value(edited))
    at.session_state[key] = {"edited_rows": {2: {"to h2": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception and not working(at)
    assert any("Layer 1, biases, position 2 is empty" in e for e in errors(at))


@pytest.mark.slow
def test_uploading_bad_and_good_specs():
    at = page(forward_pass_show_all=True)
    uploader = at.file_uploader(key="forward_pass_upload")
    broken = copy.deepcopy(CLASSIC)
    broken["layers"][1]["weights"][0][1] = "abc"
    uploader.set_value(("spec.json", json.dumps(broken).encode(), "application/json")).run()
    assert not at.exception
    assert any("spec.json" in e and "Layer 2, weights row 1, column 2: 'abc' is not a number" in e for e in errors(at))
    at.file_uploader(key="forward_pass_upload").set_value(("spec.json", b"{oops", "application/json")).run()
    assert not at.exception and any("not valid JSON" in e for e in errors(at))
    at.file_uploader(key="forward_pass_upload").set_value(("spec.json", fp.spec_to_json(CLASSIC).encode(),
                                                           "application/json")).run()
    assert not at.exception and not errors(at)
    assert fp.forward_steps(CLASSIC)[1][0]["activation"] in "\n".join(c.value for c in working(at))


@pytest.mark.slow
def test_predict_first_hides_the_answer_until_the_guess():
    at = page()
    headers = [h.value for h in at.header]
    assert "3. Forward pass" not in headers and not working(at)
    at.number_input(key="forward_pass_guess").set_value(0.6)
    at.button(key="forward_pass_reveal").click().run()
    assert not at.exception
    actual = fp.forward(next(iter(PRESETS.values())))[-1]["a"][0]
    expected = grade_number(0.6, actual, close_within=max(0.05, 0.1 * abs(actual))).message
    shown = [unescape(a.value) for kind in (at.success, at.info, at.warning) for a in kind]
    assert expected in shown
    assert "3. Forward pass" in [h.value for h in at.header]
    # A new network asks for a new prediction.
    choose(at, CLASSIC["name"])
    assert "3. Forward pass" not in [h.value for h in at.header]
    assert at.button(key="forward_pass_reveal")


def test_app_navigation_reaches_the_page(monkeypatch):
    monkeypatch.setenv("CLASSROOM_PRELOAD_TENSORFLOW", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Forward pass and backpropagation, by hand"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_renders_without_errors(name):
    at = choose(page(forward_pass_show_all=True), name)
    assert not errors(at) and "5. Answer key" in [h.value for h in at.header]
    assert fp.fmt(fp.forward(PRESETS[name])[-1]["a"][0]) in working(at)[len(PRESETS[name]["layers"]) - 1].value


@pytest.mark.slow
def test_a_loss_that_does_not_fit_the_output_layer_is_explained():
    at = page(forward_pass_show_all=True)
    next(s for s in at.selectbox if s.label == "Loss").set_value("categorical_crossentropy").run()
    assert not at.exception and not working(at)
    assert any("categorical_crossentropy needs a softmax output layer" in e for e in errors(at))


@pytest.mark.slow
def test_a_one_layer_network_uploads_and_matches_keras():
    spec = {"inputs": [0.5, -1.0], "layers": [{"weights": [[0.3], [0.8]], "biases": [0.1], "activation": "sigmoid"}],
            "targets": [1.0], "loss": "binary_crossentropy", "learning_rate": 1.0}
    at = page(forward_pass_show_all=True)
    at.file_uploader(key="forward_pass_upload").set_value(("one.json", json.dumps(spec).encode(), "application/json"))
    at.run()
    assert not at.exception and not errors(at)
    assert table_with(at, "difference")["difference"].astype(float).max() < 1e-9


# ---------- what a mischievous student tried (issue: tracebacks, silent changes, rough edges) ----------

REGRESSION = next(spec for name, spec in PRESETS.items() if name.startswith("Regression 3-2-1"))
EXTREME = {"inputs": [1e6, -1e6],
           "layers": [{"weights": [[1e6, -1e6], [-1e6, 1e6]], "biases": [1e6, -1e6], "activation": "relu"},
                      {"weights": [[1e6], [-1e6]], "biases": [1e6], "activation": "relu"}],
           "targets": [-1e6], "loss": "half_sse", "learning_rate": 100}


def test_a_step_that_throws_the_weights_out_of_range_is_shown_with_a_note():
    spec = copy.deepcopy(REGRESSION)
    spec.update(targets=[10000.0], learning_rate=100.0)
    sol = fp.solve(spec)
    updated = sol.step["updated"]["layers"]
    largest = max(abs(v) for layer in updated for v in sum(layer["weights"], []) + layer["biases"])
    assert largest > fp.MAX_ABS  # the step really leaves the input limits …
    assert "throws the weights to" in sol.note and "too-large learning rate" in sol.note  # … and says so
    assert math.isfinite(sol.loss_after) and sol.note in fp.answer_key_markdown(sol)
    assert fp.backprop_step(spec)["updated"] == sol.step["updated"]  # no re-validation of the result
    extreme = fp.solve(EXTREME)
    assert "4.0e+32" in extreme.note


def test_a_step_whose_loss_overflows_is_explained():
    layers = [{"weights": [[1e6, 1e6], [1e6, 1e6]], "biases": [1e6, 1e6], "activation": "linear"} for _ in range(5)]
    layers.append({"weights": [[1e6], [1e6]], "biases": [1e6], "activation": "linear"})
    sol = fp.solve({"inputs": [1e6, 1e6], "layers": layers, "targets": [-1e6], "loss": "half_sse",
                    "learning_rate": 100})
    assert not math.isfinite(sol.loss_after) and "overflows" in sol.note and "1.8e308" in sol.note
    assert "Loss after the step: ∞" in fp.answer_key_markdown(sol)


@pytest.mark.parametrize("digits", [400, 5001])
def test_huge_integers_in_a_file_get_the_message_of_any_bad_number(digits):
    text = fp.spec_to_json(CLASSIC).replace("0.15", "9" * digits, 1)
    with pytest.raises(fp.SpecError) as caught:
        fp.spec_from_json(text.encode())
    assert str(caught.value) == (f"Layer 1, weights row 1, column 1: a number of {digits} digits is too large; "
                                 "keep numbers between -1,000,000 and 1,000,000.")


def test_an_out_of_range_number_is_quoted_as_typed():
    text = fp.spec_to_json(CLASSIC).replace("0.15", "1000001", 1)
    with pytest.raises(fp.SpecError, match=r"column 1: 1000001 is too large; keep numbers between -1,000,000"):
        fp.spec_from_json(text)
    cells = fp.row_table([0.05, 0.1], ["x1", "x2"], "input").assign(x1="1000001")
    with pytest.raises(fp.SpecError, match=r"Inputs, position 1: 1000001 is too large"):
        fp.validate_spec({**CLASSIC, "inputs": fp.row_from_table(cells, "Inputs")})


@pytest.mark.parametrize("typed, value", [("2e3", 2000.0), ("1,5", 1.5), ("-0.25", -0.25), ("1e-7", 1e-7)])
def test_table_cells_hold_what_was_typed(typed, value):
    table = fp.layer_table(CLASSIC, 0)
    table.iloc[0, 0] = typed
    assert fp.layer_from_table(table, "sigmoid", "Layer 1")["weights"][0][0] == value


@pytest.mark.parametrize("typed, message", [
    ("1e309", "Layer 1, weights row 1, column 1: 1e309 is too large for a computer's floating-point numbers"),
    ("2e3x", "Layer 1, weights row 1, column 1: '2e3x' is not a number"),
    ("1e7", "Layer 1, weights row 1, column 1: 1e7 is too large; keep numbers between -1,000,000 and 1,000,000")])
def test_table_cells_that_cannot_be_used_say_so(typed, message):
    table = fp.layer_table(CLASSIC, 0)
    table.iloc[0, 0] = typed
    with pytest.raises(fp.SpecError) as caught:
        layer = fp.layer_from_table(table, "sigmoid", "Layer 1")
        fp.validate_spec({**CLASSIC, "layers": [layer, CLASSIC["layers"][1]]})
    assert message in str(caught.value)


def test_long_texts_and_big_files_are_refused():
    with pytest.raises(fp.SpecError, match="description has 501 characters; keep it to 500"):
        fp.validate_spec({**CLASSIC, "description": "x" * 501})
    with pytest.raises(fp.SpecError, match="name has 81 characters; keep it to 80"):
        fp.validate_spec({**CLASSIC, "name": "x" * 81})
    with pytest.raises(fp.SpecError, match="a spec is at most 200,000 bytes"):
        fp.spec_from_json(json.dumps({**CLASSIC, "description": "x" * 300_000}).encode())


def test_solve_checks_the_spec_once(monkeypatch):
    calls = []
    original = fp.validate_spec
    monkeypatch.setattr(fp, "validate_spec", lambda spec: calls.append(1) or original(spec))
    sol = fp.solve(CLASSIC)
    fp.answer_key_markdown(sol), fp.answer_key_csv(sol)
    assert len(calls) == 1
    assert sol.forward_steps == fp.forward_steps(CLASSIC) and sol.loss == fp.loss_value(CLASSIC)


def edit_cell(at: AppTest, table_key_start: str, row: int, column: str, text) -> AppTest:
    key = next(e.key for e in at.data_editor if e.key.startswith(table_key_start))
    at.session_state[key] = {"edited_rows": {row: {column: text}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_page_regression_preset_with_a_huge_target_and_rate_shows_the_step_and_a_note():
    at = choose(page(), REGRESSION["name"])
    edit_cell(at, "forward_pass_targets", 0, "o1", "10000")
    next(n for n in at.number_input if n.label == "Learning rate").set_value(100.0).run()
    at.button(key="forward_pass_reveal").click().run()
    assert not at.exception and not errors(at)
    spec = copy.deepcopy(REGRESSION)
    spec.update(targets=[10000.0], learning_rate=100.0)
    expected = fp.solve(spec)
    assert [w.value for w in at.warning if "throws the weights" in w.value] == [expected.note]
    assert list(table_with(at, "new value")["new value"]) == [fp.fmt(v) for v in expected.parameters["updated"]]
    assert [m.value for m in at.metric] == [fp.fmt(expected.loss), fp.fmt(expected.loss_after)]


@pytest.mark.slow
@pytest.mark.parametrize("digits", [400, 5001])
def test_page_upload_with_a_huge_integer_gives_a_message_and_keeps_the_uploader(digits):
    at = page(forward_pass_show_all=True)
    text = fp.spec_to_json(CLASSIC).replace("0.15", "9" * digits, 1)
    at.file_uploader(key="forward_pass_upload").set_value(("huge.json", text.encode(), "application/json")).run()
    assert not at.exception
    assert any(f"huge.json: Layer 1, weights row 1, column 1: a number of {digits} digits is too large" in e
               for e in errors(at))
    assert at.file_uploader(key="forward_pass_upload") and working(at)  # the page and the uploader stay


@pytest.mark.slow
@pytest.mark.parametrize("typed, value", [("2e3", 2000.0), ("1,5", 1.5), ("-1e-3", -0.001)])
def test_page_table_cells_keep_what_the_student_typed(typed, value):
    at = choose(page(forward_pass_show_all=True), CLASSIC["name"])
    edit_cell(at, "forward_pass_inputs", 0, "x1", typed)
    edited = copy.deepcopy(CLASSIC)
    edited["inputs"][0] = value
    assert not errors(at) and fp.solve(edited).forward_steps[0][0]["sum"] in working(at)[0].value


@pytest.mark.slow
@pytest.mark.parametrize("typed, message", [
    ("1e309", "Inputs, position 1: 1e309 is too large for a computer's floating-point numbers"),
    ("1e7", "Inputs, position 1: 1e7 is too large; keep numbers between -1,000,000 and 1,000,000."),
    ("1000001", "Inputs, position 1: 1000001 is too large"),
    ("abc", "Inputs, position 1: 'abc' is not a number")])
def test_page_table_cells_that_cannot_be_used_name_the_cell(typed, message):
    at = choose(page(forward_pass_show_all=True), CLASSIC["name"])
    edit_cell(at, "forward_pass_inputs", 0, "x1", typed)
    assert not working(at) and any(message in e for e in errors(at))


@pytest.mark.slow
def test_page_shows_student_markdown_as_text_and_the_box_shows_the_upload():
    spec = {**CLASSIC, "name": "**bold** $x^2$", "description": "[click](http://example.com) ![i](http://x/i.png)"}
    at = page(forward_pass_show_all=True)
    at.file_uploader(key="forward_pass_upload").set_value(("mine.json", json.dumps(spec).encode(),
                                                           "application/json")).run()
    assert not at.exception and not errors(at)
    assert at.selectbox(key="forward_pass_preset").value == "Uploaded: **bold** $x^2$"
    assert [t.value for t in at.text] == [spec["description"]]  # st.text: no Markdown, no autolinked URL
    long = {**CLASSIC, "description": "x" * 5000}
    at.file_uploader(key="forward_pass_upload").set_value(("long.json", json.dumps(long).encode(),
                                                           "application/json")).run()
    assert any("description has 5,000 characters; keep it to 500" in e for e in errors(at))
    assert at.selectbox(key="forward_pass_preset").value == "Uploaded: **bold** $x^2$"  # the last good upload
    choose(at, CLASSIC["name"])
    assert at.selectbox(key="forward_pass_preset").value == CLASSIC["name"] and not errors(at)


@pytest.mark.slow
def test_page_guess_of_1e300_prints_readably():
    at = page()
    at.number_input(key="forward_pass_guess").set_value(1e300)
    at.button(key="forward_pass_reveal").click().run()
    assert not at.exception
    [box] = [unescape(w.value) for w in at.warning if "You guessed" in w.value]
    assert "1.000e+300" in box and len(box) < 150
