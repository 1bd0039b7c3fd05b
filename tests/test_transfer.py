"""Transfer learning: shared frozen base, cached features, the head, fine-tuning, export, and the page."""
import io
import socket
from pathlib import Path

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from models.images import transfer
from models.images import transfer_run as tr
from models.vision import pretrained
from models.vision.shapes import draw_shape, make_shapes

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/transfer_learning.py")


def seeded(model, seed: int = 0):
    """Give the shared random-weights model seeded kernels (Keras' own Glorot-uniform, one seed per weight), so
    no result here depends on an unseeded draw. Biases and BatchNorm start as constants already.
    VGG16's classifier (fc1, fc2, predictions) is never used by transfer learning and is left alone."""
    for index, weight in enumerate(model.weights):
        if weight.path.endswith("kernel") and not weight.path.startswith(("fc1", "fc2", "predictions")):
            weight.assign(keras.initializers.GlorotUniform(seed=seed + index)(weight.shape))
    return model


@pytest.fixture(scope="module")
def mobilenet():
    return seeded(pretrained.load_model("mobilenet_v2", weights=None))


@pytest.fixture(scope="module")
def vgg():
    return seeded(pretrained.load_model("vgg16", weights=None))


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(6, size=128, seed=0)


class CountingBase:
    """Wraps an extractor and counts how many pictures went through it."""

    def __init__(self, extractor):
        self.extractor, self.pictures, self.calls = extractor, 0, 0

    def __call__(self, batch, training=False):
        self.pictures += len(batch)
        self.calls += 1
        return self.extractor(batch, training=training)


def snapshot(model):
    """Copies of the weights transfer learning can reach: all but VGG16's 120 M classifier weights, which
    no view here uses (copying them would cost seconds)."""
    reachable = [w for w in model.weights if not w.path.startswith(("fc1", "fc2", "predictions"))]
    return [np.array(keras.ops.convert_to_numpy(w)) for w in reachable]


def assert_unchanged(model, before):
    after = snapshot(model)
    assert len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


# --- The built-in dataset ---

def test_shapes_are_deterministic_per_seed():
    first, labels, names = make_shapes(4, size=64, seed=3)
    again, labels_again, _ = make_shapes(4, size=64, seed=3)
    other, _, _ = make_shapes(4, size=64, seed=4)
    more, _, _ = make_shapes(6, size=64, seed=3)
    assert names == ["circle", "square", "triangle"]
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and labels_again.tolist() == labels.tolist()
    for a, b in zip(first, again):
        assert a.size == (64, 64) and a.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(first[0]), np.asarray(other[0]))
    # Asking for more pictures per class keeps the first ones.
    np.testing.assert_array_equal(np.asarray(more[6]), np.asarray(first[4]))  # square 0
    assert len({np.asarray(p).tobytes() for p in first}) == 12  # no two pictures alike


def test_shapes_reject_bad_settings():
    with pytest.raises(ValueError, match="from 2 to 40"):
        make_shapes(1)
    with pytest.raises(ValueError, match="Unknown shape"):
        draw_shape("hexagon")


# --- The head ---

@pytest.mark.parametrize("n_features,n_classes,units,dropout", [(512, 3, 64, 0.3), (1280, 5, 16, 0.0), (7, 2, 1, 0.5)])
def test_head_parameter_count_equals_hand_arithmetic(n_features, n_classes, units, dropout):
    head = transfer.build_head(n_features=n_features, n_classes=n_classes, units=units, dropout_rate=dropout)
    assert head.count_params() == n_features * units + units + units * n_classes + n_classes
    assert head.outputs[0].shape[-1] == n_classes
    assert any(isinstance(layer, keras.layers.Dropout) for layer in head.layers) == (dropout > 0)
    assert not head.compiled


def test_head_builder_rejects_bad_settings():
    with pytest.raises(ValueError, match="number of classes"):
        transfer.build_head(n_features=10, n_classes=6)
    with pytest.raises(ValueError, match="dropout rate"):
        transfer.build_head(n_features=10, n_classes=2, dropout_rate=1.0)


def test_preprocess_layers_equal_keras_preprocess_input():
    x = np.random.default_rng(0).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    vgg_layer = transfer.preprocess_layer("vgg16", 128)
    np.testing.assert_allclose(np.asarray(vgg_layer(x)),
                               keras.applications.vgg16.preprocess_input(x.copy()), atol=1e-4)
    mobile_layer = transfer.preprocess_layer("mobilenet_v2", 128)
    np.testing.assert_allclose(np.asarray(mobile_layer(x)),
                               keras.applications.mobilenet_v2.preprocess_input(x.copy()), atol=1e-5)


# --- The shared base and the cache ---

def test_extractor_shares_the_loaded_models_weights(vgg, mobilenet):
    for model, name, size in ((vgg, "vgg16", 128), (mobilenet, "mobilenet_v2", 224)):
        view = transfer.feature_extractor(model, name, input_size=size)
        own = {id(w) for w in model.weights}
        shared = [w for layer in view.layers if layer.name != "preprocess" for w in layer.weights]
        assert shared and all(id(w) in own for w in shared)  # the same variable objects: no copy
        assert transfer.feature_extractor(model, name, input_size=size) is view
    expected = keras.applications.VGG16(weights=None, include_top=False).count_params()
    assert transfer.base_parameter_count(vgg, "vgg16", 128) == expected == 14_714_688


@pytest.mark.slow
def test_vgg_features_at_128_px_match_a_separate_notop_vgg(vgg):
    """The shared layers at 128 px compute what keras' own include_top=False VGG16 does with the same weights."""
    notop = keras.applications.VGG16(weights=None, include_top=False, input_shape=(128, 128, 3), pooling="avg")
    notop.set_weights([keras.ops.convert_to_numpy(w) for w in vgg.weights[:len(notop.weights)]])
    x = np.random.default_rng(1).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    ours = np.asarray(transfer.feature_extractor(vgg, "vgg16", input_size=128)(x))
    theirs = np.asarray(notop(keras.applications.vgg16.preprocess_input(x.copy())))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_features_are_computed_once_per_picture(mobilenet, shapes):
    pictures, labels, _ = shapes
    base = CountingBase(transfer.feature_extractor(mobilenet, "mobilenet_v2", input_size=224))
    store = {}
    requests = [transfer.FeatureRequest(transfer.image_digest(p), p) for p in pictures]
    first, computed = transfer.cached_features(requests, base, model_key=("m", "random"), input_size=224,
                                               default_store=store)
    assert computed == base.pictures == len(pictures) == 18
    assert base.calls == -(-18 // transfer.BATCH_SIZE)  # batched
    again, computed = transfer.cached_features(requests, base, model_key=("m", "random"), input_size=224,
                                               default_store=store)
    assert computed == 0 and base.pictures == 18
    np.testing.assert_array_equal(first, again)
    # A different model key (another network or size) is a different cache entry.
    _, computed = transfer.cached_features(requests[:2], base, model_key=("other", "random"), input_size=224,
                                           default_store=store)
    assert computed == 2 and base.pictures == 20


def test_augmented_copies_cost_one_pass_each_and_are_cached(mobilenet, shapes):
    pictures, _, _ = shapes
    base = CountingBase(transfer.feature_extractor(mobilenet, "mobilenet_v2", input_size=224))
    store, requests = {}, []
    for picture in pictures[:4]:
        digest = transfer.image_digest(picture)
        requests += [transfer.FeatureRequest(digest, picture, copy, transfer.copy_seed(digest, 0), 3)
                     for copy in range(4)]
    features, computed = transfer.cached_features(requests, base, model_key=("m",), input_size=224,
                                                  default_store=store)
    assert computed == base.pictures == 4 * (1 + 3)
    assert not np.array_equal(features[0], features[1])  # an augmented copy is another picture
    _, computed = transfer.cached_features(requests, base, model_key=("m",), input_size=224, default_store=store)
    assert computed == 0 and base.pictures == 16


def test_augmented_copies_come_from_the_keras_layers_with_their_seeds():
    pixels = np.asarray(draw_shape("triangle", size=64, seed=1), np.float32)
    copies = transfer.augmented_copies(pixels, copies=2, seed=7)
    layers = keras.layers
    augment = keras.Sequential([layers.RandomFlip("horizontal", seed=7), layers.RandomRotation(0.05, seed=8),
                                layers.RandomZoom(0.15, seed=9)])
    expected = np.clip(np.asarray(augment(np.stack([pixels, pixels]), training=True)), 0, 255)
    np.testing.assert_allclose(copies, expected, atol=1e-4)
    np.testing.assert_array_equal(copies, transfer.augmented_copies(pixels, copies=2, seed=7))


# --- Training, fine-tuning, export ---

@pytest.mark.slow
def test_head_training_reduces_loss_and_leaves_the_base_unchanged(vgg, shapes):
    pictures, labels, names = shapes
    before = snapshot(vgg)
    extractor = transfer.feature_extractor(vgg, "vgg16", input_size=128)
    features, _ = transfer.cached_features([transfer.FeatureRequest(transfer.image_digest(p), p) for p in pictures],
                                           extractor, model_key=("vgg16", "random"), input_size=128, default_store={})
    train, val = tr.split_indices(labels, validation_fraction=0.25, seed=0)
    trainer = transfer.head_trainer(n_features=512, n_classes=3, units=64, dropout_rate=0.0, n_train=len(train),
                                    n_val=len(val))
    trainer.start(features[train], labels[train], features[val], labels[val], epochs=150, learning_rate=1e-2, seed=0)
    result = trainer.run()
    history = result.history
    assert history["loss"].iloc[-1] < 0.8 * history["loss"].iloc[0]
    # The recorded validation numbers agree with the trained head called directly.
    probabilities = transfer.head_probabilities(trainer.model, features[val])
    loss = keras.losses.SparseCategoricalCrossentropy()(labels[val], probabilities)
    assert float(loss) == pytest.approx(history["val_loss"].iloc[-1], rel=1e-4)
    assert np.mean(probabilities.argmax(1) == labels[val]) == pytest.approx(history["val_accuracy"].iloc[-1])
    assert_unchanged(vgg, before)


def test_fine_tuning_trains_a_copy_and_export_reloads(mobilenet, shapes, tmp_path):
    pictures, labels, _ = shapes
    before = snapshot(mobilenet)
    cut = transfer.feature_extractor(mobilenet, "mobilenet_v2", input_size=224, stage="cut")
    maps, _ = transfer.cached_features([transfer.FeatureRequest(transfer.image_digest(p), p) for p in pictures],
                                       cut, model_key=("mobilenet_v2", "cut"), input_size=224, default_store={})
    tail = transfer.clone_tail(mobilenet, "mobilenet_v2")
    assert all(layer.name.endswith("_tuned") for layer in tail)
    assert not {id(w) for layer in tail for w in layer.weights} & {id(w) for w in mobilenet.weights}
    assert transfer.tail_parameter_count(mobilenet, "mobilenet_v2") == sum(
        int(np.prod(w.shape)) for layer in tail for w in layer.trainable_weights)
    head = transfer.build_head(n_features=1280, n_classes=3, units=8, dropout_rate=0.2)
    # The copy starts identical: cut maps through it equal the shared model's pooled features.
    pooled = transfer.feature_extractor(mobilenet, "mobilenet_v2", input_size=224)
    x = np.stack([transfer.to_pixels(p, 224) for p in pictures[:3]])
    np.testing.assert_allclose(transfer.head_probabilities(head, maps[:3], tail),
                               transfer.head_probabilities(head, pooled(x)), atol=1e-5)
    tail_before = [np.array(keras.ops.convert_to_numpy(w)) for layer in tail for w in layer.trainable_weights]
    rows = list(transfer.fine_tune(tail, head, maps[:12], labels[:12], maps[12:], labels[12:], epochs=2,
                                   learning_rate=1e-2))
    assert [row["epoch"] for row in rows] == [1, 2]
    tail_after = [keras.ops.convert_to_numpy(w) for layer in tail for w in layer.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(tail_before, tail_after))  # the copy did train
    assert_unchanged(mobilenet, before)  # the shared model did not

    exported = transfer.build_export_model(mobilenet, "mobilenet_v2", input_size=224, head=head, tail=tail)
    path = tmp_path / "model.keras"
    path.write_bytes(transfer.keras_file_bytes(exported))
    loaded = keras.models.load_model(path)
    expected = transfer.head_probabilities(head, maps[:3], tail)
    np.testing.assert_allclose(np.asarray(loaded(x)), expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(loaded(x)).sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_vgg_export_without_fine_tuning_reloads_with_the_same_probabilities(vgg, tmp_path):
    head = transfer.build_head(n_features=512, n_classes=2, units=8, seed=3)
    exported = transfer.build_export_model(vgg, "vgg16", input_size=128, head=head)
    path = tmp_path / "vgg.keras"
    path.write_bytes(transfer.keras_file_bytes(exported))
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(2).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    features = transfer.feature_extractor(vgg, "vgg16", input_size=128)(x)
    np.testing.assert_allclose(np.asarray(loaded(x)), transfer.head_probabilities(head, features), atol=1e-5)


# --- Results and bad input ---

def test_confusion_matrix_equals_a_hand_count():
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 0, 1, 1, 2, 0, 2, 1]
    counts = tr.confusion_matrix(y_true, y_pred, 3)
    assert counts.tolist() == [[2, 1, 0], [0, 2, 0], [1, 1, 2]]
    table = tr.per_class_table(counts, ["a", "b", "c"])
    assert table["accuracy"].tolist() == pytest.approx([2 / 3, 1.0, 0.5])
    assert table["pictures"].tolist() == [3, 2, 4]


def test_split_keeps_every_class_on_both_sides():
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2])
    train, val = tr.split_indices(labels, validation_fraction=0.25, seed=0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(13))
    assert [int(np.sum(labels[val] == c)) for c in range(3)] == [1, 2, 1]
    assert set(labels[train]) == {0, 1, 2}


@pytest.mark.parametrize("names,counts,message", [
    (["cat"], [5], "between 2 and 5"),
    (["a", "b", "c", "d", "e", "f"], [3] * 6, "between 2 and 5"),
    (["cat", "  "], [3, 3], "Class 2 has no name"),
    (["Cat", "cat "], [3, 3], "both called"),
    (["cat", "dog"], [3, 1], "“dog” has 1 picture;"),
    (["cat", "dog"], [41, 3], "at most 40"),
])
def test_bad_classes_get_clear_messages(names, counts, message):
    with pytest.raises(ValueError, match=message):
        tr.check_classes(names, counts)


# --- The page ---

def png(picture):
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def parameter_table(at) -> dict:
    table = at.table[0].value
    return dict(zip(table.index, table["weights"]))


def random_mode_page(model="mobilenet_v2", per_class=6):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["transfer_model"] = model
    at.session_state["transfer_weights"] = "random"
    at.run()
    if per_class:
        at.slider(key="transfer_n_per_class").set_value(per_class)
    return at


def test_page_trains_on_the_built_in_shapes_in_random_mode(mobilenet):
    at = random_mode_page()
    at.slider(key="transfer_epochs").set_value(3)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("only shows the mechanics" in w.value for w in at.warning)
    metrics = parameter_table(at)
    expected_base = keras.applications.MobileNetV2(weights=None, include_top=False).count_params()
    assert metrics["Frozen base (shared, never trained)"] == f"{expected_base:,}"
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["transfer_run"]
    assert metrics["Head (trainable)"] == f"{run.head.count_params():,}" == f"{1280 * 64 + 64 + 64 * 3 + 3:,}"
    assert len(run.history) == 3
    charts = [c.proto.spec for c in at.get("vega_lite_chart")]
    titles = " ".join(charts)
    assert '"loss"' in titles and '"accuracy"' in titles and "Confusion matrix" in titles
    assert '"val_' not in titles and len(charts) == 4  # loss, accuracy, confusion matrix, probabilities
    assert "Class probabilities" in titles
    # The confusion matrix on the page equals a hand count of the stored validation predictions.
    hand = np.zeros((3, 3), int)
    for true, predicted in zip(run.y_val, run.probabilities.argmax(1)):
        hand[true, predicted] += 1
    table = at.dataframe[0].value
    assert table["pictures"].tolist() == hand.sum(1).tolist()
    assert table["correct"].tolist() == np.diag(hand).tolist()
    assert any("Validation accuracy" in box.value for box in [*at.success, *at.info, *at.warning])
    # A second training run takes every feature from the cache.
    at.button(key="transfer_train").click().run()
    assert any("0 computed now" in c.value for c in at.caption)


@pytest.mark.slow
def test_page_fine_tunes_in_random_mode(mobilenet):
    at = random_mode_page()
    at.slider(key="transfer_epochs").set_value(2)
    at.button(key="transfer_train").click().run()
    at.slider(key="transfer_ft_epochs").set_value(1)
    at.button(key="transfer_ft").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["transfer_run"]
    assert run.tail is not None and len(run.fine_tune) == 1
    assert any("fine-tuned block" in box.value for box in [*at.success, *at.info, *at.warning])


@pytest.mark.slow
def test_page_with_vgg16_random_weights(vgg):
    at = random_mode_page("vgg16", per_class=6)
    at.slider(key="transfer_epochs").set_value(2)
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = parameter_table(at)
    assert metrics["Frozen base (shared, never trained)"] == "14,714,688"
    assert metrics["Head (trainable)"] == f"{at.session_state['transfer_run'].head.count_params():,}"


def test_own_pictures_bad_input_gives_messages(mobilenet):
    at = random_mode_page(per_class=None)
    at.segmented_control(key="transfer_source").set_value("My own pictures").run()
    assert any("needs at least 2" in w.value for w in at.warning)  # nothing uploaded yet
    circle = png(draw_shape("circle", seed=1))
    at.file_uploader(key="transfer_files_0").set_value([("a.png", circle, "image/png"),
                                                        ("notes.png", b"just some text", "image/png")])
    at.run()
    assert not at.exception
    assert any("notes.png" in e.value and "not an image" in e.value for e in at.error)
    assert any("“Class 1” has 1 picture" in w.value for w in at.warning)
    at.file_uploader(key="transfer_files_0").set_value([("a.png", circle, "image/png"),
                                                        ("b.png", png(draw_shape("circle", seed=2)), "image/png")])
    at.file_uploader(key="transfer_files_1").set_value([("c.png", png(draw_shape("square", seed=1)), "image/png"),
                                                        ("d.png", png(draw_shape("square", seed=2)), "image/png")])
    at.text_input(key="transfer_name_1").set_value("class 1").run()
    assert any("both called" in w.value for w in at.warning)
    at.text_input(key="transfer_name_1").set_value("squares").run()
    assert not at.exception and not any("both called" in w.value for w in at.warning)
    at.slider(key="transfer_epochs").set_value(2)
    at.button(key="transfer_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["transfer_run"].names == ["Class 1", "squares"]


def test_page_offline_explains_the_missing_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [tmp_path / "keras-home" / "models"])
    for arch in pretrained.ARCHITECTURES.values():
        monkeypatch.delenv(arch.env_var, raising=False)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(pretrained, "WEIGHTS_HOST", ("127.0.0.1", port))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("528 MB" in e.value for e in at.error)
    assert any("python -m models.prefetch" in c.value for c in at.code)
    assert not at.get("vega_lite_chart")
