"""The CNN builder's layer table, the engine's own forward pass and training against Keras, and the digits data."""
import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix

from models.engine import cnn
from models.engine.runs import train_in_chunks
from models.images import digits


@pytest.fixture(scope="module")
def split():
    return digits.split_digits(seed=0)


@pytest.fixture(scope="module")
def trained(split):
    """The default CNN trained with the default settings (one compile for the module)."""
    run = digits.DigitRun()
    trainer = cnn.CNNTrainer(cnn.build_cnn(), n_train=len(split.y_train), n_val=len(split.y_val),
                             batch_size=run.batch_size)
    trainer.start(split.x_train, split.y_train, split.x_val, split.y_val, epochs=run.epochs,
                  learning_rate=run.learning_rate, seed=run.seed)
    return trainer, list(train_in_chunks(trainer, seconds_per_chunk=0.3))[-1]


@pytest.mark.parametrize("settings", [{}, {"filters": (4, 6, 8), "kernel_size": 5, "pooling": "average"},
                                      {"filters": (3,), "pooling": "none", "dense_units": 0, "dropout_rate": 0}])
def test_layer_table_counts_match_keras(settings):
    model = cnn.build_cnn(**settings)
    table = cnn.layer_table(model)
    assert table["parameters"].sum() == model.count_params()
    for row, layer in zip(table.itertuples(), model.layers[1:]):
        assert row.parameters == layer.count_params()
        assert row[3] == "×".join(map(str, layer.output.shape[1:]))
    assert table.iloc[0]["how"] == f"({model.layers[1].kernel_size[0]}·{model.layers[1].kernel_size[0]}·1 + 1)·" \
                                   f"{model.layers[1].filters}"


def test_default_layer_table():
    table = cnn.layer_table(cnn.build_cnn())
    assert table["parameters"].tolist() == [(3 * 3 * 1 + 1) * 16, 0, (3 * 3 * 16 + 1) * 32, 0, 0, 0,
                                            (2 * 2 * 32 + 1) * 64, (64 + 1) * 10]
    assert table["output shape"].tolist()[:4] == ["8×8×16", "4×4×16", "4×4×32", "2×2×32"]


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="by 3: 8 → 2 → 0. With 2 convolution"):
        cnn.build_cnn(filters=(4, 4), pool_size=3)
    with pytest.raises(ValueError, match="filters of convolutional layer 2"):
        cnn.build_cnn(filters=(4, 0))
    with pytest.raises(ValueError, match="Unknown pooling"):
        cnn.build_cnn(pooling="min")


@pytest.mark.parametrize("settings", [{"kernel_size": 5, "pooling": "average"}, {"kernel_size": 2},
                                      {"filters": (5,), "pooling": "none"}, {"pool_size": 3, "filters": (4,)}])
def test_engine_forward_pass_equals_keras(settings):
    model = cnn.build_cnn(seed=3, **settings)
    x = np.random.default_rng(1).uniform(size=(20, 8, 8, 1)).astype(np.float32)
    weights = [keras.ops.convert_to_tensor(w) for w in model.get_weights()]
    ours, maps = cnn.forward(cnn._plan(model), weights, keras.ops.convert_to_tensor(x), feature_maps=True)
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    first = keras.Model(model.inputs, model.get_layer("conv_1").output)
    np.testing.assert_allclose(maps[0], keras.ops.convert_to_numpy(first(x)), atol=1e-6)


def test_initial_weights_are_the_builders():
    for seed in (0, 5):
        model = cnn.build_cnn(seed=seed)
        for ours, theirs in zip(cnn.initial_weights(cnn.build_cnn(seed=99), seed), model.get_weights()):
            np.testing.assert_array_equal(ours, theirs)


def test_engine_curves_agree_with_fit(split):
    """No dropout and no shuffling, so fit and the engine take exactly the same steps."""
    n, m, epochs = 400, 100, 3
    x, y, xv, yv = split.x_train[:n], split.y_train[:n], split.x_val[:m], split.y_val[:m]
    model = cnn.build_cnn(filters=(8, 16), dense_units=32, dropout_rate=0, seed=2)
    model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted = model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(xv, yv), shuffle=False, verbose=0)
    trainer = cnn.CNNTrainer(cnn.build_cnn(filters=(8, 16), dense_units=32, dropout_rate=0), n_train=n, n_val=m,
                             shuffle=False)
    trainer.start(x, y, xv, yv, epochs=epochs, learning_rate=0.003, seed=2)
    history = trainer.run().history
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history[column], fitted.history[column], rtol=2e-3, atol=2e-3, err_msg=column)
    for ours, theirs in zip(trainer.weights, model.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_default_cnn_reaches_95_percent_and_chunks_do_not_change_the_run(split, trained):
    trainer, result = trained
    assert result.done and len(result.history) == digits.DigitRun().epochs
    assert result.history["val_accuracy"].iloc[-1] >= 0.95
    probabilities = trainer.predict(split.x_val)
    assert (probabilities.argmax(1) == split.y_val).mean() == pytest.approx(result.history["val_accuracy"].iloc[-1])
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(trainer.model(split.x_val)), atol=1e-5)
    trainer.start(split.x_train, split.y_train, split.x_val, split.y_val, epochs=6, seed=0)
    first = [trainer.run(2) for _ in range(3)][-1].history
    trainer.start(split.x_train, split.y_train, split.x_val, split.y_val, epochs=6, seed=0)
    np.testing.assert_allclose(trainer.run().history, first, atol=1e-6)


def test_split_confusion_and_mistakes(split, trained):
    assert len(split.y_val) == 360 and split.x_train.shape == (1437, 8, 8, 1) and split.x_train.max() == 1
    assert np.bincount(split.y_val).min() >= 35  # stratified: every digit in validation
    pred = np.random.default_rng(0).integers(0, 10, 360)
    np.testing.assert_array_equal(digits.confusion(split.y_val, pred), confusion_matrix(split.y_val, pred))
    probabilities = np.eye(10)[pred]
    wrong = digits.misclassified(split.y_val, probabilities)
    assert len(wrong) == (pred != split.y_val).sum() and (wrong["true"] != wrong["predicted"]).all()


def test_drawn_and_uploaded_digits_reach_the_model_as_digits(split, trained):
    trainer, _ = trained
    images = split.x_val[:60, :, :, 0]
    big = [np.kron(im, np.ones((25, 25))) for im in images]  # a 200 x 200 "drawing" of each
    drawn = np.stack([digits.drawing_to_digit(np.dstack([b * 255] * 3 + [np.full(b.shape, 255)])) for b in big])
    assert drawn.shape == (60, 8, 8) and drawn.max() == pytest.approx(16)
    accuracy = (trainer.predict(drawn / 16).argmax(1) == split.y_val[:60]).mean()
    assert accuracy >= 0.8
    paper = Image.fromarray((255 - big[0] * 255).astype(np.uint8))  # dark ink on white paper
    np.testing.assert_allclose(digits.picture_to_digit(paper), drawn[0], atol=0.6)
    for blank in (np.zeros((50, 50, 4)), np.full((50, 50, 4), 255.0) * [0, 0, 0, 1]):
        with pytest.raises(ValueError, match="blank"):
            digits.drawing_to_digit(blank)
    with pytest.raises(ValueError, match="blank"):
        digits.picture_to_digit(Image.new("L", (40, 40), 255))
