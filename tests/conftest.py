"""Hermetic settings for the whole suite, set before any test module imports Keras.

Tests never download pretrained weights: the Keras cache is an empty folder, no weights file is
configured, and the weights server is a closed local port. Tests that need weights write them.
The browser tests' server inherits the same environment.
"""
import os
import tempfile

_KERAS_HOME = tempfile.mkdtemp(prefix="classroom-tests-keras-")
os.environ["KERAS_HOME"] = _KERAS_HOME
os.environ["CLASSROOM_WEIGHTS_HOST"] = "127.0.0.1:9"  # the discard port: nothing listens there
for variable in ("VGG16_WEIGHTS_PATH", "MOBILENETV2_WEIGHTS_PATH"):
    os.environ.pop(variable, None)
