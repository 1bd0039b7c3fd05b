"""How fast the convolution page's default CNN trains on the digits, against model.fit (same model, data, epochs).

Run from the repository root: python benchmarks/cnn_speed.py
Prints the compiled engine's first and warm runs and fit's warm run, then "cnn_speedup_vs_fit: <ratio>x" (warm).
"""
import time

import keras

import models  # noqa: F401  (sets the Keras backend and quietens TensorFlow)
from models.engine import cnn
from models.images import digits


def main():
    run, split = digits.DigitRun(), digits.split_digits(seed=0)
    model = cnn.build_cnn(seed=run.seed)
    print(f"Default CNN ({model.count_params()} parameters) on {len(split.y_train)} training and {len(split.y_val)} "
          f"validation digits, {run.epochs} epochs, batch {run.batch_size}, Adam {run.learning_rate}")
    trainer = cnn.CNNTrainer(model, n_train=len(split.y_train), n_val=len(split.y_val), batch_size=run.batch_size)
    times, accuracies = [], []
    for _ in range(3):
        trainer.start(split.x_train, split.y_train, split.x_val, split.y_val, epochs=run.epochs,
                      learning_rate=run.learning_rate, seed=run.seed)
        clock = time.perf_counter()
        result = trainer.run()
        times.append(time.perf_counter() - clock)
        accuracies.append(result.history["val_accuracy"].iloc[-1])
    warm = min(times[1:])
    print(f"  engine, first (includes the XLA compile): {times[0]:6.2f} s   val accuracy {accuracies[0]:.3f}")
    print(f"  engine, warm (best of 2):                 {warm:6.2f} s   val accuracy {accuracies[-1]:.3f}")
    fitted = cnn.build_cnn(seed=run.seed)
    fitted.compile(keras.optimizers.Adam(run.learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted.fit(split.x_train, split.y_train, batch_size=run.batch_size, epochs=1, verbose=0)  # warm: trace once
    fitted.set_weights(cnn.initial_weights(fitted, run.seed))
    for variable in fitted.optimizer.variables:  # a fresh Adam (step count and moments at zero)
        if not variable.path.endswith("learning_rate"):
            variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
    clock = time.perf_counter()
    history = fitted.fit(split.x_train, split.y_train, batch_size=run.batch_size, epochs=run.epochs, verbose=0,
                         validation_data=(split.x_val, split.y_val))
    fit_seconds = time.perf_counter() - clock
    print(f"  model.fit, warm:                          {fit_seconds:6.2f} s   val accuracy "
          f"{history.history['val_accuracy'][-1]:.3f}")
    print(f"cnn_speedup_vs_fit: {fit_seconds / warm:.1f}x")


if __name__ == "__main__":
    main()
