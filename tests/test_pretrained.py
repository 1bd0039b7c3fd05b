"""Pretrained CNNs: weights by path, the offline message, classification and Grad-CAM."""
import io
import socket
import threading
import time
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models.images import transfer, transfer_run
from models.vision import gradcam, imagenet, pretrained

pytestmark = pytest.mark.slow


def photo_bytes(size=(320, 240)) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """No cached weights, no configured file, and a weights server that refuses connections."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [tmp_path / "keras-home" / "models"])
    for arch in pretrained.ARCHITECTURES.values():
        monkeypatch.delenv(arch.env_var, raising=False)
    with socket.socket() as closed:  # a port nobody listens on: connection refused, like a blocked firewall
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(pretrained, "WEIGHTS_HOST", ("127.0.0.1", port))


def test_vgg16_loads_the_weights_file_named_by_the_environment(tmp_path, monkeypatch):
    source = keras.applications.VGG16(weights=None)
    pretrained.write_random_weights(source, seed=1)  # the test's own weights, not an unseeded draw
    bias = source.get_layer("predictions").bias  # make the saved weights recognisable
    bias.assign(np.linspace(-0.5, 0.5, bias.shape[0], dtype="float32"))
    path = tmp_path / "vgg16.weights.h5"
    source.save_weights(path)
    monkeypatch.setenv("VGG16_WEIGHTS_PATH", str(path))

    model = pretrained.load_model("vgg16")

    assert pretrained.local_weights("vgg16") == path
    for expected, loaded in zip(source.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(expected), np.asarray(loaded))
    assert pretrained.load_model("vgg16") is model  # one copy per process
    top5 = pretrained.classify(photo_bytes(), "vgg16", top=5, model=model)
    names = {imagenet.display_name(name) for _wnid, name in imagenet.class_index()}
    duplicates = ((134, "crane"), (517, "crane"), (638, "maillot"), (639, "maillot"))
    names |= {f"{name} (unit {i})" for i, name in duplicates}
    assert len(top5) == 5 and all(name in names for name, _ in top5)
    assert all(0 < p < 1 for _, p in top5)
    assert [p for _, p in top5] == sorted((p for _, p in top5), reverse=True)


def test_a_configured_path_that_does_not_exist_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("VGG16_WEIGHTS_PATH", str(tmp_path / "missing.h5"))
    with pytest.raises(pretrained.WeightsUnavailable, match="VGG16_WEIGHTS_PATH points at"):
        pretrained.load_model("vgg16")


def test_offline_without_cache_says_what_is_missing_and_the_fix(offline_keras_home):
    with pytest.raises(pretrained.WeightsUnavailable) as caught:
        pretrained.load_model("vgg16")
    message = str(caught.value)
    assert "528 MB" in message and "cannot be reached" in message and "VGG16_WEIGHTS_PATH" in message
    assert caught.value.command == "python -m models.prefetch"


def test_a_hanging_network_check_gives_up_instead_of_hanging(offline_keras_home, monkeypatch):
    released = threading.Event()

    def hang(*args, **kwargs):  # a DNS lookup that hangs, then fails the way a real one does
        released.wait(60)
        raise TimeoutError("the fake lookup was released")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    try:
        assert pretrained.network_reachable(timeout=0.5) is False
        assert time.monotonic() - start < 30  # it returned long before the fake hang ended
    finally:
        released.set()


def test_cached_keras_file_is_found_without_network(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / pretrained.ARCHITECTURES["mobilenet_v2"].weights_file).write_bytes(b"x")
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [folder])
    monkeypatch.delenv("MOBILENETV2_WEIGHTS_PATH", raising=False)
    assert pretrained.local_weights("mobilenet_v2") == folder / pretrained.ARCHITECTURES["mobilenet_v2"].weights_file


@pytest.fixture(scope="module")
def mobilenet():
    """Random weights from seed 0 (load_model's default): the same network, and the same heatmaps, every run.

    Built here, not taken from load_model's process-wide cache: other test files seed that shared copy anew."""
    return pretrained.build_random_model(keras.applications.MobileNetV2, 0)


def test_random_weights_come_from_the_seed_and_follow_glorot_uniform():
    first = keras.applications.MobileNetV2(weights=None)
    second = keras.applications.MobileNetV2(weights=None)
    pretrained.write_random_weights(first, seed=3)
    pretrained.write_random_weights(second, seed=3)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    pretrained.write_random_weights(second, seed=4)
    kernel = np.asarray(second.get_layer("Conv1").kernel)  # (3, 3, 3, 32)
    assert not np.array_equal(np.asarray(first.get_layer("Conv1").kernel), kernel)
    # Glorot uniform by hand: limit = sqrt(6 / (fan_in + fan_out)), fans = 3·3·3 and 3·3·32; std = limit / sqrt(3).
    limit = np.sqrt(6 / (3 * 3 * 3 + 3 * 3 * 32))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    # Keras' own GlorotUniform draws from the same distribution (second route: its spread, not its values).
    keras_kernel = np.asarray(keras.initializers.GlorotUniform(seed=4)((3, 3, 3, 32)))
    assert np.abs(keras_kernel).max() <= limit
    np.testing.assert_allclose(kernel.std(), keras_kernel.std(), rtol=0.1)
    np.testing.assert_allclose(kernel.std(), limit / np.sqrt(3), rtol=0.1)
    # Constants stay constants: batch-norm statistics and the classifier's bias.
    assert np.all(np.asarray(second.get_layer("bn_Conv1").moving_variance) == 1)
    assert np.all(np.asarray(second.get_layer("predictions").bias) == 0)


def test_a_random_model_is_one_shared_copy_per_seed(mobilenet):
    shared = pretrained.load_model("mobilenet_v2", weights=None)
    assert pretrained.load_model("mobilenet_v2", weights=None, seed=0) is shared
    other = pretrained.load_model("mobilenet_v2", weights=None, seed=1)
    assert other is not shared
    kernels = [np.asarray(m.get_layer("Conv1").kernel) for m in (other, mobilenet)]
    assert not np.array_equal(*kernels)
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="seed"):
            pretrained.load_model("mobilenet_v2", weights=None, seed=bad)


def test_an_all_zero_grad_cam_stays_zero_and_the_keras_route_agrees(mobilenet):
    """A black picture and class 998 ("ear"): every weighted sum is negative, so ReLU leaves nothing."""
    batch, seen = pretrained.model_input(Image.new("RGB", (224, 224), (0, 0, 0)), "mobilenet_v2")
    ours = gradcam.grad_cam(mobilenet, batch, 998, "mobilenet_v2")
    assert np.all(np.isfinite(ours)) and np.all(ours == 0)  # no 0/0
    assert gradcam.heatmap_is_empty(ours)
    assert not gradcam.heatmap_is_empty(gradcam.grad_cam(mobilenet, batch, 999, "mobilenet_v2"))

    copy = keras.models.clone_model(mobilenet)
    copy.set_weights(mobilenet.get_weights())
    copy.layers[-1].activation = None
    grad_model = keras.Model(copy.inputs, [copy.get_layer("out_relu").output, copy.output])
    with tf.GradientTape() as tape:
        conv_output, preds = grad_model(batch)
        class_channel = preds[:, 998]
    pooled = tf.reduce_mean(tape.gradient(class_channel, conv_output), axis=(0, 1, 2))
    before_relu = tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis]).numpy()
    assert before_relu.max() <= 0  # the Keras example would divide 0 by 0 here
    # An empty heatmap tints nothing: the overlay is the picture the model saw.
    np.testing.assert_array_equal(np.asarray(gradcam.overlay_heatmap(seen, ours)), np.asarray(seen))


def test_model_input_is_the_224_crop_and_keras_preprocessing(mobilenet):
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    batch, seen = pretrained.model_input(image, "mobilenet_v2")
    assert seen.size == (224, 224) and batch.shape == (1, 224, 224, 3)
    np.testing.assert_allclose(batch[0, 0, 0], [1.0, -1.0, -1.0])  # MobileNetV2 scales 0..255 to -1..1


def test_grad_cam_matches_the_keras_example_route(mobilenet):
    """Our Grad-CAM (logits from the final layer's weights) equals the Keras example (softmax removed on a copy)."""
    batch, _ = pretrained.model_input(Image.open(io.BytesIO(photo_bytes())), "mobilenet_v2")
    class_index = 281
    ours = gradcam.grad_cam(mobilenet, batch, class_index, "mobilenet_v2")

    copy = keras.models.clone_model(mobilenet)
    copy.set_weights(mobilenet.get_weights())
    copy.layers[-1].activation = None
    grad_model = keras.Model(copy.inputs, [copy.get_layer("out_relu").output, copy.output])
    with tf.GradientTape() as tape:
        conv_output, preds = grad_model(batch)
        class_channel = preds[:, class_index]
    grads = tape.gradient(class_channel, conv_output)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)

    assert ours.shape == (7, 7) and ours.min() >= 0 and ours.max() == pytest.approx(1.0)
    np.testing.assert_allclose(ours, heatmap.numpy(), atol=1e-5)


def test_feature_maps_go_from_early_to_late_layers(mobilenet):
    batch, seen = pretrained.model_input(Image.new("RGB", (224, 224), (10, 200, 30)), "mobilenet_v2")
    maps = gradcam.feature_maps(mobilenet, batch, "mobilenet_v2", channels=4)
    assert list(maps) == list(pretrained.ARCHITECTURES["mobilenet_v2"].feature_layers)
    sizes = [m.shape[0] for m in maps.values()]
    assert sizes == sorted(sizes, reverse=True) and all(m.shape[-1] == 4 for m in maps.values())
    assert all(m.min() >= 0 and m.max() <= 1 for m in maps.values())
    overlay = gradcam.overlay_heatmap(seen, np.ones((7, 7)))
    assert overlay.size == seen.size and overlay.getpixel((0, 0))[0] > seen.getpixel((0, 0))[0]


def test_classify_agrees_with_a_direct_model_call(mobilenet):
    image = Image.open(io.BytesIO(photo_bytes()))
    batch, _ = pretrained.model_input(image, "mobilenet_v2")
    probabilities = np.asarray(mobilenet(batch, training=False))[0]
    result = pretrained.classify(image, "mobilenet_v2", top=3, model=mobilenet)
    index_of = {imagenet.display_name(name): i for i, (_wnid, name) in enumerate(imagenet.class_index())}
    index_of |= {f"{imagenet.display_name(name)} (unit {i})": i
                 for i, (_wnid, name) in enumerate(imagenet.class_index())}
    np.testing.assert_allclose([p for _, p in result], [probabilities[index_of[n]] for n, _ in result], rtol=1e-5)
    # Random weights make near-ties likely, so compare with the direct call's top-3 values, not its order.
    np.testing.assert_allclose(sorted(p for _, p in result), np.sort(probabilities)[-3:], rtol=1e-5)


def test_the_weights_host_comes_from_the_environment(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        monkeypatch.setenv(pretrained.WEIGHTS_HOST_ENV, f"127.0.0.1:{server.getsockname()[1]}")
        assert pretrained.weights_host() == ("127.0.0.1", server.getsockname()[1])
        assert pretrained.network_reachable(timeout=2) is True
    monkeypatch.setenv(pretrained.WEIGHTS_HOST_ENV, "storage:https")
    with pytest.raises(pretrained.WeightsUnavailable, match="must look like host:port"):
        pretrained.weights_host()
    monkeypatch.delenv(pretrained.WEIGHTS_HOST_ENV)
    assert pretrained.weights_host() == ("storage.googleapis.com", 443)


def test_a_damaged_weights_file_is_reported_with_the_fix(tmp_path, monkeypatch):
    broken = tmp_path / pretrained.ARCHITECTURES["mobilenet_v2"].weights_file
    broken.write_bytes(b"\x89HDF\r\n\x1a\n cut short by a dropped connection")
    monkeypatch.setenv("MOBILENETV2_WEIGHTS_PATH", str(broken))
    with pytest.raises(pretrained.WeightsUnavailable, match="could not be read as MobileNetV2 weights") as caught:
        pretrained.load_model("mobilenet_v2")
    assert "delete it" in str(caught.value) and caught.value.command == "python -m models.prefetch"
    assert not pretrained.is_loaded("mobilenet_v2")


def test_analyse_gives_each_top_class_the_keras_example_grad_cam(mobilenet):
    batch, _ = pretrained.model_input(Image.open(io.BytesIO(photo_bytes((300, 300)))), "mobilenet_v2")
    classes = [281, 0, 999, 134, 500]
    analysis = gradcam.analyse(mobilenet, batch, classes, "mobilenet_v2", channels=4)
    copy = keras.models.clone_model(mobilenet)
    copy.set_weights(mobilenet.get_weights())
    copy.layers[-1].activation = None
    grad_model = keras.Model(copy.inputs, [copy.get_layer("out_relu").output, copy.output])
    for class_index in classes:
        with tf.GradientTape() as tape:
            conv_output, preds = grad_model(batch)
            class_channel = preds[:, class_index]
        pooled = tf.reduce_mean(tape.gradient(class_channel, conv_output), axis=(0, 1, 2))
        heatmap = tf.maximum(tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis]), 0)
        peak = float(tf.reduce_max(heatmap))
        expected = heatmap.numpy() / peak if peak > 0 else heatmap.numpy()
        np.testing.assert_allclose(analysis.heatmaps[class_index], expected, atol=1e-5)
    # The shown channels are the layer's strongest on average, scaled by the layer's peak.
    feature = keras.Model(mobilenet.input, mobilenet.get_layer("Conv1_relu").output)(batch)[0].numpy()
    first = analysis.layers[0]
    means = feature.mean(axis=(0, 1))
    assert list(first.channels) == list(np.argsort(-means, kind="stable")[:4]) and first.total_channels == 32
    shown = feature[:, :, list(first.channels)]
    np.testing.assert_allclose(first.maps, shown / shown.max(), atol=1e-5)


def test_rank_counts_strictly_larger_probabilities_and_ties():
    p = np.array([0.1, 0.4, 0.1, 0.3, 0.1])
    assert pretrained.rank_of(p, 1) == (1, 0)
    assert pretrained.rank_of(p, 3) == (2, 0)
    assert pretrained.rank_of(p, 0) == (3, 2)


def test_tile_maps_lays_out_a_grid_with_gaps():
    maps = np.zeros((2, 2, 5), dtype="float32")
    maps[:, :, 4] = 1.0
    maps[0, 0, 1] = 0.5
    sheet = gradcam.tile_maps(maps, columns=3, tile=4, gap=1)
    assert sheet.size == (3 * 4 + 2, 2 * 4 + 1)
    pixels = np.asarray(sheet)
    assert pixels[0, 4].item() == 255  # the gap between tiles 0 and 1 stays white
    assert pixels[0, 5].item() == 128 and pixels[3, 8].item() == 0  # tile 1: top-left quarter at 0.5
    assert pixels[5:9, 5:9].min() == 255  # tile 4 (second row, middle) is all 1.0
    assert pixels[5:9, 0:4].max() == 0


def test_one_pass_gives_the_same_top5_heatmaps_and_maps_as_the_separate_calls(mobilenet):
    """The page's single pass against the two separate routes (a direct model call, then `analyse`)."""
    batch, _ = pretrained.model_input(Image.open(io.BytesIO(photo_bytes((300, 260)))), "mobilenet_v2")
    probabilities, top, analysis = gradcam.classify_and_analyse(mobilenet, batch, "mobilenet_v2")
    direct = np.asarray(mobilenet(batch, training=False))[0]
    np.testing.assert_allclose(probabilities, direct, rtol=1e-5, atol=1e-7)
    assert top == pretrained.top_predictions(direct, 5)
    separate = gradcam.analyse(mobilenet, batch, [p.index for p in top], "mobilenet_v2")
    assert list(analysis.heatmaps) == [p.index for p in top]
    for index in analysis.heatmaps:
        np.testing.assert_allclose(analysis.heatmaps[index], separate.heatmaps[index], atol=1e-6)
    for mine, theirs in zip(analysis.layers, separate.layers):
        assert mine.channels == theirs.channels
        np.testing.assert_allclose(mine.maps, theirs.maps, atol=1e-6)


def test_random_kernels_drawn_in_slices_equal_one_draw():
    shape = (70, 3, 2, 5)  # a conv kernel: receptive field 70·3, 2 channels in, 5 out
    receptive = 70 * 3
    limit = np.sqrt(6 / (receptive * 2 + receptive * 5))
    np.testing.assert_array_equal(pretrained.random_kernel(np.random.default_rng(9), shape),
                                  np.random.default_rng(9).uniform(-limit, limit, shape).astype("float32"))
    big = (1100, 4000)  # 4.4 M numbers: two slices of the first axis
    np.testing.assert_array_equal(pretrained.random_kernel(np.random.default_rng(2), big),
                                  np.random.default_rng(2).uniform(-np.sqrt(6 / 5100), np.sqrt(6 / 5100), big)
                                  .astype("float32"))


def test_a_random_model_built_directly_equals_keras_weights_overwritten(mobilenet):
    """`build_random_model` (no Keras draw first) against the plain route: build, then overwrite every kernel."""
    plain = keras.applications.MobileNetV2(weights=None)
    pretrained.write_random_weights(plain, seed=0)
    assert len(plain.weights) == len(mobilenet.weights)
    for a, b in zip(plain.weights, mobilenet.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_random_copy_nobody_uses_is_dropped_freed_and_built_again_the_same():
    """The process keeps a random-weights network only while it is in use; nothing else pins it."""
    model = pretrained.load_model("mobilenet_v2", weights=None, seed=7)
    gradcam.prepare_analysis(model, "mobilenet_v2")  # traced functions, kept per model
    view = transfer.feature_extractor(model, "mobilenet_v2", input_size=224)  # the transfer page's view
    assert view(np.zeros((1, 224, 224, 3), "float32")).shape == (1, 1280)
    kernel = np.asarray(model.get_layer("Conv1").kernel)
    key = next(key for key, kept in pretrained._models.items() if kept is model)
    pretrained._last_use[key] -= 10_000  # as if nobody had asked for it for almost three hours
    gone = weakref.ref(model)
    del model, view
    assert pretrained.drop_idle(idle_s=9_000) == [key]
    assert gone() is None  # the views and traced functions went with it
    again = pretrained.load_model("mobilenet_v2", weights=None, seed=7)
    assert again is not None and not pretrained.drop_idle(idle_s=9_000)  # just used: kept
    np.testing.assert_array_equal(np.asarray(again.get_layer("Conv1").kernel), kernel)  # same seed, same numbers


def test_a_random_base_is_asked_for_each_time_not_held():
    base = transfer_run.load_base("mobilenet_v2", "random", 224, failures={})
    assert base.held is None
    assert base.model is pretrained.load_model("mobilenet_v2", weights=None)


def _tail_model(pooling: str):
    """A small network shaped like the two classifiers' tails: conv, then max pooling, flatten and ReLU/linear
    dense layers with dropout between them (as VGG16), or global average pooling straight into the classifier
    (as MobileNetV2)."""
    inputs = keras.Input((6, 4, 3))
    x = conv = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="last_conv")(inputs)
    if pooling == "flatten":
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(7, activation="relu", name="fc1")(x)
        x = keras.layers.Dropout(0.5)(x)
        x = keras.layers.Dense(5, name="fc2")(x)  # linear
    else:
        x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(4, name="predictions")(x)
    return keras.Model(inputs, [conv, logits]), conv


@pytest.mark.parametrize("pooling", ["flatten", "average"])
def test_the_hand_derived_tail_gradient_equals_automatic_differentiation(pooling):
    """`_tail_gradient` (kernel products masked by the active ReLU units) against GradientTape, class by class."""
    model, _ = _tail_model(pooling)
    names = [layer.name for layer in model.layers]
    tail = model.layers[names.index("last_conv") + 1:names.index("predictions")]
    dense = [layer for layer in tail if isinstance(layer, keras.layers.Dense)]
    batch = tf.constant(np.random.default_rng(5).normal(size=(1, 6, 4, 3)), tf.float32)
    probe = keras.Model(model.input, [model.get_layer("last_conv").output] + [layer.output for layer in dense])
    outputs = probe(batch)
    conv_output, *dense_outputs = outputs if isinstance(outputs, list) else [outputs]
    classes = tf.constant([2, 0, 3, 2], tf.int32)
    ours = gradcam._tail_gradient(tail, model.get_layer("predictions"), conv_output, dense_outputs, classes).numpy()
    assert ours.shape == (4, 6, 4, 6)
    after_conv = keras.Model(model.get_layer("last_conv").output, model.output[1])
    for row, class_index in enumerate(classes.numpy()):
        with tf.GradientTape() as tape:
            tape.watch(conv_output)
            score = after_conv(conv_output, training=False)[0, class_index]
        np.testing.assert_allclose(ours[row], tape.gradient(score, conv_output)[0].numpy(), rtol=1e-5, atol=1e-6)
    if pooling == "flatten":  # some units were off: the mask matters (without it the numbers would differ)
        assert 0 < np.mean(dense_outputs[0].numpy() > 0) < 1


@pytest.mark.parametrize("middle, message", [(keras.layers.Activation("tanh"), "Activation layer"),
                                             (keras.layers.Dense(3, activation="tanh"), "with tanh")])
def test_the_tail_gradient_refuses_layers_it_cannot_differentiate_by_hand(middle, message):
    inputs = keras.Input((2, 2, 1))
    first = keras.layers.Dense(3, activation="relu")
    head = keras.layers.Dense(2)
    x = middle(first(keras.layers.Flatten()(inputs)))
    model = keras.Model(inputs, head(x))
    with pytest.raises(NotImplementedError, match=message):
        gradcam._tail_gradient(model.layers[1:4], head, tf.zeros((1, 2, 2, 1)), [tf.zeros((1, 3))] * 2,
                               tf.constant([0], tf.int32))


def test_vgg16_grad_cam_through_its_dense_layers_matches_the_keras_example_route():
    """VGG16's tail (flatten, two ReLU dense layers, the classifier) against the full automatic gradient."""
    vgg = pretrained.load_model("vgg16", weights=None)
    batch, _ = pretrained.model_input(Image.open(io.BytesIO(photo_bytes((300, 260)))), "vgg16")
    _probabilities, top, analysis = gradcam.classify_and_analyse(vgg, batch, "vgg16")
    copy = keras.models.clone_model(vgg)
    copy.set_weights(vgg.get_weights())
    copy.layers[-1].activation = None
    grad_model = keras.Model(copy.inputs, [copy.get_layer("block5_conv3").output, copy.output])
    compared = 0
    for class_index in [p.index for p in top]:
        with tf.GradientTape() as tape:
            conv_output, preds = grad_model(batch)
            class_channel = preds[:, class_index]
        pooled = tf.reduce_mean(tape.gradient(class_channel, conv_output), axis=(0, 1, 2))
        heatmap = tf.maximum(tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis]), 0).numpy()
        peak = heatmap.max()
        compared += peak > 0
        np.testing.assert_allclose(analysis.heatmaps[class_index], heatmap / peak if peak > 0 else heatmap,
                                   atol=1e-4)
    assert compared >= 1  # at least one top class has a heatmap that is not all zeros
