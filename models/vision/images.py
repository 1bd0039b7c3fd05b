"""One safe way in for every picture a student uploads: bytes in, a plain RGB image out.

Everything happens in memory; uploads are never written to disk.
"""
import io
import re
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from models.core.paths import DATA_DIR

GALLERY_DIR = DATA_DIR / "gallery"

MAX_BYTES = 20 * 1024 * 1024  # keep equal to the server's upload limit
MAX_PIXELS = 52_000_000  # 50 MP phone cameras pass; well under Pillow's 89 MP warning
MAX_SIDE = 1024  # larger pictures are shrunk at once: the models see 224 px, and 30 sessions share one server's memory

# The only decoders we let near an upload; Pillow knows many more, rarer ones.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
SUPPORTED = "JPEG, PNG, GIF, WebP or BMP"

# Magic bytes of files students upload by mistake, and what to call them.
_KINDS = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document"),
    (b"{\\rtf", "a rich-text document"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"ID3", "a sound file"),
    (b"OggS", "a sound or video file"),
    (b"fLaC", "a sound file"),
    (b"\x1aE\xdf\xa3", "a video file"),
    (b"8BPS", "a Photoshop file"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


class ImageInputError(ValueError):
    """An upload we refuse; the message is written for the student."""


def load_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
               max_side: int = MAX_SIDE) -> Image.Image:
    """Decode an upload into an upright RGB image no larger than max_side, or raise ImageInputError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"load_image expects the file's bytes, not {type(data).__name__}.")
    data = bytes(data)
    if not data:
        raise ImageInputError("This file is empty (0 bytes). Please choose a picture file.")
    if len(data) > max_bytes:
        raise ImageInputError(f"The file is {_megabytes(len(data))}; the limit is {_megabytes(max_bytes)}. "
                              "Please upload a smaller picture.")

    # Pillow warns between its two bomb limits; make that an error here only. catch_warnings is not
    # thread-safe, so the size check below, made on the header before decoding, is the real guard.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_decoders())
        except Image.UnidentifiedImageError:  # also what a badly damaged header gives
            raise ImageInputError(_damaged_message(data)) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageInputError(_too_many_pixels_message(data, max_pixels, str(exc))) from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError):
            raise ImageInputError(_damaged_message(data)) from None

        width, height = image.size
        if width < 1 or height < 1:
            raise ImageInputError(_damaged_message(data))
        if width * height > max_pixels:
            raise ImageInputError(_too_many_pixels_message(data, max_pixels, size=(width, height)))
        try:
            if image.format in ("JPEG", "MPO"):
                # Let the JPEG decoder skip detail we would throw away: 1/2, 1/4 or 1/8 scale.
                image.draft(None, _fit_inside((width, height), max_side))
            image.load()  # first frame only for animations
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageInputError(_too_many_pixels_message(data, max_pixels, str(exc))) from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError):
            raise ImageInputError(_damaged_message(data)) from None
        except MemoryError:
            raise ImageInputError("This picture is too big for the server to open right now. "
                                  "Please upload a smaller one.") from None

    try:
        ImageOps.exif_transpose(image, in_place=True)
    except (OSError, SyntaxError, ValueError, struct.error, KeyError, TypeError):
        pass  # a broken EXIF block only costs us the orientation, not the picture
    try:
        rgb = _to_rgb(image)
    except (OSError, ValueError):
        raise ImageInputError(f"This picture uses a colour format ({image.mode}) we cannot convert. "
                              f"Please save it as an ordinary {SUPPORTED} image.") from None
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if rgb is image:
        rgb = image.copy()  # detach from the upload's buffer
    rgb.info.clear()  # drop EXIF, ICC and comments: nothing from the upload travels on
    return rgb


def center_crop_resize(image: Image.Image, size: int = 224) -> Image.Image:
    """Scale the short side to size and cut the centre square: the picture the model actually sees."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive whole number of pixels, not {size!r}.")
    return ImageOps.fit(_to_rgb(image), (size, size), Image.Resampling.BICUBIC, centering=(0.5, 0.5))


def to_array(image: Image.Image) -> np.ndarray:
    """The image as a float32 array of shape (height, width, 3) with values 0..255."""
    return np.asarray(_to_rgb(image), dtype=np.float32)


def gallery() -> dict[str, Path]:
    """The sample pictures shipped in data/gallery, by name (the file name without extension)."""
    files = sorted(p for p in GALLERY_DIR.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    return {p.stem: p for p in files}


def _decoders() -> tuple[str, ...]:
    """The formats of FORMATS that this Pillow build can open (AVIF support is optional)."""
    Image.init()
    return tuple(name for name in FORMATS if name in Image.OPEN)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: transparency onto white, 16-bit scaled, CMYK converted."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 0..65535 -> 0..255 with rounding; convert("L") would clip everything above 255 to white.
        values = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
        gray = ((values * 255 + 32767) // 65535).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if mode == "F":
        gray = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0, 255)
        return Image.fromarray(np.rint(gray).astype(np.uint8)).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _fit_inside(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _too_many_pixels_message(data: bytes, max_pixels: int, detail: str = "",
                             size: tuple[int, int] | None = None) -> str:
    size = size or _declared_size(data)
    limit = f"the limit is {max_pixels / 1e6:g} million pixels"
    if size:
        width, height = size
        return (f"The image is {width}×{height} pixels ({width * height / 1e6:.0f} million); {limit}. "
                "Please upload a smaller picture.")
    found = re.search(r"\((\d+) pixels\)", detail)
    if found:
        return (f"The image has {int(found.group(1)) / 1e6:.0f} million pixels; {limit}. "
                "Please upload a smaller picture.")
    return f"The image is far too large; {limit}. Please upload a smaller picture."


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height as written in a PNG, GIF or JPEG header, without decoding anything."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 <= len(data) and data[pos] == 0xFF:
            marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
                return width, height
            pos += 2 + length
    return None


def _image_kind(data: bytes) -> str | None:
    """The name of the image format the file's first bytes announce, if any."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    return None


def _damaged_message(data: bytes) -> str:
    kind = _image_kind(data)
    if kind is None or _text_start(data) is not None:
        return _not_an_image_message(data)
    return (f"This file starts like a {kind} image, but it is damaged or cut short (perhaps the upload "
            "was interrupted), so we cannot read it. Please save or export the picture again.")


def _not_an_image_message(data: bytes) -> str:
    kind = _non_image_kind(data)
    if kind == "a HEIC photo":
        return ("This is a HEIC photo (the iPhone's default format), which we cannot read. "
                "Please export it as JPEG or PNG, or set the camera to 'Most Compatible'.")
    if kind == "an SVG drawing":
        return ("This is an SVG drawing (made of shapes, not pixels). "
                f"Please export it as PNG and upload that. We accept {SUPPORTED} images.")
    described = f" (it looks like {kind})" if kind else ""
    return f"This file is not an image we can read{described}. Please upload a {SUPPORTED} image."


def _non_image_kind(data: bytes) -> str | None:
    """A guess, from the first bytes, at what a non-image file is."""
    head = data[:4096]
    if head[4:8] == b"ftyp":
        return "a HEIC photo" if head[8:12] in _HEIF_BRANDS else "a video file"
    if head[:4] == b"RIFF":
        return {b"WAVE": "a sound file", b"AVI ": "a video file"}.get(head[8:12], "a media file")
    for magic, kind in _KINDS:
        if head.startswith(magic):
            return kind
    start = _text_start(data)
    if start is None:
        return None
    if start.startswith(("<!doctype html", "<html", "<head", "<body")):
        return "a web page (HTML)"
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in start):
        return "an SVG drawing"
    if start.startswith("<?xml"):
        return "an XML file"
    if start.startswith(("{", "[")):
        return "a text file (JSON)"
    return "a text file"


def _text_start(data: bytes) -> str | None:
    """The file's first 4 KB, lower-cased and stripped, if the file is UTF-8 text; else None."""
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut in half by the 4 KB window is still text; any other bad byte is not.
        if exc.reason != "unexpected end of data" or len(data) <= len(head):
            return None
        text = head[:exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n").lower()
    if not start or "\x00" in text:
        return None
    return start
