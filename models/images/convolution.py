"""One convolution and one pooling by hand in NumPy: output sizes, one output's arithmetic, pooling's shift tolerance.

Like Keras (and every deep-learning library), "convolution" here is cross-correlation: the kernel is not flipped.
"""
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.core.numbers import check_number, format_number, parse_number

PADDINGS = ("valid", "same")
POOLS = ("max", "average")
MAX_KERNEL = 7
MAX_SIDE = 64  # the page's pictures; every number of a 64 x 64 map can still be drawn

KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "vertical edges (Sobel)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges (Sobel)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian (all edges)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}


def _whole(value, what, low=1, high=math.inf) -> int:
    return check_number(value, what, low=low, high=high, integer=True)


def same_padding(n: int, *, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's `same` padding along one side: (before, after); the odd extra pixel goes after (bottom/right)."""
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (kernel_size - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def conv_output_size(n: int, *, kernel_size: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> int:
    """How many outputs a convolution (or pooling) gives along a side of n pixels; ValueError where there are none."""
    n = _whole(n, "The image size")
    kernel_size = _whole(kernel_size, "The kernel size")
    stride = _whole(stride, "The stride")
    dilation = _whole(dilation, "The dilation")
    if padding not in PADDINGS:
        raise ValueError(f"Unknown padding {padding!r}; choose 'valid' or 'same'.")
    if padding == "same":
        return -(-n // stride)
    span = dilation * (kernel_size - 1) + 1
    if span > n:
        spread = f" (a {kernel_size}-wide kernel with dilation {dilation})" if dilation > 1 else ""
        raise ValueError(f"No output: the kernel covers {span} pixels{spread}, but the image is only {n} pixels "
                         f"wide, so with 'valid' padding it fits nowhere. Use a smaller kernel or dilation, a "
                         "larger image, or 'same' padding.")
    return (n - span) // stride + 1


def size_formula(n: int, *, kernel_size: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> str:
    """The output-size formula with these numbers filled in (raises ValueError like `conv_output_size`)."""
    out = conv_output_size(n, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    if padding == "same":
        before, after = same_padding(n, kernel_size=kernel_size, stride=stride, dilation=dilation)
        return (f"⌈n / s⌉ = ⌈{n} / {stride}⌉ = {out}; that takes (out − 1)·s + d·(k − 1) + 1 − n = "
                f"({out} − 1)·{stride} + {dilation}·({kernel_size} − 1) + 1 − {n} = {before + after} zeros of "
                f"padding: {before} before (top/left) and {after} after (bottom/right)")
    return (f"⌊(n − d·(k − 1) − 1) / s⌋ + 1 = ⌊({n} − {dilation}·({kernel_size} − 1) − 1) / {stride}⌋ + 1 = "
            f"⌊{n - dilation * (kernel_size - 1) - 1} / {stride}⌋ + 1 = {out}")


def _image(image, what="The image") -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"{what} must be a non-empty 2-D grid of numbers; got shape {image.shape}.")
    if not np.isfinite(image).all():
        raise ValueError(f"{what} contains missing or infinite values.")
    return image


def _padded(image, kernel_shape, stride, padding, dilation):
    """The image with its zero padding, and the padding before (top, left)."""
    (h, w), (kh, kw) = image.shape, kernel_shape
    conv_output_size(h, kernel_size=kh, stride=stride, padding=padding, dilation=dilation)
    conv_output_size(w, kernel_size=kw, stride=stride, padding=padding, dilation=dilation)
    if padding == "valid":
        return image, (0, 0)
    top, bottom = same_padding(h, kernel_size=kh, stride=stride, dilation=dilation)
    left, right = same_padding(w, kernel_size=kw, stride=stride, dilation=dilation)
    return np.pad(image, ((top, bottom), (left, right))), (top, left)


def convolve2d(image, kernel, *, stride=1, padding="valid", dilation=1, bias=0.0) -> np.ndarray:
    """Slide `kernel` over a 2-D image: at each position multiply covered pixels by weights, add up, add the bias."""
    image, kernel = _image(image), _image(kernel, "The kernel")
    stride, dilation = _whole(stride, "The stride"), _whole(dilation, "The dilation")
    bias = check_number(bias, "The bias")
    padded, _ = _padded(image, kernel.shape, stride, padding, dilation)
    kh, kw = kernel.shape
    out_h = conv_output_size(image.shape[0], kernel_size=kh, stride=stride, padding=padding, dilation=dilation)
    out_w = conv_output_size(image.shape[1], kernel_size=kw, stride=stride, padding=padding, dilation=dilation)
    span = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, span)[::stride, ::stride, ::dilation, ::dilation]
    return np.einsum("ijkl,kl->ij", windows[:out_h, :out_w], kernel) + bias


def pool2d(x, *, size=2, stride=None, kind="max") -> np.ndarray:
    """Max or average pooling of a 2-D map with 'valid' padding; `stride=None` means `size`, as in Keras."""
    x = _image(x, "The feature map")
    size = _whole(size, "The pool size")
    stride = size if stride is None else _whole(stride, "The pool stride")
    if kind not in POOLS:
        raise ValueError(f"Unknown pooling {kind!r}; choose 'max' or 'average'.")
    out_h, out_w = (conv_output_size(n, kernel_size=size, stride=stride) for n in x.shape)
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size))[::stride, ::stride][:out_h, :out_w]
    return windows.max(axis=(2, 3)) if kind == "max" else windows.mean(axis=(2, 3))


def kernel_from_table(table: pd.DataFrame) -> np.ndarray:
    """The kernel typed into a table (text cells: '2e3', '1,5', '−1' work); ValueError naming a bad cell."""
    if table is None or table.size == 0:
        raise ValueError("The kernel is empty; pick a preset or type at least one number.")
    if max(table.shape) > MAX_KERNEL:
        raise ValueError(f"Keep the kernel at most {MAX_KERNEL} x {MAX_KERNEL}; it is {table.shape[0]} x "
                         f"{table.shape[1]}.")
    values = np.zeros(table.shape)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            cell = table.iat[i, j]
            where = f"Kernel row {i + 1}, column {j + 1}"
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                raise ValueError(f"{where} is empty; type a number (0 for no weight).")
            values[i, j] = parse_number(cell, where)
            if abs(values[i, j]) > 1e6:
                raise ValueError(f"{where}: {format_number(values[i, j])} is too large; keep weights within "
                                 "±1,000,000.")
    return values


def kernel_table(kernel) -> pd.DataFrame:
    """A kernel as the text table the page edits."""
    kernel = np.asarray(kernel, dtype=float)
    return pd.DataFrame([[format_number(v) for v in row] for row in kernel],
                        columns=[f"c{j + 1}" for j in range(kernel.shape[1])])


@dataclass(frozen=True)
class OutputArithmetic:
    """How one output value is made: the input pixels it sees, their weights and products, the sum and the bias."""
    row: int
    col: int
    cells: tuple  # ((input row, input column, pixel, weight), ...); rows/columns outside the image are padding
    total: float
    bias: float
    value: float
    shape: tuple[int, int]  # the input image's

    @property
    def field(self) -> list[tuple[int, int]]:
        """The receptive field: the input pixels (inside the image, not padding) this output depends on."""
        return [(r, c) for r, c, _, _ in self.cells if 0 <= r < self.shape[0] and 0 <= c < self.shape[1]]

    def lines(self, digits: int = 3) -> list[str]:
        fmt = lambda v: format_number(v, digits, significant=True)  # noqa: E731
        products = [f"{fmt(p)}×{fmt(w) if w >= 0 else '(' + fmt(w) + ')'}" for _, _, p, w in self.cells]
        rows = ["  " + " + ".join(products[i:i + 3]) for i in range(0, len(products), 3)]
        return ([f"output[{self.row}, {self.col}] ="] + rows +
                [f"= {fmt(self.total)}  (sum of the {len(self.cells)} products)",
                 f"+ {fmt(self.bias)}  (bias)", f"= {fmt(self.value)}"])


def output_arithmetic(image, kernel, row: int, col: int, *, stride=1, padding="valid", dilation=1,
                      bias=0.0) -> OutputArithmetic:
    """The written-out computation of output[row, col]; padding pixels appear with value 0."""
    image, kernel = _image(image), _image(kernel, "The kernel")
    out = convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias)
    if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
        raise ValueError(f"The output has rows 0–{out.shape[0] - 1} and columns 0–{out.shape[1] - 1}; "
                         f"got ({row}, {col}).")
    padded, (top, left) = _padded(image, kernel.shape, stride, padding, dilation)
    cells = []
    for i in range(kernel.shape[0]):
        for j in range(kernel.shape[1]):
            pr, pc = row * stride + i * dilation, col * stride + j * dilation
            cells.append((pr - top, pc - left, float(padded[pr, pc]), float(kernel[i, j])))
    total = float(sum(p * w for _, _, p, w in cells))
    return OutputArithmetic(row, col, tuple(cells), total, float(bias), float(out[row, col]), image.shape)


# --- Pooling's tolerance of small shifts ---

def shift_image(image, dy: int, dx: int) -> np.ndarray:
    """The image moved down by dy and right by dx pixels (negative: up/left); uncovered pixels become 0."""
    image = _image(image)
    out = np.zeros_like(image)
    h, w = image.shape
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = image[max(-dy, 0):h - max(dy, 0),
                                                                       max(-dx, 0):w - max(dx, 0)]
    return out


@dataclass(frozen=True)
class ShiftReport:
    """How much a shift changes a map before pooling and after it (shares of values that changed, mean change)."""
    changed_before: float
    changed_after: float
    change_before: float
    change_after: float


def shift_tolerance(feature_map, *, dy=0, dx=1, size=2, stride=None, kind="max", tolerance=1e-9) -> ShiftReport:
    """Shift the map by (dy, dx) and compare: value by value before pooling, and after pooling both versions."""
    original = _image(feature_map, "The feature map")
    moved = shift_image(original, int(dy), int(dx))
    pooled, pooled_moved = (pool2d(m, size=size, stride=stride, kind=kind) for m in (original, moved))
    before, after = np.abs(moved - original), np.abs(pooled_moved - pooled)
    return ShiftReport(float((before > tolerance).mean()), float((after > tolerance).mean()),
                       float(before.mean()), float(after.mean()))
