"""A small fully connected network (multi-layer perceptron) with optional dropout and L1/L2 penalties."""
import keras
from keras import layers

from models.core.numbers import check_number

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "elu", "gelu")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "linear")
MAX_UNITS = 1024
MAX_HIDDEN_LAYERS = 8

def layer_seed(seed: int, index: int) -> int:
    """The initializer / dropout seed of the index-th layer for a model seed (kept below 2**31)."""
    return (seed * 1009 + index) % (2**31 - 1)


def count_weights(*, input_dim: int = 2, hidden_units=(), output_units: int = 1) -> int:
    """Weights and biases of a `build_mlp` network: each Dense layer has (inputs + 1) x neurons; dropout adds none."""
    sizes = [input_dim, *hidden_units, output_units]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def build_mlp(*, input_dim=2, hidden_units=(64, 64), activation="relu", output_units=1,
              output_activation="sigmoid", dropout_rate=0.0, dropout_layers=None, l1=0.0, l2=0.0,
              seed=0) -> keras.Model:
    """Dense layers of `hidden_units` neurons, each optionally followed by Dropout; uncompiled.

    `hidden_units=()` gives a model without hidden layers (linear or logistic regression).
    `dropout_layers` lists which hidden layers (1 = first) get dropout after them; None means all.
    """
    input_dim = check_number(input_dim, "The number of input features (input_dim)", low=1, integer=True)
    hidden_units = tuple(hidden_units)
    if len(hidden_units) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"Use at most {MAX_HIDDEN_LAYERS} hidden layers; got {len(hidden_units)}.")
    for i, units in enumerate(hidden_units, start=1):
        try:
            check_number(units, f"The number of neurons of hidden layer {i}", low=1, high=MAX_UNITS, integer=True)
        except ValueError as problem:
            raise ValueError(f"{problem} (every hidden layer needs at least 1; for a model without hidden layers, "
                             "use hidden_units=()).") from None
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"Unknown output activation {output_activation!r}; "
                         f"choose one of {', '.join(OUTPUT_ACTIVATIONS)}.")
    output_units = check_number(output_units, "The number of output neurons", low=1, integer=True)
    dropout_rate = check_number(dropout_rate, "The dropout rate", low=0.0, high=1.0, high_open=True)
    l1 = check_number(l1, "The L1 penalty", low=0.0)
    l2 = check_number(l2, "The L2 penalty", low=0.0)
    if dropout_layers is None:
        dropout_layers = range(1, len(hidden_units) + 1)
    dropout_layers = set(dropout_layers)
    if not dropout_layers <= set(range(1, len(hidden_units) + 1)):
        raise ValueError(f"Dropout can follow hidden layers 1 to {len(hidden_units)}; "
                         f"got {sorted(dropout_layers)}.")
    seed = check_number(seed, "The seed", low=0, integer=True)

    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=activation, name=f"hidden_{i}",
                         kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed(seed, i)),
                         kernel_regularizer=regularizer)(x)
        if dropout_rate > 0 and i in dropout_layers:
            x = layers.Dropout(dropout_rate, seed=layer_seed(seed, 100 + i), name=f"dropout_{i}")(x)
    outputs = layers.Dense(output_units, activation=output_activation, name="output",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed(seed, 0)),
                           kernel_regularizer=regularizer)(x)
    return keras.Model(inputs, outputs, name="mlp")


def reinitialize(model: keras.Model, seed: int) -> None:
    """Give a model from `build_mlp` the initial weights that `build_mlp(seed=seed)` would give it."""
    hidden = 0
    for layer in model.layers:
        if not isinstance(layer, layers.Dense):
            continue
        if layer.name == "output":
            index = 0
        else:
            hidden += 1
            index = hidden
        config = layer.kernel_initializer.get_config() | {"seed": layer_seed(seed, index)}
        initializer = type(layer.kernel_initializer).from_config(config)
        layer.kernel.assign(initializer(layer.kernel.shape))
        layer.bias.assign(keras.ops.zeros(layer.bias.shape))
