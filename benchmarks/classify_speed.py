"""Image bytes -> top-5 classes, against a bare model(x) call on the same array.

    python benchmarks/classify_speed.py [--model vgg16] [--repeat 10]

Uses ImageNet weights when they are on this machine (VGG16_WEIGHTS_PATH or the Keras cache),
otherwise random weights: the work per image is identical either way. The page's forward pass is
the same model(x, training=False) traced once as a graph, which removes Python's per-layer cost;
ratio_vs_compiled_forward shows what decoding and resizing add on top of that.
"""
import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image

from models.vision import images, pretrained


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

    image = images.load_image(data)
    probabilities = pretrained.predict(model, batch)[0]
    stages = {  # where the time goes outside the model, each timed alone
        "JPEG decode (load_image)": lambda: images.load_image(data),
        "resize + centre crop + preprocess": lambda: pretrained.model_input(image, args.model),
        "top-5 from the probabilities": lambda: pretrained.top_classes(probabilities),
    }

    def compiled_call():
        pretrained.predict(model, batch)

    bare_call(), compiled_call(), full_pipeline()  # warm every path
    # Interleave the three so drift in machine load hits all of them equally.
    bare, compiled, full = [], [], []
    for _ in range(args.repeat):
        bare.append(timed(bare_call, 1))
        compiled.append(timed(compiled_call, 1))
        full.append(timed(full_pipeline, 1))
    bare_s, compiled_s, full_s = (statistics.median(t) for t in (bare, compiled, full))
    print(f"model: {args.model}, weights: {weights}, image: {len(data) / 1e6:.1f} MB JPEG 1600x1200")
    for name, stage in stages.items():
        print(f"  {name:<36} {timed(stage, args.repeat) * 1000:7.1f} ms")
    print(f"bare model(x) call (eager):            {bare_s * 1000:7.1f} ms (median of {args.repeat})")
    print(f"same call, traced (pretrained.predict): {compiled_s * 1000:7.1f} ms")
    print(f"bytes -> top-5 (full path):            {full_s * 1000:7.1f} ms")
    print(f"ratio_vs_compiled_forward: {full_s / compiled_s:.3f}x")
    print(f"ratio_vs_bare_call: {full_s / bare_s:.3f}x")


if __name__ == "__main__":
    main()
