import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.engine.mlp import build_mlp, reinitialize
from models.engine.randomness import apply_dropout, hash_key
from models.engine.runs import make_trainer, train, train_in_chunks
from models.engine.settings import MAX_WORK, REGRESSION_LOSSES, check_work
from models.engine.trainer import Trainer
from models.training.datasets import make_moons, make_sine, split

pytestmark = pytest.mark.slow


def moons(n=60, noise=0.2, seed=0, validation_fraction=1 / 3):
    parts = split(make_moons(n, noise, seed), validation_fraction, seed)
    return (parts.train[["x1", "x2"]].to_numpy(), parts.train["label"].to_numpy(),
            parts.validation[["x1", "x2"]].to_numpy(), parts.validation["label"].to_numpy())


def sine(n=60, seed=0):
    parts = split(make_sine(n, 0.1, seed), 1 / 3, seed)
    return parts.train["x"].to_numpy(), parts.train["y"].to_numpy(), parts.validation["x"].to_numpy(), \
        parts.validation["y"].to_numpy()


def run(model_kwargs, data, *, epochs=20, learning_rate=0.05, seed=0, **settings):
    x, y, xv, yv = data
    trainer = Trainer(build_mlp(**model_kwargs), n_train=len(x), n_val=len(xv), **settings)
    trainer.start(x, y, xv, yv, epochs=epochs, learning_rate=learning_rate, seed=seed)
    return trainer, trainer.run()


# --- Two routes to the same curves: the engine against model.fit ---

@pytest.mark.parametrize("case", ["binary + L2, full batch", "binary, unshuffled mini-batches with a short last one",
                                  "categorical, full batch", "mse, full batch", "mae, full batch",
                                  "huber, full batch", "huber delta 0.05, unshuffled mini-batches"])
def test_curves_match_model_fit(case):
    if case.startswith("binary"):
        model_kwargs, loss, data = {"hidden_units": (8,), "l2": 0.01 if "L2" in case else 0.0}, \
            "binary_crossentropy", moons()
    elif case.startswith("categorical"):
        model_kwargs, loss, data = {"hidden_units": (8,), "output_units": 2, "output_activation": "softmax"}, \
            "categorical_crossentropy", moons()
    else:
        model_kwargs, loss, data = {"input_dim": 1, "hidden_units": (8,), "activation": "tanh",
                                    "output_activation": "linear"}, case.split(",")[0].split()[0], sine()
    delta = 0.05 if "delta 0.05" in case else 1.0
    x, y, xv, yv = data
    batch_size = 16 if "mini-batches" in case else len(x)  # 40 points: batches of 16, 16 and 8
    trainer, result = run({**model_kwargs, "seed": 3}, data, epochs=12, learning_rate=0.1, seed=3,
                          loss=loss, optimizer="sgd", batch_size=batch_size, shuffle=False, huber_delta=delta)

    reference = build_mlp(**model_kwargs, seed=3)
    keras_loss = {"mae": keras.losses.MeanAbsoluteError(), "huber": keras.losses.Huber(delta=delta)}.get(loss, loss)
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras_loss,
                      metrics=["accuracy"] if loss not in REGRESSION_LOSSES else None)
    if loss == "categorical_crossentropy":
        y, yv = np.eye(2)[y], np.eye(2)[yv]
    fit = reference.fit(x, y, batch_size=batch_size, epochs=12, validation_data=(xv, yv), shuffle=False,
                        verbose=0).history
    for column in result.history.columns.drop("epoch"):
        np.testing.assert_allclose(result.history[column], fit[column], rtol=1e-4, atol=1e-5, err_msg=column)
    for ours, theirs in zip(trainer.model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss, delta", [("mse", 1.0), ("mae", 1.0), ("huber", 1.0), ("huber", 0.1)])
def test_regression_losses_match_hand_formulas(loss, delta):
    x, y, xv, yv = data = sine()
    trainer, result = run({"input_dim": 1, "hidden_units": (8,), "activation": "tanh", "output_activation": "linear"},
                          data, epochs=3, loss=loss, huber_delta=delta)
    error = trainer.predict(xv)[:, 0] - yv
    small = np.abs(error) <= delta
    hand = {"mse": np.mean(error**2), "mae": np.mean(np.abs(error)),
            "huber": np.mean(np.where(small, 0.5 * error**2, delta * (np.abs(error) - 0.5 * delta)))}[loss]
    assert result.history["val_loss"].iloc[-1] == pytest.approx(hand, rel=1e-5)
    assert "accuracy" not in result.history.columns
    if loss == "huber" and delta == 0.1:
        assert 0 < small.sum() < len(error)  # both branches of the formula are exercised


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match="Huber delta must be a number above 0"):
        Trainer(build_mlp(input_dim=1, output_activation="linear"), loss="huber", n_train=10, n_val=10,
                huber_delta=0)


# --- Dropout ---

def test_dropout_mask_scales_kept_units_and_is_seeded():
    h = tf.fill([400, 64], 2.0)
    out = apply_dropout(h, 0.25, hash_key(1, 2, 3)).numpy()
    assert set(np.unique(out)) == {0.0, np.float32(2.0 / 0.75)}
    assert (out > 0).mean() == pytest.approx(0.75, abs=0.01)
    assert np.array_equal(out, apply_dropout(h, 0.25, hash_key(1, 2, 3)).numpy())
    assert not np.array_equal(out, apply_dropout(h, 0.25, hash_key(1, 2, 4)).numpy())


def test_keras_dropout_layer_scales_in_training_only():
    layer = keras.layers.Dropout(0.4, seed=5)
    x = np.full((200, 50), 3.0, np.float32)
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(trained)) == {0.0, np.float32(3.0 / 0.6)}
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


def test_trained_dropout_model_predicts_without_dropout():
    trainer, _ = run({"hidden_units": (16, 16), "dropout_rate": 0.5}, moons(), epochs=3)
    grid = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    np.testing.assert_allclose(trainer.predict(grid), keras.ops.convert_to_numpy(trainer.model(grid)), rtol=1e-6)
    np.testing.assert_array_equal(trainer.predict(grid), trainer.predict(grid))


# --- Early stopping ---

def test_early_stopping_restores_the_best_weights():
    x, y, xv, yv = data = moons(80, 0.4, 1, 0.5)
    trainer = Trainer(build_mlp(hidden_units=(64, 64)), n_train=len(x), n_val=len(xv))
    trainer.start(*data, epochs=300, learning_rate=0.02, seed=0, patience=10)
    result = trainer.run()
    h = result.history
    assert result.status == "stopped early" and result.epochs_run < 300
    assert result.best_epoch == int(h["val_loss"].idxmin()) + 1 == result.epochs_run - 10
    assert result.best_val_loss == pytest.approx(h["val_loss"].min(), rel=1e-6)
    model = trainer.model
    val_loss = float(keras.losses.BinaryCrossentropy()(yv[:, None].astype("float32"), model(xv)))
    assert val_loss == pytest.approx(result.best_val_loss, rel=1e-4)
    assert "restored" in result.message and f"epoch {result.best_epoch}" in result.message


# --- Bad settings ---

def test_bad_settings_give_clear_messages():
    x, y, xv, yv = data = moons()
    trainer = Trainer(build_mlp(hidden_units=(4,)), n_train=len(x), n_val=len(xv))
    with pytest.raises(ValueError, match="epochs must be a whole number between 1"):
        trainer.start(*data, epochs=0, learning_rate=0.1)
    with pytest.raises(ValueError, match="learning rate must be a number above 0"):
        trainer.start(*data, epochs=5, learning_rate=0.0)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        trainer.start(x, y + 1, xv, yv, epochs=5, learning_rate=0.1)
    with pytest.raises(ValueError, match="shape"):
        trainer.start(x[:-1], y[:-1], xv, yv, epochs=5, learning_rate=0.1)
    with pytest.raises(ValueError, match="every hidden layer needs at least 1"):
        build_mlp(hidden_units=(16, 0))
    with pytest.raises(ValueError, match="dropout rate"):
        build_mlp(dropout_rate=1.0)
    with pytest.raises(ValueError, match="validation points must be a whole number at least 2"):
        Trainer(build_mlp(), n_train=10, n_val=1)
    with pytest.raises(ValueError, match="sigmoid"):
        Trainer(build_mlp(output_activation="linear"), n_train=10, n_val=10)
    with pytest.raises(RuntimeError, match="start"):
        Trainer(build_mlp(hidden_units=(2,)), n_train=10, n_val=10).run()


def test_work_cap():
    check_work(epochs=200, n_points=400, n_params=4417)
    with pytest.raises(ValueError, match="too much training for one click"):
        check_work(epochs=5000, n_points=10_000, n_params=4417)
    with pytest.raises(ValueError, match="larger batch size"):
        check_work(epochs=5000, n_points=1000, n_params=17, steps_per_epoch=1000)
    big = build_mlp(hidden_units=(1024, 1024, 1024))
    assert 5000 * 2000 * big.count_params() > MAX_WORK
    trainer = Trainer(big, n_train=1000, n_val=1000)
    x = np.zeros((1000, 2))
    y = np.zeros(1000)
    with pytest.raises(ValueError, match="smaller network"):
        trainer.start(x, y, x, y, epochs=5000, learning_rate=0.01)


def test_batch_larger_than_data_is_clipped_and_said():
    x, y, xv, yv = data = moons()
    trainer, result = run({"hidden_units": (4,)}, data, epochs=3, batch_size=1000)
    assert trainer.batch_size == len(x) and result.status == "finished"
    assert f"every step used all {len(x)}" in result.message


def test_linear_model_trains():
    _, result = run({"hidden_units": ()}, moons(), epochs=30, learning_rate=0.1)
    assert result.history["val_accuracy"].iloc[-1] > 0.75


def test_huge_learning_rate_gives_clean_diverged_result():
    _, result = run({}, moons(), epochs=20, learning_rate=100.0, optimizer="sgd")
    assert result.status == "diverged" and result.diverged_at == 1 and result.history.empty
    assert "diverged at epoch 1" in result.message

    # Full-batch gradient descent on a line with too large a step grows the loss a bit every epoch.
    model = {"input_dim": 1, "hidden_units": (), "output_activation": "linear"}
    _, result = run(model, sine(), epochs=100, learning_rate=0.4, loss="mse", optimizer="sgd", batch_size=40)
    h = result.history
    assert result.status == "diverged" and result.diverged_at == len(h) + 1 > 3
    assert np.isfinite(h.to_numpy()).all() and h["loss"].is_monotonic_increasing
    assert f"diverged at epoch {result.diverged_at}" in result.message


# --- Determinism, chunks, reuse, threads ---

def test_same_seed_same_curves_other_seed_other_curves():
    data = moons()
    trainer, first = run({"hidden_units": (16, 16), "dropout_rate": 0.2}, data, epochs=15, batch_size=8)
    trainer.start(*data, epochs=15, learning_rate=0.05, seed=0)
    again = trainer.run()
    trainer.start(*data, epochs=15, learning_rate=0.05, seed=1)
    other = trainer.run()
    assert first.history.equals(again.history)
    assert not first.history.equals(other.history)


def test_chunks_give_the_same_run_and_never_recompile():
    data = moons()
    trainer, whole = run({"hidden_units": (16,)}, data, epochs=25, batch_size=8)
    trainer.start(*data, epochs=25, learning_rate=0.05, seed=0)
    pieces = [trainer.run(7) for _ in range(4)]
    assert [p.epochs_run for p in pieces] == [7, 14, 21, 25] and pieces[-1].done
    assert pieces[-1].history.equals(whole.history)
    trainer.start(*moons(seed=5), epochs=25, learning_rate=0.2, seed=0)  # new data of the same shape
    results = list(train_in_chunks(trainer, seconds_per_chunk=0.001))
    assert len(results) > 1 and results[-1].status == "finished"
    assert trainer._chunk.experimental_get_tracing_count() == 1


def test_reset_gives_the_builders_initial_weights():
    model = build_mlp(hidden_units=(8, 4), seed=1)
    reinitialize(model, 9)
    for ours, fresh in zip(model.get_weights(), build_mlp(hidden_units=(8, 4), seed=9).get_weights()):
        np.testing.assert_array_equal(ours, fresh)


def test_trainer_cache_reuses_per_settings():
    cache = {}
    a = make_trainer({"hidden_units": (4,), "seed": 1}, n_train=40, n_val=20, cache=cache)
    assert make_trainer({"hidden_units": [4], "seed": 2}, n_train=40, n_val=20, cache=cache) is a
    b = make_trainer({"hidden_units": (4,)}, n_train=40, n_val=20, batch_size=8, cache=cache, max_cached=1)
    assert b is not a and list(cache.values()) == [b]


def test_two_threads_match_single_threaded_runs():
    data = moons(120)
    kwargs = {"hidden_units": (32, 32), "dropout_rate": 0.2, "l2": 0.001}
    trainers = [Trainer(build_mlp(**kwargs), n_train=80, n_val=40, batch_size=8) for _ in range(2)]
    alone = []
    for seed, trainer in enumerate(trainers):
        trainer.start(*data, epochs=40, learning_rate=0.01, seed=seed)
        alone.append(trainer.run())
    together = [None, None]

    def work(index):
        trainers[index].start(*data, epochs=40, learning_rate=0.01, seed=index)
        for result in train_in_chunks(trainers[index], seconds_per_chunk=0.001):
            together[index] = result

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for one, both in zip(alone, together):
        assert both.history.equals(one.history)
    assert not alone[0].history.equals(alone[1].history)


def test_train_convenience_resets_to_seed():
    data = moons()
    first = train(build_mlp(hidden_units=(4,), seed=0), *data, epochs=5, learning_rate=0.1, seed=2)
    second = train(build_mlp(hidden_units=(4,), seed=7), *data, epochs=5, learning_rate=0.1, seed=2)
    assert first.history.equals(second.history)
