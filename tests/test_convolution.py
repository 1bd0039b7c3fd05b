"""Convolution and pooling by hand against Keras' own layers; output sizes against the shapes Keras produces."""
import itertools

import numpy as np
import pandas as pd
import pytest

from models.images import convolution as cv
from models.images.conv_keras import keras_convolve2d, keras_pool2d

RNG = np.random.default_rng(7)


def keras_conv(image, kernel, *, stride, padding, dilation, bias):
    return keras_convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias)


GRID = [(n, k, s, p, d) for n, k, s, p, d in itertools.product((5, 6, 7, 8, 11), (1, 2, 3, 5), (1, 2, 3),
                                                                 cv.PADDINGS, (1, 2))
        if not (s > 1 and d > 1)]  # Keras refuses strides > 1 together with dilation > 1


@pytest.mark.parametrize("n,k,stride,padding,dilation", GRID)
def test_hand_convolution_equals_keras_conv2d(n, k, stride, padding, dilation):
    image, kernel = RNG.normal(size=(n, n + 1)), RNG.normal(size=(k, k))
    try:
        expected = keras_conv(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.25)
    except ValueError:  # no output: the kernel is larger than the image
        with pytest.raises(ValueError, match="No output"):
            cv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.25)
        return
    ours = cv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.25)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-6, rtol=0)
    assert ours.shape == tuple(cv.conv_output_size(m, kernel_size=k, stride=stride, padding=padding, dilation=dilation)
                               for m in image.shape)


def test_same_padding_with_stride_two_on_an_even_size_pads_more_at_the_bottom_right():
    image, kernel = RNG.normal(size=(8, 8)), RNG.normal(size=(4, 4))
    assert cv.same_padding(8, kernel_size=4, stride=2) == (1, 1)
    assert cv.same_padding(8, kernel_size=3, stride=2) == (0, 1)  # total 1: none at the top, one at the bottom
    for k in (3, 4):
        np.testing.assert_allclose(cv.convolve2d(image[:, :], kernel[:k, :k], stride=2, padding="same"),
                                   keras_conv(image, kernel[:k, :k], stride=2, padding="same", dilation=1, bias=0),
                                   atol=1e-6, rtol=0)


def test_stride_with_dilation_is_the_dilated_map_subsampled():
    image, kernel = RNG.normal(size=(12, 12)), RNG.normal(size=(3, 3))
    dense = cv.convolve2d(image, kernel, dilation=2)
    np.testing.assert_allclose(cv.convolve2d(image, kernel, dilation=2, stride=3), dense[::3, ::3], atol=1e-12)


@pytest.mark.parametrize("n,size,stride,kind", list(itertools.product((4, 5, 7, 8), (1, 2, 3), (None, 1, 2),
                                                                      cv.POOLS)))
def test_hand_pooling_equals_keras(n, size, stride, kind):
    x = RNG.normal(size=(n, n + 2))
    if size > n:
        with pytest.raises(ValueError, match="No output"):
            cv.pool2d(x, size=size, stride=stride, kind=kind)
        return
    expected = keras_pool2d(x, size=size, stride=stride, kind=kind)
    np.testing.assert_allclose(cv.pool2d(x, size=size, stride=stride, kind=kind), expected, atol=1e-6, rtol=0)


def test_no_output_is_explained():
    with pytest.raises(ValueError, match="covers 5 pixels .* only 4 pixels"):
        cv.conv_output_size(4, kernel_size=3, dilation=2)
    with pytest.raises(ValueError, match="stride must be a whole number at least 1"):
        cv.conv_output_size(8, kernel_size=3, stride=0)
    assert cv.conv_output_size(4, kernel_size=3, dilation=2, padding="same") == 4
    assert cv.conv_output_size(5, kernel_size=3, stride=9) == 1  # a stride larger than the image: one output


def test_size_formula_fills_in_the_numbers():
    assert cv.size_formula(28, kernel_size=3, stride=2) == ("⌊(n − d·(k − 1) − 1) / s⌋ + 1 = "
                                                            "⌊(28 − 1·(3 − 1) − 1) / 2⌋ + 1 = ⌊25 / 2⌋ + 1 = 13")
    text = cv.size_formula(8, kernel_size=3, stride=2, padding="same")
    assert text.startswith("⌈n / s⌉ = ⌈8 / 2⌉ = 4") and "0 before (top/left) and 1 after" in text


def test_output_arithmetic_adds_up_to_the_map_and_names_the_receptive_field():
    image, kernel = RNG.normal(size=(6, 7)), RNG.normal(size=(3, 3))
    for padding, stride, dilation in (("valid", 1, 1), ("same", 2, 1), ("same", 1, 2)):
        out = cv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.5)
        for row, col in ((0, 0), (out.shape[0] - 1, out.shape[1] - 1)):
            step = cv.output_arithmetic(image, kernel, row, col, stride=stride, padding=padding, dilation=dilation,
                                        bias=0.5)
            assert step.value == pytest.approx(out[row, col]) == pytest.approx(step.total + 0.5)
            assert len(step.cells) == 9
            for r, c in step.field:
                assert 0 <= r < 6 and 0 <= c < 7
    corner = cv.output_arithmetic(image, kernel, 0, 0, padding="same")
    assert corner.field == [(0, 0), (0, 1), (1, 0), (1, 1)]  # the rest is zero padding
    assert cv.output_arithmetic(image, kernel, 1, 2, dilation=2).field == [(r, c) for r in (1, 3, 5) for c in (2, 4, 6)]
    lines = cv.output_arithmetic(np.ones((3, 3)), np.eye(3), 0, 0, bias=1).lines()
    assert lines[0] == "output[0, 0] =" and lines[-1] == "= 4" and "(bias)" in lines[-2]
    with pytest.raises(ValueError, match="rows 0–3"):
        cv.output_arithmetic(image, kernel, 4, 0)


def test_presets_do_what_their_names_say():
    step = np.zeros((6, 6))
    step[:, 3:] = 1.0  # a vertical edge
    vertical = cv.convolve2d(step, np.array(cv.KERNELS["vertical edges (Sobel)"]))
    horizontal = cv.convolve2d(step, np.array(cv.KERNELS["horizontal edges (Sobel)"]))
    assert np.abs(vertical).max() == 4 and np.abs(horizontal).max() == 0
    np.testing.assert_allclose(cv.convolve2d(step, np.array(cv.KERNELS["identity"]), padding="same"), step)
    assert np.sum(cv.KERNELS["blur"]) == pytest.approx(1) and np.sum(cv.KERNELS["sharpen"]) == 1


def test_kernel_table_reads_text_and_names_bad_cells():
    table = cv.kernel_table(cv.KERNELS["sharpen"])
    np.testing.assert_array_equal(cv.kernel_from_table(table), cv.KERNELS["sharpen"])
    table.iat[0, 0] = "1,5"
    table.iat[0, 1] = "2e3"
    assert cv.kernel_from_table(table)[0, :2].tolist() == [1.5, 2000]
    table.iat[1, 2] = "abc"
    with pytest.raises(ValueError, match="Kernel row 2, column 3: 'abc' is not a number"):
        cv.kernel_from_table(table)
    table.iat[1, 2] = None
    with pytest.raises(ValueError, match="row 2, column 3 is empty"):
        cv.kernel_from_table(table)
    with pytest.raises(ValueError, match="kernel is empty"):
        cv.kernel_from_table(pd.DataFrame())


def test_pooling_tolerates_small_shifts():
    image = np.zeros((16, 16))
    image[4:12:2, 4:12:2] = 1.0  # isolated dots at even positions
    report = cv.shift_tolerance(image, dy=0, dx=1, size=2, kind="max")
    assert report.changed_before == pytest.approx(2 * 16 / 256)  # 16 dots leave and 16 arrive
    assert report.changed_after == 0  # each dot stays inside its 2 x 2 pooling window
    shifted_twice = cv.shift_tolerance(image, dx=2, size=2, kind="max")
    assert shifted_twice.changed_after > 0
    np.testing.assert_array_equal(cv.shift_image(image, 0, 1)[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(cv.shift_image(image, -1, 0)[:-1], image[1:])
