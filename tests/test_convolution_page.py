"""The convolution page shows what the library computes, explains bad input, and trains and reads a digit."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from models.images import convolution as cv
from models.images import digits

PAGE = str(Path(__file__).resolve().parent.parent / "pages/convolution.py")
KERNEL = "convolution_kernel_"


@pytest.fixture(scope="module")
def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=300).run()


@pytest.fixture(scope="module")
def trained() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.number_input(key="convolution_acc_guess").set_value(90.0).run()
    return at.button(key="convolution_train").click().run()


def edit(at, key, row, column, text) -> AppTest:
    at.session_state[key] = {"edited_rows": {row: {column: text}}, "added_rows": [], "deleted_rows": []}
    return at.run()


def arithmetic(at) -> str:
    """The written arithmetic of one output value (the other code block is the "Link to this setup" address)."""
    return next(c.value for c in at.code if "?" not in c.value)


def png(array) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def test_page_renders_every_section(page):
    assert not page.exception, [e.value for e in page.exception]
    assert [h.value for h in page.header] == ["1 · One convolution", "2 · Pooling",
                                              "3 · A CNN trained live on handwritten digits", "4 · Draw a digit"]
    assert not page.error


def test_arithmetic_and_sizes_equal_the_library(page):
    image = digits.upscaled_digit(0, 3)
    step = cv.output_arithmetic(image, np.array(cv.KERNELS["identity"]), 11, 11)
    assert arithmetic(page) == "\n".join(step.lines())
    assert any(cv.size_formula(24, kernel_size=3) in m.value for m in page.markdown)
    gaps = [float(c.value.split("largest difference ")[1].rstrip(".")) for c in page.caption
            if "largest difference" in c.value]
    assert len(gaps) == 2 and max(gaps) < 1e-6  # Conv2D and the pooling layer agree with the hand route
    out = cv.convolve2d(image, np.array(cv.KERNELS["identity"]))
    report = cv.shift_tolerance(out, dx=1, size=2, stride=2, kind="max")
    assert any(f"Before pooling, {report.changed_before:.0%} of the values change" in m.value
               and f"after pooling, {report.changed_after:.0%} do" in m.value for m in page.markdown)


def test_preset_stride_and_padding_reach_the_arithmetic():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="convolution_preset").set_value("vertical edges (Sobel)")
    at.number_input(key="convolution_stride").set_value(2)
    at.radio(key="convolution_padding").set_value("same").run()
    kernel = np.array(cv.KERNELS["vertical edges (Sobel)"])
    out = cv.convolve2d(digits.upscaled_digit(0, 3), kernel, stride=2, padding="same")
    row, col = at.session_state["convolution_row"], at.session_state["convolution_col"]
    step = cv.output_arithmetic(digits.upscaled_digit(0, 3), kernel, row, col, stride=2, padding="same")
    assert arithmetic(at) == "\n".join(step.lines()) and step.value == pytest.approx(out[row, col])
    assert any("0 before (top/left) and 1 after (bottom/right)" in m.value for m in at.markdown)
    edited = edit(at, KERNEL + "vertical edges (Sobel)_3", 1, "c2", "abc")
    assert "Kernel row 2, column 2: 'abc' is not a number" in edited.error[0].value
    assert not edited.exception


def test_a_stride_larger_than_the_picture_is_explained_and_pooling_has_no_output():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.number_input(key="convolution_stride").set_value(30).run()
    assert not at.exception
    assert "larger than the picture (24 pixels)" in at.warning[0].value
    assert "No output" in at.error[0].value  # a 1 x 1 map cannot be pooled by 2 x 2


def test_training_shows_the_run_and_reads_an_upload(trained):
    at = trained
    assert not at.exception, [e.value for e in at.exception]
    accuracy = float(at.metric[0].value.rstrip("%"))
    assert accuracy >= 95
    assert "You guessed 90" in at.warning[0].value or "You guessed 90" in at.success[0].value
    split = digits.split_digits(seed=0)
    ink = np.kron(split.x_val[0, :, :, 0], np.ones((20, 20))) * 255
    at.file_uploader(key="convolution_draw_upload").set_value(("three.png", png(ink), "image/png")).run()
    assert not at.exception and not at.error
    said = next(m.value for m in at.markdown if m.value.startswith("**The network says"))
    digit = digits.picture_to_digit(Image.open(io.BytesIO(png(ink))).convert("RGB"))
    probabilities = at.session_state["convolution_run"][1].predict(digit / digits.TOP)[0]
    assert said == f"**The network says {probabilities.argmax()}** ({probabilities.max():.0%})."
    at.file_uploader(key="convolution_draw_upload").set_value(("blank.png", png(np.zeros((40, 40))),
                                                             "image/png")).run()
    assert "blank" in at.error[0].value
    at.file_uploader(key="convolution_draw_upload").set_value(("notes.png", b"hello", "image/png")).run()
    assert at.error and not at.exception
