"""Image bytes -> top-5 classes, against a bare model(x) call on the same array.

    python benchmarks/classify_speed.py [--model vgg16] [--repeat 10]

Uses ImageNet weights when they are on this machine (VGG16_WEIGHTS_PATH or the Keras cache),
otherwise random weights: the work per image is identical either way.
"""
import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from models import images, pretrained  # noqa: E402


def phone_photo(width=1600, height=1200) -> bytes:
    """A JPEG the size of a downscaled phone photo, with some texture for the decoder."""
    rng = np.random.default_rng(0)
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None].repeat(height, 0).repeat(3, 2)
    noisy = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg16", choices=list(pretrained.ARCHITECTURES))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    try:
        model, weights = pretrained.load_model(args.model), "imagenet"
    except pretrained.WeightsUnavailable:
        model, weights = pretrained.load_model(args.model, weights=None), "random (same cost)"
    data = phone_photo()
    batch, _ = pretrained.model_input(images.load_image(data), args.model)

    def bare_call():
        np.asarray(model(batch, training=False))

    def full_pipeline():
        pretrained.classify(images.load_image(data), args.model, top=5, model=model)

    bare_call(), full_pipeline()  # warm both paths
    # Interleave the two so drift in machine load hits both equally.
    bare, full = [], []
    for _ in range(args.repeat):
        bare.append(timed(bare_call, 1))
        full.append(timed(full_pipeline, 1))
    bare_s, full_s = statistics.median(bare), statistics.median(full)
    print(f"model: {args.model}, weights: {weights}, image: {len(data) / 1e6:.1f} MB JPEG 1600x1200")
    print(f"bare model(x) call:          {bare_s * 1000:7.1f} ms (median of {args.repeat})")
    print(f"bytes -> top-5 (full path):  {full_s * 1000:7.1f} ms")
    print(f"ratio_vs_bare_call: {full_s / bare_s:.3f}x")


if __name__ == "__main__":
    main()
