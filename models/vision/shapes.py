"""A built-in picture dataset for the transfer-learning page: circles, squares and triangles, drawn with Pillow.

Every picture comes from its own generator seeded by (seed, class, index), so the same seed always
gives the same pictures, and asking for more pictures per class keeps the first ones unchanged.
"""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SHAPES = ("circle", "square", "triangle")
MAX_PER_CLASS = 40


def _colour(rng, lightness: str) -> tuple[int, int, int]:
    """A random colour that is clearly light or clearly dark, so a shape always stands out from its background."""
    low, high = (150, 256) if lightness == "light" else (0, 110)
    return tuple(int(v) for v in rng.integers(low, high, 3))


def _polygon(centre, radius, corners, angle):
    cx, cy = centre
    return [(cx + radius * math.cos(angle + 2 * math.pi * k / corners),
             cy + radius * math.sin(angle + 2 * math.pi * k / corners)) for k in range(corners)]


def draw_shape(shape: str, *, size: int = 128, seed: int = 0) -> Image.Image:
    """One picture of `shape` with random position, size, rotation and colours; same seed, same picture."""
    if shape not in SHAPES:
        raise ValueError(f"Unknown shape {shape!r}; choose one of {', '.join(SHAPES)}.")
    if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 1024:
        raise ValueError(f"The picture size must be a whole number of pixels from 16 to 1024; got {size!r}.")
    rng = np.random.default_rng(seed)
    background_is_light = rng.random() < 0.5
    background = _colour(rng, "light" if background_is_light else "dark")
    ink = _colour(rng, "dark" if background_is_light else "light")
    # Draw at 4x and shrink: smooth edges, like a photo rather than a pixel-art icon.
    scale = 4
    big = size * scale
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    radius = rng.uniform(0.18, 0.38) * big
    margin = radius * 1.05
    centre = (rng.uniform(margin, big - margin), rng.uniform(margin, big - margin))
    angle = rng.uniform(0, 2 * math.pi)
    if shape == "circle":
        cx, cy = centre
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=ink)
    elif shape == "square":
        draw.polygon(_polygon(centre, radius, 4, angle), fill=ink)
    else:
        draw.polygon(_polygon(centre, radius, 3, angle), fill=ink)
    image = image.resize((size, size), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(0.5))
    noise = rng.normal(0, 6, (size, size, 3))  # a little sensor noise, so no two backgrounds are identical
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255)
    return Image.fromarray(np.rint(pixels).astype(np.uint8))


def make_shapes(n_per_class: int = 24, *, size: int = 128, seed: int = 0,
                shapes: tuple[str, ...] = SHAPES) -> tuple[list[Image.Image], np.ndarray, list[str]]:
    """(pictures, class numbers, class names): `n_per_class` pictures of each shape, class by class."""
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, int) or not 2 <= n_per_class <= MAX_PER_CLASS:
        raise ValueError(f"Pictures per class must be a whole number from 2 to {MAX_PER_CLASS}; got {n_per_class!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"The seed must be a whole number of 0 or more; got {seed!r}.")
    pictures, labels = [], []
    for label, shape in enumerate(shapes):
        for index in range(n_per_class):
            pictures.append(draw_shape(shape, size=size, seed=[seed, label, index]))
            labels.append(label)
    return pictures, np.array(labels), list(shapes)
