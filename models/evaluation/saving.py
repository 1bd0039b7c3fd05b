"""Saving a trained model as a .keras file, what the archive holds, and loading a student's file safely."""
import io
import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd

MAX_MODEL_BYTES = 20 * 2**20  # an uploaded .keras file; a lesson's models are a few kilobytes
MAX_UNPACKED_BYTES = 100 * 2**20  # what its parts may add up to once unpacked (a zip bomb stops here)
ARCHIVE_PARTS = {"config.json": "the architecture: every layer and its settings, as JSON",
                 "metadata.json": "the Keras version and the date the file was saved",
                 "model.weights.h5": "the weights, in HDF5 format"}
# Class names that carry Python code into a config (Lambda layers, functions as arguments).
CODE_CLASS_NAMES = {"Lambda", "__lambda__", "function", "__function__", "TFOpLambda"}


def model_to_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a .keras file (architecture, weights, no optimizer state)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path, include_optimizer=False)
        return path.read_bytes()


def archive_contents(data: bytes) -> pd.DataFrame:
    """The files inside a .keras archive (it is a zip file), their sizes and what each holds."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return pd.DataFrame([{"file": info.filename, "bytes": info.file_size,
                              "holds": ARCHIVE_PARTS.get(info.filename, "")} for info in archive.infolist()])


def _code_in(config) -> str | None:
    """The first part of a saved config that would bring Python code with it (a description), else None."""
    if isinstance(config, list):
        return next((found for value in config if (found := _code_in(value))), None)
    if not isinstance(config, dict):
        return None
    name, module, registered = config.get("class_name"), config.get("module"), config.get("registered_name")
    if name in CODE_CLASS_NAMES:
        return f"a {name} layer or function"
    if isinstance(module, str) and module != "keras" and not module.startswith("keras."):
        return f"a {name} from the module {module!r} (only Keras' own layers are loaded)"
    if isinstance(registered, str) and ">" in registered:  # registered with keras.saving.register_keras_serializable
        return f"the custom object {registered!r}"
    return next((found for value in config.values() if (found := _code_in(value))), None)


def check_archive(data: bytes, *, max_bytes: int = MAX_MODEL_BYTES) -> dict:
    """The parsed config of a .keras file, or ValueError saying why the file is refused; nothing is run."""
    if len(data) > max_bytes:
        raise ValueError(f"That file is {len(data) / 2**20:.1f} MB; a model for this page may be at most "
                         f"{max_bytes / 2**20:.0f} MB.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if not names >= {"config.json", "model.weights.h5"} or not names <= set(ARCHIVE_PARTS):
                raise ValueError("That is not a .keras model file: it should hold config.json, metadata.json and "
                                 f"model.weights.h5, but holds {', '.join(sorted(names)) or 'nothing'}.")
            if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
                raise ValueError(f"That file unpacks to more than {MAX_UNPACKED_BYTES / 2**20:.0f} MB; it is refused.")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError):
        raise ValueError("That file is damaged or not a .keras file (a .keras file is a zip archive).") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError("The architecture inside that file (config.json) is not readable JSON.") from None
    found = _code_in(config)
    if found:
        raise ValueError(f"Refused: the file contains {found}, which could run arbitrary code on the server. "
                         "Nothing in it was run. Keras only loads such files with safe_mode=False, which this "
                         "page never uses.")
    return config


def load_uploaded(data: bytes, *, max_bytes: int = MAX_MODEL_BYTES) -> keras.Model:
    """Load the bytes of a student's .keras file with safe_mode=True, after `check_archive`; ValueError if refused."""
    check_archive(data, max_bytes=max_bytes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except ValueError as problem:
            if "safe_mode" in str(problem) or "arbitrary code" in str(problem):
                raise ValueError("Refused: Keras' safe mode found code in the file (for example a Lambda layer). "
                                 "Nothing in it was run.") from None
            raise ValueError(f"Keras could not rebuild the model from that file: {str(problem)[:300]}") from None
        except Exception as problem:  # a damaged weights file, an unknown layer, ...
            raise ValueError(f"Keras could not load that file ({type(problem).__name__}). It may be damaged or "
                             "saved by an incompatible program.") from None


def predictions(model: keras.Model, x) -> np.ndarray:
    """The model's outputs on `x` at inference time."""
    return keras.ops.convert_to_numpy(model(np.asarray(x, dtype=np.float32), training=False))
