"""The image pages' settings in the address: augmentation and transfer learning open from links, hostile ones too."""
import math
import random

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from models.core.links import decode, encode
from models.core.paths import ROOT
from models.images import augmentation as aug
from models.images import transfer_run as tr
from models.vision import pretrained
from models.vision.pretrained import ARCHITECTURES
from models.vision.shapes import draw_shape
from pages.images import augmentation_link as al
from pages.images import transfer_link as tl
from tests.test_links import HOSTILE, random_value
from tests.test_transfer import seeded

WIDGETS = ("number_input", "slider", "selectbox", "checkbox", "radio", "select_slider", "multiselect",
           "segmented_control", "text_area", "text_input")


def opened(page: str, params: dict, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=300)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def address(at: AppTest) -> dict:
    """The query parameters the page wrote, one text per name."""
    return {name: values[-1] if isinstance(values, list) else values for name, values in at.query_params.items()}


def widgets(at: AppTest) -> dict:
    return {w.key: w for kind in WIDGETS for w in at.get(kind)}


def in_range(field, value) -> bool:
    if field.kind == "choice":
        return value in field.choices
    if field.kind == "subset":
        return set(value) <= set(field.choices) and len(set(value)) == len(value)
    if field.kind == "bool":
        return isinstance(value, bool)
    if field.kind == "text":
        return isinstance(value, str) and len(value) <= field.max_length and "\x00" not in value
    return (isinstance(value, int if field.kind == "int" else float) and not isinstance(value, bool)
            and math.isfinite(value) and field.low <= value <= field.high)


def fuzz_round_trip(schema):
    rng = random.Random(0)
    for _ in range(200):
        values = {f.key: random_value(f, rng) if f.kind != "text" else "".join(
            rng.choice("ab <>*$_,.éß") for _ in range(rng.randint(0, f.max_length))) for f in schema}
        decoded, ignored = decode(schema, encode(schema, values))
        assert decoded == values and ignored == []


def fuzz_hostile(schema):
    rng = random.Random(1)
    for _ in range(300):
        params = {f.name: rng.choice(HOSTILE + ["x" * 10_000] + [f.encode(random_value(f, rng))
                                                                  if f.kind != "text" else "a dog"])
                  for f in schema if rng.random() < 0.7}
        if rng.random() < 0.3:
            params["x" * rng.randint(1, 10_000)] = "1"
        values, _ignored = decode(schema, params)
        assert all(in_range(f, values[f.key]) for f in schema)
        yield values


def assert_hostile_link_gives_defaults(at: AppTest, schema) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert {f.key: at.session_state[f.key] for f in schema} == {f.key: f.default for f in schema}
    [warning] = at.warning
    assert "cannot use" in warning.value and "<" not in warning.value and "script" not in warning.value


# --- Augmentation ---

AUG_LINK = {"picture": "digit_six", "flip": "0", "crop": "1", "crop_size": "160", "saturation": "1",
            "saturation_factor_lo": "0.1", "saturation_factor_hi": "0.45", "hue": "1", "hue_factor": "0.4",
            "fill": "constant", "grid": "4 × 4", "seed": "7", "text": "a happy dog ran",
            "alpha": "0.3", "text_seed": "9"}
AUG_SETTINGS = {"rotation": {"factor": 0.05}, "zoom": {"height_factor": 0.15}, "crop": {"size": 160},
                "hue": {"factor": 0.4}, "saturation": {"factor": (0.1, 0.45)}}


def test_augmentation_schema_round_trips_and_hostile_values_stay_in_range():
    fuzz_round_trip(al.SCHEMA)
    for values in fuzz_hostile(al.SCHEMA):
        for key, (low, high) in al.join_pairs(values).items():  # a (low, high) slider's value, in order
            assert al.span(key)[0] <= low <= high <= al.span(key)[1]
    assert al.join_pairs(decode(al.SCHEMA, AUG_LINK)[0])["augmentation_saturation_factor"] == (0.1, 0.45)
    assert al.join_pairs(decode(al.SCHEMA, {"saturation_factor_lo": "0.6", "saturation_factor_hi": "0.2"})[0])[
        "augmentation_saturation_factor"] == (0.2, 0.6)  # swapped ends are put in order


def test_every_augmentation_setting_has_a_field():
    keys = {f.key for f in al.SCHEMA}
    for t in aug.TRANSFORMS.values():
        assert al.K + f"{t.key}_on" in keys
        for s in t.settings:
            key = al.K + f"{t.key}_{s.name}"
            assert (set(al.pair_keys(key)) <= keys) if s.is_range else key in keys


@pytest.mark.slow
def test_the_augmentation_widgets_range_is_the_links_range():
    at = opened("augmentation", {})
    assert not at.exception, [e.value for e in at.exception]
    shown = widgets(at)
    names = {"augmentation_sample": lambda n: n.replace("_", " ")}
    for field in al.SCHEMA:
        key = field.key.removesuffix("_lo").removesuffix("_hi") if field.key.endswith(("_lo", "_hi")) else field.key
        widget = shown[key]
        if field.kind in ("int", "float"):
            assert (widget.min, widget.max) == (field.low, field.high), key
        elif field.kind == "choice":
            assert list(widget.options) == [names.get(key, str)(c) for c in field.choices], key
        elif field.kind == "text":
            assert widget.max_chars == field.max_length, key


@pytest.mark.slow
def test_the_augmentation_page_opens_from_a_link_and_draws_the_grid_set_by_hand():
    # A student who had uploaded a picture opens the link: the settings come, with the sample picture.
    from_link = opened("augmentation", AUG_LINK, state={"augmentation_source": "Upload a file"})
    assert not from_link.exception, [e.value for e in from_link.exception]
    assert not from_link.warning
    decoded = decode(al.SCHEMA, AUG_LINK)[0]
    assert {f.key: from_link.session_state[f.key] for f in al.SCHEMA} == decoded
    assert from_link.session_state["augmentation_saturation_factor"] == (0.1, 0.45)
    assert from_link.segmented_control(key="augmentation_source").value == "Sample gallery"
    assert decode(al.SCHEMA, address(from_link)) == (decoded, [])  # the address it writes is the same setup

    by_hand = opened("augmentation", {})
    by_hand.selectbox(key="augmentation_sample").set_value("digit_six")
    for key, on in (("flip", False), ("crop", True), ("saturation", True), ("hue", True)):
        by_hand.checkbox(key=f"augmentation_{key}_on").set_value(on)
    by_hand.run()
    by_hand.slider(key="augmentation_crop_size").set_value(160)
    by_hand.slider(key="augmentation_saturation_factor").set_value((0.1, 0.45))
    by_hand.slider(key="augmentation_hue_factor").set_value(0.4)
    by_hand.selectbox(key="augmentation_fill_mode").set_value("constant")
    by_hand.segmented_control(key="augmentation_grid_size").set_value("4 × 4")
    by_hand.number_input(key="augmentation_seed").set_value(7)
    by_hand.text_area(key="augmentation_text").input("a happy dog ran")
    by_hand.slider(key="augmentation_text_alpha").set_value(0.3)
    by_hand.number_input(key="augmentation_text_seed").set_value(9).run()
    assert not by_hand.exception, [e.value for e in by_hand.exception]
    assert decode(al.SCHEMA, address(by_hand))[0] == decoded

    grids = [np.asarray(at.session_state["augmentation_result"][1]) for at in (from_link, by_hand)]
    np.testing.assert_array_equal(grids[0], grids[1])  # the same link gives the same pictures
    assert grids[0].shape == (4 * 160 + 3 * 6, 4 * 160 + 3 * 6, 3)
    assert from_link.table[0].value.equals(by_hand.table[0].value)  # and the same sentences
    snippet = aug.code_snippet(AUG_SETTINGS, 7, fill_mode="constant")
    assert [c.value for c in from_link.code if c.language == "python"] == [snippet]
    assert [c.value for c in by_hand.code if c.language == "python"] == [snippet]


@pytest.mark.slow
def test_a_hostile_link_opens_the_augmentation_page_with_defaults_and_one_line():
    at = opened("augmentation", {
        "seed": "<script>alert(1)</script>", "rotation_factor": "1e999", "crop_size": "-4", "text": "x" * 10_000,
        "x" * 10_000: "1", "grid": "[x](http://evil.example)", "picture": "../../etc/passwd", "flip": "yes",
        "saturation_factor_lo": "nan", "alpha": "0.7", "fill": "**reflect**"})
    assert_hostile_link_gives_defaults(at, al.SCHEMA)
    assert at.session_state["augmentation_saturation_factor"] == (0.3, 0.6)


@pytest.mark.slow
def test_with_an_uploaded_picture_the_link_box_says_the_picture_stays_behind():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    at = opened("augmentation", {})
    assert not any("cannot travel" in c.value for c in at.caption)
    at.segmented_control(key="augmentation_source").set_value("Upload a file").run()
    at.file_uploader(key="augmentation_upload").set_value(("red.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot travel in a link" in c.value for c in at.caption)
    assert decode(al.SCHEMA, address(at)) == ({f.key: f.default for f in al.SCHEMA}, [])


# --- Transfer learning ---

TRANSFER_LINK = {"model": "mobilenet_v2", "weights": "random", "per_class": "6", "data_seed": "3", "epochs": "3",
                 "units": "32", "dropout": "0.1", "lr": "0.003", "val": "0.3", "copies": "0", "seed": "5",
                 "try_shape": "triangle", "try_seed": "12", "ft_epochs": "1"}


@pytest.fixture(scope="module")
def mobilenet():
    """The shared random-weights MobileNetV2 with seeded kernels: the page's base here, offline."""
    return seeded(pretrained.load_model("mobilenet_v2", weights=None))


def probability_bars(at: AppTest):
    """The "Class probabilities" chart's data (Streamlit sends it as Arrow)."""
    chart = next(c for c in at.get("vega_lite_chart") if "Class probabilities" in c.proto.spec)
    return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()


def test_transfer_schema_round_trips_and_hostile_values_stay_in_range():

    fuzz_round_trip(tl.SCHEMA)
    for _values in fuzz_hostile(tl.SCHEMA):
        pass
    assert decode(tl.SCHEMA, {"lr": "0.003", "units": "32", "size_vgg16": "224"})[0]["transfer_lr"] == 0.003


@pytest.mark.slow
def test_the_transfer_widgets_range_is_the_links_range(mobilenet):

    at = opened("transfer_learning", TRANSFER_LINK)
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = widgets(at)
    at.selectbox(key="transfer_model").set_value("vgg16").run()  # its input sizes (no weights here: no training)
    shown |= widgets(at)
    at.segmented_control(key="transfer_source").set_value("My own pictures").run()
    at.number_input(key="transfer_n_classes").set_value(5).run()
    shown |= widgets(at)
    labels = {"transfer_model": lambda n: ARCHITECTURES[n].label, "transfer_weights": tl.WEIGHTS.get,
              "transfer_lr": lambda v: f"{v:g}"}
    for field in tl.SCHEMA:
        widget = shown[field.key]
        if field.kind in ("int", "float"):
            assert (widget.min, widget.max) == (field.low, field.high), field.key
        elif field.kind == "choice":
            assert list(widget.options) == [labels.get(field.key, str)(c) for c in field.choices], field.key
        else:
            assert widget.max_chars == field.max_length, field.key


@pytest.mark.slow
def test_the_transfer_page_from_a_link_trains_what_the_widgets_set_by_hand_train(mobilenet):

    # A student who was using their own pictures opens the link: the settings come, with the built-in shapes.
    from_link = opened("transfer_learning", TRANSFER_LINK, state={"transfer_source": "My own pictures"})
    assert not from_link.exception, [e.value for e in from_link.exception]
    decoded = decode(tl.SCHEMA, TRANSFER_LINK)[0]
    assert {f.key: from_link.session_state[f.key] for f in tl.SCHEMA} == decoded
    assert from_link.segmented_control(key="transfer_source").value == "Built-in shapes"
    assert not any("cannot use" in w.value for w in from_link.warning)
    assert decode(tl.SCHEMA, address(from_link)) == (decoded, [])

    by_hand = opened("transfer_learning", {})
    by_hand.selectbox(key="transfer_model").set_value("mobilenet_v2")
    by_hand.radio(key="transfer_weights").set_value("random").run()
    by_hand.slider(key="transfer_n_per_class").set_value(6)
    by_hand.number_input(key="transfer_data_seed").set_value(3)
    by_hand.slider(key="transfer_epochs").set_value(3)
    by_hand.select_slider(key="transfer_units").set_value(32)
    by_hand.slider(key="transfer_dropout").set_value(0.1)
    by_hand.select_slider(key="transfer_lr").set_value(0.003)
    by_hand.slider(key="transfer_val_share").set_value(0.3)
    by_hand.number_input(key="transfer_seed").set_value(5).run()
    for at in (from_link, by_hand):
        at.button(key="transfer_train").click().run()
        assert not at.exception, [e.value for e in at.exception]
    by_hand.selectbox(key="transfer_try_shape").set_value("triangle")
    by_hand.number_input(key="transfer_try_seed").set_value(12)
    by_hand.slider(key="transfer_ft_epochs").set_value(1).run()
    assert decode(tl.SCHEMA, address(by_hand))[0] == decoded

    runs = [at.session_state["transfer_run"] for at in (from_link, by_hand)]
    assert runs[0].seed == runs[1].seed == 5 and len(runs[0].history) == len(runs[1].history) == 3
    assert runs[0].head.count_params() == runs[1].head.count_params() == tr.head_weight_count(1280, 3, 32)
    assert runs[0].history.equals(runs[1].history)
    np.testing.assert_array_equal(runs[0].probabilities, runs[1].probabilities)  # the same link, the same run
    shown = [[box.value for box in [*at.success, *at.info, *at.warning] if "Validation accuracy" in box.value]
             for at in (from_link, by_hand)]
    assert shown[0] == shown[1] and f"**{100 * runs[0].accuracy:.1f} %**" in shown[0][0]
    assert from_link.table[0].value.equals(by_hand.table[0].value)
    bars = [probability_bars(at) for at in (from_link, by_hand)]
    assert bars[0].equals(bars[1])
    np.testing.assert_allclose(bars[0]["probability"], tr.picture_probabilities(runs[0], draw_shape(
        "triangle", seed=12)), rtol=1e-6)
    assert [b.label for b in from_link.button if b.key == "transfer_ft"] == ["Fine-tune block_16 + Conv_1 for 1 "
                                                                          "epoch(s)"]


@pytest.mark.slow
def test_a_link_carries_the_class_names_for_a_students_own_pictures(mobilenet):
    at = opened("transfer_learning", {"model": "mobilenet_v2", "weights": "random", "classes": "3",
                                      "name1": "**cats** <b>x</b>", "name3": "birds"})
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Pictures cannot travel" in c.value for c in at.caption)
    at.segmented_control(key="transfer_source").set_value("My own pictures").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="transfer_n_classes").value == 3
    assert [at.text_input(key=f"transfer_name_{c}").value for c in range(3)] == ["**cats** <b>x</b>", "Class 2",
                                                                                "birds"]
    assert any("Pictures cannot travel in a link" in c.value for c in at.caption)
    assert address(at)["name1"] == "**cats** <b>x</b>"


@pytest.mark.slow
def test_a_hostile_link_opens_the_transfer_page_with_defaults_and_one_line():

    at = opened("transfer_learning", {
        "model": "<script>alert(1)</script>", "epochs": "1e999", "seed": "-4", "per_class": "9" * 400,
        "x" * 10_000: "1", "lr": "nan", "weights": "[random](http://evil.example)", "name1": "x" * 10_000,
        "units": "33", "size_vgg16": "999", "dropout": "0.3.", "classes": "6"})
    assert_hostile_link_gives_defaults(at, tl.SCHEMA)


# --- Present mode ---

def presenting(page: str, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    at.toggle(key="present_mode").set_value(True).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_presenting_the_augmentation_page_puts_the_grid_first_and_folds_picture_and_layers():
    at = presenting("augmentation")
    labels = [e.label for e in at.expander]
    assert labels[:2] == ["Explanation", "Picture and layers"]
    grid = at.session_state["augmentation_result"][1]
    first, working = at.image[0], at.image[1]  # the grid, then (folded) the picture it came from
    assert "augmented copies" in first.proto.imgs[0].caption and "centre-cropped" in working.proto.imgs[0].caption
    assert grid.size == (3 * 224 + 2 * 6,) * 2
    normal = opened("augmentation", {})
    assert "centre-cropped" in normal.image[0].proto.imgs[0].caption  # normally the picture comes first


@pytest.mark.slow
def test_presenting_the_transfer_page_puts_the_classes_pictures_first_and_folds_the_settings(mobilenet):
    at = presenting("transfer_learning", {"transfer_model": "mobilenet_v2", "transfer_weights": "random"})
    assert [e.label for e in at.expander][:2] == ["Explanation", "Network, classes and head"]
    rows = list(at.image)
    assert len(rows) == 3 and all(len(row.proto.imgs) == 6 for row in rows)  # a row of six per class, only once
    assert [row.proto.imgs[0].caption for row in rows] == ["circle", "square", "triangle"]
    normal = opened("transfer_learning", {"model": "mobilenet_v2", "weights": "random"})
    assert [len(row.proto.imgs) for row in normal.image] == [2, 2, 2, 6, 6, 6]  # beside the title, then section 2
