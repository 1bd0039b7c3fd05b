"""How fast the training engine is compared with model.fit, on the networks the pages train.

Run from the repository root: python benchmarks/training_speed.py
The last line is "speedup_vs_fit: <ratio>x" (warm engine against model.fit, same model, data and epochs).
"""
import time

import keras

import models  # noqa: F401  (sets the Keras backend and quietens TensorFlow)
from models.engine.mlp import build_mlp
from models.engine.runs import prime
from models.engine.trainer import Trainer
from models.training.datasets import DATASETS, split
from models.training.presets import CAPACITY_PRESETS, PRESET_DATA

WARM_RUNS = 3


def arrays(name, n_samples, noise, validation_fraction, seed=0):
    parts = split(DATASETS[name](n_samples, noise, seed), validation_fraction, seed)
    return (parts.train[["x1", "x2"]].to_numpy(), parts.train["label"].to_numpy(),
            parts.validation[["x1", "x2"]].to_numpy(), parts.validation["label"].to_numpy())


def engine_times(model_kwargs, data, *, epochs, learning_rate, optimizer="adam", batch_size=32, xla=True,
                 other_session=False):
    """(first call incl. compile, best warm start+run, final result) for one configuration; with
    `other_session`, also a new trainer's first call (a second student: the compiled program is shared)."""
    x, y, xv, yv = data

    def new_trainer():
        return Trainer(build_mlp(**model_kwargs), optimizer=optimizer, batch_size=batch_size,
                       n_train=len(x), n_val=len(xv), xla=xla)

    trainer = new_trainer()

    def once(one):
        one.start(x, y, xv, yv, epochs=epochs, learning_rate=learning_rate, seed=0)
        return one.run()

    clock = time.perf_counter()
    once(trainer)
    first = time.perf_counter() - clock
    warm = []
    for _ in range(WARM_RUNS):
        clock = time.perf_counter()
        result = once(trainer)
        warm.append(time.perf_counter() - clock)
    if not other_session:
        return first, min(warm), result
    clock = time.perf_counter()
    once(new_trainer())
    return first, min(warm), result, time.perf_counter() - clock


def fit_time(model_kwargs, data, *, epochs, learning_rate, batch_size=32):
    x, y, xv, yv = data
    model = build_mlp(**model_kwargs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    clock = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv), verbose=0)
    return time.perf_counter() - clock, history.history


def main():
    demo_model = {"hidden_units": (64, 64), "activation": "relu"}
    demo_data = arrays("two moons", 400, 0.2, 0.25)  # 300 training, 100 validation points
    print("Demo: 64-64 ReLU MLP, 300 training + 100 validation points, 200 epochs, batch 32, Adam 0.01")
    fit_seconds, fit_history = fit_time(demo_model, demo_data, epochs=200, learning_rate=0.01)
    print(f"  model.fit:               {fit_seconds:8.3f} s   final loss {fit_history['loss'][-1]:.4f}, "
          f"val_loss {fit_history['val_loss'][-1]:.4f}")
    print(f"  engine one-time start-up: {prime():7.3f} s   (once per server process: first trace and XLA init)")
    first, demo_warm, result, other = engine_times(demo_model, demo_data, epochs=200, learning_rate=0.01,
                                                   other_session=True)
    last = result.history.iloc[-1]
    print(f"  engine first call:       {first:8.3f} s   (includes compiling; goal < 2 s)")
    print(f"  another session's first: {other:8.3f} s   (a new trainer and model; the compiled program is shared)")
    print(f"  engine warm:             {demo_warm:8.3f} s   final loss {last['loss']:.4f}, "
          f"val_loss {last['val_loss']:.4f}")
    _, plain, _ = engine_times(demo_model, demo_data, epochs=200, learning_rate=0.01, xla=False)
    print(f"  engine warm without XLA: {plain:8.3f} s")

    print("Playground default: 2-4-2-1 tanh, circles, 250 training points, batch 10, SGD 0.03, 200 epochs")
    playground = {"hidden_units": (4, 2), "activation": "tanh"}
    first, warm, result = engine_times(playground, arrays("circles", 500, 0.0, 0.5), epochs=200,
                                       learning_rate=0.03, optimizer="sgd", batch_size=10)
    print(f"  engine first call:       {first:8.3f} s")
    print(f"  engine warm:             {warm:8.3f} s   (goal < 0.067 s)   final loss "
          f"{result.history['loss'].iloc[-1]:.4f}")

    print(f"Over/underfitting comparison: {PRESET_DATA['dataset']}, {PRESET_DATA['n_samples']} points, "
          f"noise {PRESET_DATA['noise']}, three presets")
    preset_data = arrays(PRESET_DATA["dataset"], PRESET_DATA["n_samples"], PRESET_DATA["noise"],
                         PRESET_DATA["validation_fraction"])
    total_first = total_warm = total_other = 0.0
    for name, preset in CAPACITY_PRESETS.items():
        first, warm, result, other = engine_times(
            preset["model"], preset_data, epochs=preset["epochs"], learning_rate=PRESET_DATA["learning_rate"],
            optimizer=PRESET_DATA["optimizer"], batch_size=PRESET_DATA["batch_size"], other_session=True)
        total_first += first
        total_warm += warm
        total_other += other
        h = result.history
        print(f"  {name:9s} {preset['epochs']} epochs: first {first:6.3f} s, warm {warm:6.3f} s, "
              f"another session's first {other:6.3f} s; "
              f"loss {h['loss'].iloc[-1]:.3f}, val_loss {h['val_loss'].iloc[-1]:.3f} "
              f"(lowest {h['val_loss'].min():.3f} at epoch {int(h['val_loss'].idxmin()) + 1})")
    print(f"  all three: first {total_first:.3f} s, warm {total_warm:.3f} s (goal < 1 s warm), "
          f"another session's first {total_other:.3f} s")

    print("Dropout: 64-64 ReLU, dropout 0.3 after both hidden layers, L2 0.001, same data and settings as the demo")
    dropout_model = {"hidden_units": (64, 64), "dropout_rate": 0.3, "l2": 0.001}
    first, warm, result = engine_times(dropout_model, demo_data, epochs=200, learning_rate=0.01)
    print(f"  engine first call:       {first:8.3f} s")
    print(f"  engine warm:             {warm:8.3f} s   final loss {result.history['loss'].iloc[-1]:.4f}")
    _, plain, _ = engine_times(dropout_model, demo_data, epochs=200, learning_rate=0.01, xla=False)
    print(f"  engine warm without XLA: {plain:8.3f} s")

    print(f"speedup_vs_fit: {fit_seconds / demo_warm:.0f}x")


if __name__ == "__main__":
    main()
