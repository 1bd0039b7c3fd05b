"""The Keras route to the forward-pass page's numbers: a float64 model with the spec's weights, and GradientTape.

Keras and TensorFlow are imported inside the functions, so the hand route loads without them.
"""
import numpy as np
import pandas as pd

from models.foundations.network_spec import validate_spec


def build_network_model(spec):
    """An uncompiled float64 Keras model holding exactly the spec's weights and biases."""
    import keras
    from keras import layers

    spec = validate_spec(spec)
    inputs = keras.Input(shape=(len(spec["inputs"]),), dtype="float64", name="inputs")
    x = inputs
    for index, layer in enumerate(spec["layers"], start=1):
        dense = layers.Dense(len(layer["biases"]), activation=layer["activation"], dtype="float64",
                             name=f"layer_{index}")
        x = dense(x)
        dense.set_weights([np.array(layer["weights"]), np.array(layer["biases"])])
    return keras.Model(inputs, x, name="network")


def _keras_loss(name: str, t, y):
    import keras

    if name == "half_sse":  # Keras has no ½·sum loss; write it with Keras ops
        return 0.5 * keras.ops.sum(keras.ops.square(t - y))
    function = {"mse": keras.losses.mean_squared_error, "binary_crossentropy": keras.losses.binary_crossentropy,
                "categorical_crossentropy": keras.losses.categorical_crossentropy}[name]
    return function(t, y)[0]


def keras_results(spec) -> dict:
    """Keras' activations of every layer, its loss, and tf.GradientTape's gradients for the spec."""
    import keras
    import tensorflow as tf

    spec = validate_spec(spec)
    model = build_network_model(spec)
    dense_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    probe = keras.Model(model.inputs, [layer.output for layer in dense_layers])
    x = tf.constant([spec["inputs"]], dtype=tf.float64)
    t = tf.constant([spec["targets"]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        outputs = probe(x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]  # a one-layer network
        loss = _keras_loss(spec["loss"], t, outputs[-1])
    variables = [v for layer in dense_layers for v in (layer.kernel, layer.bias)]
    grads = tape.gradient(loss, variables)
    return {"activations": [o.numpy()[0].tolist() for o in outputs],
            "loss": float(loss.numpy()),
            "gradients": [{"weights": grads[2 * k].numpy().tolist(), "biases": grads[2 * k + 1].numpy().tolist()}
                          for k in range(len(dense_layers))]}


def _gap(ours: float, theirs: float) -> float:
    """How far two routes differ: absolutely for small numbers, relative to the size for large ones."""
    return abs(ours - theirs) / max(1.0, abs(theirs))


def keras_comparison(sol, by_keras: dict) -> pd.DataFrame:
    """Every activation and the loss, by hand beside Keras (`keras_results`), with the difference as text."""
    compare = pd.DataFrame({"value": [f"a_{n}" for level in sol.names[1:] for n in level] + ["loss"],
                            "by hand": [v for p in sol.passes for v in p["a"]] + [sol.loss],
                            "Keras": [v for level in by_keras["activations"] for v in level] + [by_keras["loss"]]})
    compare["difference"] = [f"{_gap(h, k):.1e}" for h, k in zip(compare["by hand"], compare["Keras"])]
    return compare


def gradient_comparison(sol, by_keras: dict) -> tuple[pd.DataFrame, float]:
    """The parameter table with tf.GradientTape's gradient beside ours, and the largest difference."""
    table = sol.parameters.copy()
    table["GradientTape"] = [g for grad in by_keras["gradients"] for j in range(len(grad["biases"]))
                             for g in [row[j] for row in grad["weights"]] + [grad["biases"][j]]]
    return table, max(_gap(h, k) for h, k in zip(table["gradient"], table["GradientTape"]))
