"""The classify page against direct library calls: offline message, random-weights pipeline, bad uploads."""
import io
import json
import re
import socket
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from models.core import guess
from models.vision import gradcam, imagenet, pretrained
from models.vision.images import ImageInputError, load_image
from pages.shared.feedback import plain

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "classify.py")
pytestmark = pytest.mark.slow
MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def photo_bytes(size=(480, 320)) -> bytes:
    """A wider-than-tall JPEG with some structure, so the centre crop matters."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size[1], 0:size[0]]
    pixels = np.stack([x * 255 / size[0], y * 255 / size[1], 128 + 60 * np.sin(x / 9.0)], axis=-1)
    pixels = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No weights anywhere and a download server that refuses connections (a closed local port)."""
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    # Only the empty KERAS_HOME counts, whatever this machine keeps in /tmp/.keras.
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [home / "models"])
    for arch in pretrained.ARCHITECTURES.values():
        monkeypatch.delenv(arch.env_var, raising=False)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv(pretrained.WEIGHTS_HOST_ENV, f"127.0.0.1:{port}")
    st.cache_data.clear()  # the page remembers the weights check for 30 s
    yield
    st.cache_data.clear()


def page_with_upload(data: bytes, name: str, *, model_name: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if model_name:
        at.session_state["classify_model"] = model_name
    at.session_state["classify_source"] = "Upload a file"
    at.run()
    at.file_uploader(key="classify_upload").set_value((name, data, "image/jpeg"))
    return at.run()


def rendered(markdown: str) -> str:
    """Markdown text as the student reads it: the backslash escapes that keep student text literal removed."""
    return MARKDOWN_ESCAPE.sub(r"\1", str(markdown))


def text_of(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.caption] + [e.value for e in at.code] + [e.value for e in at.info]
    parts += [e.value for e in at.success]
    return "\n".join(rendered(p) for p in parts)


def chart_table(at: AppTest):
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    tables = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in charts[0].proto.datasets]
    return spec, tables


def test_offline_the_page_names_the_missing_weights_and_the_fix(offline):
    at = page_with_upload(photo_bytes(), "holiday.jpg")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "ImageNet weights for VGG16 are missing" in errors and "cannot be reached" in errors
    assert "528 MB" in errors
    assert [c.value for c in at.code] == ["python -m models.prefetch"]
    text = text_of(at)
    assert "VGG16_WEIGHTS_PATH" in text and "KERAS_HOME" in text
    assert at.toggle(key="classify_random_weights").value is False
    assert not at.get("vega_lite_chart") and not at.image  # nothing pretends to be a prediction
    assert "RANDOM WEIGHTS" not in text


def test_a_bad_host_setting_is_reported_not_raised(offline, monkeypatch):
    monkeypatch.setenv(pretrained.WEIGHTS_HOST_ENV, "no-port-here")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "CLASSROOM_WEIGHTS_HOST must look like host:port" in " ".join(e.value for e in at.error)


@pytest.fixture(scope="module")
def mobilenet():
    """The page's own shared copy, given back its seed-0 kernels: other test files reseed that copy."""
    model = pretrained.load_model("mobilenet_v2", weights=None)
    pretrained.write_random_weights(model, 0)
    return model


def test_random_weights_page_equals_the_library(offline, mobilenet):
    data = photo_bytes()
    at = page_with_upload(data, "holiday.jpg", model_name="mobilenet_v2")
    assert "ImageNet weights for MobileNetV2 are missing" in " ".join(e.value for e in at.error)
    at.toggle(key="classify_random_weights").set_value(True).run()
    assert not at.exception
    assert any(e.value.startswith("## RANDOM WEIGHTS — these predictions are meaningless") for e in at.error)
    assert not at.get("vega_lite_chart")  # predict first: nothing is revealed before the guess

    at.selectbox(key="classify_guess_class").set_value(281)  # tabby
    at.slider(key="classify_guess_p").set_value(0.9)
    at.button(key="classify_reveal").click().run()
    assert not at.exception

    # The page's top 5 equal a direct call of the library on the same image and the same model object.
    expected = pretrained.classify(load_image(data), "mobilenet_v2", top=5, model=mobilenet)
    spec, tables = chart_table(at)
    assert "RANDOM WEIGHTS" in json.dumps(spec)
    rows = tables[0]
    assert list(rows["class"]) == [name for name, _ in expected]
    np.testing.assert_allclose(rows["probability"], [p for _, p in expected], rtol=1e-6)

    # ... and a bare Keras call with NumPy's own ranking agrees on the values (second route).
    seen = load_image(data).resize((224, 224), box=(80, 0, 400, 320), resample=Image.Resampling.BICUBIC)
    x = np.asarray(seen, dtype="float32")[np.newaxis] / 127.5 - 1.0  # MobileNetV2's scaling to [-1, 1]
    probabilities = np.asarray(mobilenet(x, training=False))[0]
    np.testing.assert_allclose(sorted(rows["probability"]), np.sort(probabilities)[-5:], rtol=1e-4)
    rest = 1 - np.sort(probabilities)[-5:].sum()
    assert f"The other 995 classes share the remaining {rest:.4f}." in text_of(at)

    # The guess is graded against the model's real top class; the rank comes from NumPy here.
    top_name, top_p = expected[0]
    text = text_of(at) + " ".join(e.value for e in at.success)
    assert guess.grade_choice("tabby", top_name).message in text
    assert guess.grade_number(0.9, top_p, close_within=0.1, digits=3).message in text
    rank = 1 + int(np.sum(probabilities > probabilities[281]))
    ties = int(np.sum(probabilities == probabilities[281])) - 1
    tail = f", tied with {ties} other classes)." if ties else ")."
    assert f"“tabby” a probability of {probabilities[281]:.4f} (rank {rank} of 1000{tail}" in text

    assert [h.value for h in at.subheader] == ["1 · Model and picture", "2 · What the model says", "Your guess"]

    # The 224 input, the Grad-CAM overlay and three feature-map grids are shown.
    captions = [c for image in at.image for c in image.captions]
    assert any(c.startswith("What the model saw: 224×224") for c in captions)
    assert any(c.startswith(f"Grad-CAM: yellow raised “{top_name}”") for c in captions)
    layers = pretrained.ARCHITECTURES["mobilenet_v2"].feature_layers
    for layer, side in zip(layers, (112, 28, 7)):
        assert any(c.startswith(f"{layer}: {side}×{side} maps") for c in captions), layer

    # Grad-CAM follows the chosen class: the selectbox offers exactly the top 5, first one preselected.
    cam = at.selectbox(key="classify_cam_class")
    index_of = {label: i for i, label in enumerate(pretrained.class_labels())}
    assert cam.options == [name for name, _ in expected] and cam.value == index_of[top_name]
    cam.set_value(index_of[expected[2][0]]).run()
    assert not at.exception
    assert any(f"“{expected[2][0]}”" in c for image in at.image for c in image.captions)


def test_teacher_mode_shows_the_answer_without_a_guess(offline, mobilenet):
    data = photo_bytes()
    at = page_with_upload(data, "board.jpg", model_name="mobilenet_v2")
    at.toggle(key="classify_random_weights").set_value(True).run()
    assert not at.get("vega_lite_chart")
    at.toggle(key="classify_skip_guess").set_value(True).run()
    assert not at.exception
    expected = pretrained.classify(load_image(data), "mobilenet_v2", top=5, model=mobilenet)
    _spec, tables = chart_table(at)
    assert list(tables[0]["class"]) == [name for name, _ in expected]
    assert "Your guess" not in [h.value for h in at.header]
    assert "Your guess" not in [h.value for h in at.subheader]  # the guess section is a subheader now


def test_a_text_file_named_jpg_gets_the_loaders_message(offline, mobilenet):
    data = b"These are my holiday notes, not a picture.\n"
    with pytest.raises(ImageInputError) as caught:
        load_image(data)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["classify_model"] = "mobilenet_v2"
    at.session_state["classify_random_weights"] = True
    at.session_state["classify_source"] = "Upload a file"
    at.run()
    at.file_uploader(key="classify_upload").set_value(("photo.jpg", data, "image/jpeg"))
    at.run()
    assert not at.exception
    assert str(caught.value) in [e.value for e in at.error]
    assert "not an image" in str(caught.value)
    assert not at.get("vega_lite_chart") and "classify_reveal" not in [b.key for b in at.button]


def test_imagenet_labels_on_the_page_are_unique_and_in_keras_order():
    labels = pretrained.class_labels()
    assert len(set(labels)) == imagenet.N_CLASSES
    assert labels[0] == "tench" and labels[281] == "tabby" and labels[999] == "toilet tissue"
    assert labels[134] == "crane (unit 134)" and labels[517] == "crane (unit 517)"


def png_bytes(colour=(0, 0, 0), size=(224, 224)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def random_page(**state) -> AppTest:
    """MobileNetV2 with the page's seeded random weights (no ImageNet weights offline)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["classify_model"] = "mobilenet_v2"
    at.session_state["classify_random_weights"] = True
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_teacher_mode_stays_on_when_the_picture_source_changes(offline, mobilenet):
    """Issue 8, case 5: on with a sample picture, then an upload: the switch and the page agree."""
    at = random_page()
    at.toggle(key="classify_skip_guess").set_value(True).run()
    assert chart_table(at) and "classify_reveal" not in [b.key for b in at.button]
    at.segmented_control(key="classify_source").set_value("Upload a file").run()
    assert not at.exception
    assert at.toggle(key="classify_skip_guess").value is True
    at.file_uploader(key="classify_upload").set_value(("board.jpg", photo_bytes(), "image/jpeg")).run()
    assert not at.exception
    assert at.toggle(key="classify_skip_guess").value is True  # it shows on ...
    assert chart_table(at) and "classify_reveal" not in [b.key for b in at.button]  # ... and acts on
    at.toggle(key="classify_skip_guess").set_value(False).run()  # the first click switches it off
    assert at.toggle(key="classify_skip_guess").value is False
    assert not at.get("vega_lite_chart") and "classify_reveal" in [b.key for b in at.button]
    at.toggle(key="classify_skip_guess").set_value(True).run()
    assert at.session_state["classify_teacher_mode"] is True and at.get("vega_lite_chart")


@pytest.mark.parametrize("name, data, says", [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "SVG drawing"),
    ("notes.txt", b"my notes about cats\n", "not an image"),
    ("pictures.zip", b"PK\x03\x04 zipped pictures", "ZIP archive"),
])
def test_a_refused_file_after_a_good_picture_clears_the_results_and_names_the_file(offline, mobilenet, name,
                                                                                    data, says):
    """Issue 8, case 10: the uploader takes any file, so the page itself says which file it refused."""
    at = random_page(classify_source="Upload a file", classify_skip_guess=True, classify_teacher_mode=True)
    uploader = at.file_uploader(key="classify_upload")
    assert list(uploader.proto.type) == []  # no browser-side filter that refuses files the page never sees
    uploader.set_value(("holiday.jpg", photo_bytes(), "image/jpeg")).run()
    assert chart_table(at) and at.image
    at.file_uploader(key="classify_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    with pytest.raises(ImageInputError) as caught:
        load_image(data)
    assert says in str(caught.value) and str(caught.value) in [e.value for e in at.error]
    assert not at.get("vega_lite_chart") and not at.image  # the last picture's results are gone
    assert not any("What the model says" in h.value for h in at.subheader)
    assert any(rendered(c.value).startswith(f"Refused: “{name}”.") for c in at.caption)
    assert "holiday" not in text_of(at)


def test_a_file_name_with_markdown_shows_as_typed(offline, mobilenet):
    """Issue 8, case 8: student text (a file name) is text, never Markdown or LaTeX."""
    at = random_page(classify_source="Upload a file", classify_skip_guess=True, classify_teacher_mode=True)
    name = "**bold** $x^2$ [link](http://example.org).jpg"
    at.file_uploader(key="classify_upload").set_value((name, photo_bytes(), "image/jpeg")).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Softmax probabilities for"))
    assert f"your picture “{plain(name)}”" in caption
    assert "\\*\\*bold\\*\\* \\$x\\^2\\$ \\[link\\]\\(http" in caption  # every Markdown character escaped


def test_an_empty_grad_cam_is_explained_on_the_page_and_equals_the_library(offline, mobilenet):
    """A black picture: with seed-0 random weights, "ear" (unit 998) has no positive evidence anywhere."""
    data = png_bytes()
    batch, _seen = pretrained.model_input(load_image(data), "mobilenet_v2")
    top = pretrained.top_predictions(pretrained.predict(mobilenet, batch)[0], 5)
    assert 998 in [p.index for p in top]
    direct = gradcam.analyse(mobilenet, batch, [p.index for p in top], "mobilenet_v2")
    assert gradcam.heatmap_is_empty(direct.heatmaps[998]) and not gradcam.heatmap_is_empty(direct.heatmaps[999])

    at = random_page(classify_source="Upload a file", classify_skip_guess=True, classify_teacher_mode=True)
    at.file_uploader(key="classify_upload").set_value(("black.png", data, "image/png")).run()
    at.selectbox(key="classify_cam_class").set_value(999).run()
    assert not any("heatmap is empty" in i.value for i in at.info)
    at.selectbox(key="classify_cam_class").set_value(998).run()
    assert not at.exception
    note = next(i.value for i in at.info if "heatmap is empty" in i.value)
    assert "zero or less at every position" in note and "With random weights" in note
    captions = [c for image in at.image for c in image.captions]
    assert "Grad-CAM: no position raised “ear”, so nothing is coloured" in captions


def test_an_unexpected_error_is_shown_as_a_message_not_a_traceback(offline, mobilenet, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the analysis broke")

    monkeypatch.setattr(gradcam, "classify_and_analyse", broken)
    at = random_page(classify_source="Upload a file", classify_skip_guess=True, classify_teacher_mode=True)
    at.file_uploader(key="classify_upload").set_value(("fresh.png", png_bytes((1, 2, 3)), "image/png")).run()
    assert not at.exception
    message = next(e.value for e in at.error if "unexpected error" in e.value)
    assert "Running MobileNetV2 on this picture stopped" in message and "the analysis broke" in message
    assert "the analysis broke" in caplog.text  # the teacher's terminal gets the traceback
    assert not at.get("vega_lite_chart")
