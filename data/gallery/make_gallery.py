"""Draw the sample pictures in this folder. Run from the repository root: python data/gallery/make_gallery.py

Every picture is drawn here from scratch with Pillow and NumPy, so the gallery has no outside source.
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent


def make_checkerboard(size: int = 256, squares: int = 8) -> Image.Image:
    """Black and white squares, like a chessboard."""
    cell = size // squares
    rows, cols = np.indices((size, size)) // cell
    board = np.where((rows + cols) % 2 == 0, 240, 20).astype(np.uint8)
    return Image.fromarray(board).convert("RGB")


def make_gradient(size: int = 256) -> Image.Image:
    """Red grows to the right, green grows downwards, blue fades out: every pixel a different colour."""
    ramp = np.linspace(0, 255, size)
    red = np.tile(ramp, (size, 1))
    green = red.T
    blue = 255 - (red + green) / 2
    return Image.fromarray(np.rint(np.dstack([red, green, blue])).astype(np.uint8))


def make_shapes(width: int = 320, height: int = 240) -> Image.Image:
    """A child's drawing: sky, grass, a house with a roof and door, and a sun. Wider than tall."""
    image = Image.new("RGB", (width, height), (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 170, width, height), fill=(70, 160, 60))
    draw.ellipse((240, 20, 290, 70), fill=(255, 215, 0))
    draw.rectangle((60, 110, 170, 185), fill=(200, 60, 50))
    draw.polygon([(50, 112), (115, 60), (180, 112)], fill=(120, 70, 40))
    draw.rectangle((100, 140, 128, 185), fill=(90, 50, 30))
    draw.rectangle((138, 125, 160, 145), fill=(240, 240, 255))
    return image


def make_digit_six(size: int = 224) -> Image.Image:
    """A black 6 on white. Turned upside down it reads 9: not every flip keeps the label."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=int(size * 0.8))
    draw.text((size / 2, size / 2), "6", fill="black", font=font, anchor="mm")
    return image


def make_arrow_sign(size: int = 224) -> Image.Image:
    """A round blue 'turn right' sign. Mirrored, it says 'turn left'."""
    image = Image.new("RGB", (size, size), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    margin = size // 10
    draw.ellipse((margin, margin, size - margin, size - margin), fill=(20, 80, 180), outline="white", width=6)
    mid, unit = size / 2, size / 14
    draw.rectangle((mid - 3.5 * unit, mid - unit, mid + unit, mid + unit), fill="white")
    draw.polygon([(mid + unit, mid - 3 * unit), (mid + 4 * unit, mid), (mid + unit, mid + 3 * unit)], fill="white")
    return image


def make_traffic_light(width: int = 224, height: int = 288) -> Image.Image:
    """A traffic light against the sky, showing red. Taller than wide."""
    image = Image.new("RGB", (width, height), (150, 200, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((104, 230, 120, height), fill=(90, 90, 90))
    draw.rounded_rectangle((72, 20, 152, 236), radius=14, fill=(35, 35, 35))
    for i, colour in enumerate([(235, 30, 30), (90, 75, 20), (20, 70, 30)]):
        top = 32 + i * 68
        draw.ellipse((88, top, 136, top + 48), fill=colour)
    return image


GALLERY = {
    "checkerboard": make_checkerboard,
    "gradient": make_gradient,
    "shapes": make_shapes,
    "digit_six": make_digit_six,
    "arrow_sign": make_arrow_sign,
    "traffic_light": make_traffic_light,
}


def main() -> None:
    for name, make in GALLERY.items():
        path = HERE / f"{name}.png"
        make().save(path, optimize=True)
        print(f"{path.name}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
