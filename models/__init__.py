"""Computations behind the pages: plain Keras, TensorFlow, NumPy and pandas, no UI.

Importing this package is cheap: modules that need TensorFlow import it themselves.
"""
import os

# Keep TensorFlow's C++ start-up chatter out of the teacher's terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
