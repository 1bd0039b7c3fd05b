"""The classify page against direct library calls: offline message, random-weights pipeline, bad uploads."""
import io
import json
import socket
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from models.core import guess
from models.vision import imagenet, pretrained
from models.vision.images import ImageInputError, load_image

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "classify.py")
pytestmark = pytest.mark.slow


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


def text_of(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.caption] + [e.value for e in at.code] + [e.value for e in at.info]
    return "\n".join(str(p) for p in parts)


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
    return pretrained.load_model("mobilenet_v2", weights=None)


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
