"""The transfer-learning page against the library, and what a mischievous student tried on it."""
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from models.images import transfer
from models.images import transfer_run as tr
from models.vision import pretrained
from models.vision.shapes import draw_shape
from pages.shared.feedback import plain
from tests.test_transfer import seeded

PAGE = str(Path(__file__).resolve().parent.parent / "pages/transfer_learning.py")


@pytest.fixture(scope="module")
def mobilenet():
    return seeded(pretrained.load_model("mobilenet_v2", weights=None))


def png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def own_pictures_page(n_classes=2, per_class=2):
    """The page in random-weights mode with `n_classes` classes of uploaded shapes."""
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["transfer_model"] = "mobilenet_v2"
    at.session_state["transfer_weights"] = "random"
    at.run()
    at.segmented_control(key="transfer_source").set_value("My own pictures").run()
    at.number_input(key="transfer_n_classes").set_value(n_classes).run()
    shapes = ["circle", "square", "triangle", "circle", "square"]
    for c in range(n_classes):
        at.text_input(key=f"transfer_name_{c}").set_value(f"class number {c + 1}")
        at.file_uploader(key=f"transfer_files_{c}").set_value(
            [(f"{c}_{i}.png", png(draw_shape(shapes[c], seed=10 * c + i)), "image/png") for i in range(per_class)])
    return at.run()


def confusion_chart(at) -> tuple[dict, pd.DataFrame]:
    """The confusion matrix's Vega-Lite spec and the table it draws (Streamlit sends the data as Arrow)."""
    chart = next(c for c in at.get("vega_lite_chart") if "Confusion matrix" in c.proto.spec)
    data = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    return json.loads(chart.proto.spec), data


# --- Issue 8, item 4: the confusion matrix is sized by the number of classes ---

@pytest.mark.parametrize("n_classes", [2, 5])
def test_confusion_matrix_has_a_readable_cell_per_pair_of_classes(mobilenet, n_classes):
    at = own_pictures_page(n_classes)
    at.slider(key="transfer_epochs").set_value(2)
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    spec, cells = confusion_chart(at)
    # Each cell is a fixed square, so n classes take n steps: never squeezed into a fixed height.
    assert spec["width"] == spec["height"] and spec["height"]["step"] >= 48
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rect", "text"]
    text = spec["layer"][1]["encoding"]
    assert text["text"]["field"] == "count"  # every count is written in its cell
    assert len(cells) == n_classes ** 2
    run = at.session_state["transfer_run"]
    hand = np.zeros((n_classes, n_classes), int)
    for true, predicted in zip(run.y_val, run.probabilities.argmax(1)):
        hand[true, predicted] += 1
    assert {(t, p): c for t, p, c in cells[["true class", "predicted class", "count"]].itertuples(index=False)} == {
        (run.names[i], run.names[j]): int(hand[i, j]) for i in range(n_classes) for j in range(n_classes)}
    # Labels: horizontal rows, slanted columns with room for a 40-character name; the order is the class order.
    x_axis = spec["layer"][0]["encoding"]["x"]
    assert x_axis["sort"] == run.names and x_axis["axis"]["labelAngle"] != 0 and x_axis["axis"]["labelLimit"] >= 120
    assert spec["layer"][0]["encoding"]["y"]["axis"]["labelLimit"] >= 120


# --- Issue 8, items 8 and 9: class names are the student's text ---

def test_markdown_and_latex_in_a_class_name_show_as_typed(mobilenet):
    at = own_pictures_page(2, per_class=2)
    name = "**bold** $x^2$ [a](http://e.co)"
    at.text_input(key="transfer_name_1").set_value(name)
    at.file_uploader(key="transfer_files_1").set_value([("one.png", png(draw_shape("square", seed=1)), "image/png")])
    at.run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "has 1 picture" in w.value)
    assert name not in warning  # it would render as bold, maths and a link
    assert f"“{plain(name)}” has 1 picture" in warning  # every Markdown and LaTeX character escaped
    # ...and an invisible word joiner inside "://" keeps the address from becoming a link.
    assert r"\*\*bold\*\* \$x\^2\$ \[a\]\(http\:\/" + "\u2060" + r"\/e\.co\)" in warning


def test_a_bad_file_in_a_class_with_a_markdown_name_shows_both_as_text(mobilenet):
    at = own_pictures_page(2)
    at.text_input(key="transfer_name_0").set_value("_cats_")
    at.file_uploader(key="transfer_files_0").set_value([("a.png", png(draw_shape("circle", seed=1)), "image/png"),
                                                        ("b.png", png(draw_shape("circle", seed=2)), "image/png"),
                                                        ("*x*.png", b"not a picture", "image/png")])
    at.run()
    error = next(e.value for e in at.error if "not an image" in e.value)
    assert error.startswith(r"\_cats\_ · `*x*.png`")  # the file name as code: shown literally


def test_a_3000_character_class_name_is_limited_to_40(mobilenet):
    at = own_pictures_page(2)
    assert at.text_input(key="transfer_name_0").proto.max_chars == tr.MAX_NAME_LENGTH == 40  # the box stops at 40
    at.text_input(key="transfer_name_0").set_value("n" * 3000).run()
    assert not at.exception
    assert len(at.text_input(key="transfer_name_0").value) == 40
    # Whatever reaches the library past the box gets a message, not a buried page.
    with pytest.raises(ValueError, match="3000 characters long; use at most 40"):
        tr.check_classes(["n" * 3000, "b"], [2, 2])


# --- Unexpected errors: one line on the page, the traceback in the log ---

def test_an_unexpected_error_while_training_is_reported_not_raised(mobilenet, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the base broke")

    monkeypatch.setattr(transfer, "cached_features", broken)
    at = own_pictures_page(2)
    at.button(key="transfer_train").click().run()
    assert not at.exception
    assert any("Training the head stopped with an unexpected error" in e.value and "the base broke" in e.value
               for e in at.error)
    assert "transfer_run" not in at.session_state
    assert any("Training the head failed" in record.getMessage() for record in caplog.records)


# --- The page equals the library ---

def test_page_run_equals_the_library_workflow(mobilenet):
    at = own_pictures_page(2, per_class=3)
    at.slider(key="transfer_epochs").set_value(5)
    at.number_input(key="transfer_seed").set_value(3)
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    page_run = at.session_state["transfer_run"]
    collection = tr.checked(tr.collect_uploads(
        ["class number 1", "class number 2"],
        [tr.Upload(c, f"{c}_{i}.png", png(draw_shape(["circle", "square"][c], seed=10 * c + i)))
         for c in range(2) for i in range(3)], {}))
    base = tr.Base("mobilenet_v2", "random", 224, mobilenet)
    ours = tr.train_run(base, collection, tr.HeadSettings(epochs=5, seed=3), guess=50.0, feature_store={})
    np.testing.assert_allclose(page_run.probabilities, ours.probabilities, atol=1e-5)
    assert page_run.y_val == ours.y_val and page_run.names == ours.names
    accuracy = float(np.mean(ours.probabilities.argmax(1) == np.array(ours.y_val)))
    assert any(f"**{100 * accuracy:.1f} %**" in box.value for box in [*at.success, *at.info, *at.warning])
    # The weights the page shows are Keras' count of the head it trains.
    table = at.table[0].value
    assert table.loc["Head (trainable)", "weights"] == f"{ours.head.count_params():,}"


def test_training_set_orders_copies_after_each_picture_and_never_augments_validation():
    pictures = [draw_shape(shape, seed=i) for shape in ("circle", "square") for i in range(4)]
    collection = tr.Collection(tuple(pictures), (0,) * 4 + (1,) * 4, ("a", "b"))
    data = tr.training_set(collection, validation_fraction=0.25, copies=2, seed=0)
    train, val = tr.split_indices(collection.labels, validation_fraction=0.25, seed=0)
    assert len(data.requests) == 3 * len(train) + len(val)
    assert [r.copy for r in data.requests[:3 * len(train)]] == [0, 1, 2] * len(train)
    assert all(r.copy == 0 for r in data.requests[3 * len(train):])
    assert list(data.y_train) == [collection.labels[i] for i in train for _ in range(3)]
    assert list(data.y_val) == [collection.labels[i] for i in val]


@pytest.mark.parametrize("n_features,n_classes,units", [(1280, 3, 64), (512, 5, 16), (7, 2, 1)])
def test_head_weight_count_is_keras_count_and_hand_arithmetic(n_features, n_classes, units):
    hand = n_features * units + units + units * n_classes + n_classes
    assert tr.head_weight_count(n_features, n_classes, units) == hand


def test_run_is_frozen():
    run = tr.TransferRun(base=None, names=["a", "b"], guess=50.0, seed=0, history=None, head=None, head_weights=[],
                         probabilities=np.array([[0.9, 0.1], [0.2, 0.8]]),
                         data=tr.TrainingSet((), (), (0, 0), (), (), ()))
    assert run.accuracy == 0.5 and run.counts.tolist() == [[1, 1], [0, 0]]
    assert run.feedback().verdict == "spot on"
    with pytest.raises(AttributeError):
        run.guess = 90.0
