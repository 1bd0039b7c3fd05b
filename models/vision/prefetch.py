"""Download every pretrained weights file the app uses, ahead of class.

    python -m models.prefetch                 # all models
    python -m models.prefetch mobilenet_v2    # just one

Files go to the Keras cache ($KERAS_HOME/models, default ~/.keras/models), where the app
looks for them; copy that folder to classroom machines that have no internet access.
"""
import argparse
import socket
import sys

from models.vision.pretrained import ARCHITECTURES, local_weights, network_reachable, weights_host


def fetch(model_name: str) -> str:
    """Download one model's weights with a progress bar (or find them already there); return the path."""
    import keras

    arch = ARCHITECTURES[model_name]
    existing = local_weights(model_name)
    if existing:
        return f"{arch.builder}: already present at {existing}"
    if not network_reachable(weights_host(), timeout=10):
        raise OSError(f"the download server {weights_host()[0]} cannot be reached from this computer; "
                      "run this command where there is internet access and copy the files over")
    path = keras.utils.get_file(arch.weights_file, arch.weights_url, cache_subdir="models",
                                file_hash=arch.weights_md5)
    return f"{arch.builder}: downloaded to {path}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Download the pretrained weights the app needs.")
    parser.add_argument("models", nargs="*", help=f"any of {', '.join(ARCHITECTURES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.models) - set(ARCHITECTURES))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(ARCHITECTURES)}")
    socket.setdefaulttimeout(60)  # this is its own process: a stalled download should fail, not hang
    failures = 0
    for name in args.models or list(ARCHITECTURES):
        print(f"{ARCHITECTURES[name].label}:", flush=True)
        try:
            print(fetch(name), flush=True)
        except Exception as error:  # report every model, then exit non-zero
            failures += 1
            print(f"  could not fetch {name}: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
