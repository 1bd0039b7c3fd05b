"""Image augmentation with Keras preprocessing layers: one builder, a copyable code snippet, a sample grid.

A page's settings are plain dicts, `{transform key: {setting: value}}`, for the transforms that are on.
Each transform below says how its settings become the Keras layer's keyword arguments.
"""
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

IMAGE_SIZE = 224  # the working copy: square, centre-cropped, small enough for 25 samples at once
VALUE_RANGE = (0, 255)  # our pixels are floats 0..255; the colour layers must be told so
FILL_MODES = ("reflect", "constant", "nearest", "wrap")
MAX_SAMPLES = 25


@dataclass(frozen=True)
class Setting:
    """One slider (a number or a (low, high) range) or one choice of a transform."""
    name: str
    label: str
    default: object
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple = ()
    help: str = ""

    @property
    def is_range(self) -> bool:
        return isinstance(self.default, tuple)


@dataclass(frozen=True)
class Transform:
    key: str
    layer: str  # class name in keras.layers
    label: str
    settings: tuple[Setting, ...]
    safe_when: str  # when the transform keeps the label
    newer: bool = False  # one of the layers added in Keras 3
    on_by_default: bool = False
    fixed: dict = field(default_factory=dict)  # keyword arguments the student does not set


def _chance(name: str = "factor") -> Setting:
    return Setting(name, "chance of applying it", 0.5, 0.0, 1.0, 0.05,
                   help="Passed as factor=(p, p): exactly this chance per picture. A single number p would "
                        "draw the chance itself between 0 and p.")


TRANSFORMS = {t.key: t for t in (
    Transform("flip", "RandomFlip", "Flip", (
        Setting("mode", "mode", "horizontal", choices=("horizontal", "vertical", "horizontal_and_vertical"),
                help="In Keras 3.15 'horizontal_and_vertical' flips both ways or not at all: a 180° turn."),),
        "Left–right flips are safe for most photos (a cat facing left is still a cat) but not for text, digits "
        "or signs whose direction matters: a mirrored 'turn right' arrow says 'turn left'. Upside-down flips "
        "rarely make sense for photos, and flipping both ways turns a 6 into a 9.", on_by_default=True),
    Transform("rotation", "RandomRotation", "Rotation", (
        Setting("factor", "up to ± this fraction of a full turn (0.05 = 18°)", 0.05, 0.0, 0.5, 0.01,
                help="The angle is drawn between −factor × 360° and +factor × 360°; 0.5 allows any angle."),),
        "Small rotations (a few degrees) are usually safe, because real cameras are held slightly tilted; large "
        "ones can turn a 6 into a 9 or point an arrow somewhere else.", on_by_default=True),
    Transform("zoom", "RandomZoom", "Zoom", (
        Setting("height_factor", "up to ± this fraction", 0.15, 0.0, 0.5, 0.01,
                help="Positive zooms out, negative zooms in; width follows, keeping the aspect ratio."),),
        "Safe while the object stays in the picture; zooming in too far can cut off the part that decides the "
        "class.", on_by_default=True),
    Transform("translation", "RandomTranslation", "Translation (shift)", (
        Setting("height_factor", "up/down by up to ± this fraction", 0.1, 0.0, 0.5, 0.01),
        Setting("width_factor", "left/right by up to ± this fraction", 0.1, 0.0, 0.5, 0.01)),
        "Safe as long as the object stays in the frame: the model learns that position does not change the "
        "class."),
    Transform("crop", "RandomCrop", "Crop", (
        Setting("size", "crop size in pixels", 192, 96, IMAGE_SIZE, 8,
                help="Keras crops every picture of one batch at the same place."),),
        "Safe if every crop still contains the object; a small crop of a large scene can miss it entirely."),
    Transform("brightness", "RandomBrightness", "Brightness", (
        Setting("factor", "up to ± this fraction of 255", 0.2, 0.0, 1.0, 0.05,
                help="Adds the same amount to every pixel, then clips to 0..255."),),
        "Safe for most tasks, since lighting changes all the time, unless brightness is the label itself "
        "(day versus night).", fixed={"value_range": VALUE_RANGE}),
    Transform("contrast", "RandomContrast", "Contrast", (
        Setting("factor", "contrast × (1 − f) … (1 + f)", 0.3, 0.0, 1.0, 0.05,
                help="Passed as factor=(f, f). In Keras 3.15 a single number f only raises contrast (1 … 1 + f)."),),
        "Usually safe: it mimics haze, fog and different cameras.", fixed={"value_range": VALUE_RANGE}),
    Transform("shear", "RandomShear", "Shear", (
        Setting("x_factor", "sideways by up to ± this fraction", 0.2, 0.0, 1.0, 0.05),
        Setting("y_factor", "up/down by up to ± this fraction", 0.0, 0.0, 1.0, 0.05)),
        "Mild shear mimics a slanted view and is usually safe; strong shear distorts the shapes that tell "
        "classes apart.", newer=True),
    Transform("perspective", "RandomPerspective", "Perspective", (
        _chance(), Setting("scale", "how far the corners move", 0.3, 0.0, 1.0, 0.05)),
        "Mimics photographing from another angle; safe in moderation.", newer=True),
    Transform("hue", "RandomHue", "Hue", (
        Setting("factor", "turn the colour wheel by up to ± f × 180°", 0.1, 0.0, 1.0, 0.05),),
        "Unsafe when colour carries the label: a red traffic light shifted in hue can look green, and ripe and "
        "unripe fruit differ by colour.", newer=True, fixed={"value_range": VALUE_RANGE}),
    Transform("saturation", "RandomSaturation", "Saturation", (
        Setting("factor", "range: 0 grey, 0.5 unchanged, above 0.5 more vivid", (0.3, 0.6), 0.0, 0.7, 0.05,
                help="Saturation is multiplied by f/(1 − f), f drawn from the range. Keras 3.15 can push pixels "
                     "below 0 above 0.5; the grid shows them clipped to 0."),),
        "Usually safe; a fully grey picture loses its colour, which matters when colour is the label.",
        newer=True, fixed={"value_range": VALUE_RANGE}),
    Transform("grayscale", "RandomGrayscale", "Grayscale", (
        Setting("factor", "chance of turning grey", 0.2, 0.0, 1.0, 0.05),),
        "Safe when shape decides the class; unsafe when colour does (traffic lights, ripe fruit).", newer=True),
    Transform("blur", "RandomGaussianBlur", "Gaussian blur", (
        _chance(), Setting("kernel_size", "kernel size", 5, choices=(3, 5, 7, 9)),
        Setting("sigma", "strongest blur σ (pixels)", 1.5, 0.2, 3.0, 0.1,
                help="Passed as sigma=(0.1, σ). Keras draws one σ per batch, so blurred samples share it.")),
        "Mild blur mimics an out-of-focus photo and is usually safe; strong blur erases small details such as "
        "the text on a sign.", newer=True, fixed={"value_range": VALUE_RANGE}),
    Transform("erasing", "RandomErasing", "Erasing (cut-out)", (
        _chance(), Setting("scale", "range of s: each side of the patch is √s of the picture's", (0.02, 0.2),
                           0.01, 0.5, 0.01)),
        "Teaches the model not to rely on one small part; unsafe if the patch can hide the only part that "
        "defines the class (the lit lamp of a traffic light).", newer=True, fixed={"value_range": VALUE_RANGE}),
)}
GEOMETRIC_WITH_FILL = ("rotation", "zoom", "translation", "shear")


def default_settings() -> dict:
    """The settings of the transforms that start switched on."""
    return {t.key: {s.name: s.default for s in t.settings} for t in TRANSFORMS.values() if t.on_by_default}


def layer_arguments(settings: dict, seed: int, *, fill_mode: str = "reflect") -> list[tuple[str, dict]]:
    """(Keras class name, keyword arguments) for each chosen transform, in the pipeline's order."""
    _check_seed(seed)
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {', '.join(FILL_MODES)}, not {fill_mode!r}.")
    unknown = set(settings) - set(TRANSFORMS)
    if unknown:
        raise ValueError(f"Unknown transform(s): {', '.join(sorted(map(str, unknown)))}.")
    calls = []
    for position, transform in enumerate(t for t in TRANSFORMS.values() if t.key in settings):
        values = _checked_values(transform, settings[transform.key])
        calls.append((transform.layer, _keras_kwargs(transform.key, values, fill_mode)
                      | transform.fixed | {"seed": seed + position}))
    return calls


def build_augmenter(settings: dict, seed: int, *, fill_mode: str = "reflect", image_size: int = IMAGE_SIZE):
    """An uncompiled keras.Sequential of the chosen random layers; layer i gets seed + i."""
    import keras

    inputs = [keras.Input(shape=(image_size, image_size, 3))]
    return keras.Sequential(inputs + [getattr(keras.layers, name)(**kwargs)
                                      for name, kwargs in layer_arguments(settings, seed, fill_mode=fill_mode)],
                            name="augmentation")


def code_snippet(settings: dict, seed: int, *, fill_mode: str = "reflect", image_size: int = IMAGE_SIZE) -> str:
    """The same pipeline as Python source a student can copy."""
    lines = ["import keras", "from keras import layers", "", "augment = keras.Sequential([",
             f"    keras.Input(shape=({image_size}, {image_size}, 3)),"]
    for name, kwargs in layer_arguments(settings, seed, fill_mode=fill_mode):
        arguments = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
        lines.append(f"    layers.{name}({arguments}),")
    lines += ["])", "", "# In training: augmented = augment(images, training=True)"]
    return "\n".join(lines)


def augment_copies(image: np.ndarray, settings: dict, seed: int, n_samples: int = 9, *,
                   fill_mode: str = "reflect") -> np.ndarray:
    """n_samples augmented versions of one (H, W, 3) 0..255 image, from a fresh pipeline: same seed, same batch."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or not 1 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"The number of samples must be a whole number from 1 to {MAX_SAMPLES}.")
    batch = np.repeat(_checked_image(image)[None], int(n_samples), axis=0)
    model = build_augmenter(settings, seed, fill_mode=fill_mode, image_size=batch.shape[1])
    return np.asarray(model(batch, training=True), dtype=np.float32)


def inference_pass(image: np.ndarray, settings: dict, seed: int, *, fill_mode: str = "reflect") -> np.ndarray:
    """The same pipeline called with training=False, as in model.predict: the layers let the image through."""
    batch = _checked_image(image)[None]
    model = build_augmenter(settings, seed, fill_mode=fill_mode, image_size=batch.shape[1])
    return np.asarray(model(batch, training=False), dtype=np.float32)[0]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Round and clip to displayable 8-bit pixels (some layers can leave values outside 0..255)."""
    return np.clip(np.rint(np.nan_to_num(images)), 0, 255).astype(np.uint8)


def tile_grid(images: np.ndarray, columns: int, *, gap: int = 6, background: int = 255) -> Image.Image:
    """Lay out a batch (N, H, W, 3) as one picture, row by row, with a white gap between tiles."""
    images = to_uint8(images)
    count, height, width, _ = images.shape
    rows = -(-count // columns)
    canvas = np.full((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3), background,
                     dtype=np.uint8)
    for index, tile in enumerate(images):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        canvas[top:top + height, left:left + width] = tile
    return Image.fromarray(canvas)


def _checked_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] != image.shape[1]:
        raise ValueError(f"Expected one square RGB picture of shape (size, size, 3), not {image.shape}.")
    return image


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= 2**31 - 100:
        raise ValueError("The seed must be a whole number from 0 to 2147483548.")


def _checked_values(transform: Transform, values: dict) -> dict:
    """The student's values for one transform, defaults filled in, each checked against its slider."""
    unknown = set(values) - {s.name for s in transform.settings}
    if unknown:
        raise ValueError(f"{transform.label} has no setting {', '.join(sorted(map(str, unknown)))}.")
    checked = {}
    for setting in transform.settings:
        value = values.get(setting.name, setting.default)
        if setting.choices:
            if value not in setting.choices:
                raise ValueError(f"{transform.label}: {setting.label} must be one of {setting.choices}, not {value!r}.")
        else:
            numbers = value if setting.is_range else (value,)
            if (not isinstance(numbers, (tuple, list)) or len(numbers) != (2 if setting.is_range else 1)
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers)
                    or not all(setting.low <= v <= setting.high for v in numbers)
                    or (setting.is_range and numbers[0] > numbers[1])):
                raise ValueError(f"{transform.label}: {setting.label} must be "
                                 f"{'a (low, high) pair ' if setting.is_range else ''}between {setting.low:g} "
                                 f"and {setting.high:g}, not {value!r}.")
            value = tuple(numbers) if setting.is_range else value
        checked[setting.name] = value
    return checked


def _keras_kwargs(key: str, v: dict, fill_mode: str) -> dict:
    """Translate slider values into the layer's own argument names and conventions (checked in Keras 3.15)."""
    fill = {"fill_mode": fill_mode} if key in GEOMETRIC_WITH_FILL else {}
    if key == "crop":
        return {"height": int(v["size"]), "width": int(v["size"])}
    if key == "contrast":  # a tuple makes the range symmetric, as the docstring promises for a single number
        return {"factor": (v["factor"], v["factor"])}
    if key in ("perspective", "blur", "erasing"):  # (p, p): exactly chance p
        extra = {"perspective": {"scale": v.get("scale")},
                 "blur": {"kernel_size": v.get("kernel_size"), "sigma": (0.1, v.get("sigma"))},
                 "erasing": {"scale": v.get("scale")}}[key]
        return {"factor": (v["factor"], v["factor"])} | extra
    return dict(v) | fill


@dataclass(frozen=True)
class LabelQuiz:
    """A predict-first question about one gallery picture: which transform changes its label?"""
    label: str
    options: tuple[str, ...]
    answer: str
    explanation: str


LABEL_QUIZZES = {
    "digit_six": LabelQuiz(
        "the digit 6",
        ("RandomRotation(factor=0.03)", "RandomFlip(mode='horizontal_and_vertical')", "RandomBrightness(factor=0.2)",
         "RandomZoom(height_factor=0.1)"),
        "RandomFlip(mode='horizontal_and_vertical')",
        "In Keras 3.15 this mode flips both ways at once (or not at all): a 180° turn, and an upside-down 6 is a 9. "
        "A rotation of at most ±11°, a brightness change or a 10 % zoom leaves a 6 a 6."),
    "arrow_sign": LabelQuiz(
        "a 'turn right' sign",
        ("RandomFlip(mode='horizontal')", "RandomFlip(mode='vertical')", "RandomContrast(factor=0.3)",
         "RandomTranslation(height_factor=0.1, width_factor=0.1)"),
        "RandomFlip(mode='horizontal')",
        "Mirrored left to right, the arrow points left: a different sign. The vertical flip is a trap: this arrow "
        "is symmetric top to bottom, so flipped upside down it still points right."),
    "traffic_light": LabelQuiz(
        "a red traffic light",
        ("RandomHue(factor=0.8)", "RandomFlip(mode='horizontal')", "RandomBrightness(factor=0.2)",
         "RandomRotation(factor=0.03)"),
        "RandomHue(factor=0.8)",
        "factor=0.8 turns the colour wheel by up to ±144°, and green sits 120° from red: the light can change "
        "from 'stop' to 'go'. The light is symmetric left to right, and light or a slight tilt keep it red."),
}
