"""The upload loader against a corpus of bad and odd files, all made in memory by the tests."""
import io
import math
import runpy
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from models.vision import images
from models.vision.images import ImageInputError, center_crop_resize, gallery, load_image, to_array

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def blank_png(width: int, height: int, *, valid_data: bool = True) -> bytes:
    """A 1-bit all-black PNG of any size, cheap to build: zero rows compress to almost nothing."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    if valid_data:
        compressor, row = zlib.compressobj(9), bytes(1 + math.ceil(width / 8))
        block = row * max(1, (4 << 20) // len(row))
        rows_per_block, idat = len(block) // len(row), []
        for start in range(0, height, rows_per_block):
            idat.append(compressor.compress(block[: len(row) * min(rows_per_block, height - start)]))
        data = b"".join(idat) + compressor.flush()
    else:
        data = zlib.compress(bytes(100))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def noisy(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, colour))


# --- Files that are not pictures ---------------------------------------------------------------

def test_empty_file():
    with pytest.raises(ImageInputError, match=r"empty \(0 bytes\)"):
        load_image(b"")


def test_text_file_with_a_jpg_name():
    with pytest.raises(ImageInputError) as info:
        load_image("My homework: the cat is on the mat.\nÉté, naïve.\n".encode())
    assert str(info.value).startswith("This file is not an image we can read (it looks like a text file)")
    assert "JPEG, PNG" in str(info.value)


@pytest.mark.parametrize("data, kind", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), "a ZIP archive"),
    (b"\xef\xbb\xbf  <!DOCTYPE html>\n<html><body><img src='cat.jpg'></body></html>", "a web page (HTML)"),
    (b'{"not": "an image"}', "a text file (JSON)"),
    (b"\x7fELF\x02\x01\x01" + bytes(60), "a program"),
    (b"BMW and Audi are car brands.\n", "a text file"),
    ("Größe: " .encode() + "é".encode() * 3000, "a text file"),
    (b"\x00\x01\x02\x03\xfe\xfd\xfc" * 20, None),
])
def test_other_kinds_of_file_are_named(data, kind):
    with pytest.raises(ImageInputError) as info:
        load_image(data)
    message = str(info.value)
    assert message.startswith("This file is not an image we can read")
    if kind:
        assert f"(it looks like {kind}" in message
    else:
        assert "looks like" not in message


def test_heic_and_svg_get_advice():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    with pytest.raises(ImageInputError, match="HEIC photo.*export it as JPEG"):
        load_image(heic)
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    with pytest.raises(ImageInputError, match="SVG drawing.*export it as PNG"):
        load_image(svg)


def test_formats_outside_the_allowed_list_are_refused():
    """Pillow can read PPM and many rarer formats; uploads only reach the common decoders."""
    ppm = encode(Image.new("RGB", (4, 4), RED), "PPM")
    assert Image.open(io.BytesIO(ppm)).size == (4, 4)
    with pytest.raises(ImageInputError, match="not an image we can read"):
        load_image(ppm)


def test_non_bytes_is_a_programming_error():
    with pytest.raises(TypeError):
        load_image("photo.jpg")


# --- Damaged and oversized pictures ------------------------------------------------------------

@pytest.mark.parametrize("fmt, kind", [("JPEG", "JPEG"), ("PNG", "PNG")])
def test_truncated_picture_is_refused_clearly(fmt, kind):
    data = encode(noisy(128, 128), fmt)
    with pytest.raises(ImageInputError) as info:
        load_image(data[: len(data) // 2])
    assert f"starts like a {kind} image, but it is damaged or cut short" in str(info.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("data, kind", [
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "PNG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF89a\xff\xff\xff\xff\x00\x00\x00;", "GIF"),
])
def test_damaged_header_is_refused_clearly(data, kind):
    with pytest.raises(ImageInputError, match=f"starts like a {kind} image, but it is damaged"):
        load_image(data)


def test_file_over_the_byte_limit():
    with pytest.raises(ImageInputError, match=r"The file is 20 MB; the limit is 20 MB"):
        load_image(bytes(images.MAX_BYTES + 1))
    with pytest.raises(ImageInputError, match=r"The file is 1.5 MB; the limit is 1 MB"):
        load_image(bytes(1536 * 1024), max_bytes=1024 * 1024)


def test_bomb_header_is_refused_before_decoding():
    """30000×30000 claimed by a 100-byte file: above Pillow's own hard limit."""
    data = blank_png(30000, 30000, valid_data=False)
    assert len(data) < 200
    filters_before, limit_before = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageInputError) as info:
        load_image(data)
    assert str(info.value).startswith("The image is 30000×30000 pixels (900 million); "
                                      "the limit is 52 million pixels.")
    assert warnings.filters == filters_before and Image.MAX_IMAGE_PIXELS == limit_before


def test_real_bomb_between_pillows_warning_and_error_limits():
    """100 Mpx of black in 12 KB: Pillow only warns here; the loader must still refuse."""
    data = blank_png(10000, 10000)
    assert len(data) < 50_000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageInputError, match=r"10000×10000 pixels \(100 million\); the limit is 52 million"):
            load_image(data)
    assert not caught, "Pillow's bomb warning should become our error, not a log line"


def test_our_pixel_limit_is_below_pillows():
    data = blank_png(8000, 7000)  # 56 Mpx: Pillow is silent, our limit is 52 Mpx
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Image.open(io.BytesIO(data)).size == (8000, 7000)
    with pytest.raises(ImageInputError, match=r"8000×7000 pixels \(56 million\)"):
        load_image(data)
    with pytest.raises(ImageInputError, match="the limit is 0.005 million pixels"):
        load_image(blank_png(100, 100), max_pixels=5000)


def test_large_legal_jpeg_is_shrunk_to_the_maximum_side():
    big = Image.new("RGB", (6000, 4000), (30, 120, 200))
    out = load_image(encode(big, "JPEG", quality=80))
    assert out.size == (1024, 683)
    assert close_to(out.getpixel((500, 340)), (30, 120, 200), tolerance=4)


def test_wide_png_keeps_its_aspect_ratio():
    out = load_image(encode(Image.new("RGB", (5000, 100), GREEN), "PNG"), max_side=1000)
    assert out.size == (1000, 20) and out.getpixel((500, 10)) == GREEN


# --- Odd but legal pictures --------------------------------------------------------------------

def test_exif_orientation_is_applied():
    """Orientation 6 means 'rotate 90° clockwise to view': the stored top-left goes to the top-right."""
    stored = Image.new("RGB", (80, 40), BLUE)
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = load_image(encode(stored, "JPEG", quality=95, exif=exif))
    assert out.size == (40, 80)
    assert close_to(out.getpixel((35, 5)), RED)
    assert close_to(out.getpixel((5, 5)), BLUE)
    assert close_to(out.getpixel((35, 75)), BLUE)


def test_half_transparent_rgba_is_composited_onto_white():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 128))
    image.putpixel((0, 0), (0, 0, 0, 0))
    out = load_image(encode(image, "PNG"))
    assert out.mode == "RGB"
    # 128/255 of red over 127/255 of white
    assert out.getpixel((1, 1)) == (255, 127, 127)
    assert out.getpixel((0, 0)) == WHITE


def test_palette_with_transparency():
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    image.putpixel((0, 0), 0)
    for fmt in ("PNG", "GIF"):
        decoded = Image.open(io.BytesIO(encode(image, fmt, transparency=0)))
        assert decoded.mode == "P" and decoded.info["transparency"] == 0
        out = load_image(encode(image, fmt, transparency=0))
        assert out.getpixel((0, 0)) == WHITE, fmt
        assert out.getpixel((2, 2)) == GREEN, fmt


def test_gray_with_alpha():
    image = Image.new("LA", (2, 1), (100, 255))
    image.putpixel((1, 0), (0, 0))
    out = load_image(encode(image, "PNG"))
    assert out.getpixel((0, 0)) == (100, 100, 100)
    assert out.getpixel((1, 0)) == WHITE


SIXTEEN_BIT = [0, 257, 32768, 65535]
EIGHT_BIT = [0, 1, 128, 255]


@pytest.mark.parametrize("fmt, mode", [("PNG", "I;16"), ("TIFF", "I;16B"), ("TIFF", "I")])
def test_16_bit_gray_is_scaled_not_saturated(fmt, mode):
    if mode == "I":
        source = Image.fromarray(np.array([SIXTEEN_BIT], dtype=np.int32))
    else:
        source = Image.frombytes(mode, (4, 1), struct.pack(">4H" if mode.endswith("B") else "<4H", *SIXTEEN_BIT))
    data = encode(source, fmt)
    assert Image.open(io.BytesIO(data)).mode == mode
    out = load_image(data)
    assert [out.getpixel((x, 0)) for x in range(4)] == [(v, v, v) for v in EIGHT_BIT]
    # the naive conversion clips everything above 255 to white
    assert Image.open(io.BytesIO(data)).convert("RGB").getpixel((1, 0)) == WHITE


def test_cmyk_jpeg_is_converted():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = load_image(data)
    assert out.mode == "RGB" and close_to(out.getpixel((8, 8)), RED, tolerance=10)


def test_animated_gif_gives_the_first_frame():
    frames = [Image.new("RGB", (10, 10), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    out = load_image(data)
    assert out.size == (10, 10) and out.getpixel((5, 5)) == RED


def test_animated_webp_gives_the_first_frame():
    frames = [Image.new("RGB", (10, 10), colour) for colour in (RED, GREEN)]
    try:
        data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=100)
    except (OSError, KeyError, ValueError):
        pytest.skip("this Pillow cannot write animated WebP")
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = load_image(data)
    assert out.size == (10, 10) and out.getpixel((5, 5)) == RED


def test_one_pixel_image():
    out = load_image(encode(Image.new("RGB", (1, 1), (12, 34, 56)), "PNG"))
    assert out.size == (1, 1) and out.getpixel((0, 0)) == (12, 34, 56)


def test_result_is_a_detached_plain_rgb_image():
    data = encode(Image.new("RGB", (8, 8), RED), "JPEG", exif=Image.Exif())
    out = load_image(bytearray(data))
    assert out.mode == "RGB" and out.info == {}
    assert not isinstance(out, ImageFile.ImageFile)


# --- What the model sees -----------------------------------------------------------------------

@pytest.mark.parametrize("size", [(400, 200), (200, 400)])
def test_center_crop_resize_keeps_the_centre(size):
    width, height = size
    image = Image.new("RGB", size, BLUE)
    short = min(size)
    left, top = (width - short) // 2, (height - short) // 2
    image.paste(RED, (left, top, left + short, top + short))
    out = center_crop_resize(image)
    assert out.size == (224, 224) and out.mode == "RGB"
    array = np.asarray(out)
    assert (array[..., 0] >= 240).all() and (array[..., 2] <= 15).all()


def test_center_crop_resize_matches_keras_smart_resize():
    """Two routes: Pillow's fit and Keras' crop-to-aspect-ratio resize pick the same square."""
    from keras.preprocessing.image import smart_resize

    ramp = np.linspace(0, 255, 300)
    gradient = np.dstack([np.tile(ramp, (200, 1)), np.tile(ramp[:200, None], (1, 300)), np.full((200, 300), 90.0)])
    image = Image.fromarray(np.rint(gradient).astype(np.uint8))
    ours = to_array(center_crop_resize(image, size=64))
    theirs = np.asarray(smart_resize(np.asarray(image, dtype=np.float32), (64, 64)))
    assert ours.shape == theirs.shape == (64, 64, 3)
    assert np.abs(ours - theirs).max() < 1.5


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "224"])
def test_center_crop_resize_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive whole number"):
        center_crop_resize(Image.new("RGB", (10, 10)), size=bad)


def test_to_array():
    image = Image.new("RGB", (3, 2), (1, 2, 3))
    array = to_array(image)
    assert array.dtype == np.float32 and array.shape == (2, 3, 3)
    assert array[1, 2].tolist() == [1.0, 2.0, 3.0]
    assert to_array(Image.new("RGBA", (1, 1), (0, 0, 0, 0)))[0, 0].tolist() == [255.0, 255.0, 255.0]


# --- The gallery -------------------------------------------------------------------------------

def test_gallery_pictures_are_small_and_load():
    pictures = gallery()
    assert 4 <= len(pictures) <= 12
    sources = (images.GALLERY_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name, path in pictures.items():
        assert path.stat().st_size < 150 * 1024, name
        assert path.name in sources, f"{path.name} is not listed in SOURCES.md"
        assert load_image(path.read_bytes()).size == Image.open(path).size


def test_gallery_matches_its_generator():
    drawers = runpy.run_path(str(images.GALLERY_DIR / "make_gallery.py"))["GALLERY"]
    photos = runpy.run_path(str(images.GALLERY_DIR / "make_photos.py"))["PHOTOS"]
    assert set(drawers) | set(photos) == set(gallery()) and not set(drawers) & set(photos)
    for name in drawers:
        drawn = np.asarray(drawers[name]())
        assert np.array_equal(drawn, np.asarray(Image.open(gallery()[name]).convert("RGB"))), name


def test_gallery_photos_are_small_clean_jpegs_with_a_licence():
    photos = runpy.run_path(str(images.GALLERY_DIR / "make_photos.py"))["PHOTOS"]
    sources = (images.GALLERY_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert 2 <= len(photos) <= 4
    for name, (member, sha256) in photos.items():
        path = gallery()[name]
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 512, name
            assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
        row = next(line for line in sources.splitlines() if line.startswith(f"| `{path.name}`"))
        assert Path(member).name in row and sha256[:8] in row and sha256[-4:] in row, name
        assert "CC0" in row or "public domain" in row, f"{path.name} has no licence in SOURCES.md"
