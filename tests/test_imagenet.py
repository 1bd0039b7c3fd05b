"""The shipped ImageNet class list, checked against Keras' own file and Keras' own decoder."""
import hashlib
import inspect
import json
import re

import numpy as np
import pytest

from models.vision.imagenet import CLASS_INDEX_FILE, class_index, decode_predictions, display_name


def test_class_index_has_the_standard_order():
    classes = class_index()
    assert len(classes) == 1000
    assert classes[0] == ("n01440764", "tench")
    assert classes[1] == ("n01443537", "goldfish")
    assert classes[281] == ("n02123045", "tabby")
    assert classes[999] == ("n15075141", "toilet_tissue")
    wnids = [wnid for wnid, _ in classes]
    assert len(set(wnids)) == 1000 and wnids == sorted(wnids)
    assert all(re.fullmatch(r"n\d{8}", wnid) for wnid in wnids)


def test_file_has_the_same_content_as_keras_published_one():
    """Keras checks its download with an md5; our compact file re-serialised the Keras way must match it."""
    from keras.src.applications import imagenet_utils

    expected = re.search(r'file_hash="([0-9a-f]{32})"', inspect.getsource(imagenet_utils.decode_predictions))
    raw = json.loads(CLASS_INDEX_FILE.read_text(encoding="utf-8"))
    assert list(raw) == [str(i) for i in range(1000)]
    assert hashlib.md5(json.dumps(raw).encode()).hexdigest() == expected.group(1)


def test_class_index_returns_a_fresh_list():
    classes = class_index()
    classes[0] = ("x", "y")
    assert class_index()[0] == ("n01440764", "tench")


def test_display_name():
    assert display_name("toilet_tissue") == "toilet tissue"
    assert display_name("German_shepherd") == "German shepherd"
    assert display_name("tench") == "tench"


def test_decode_predictions_agrees_with_keras(monkeypatch):
    from keras.src.applications import imagenet_utils

    def no_download(*args, **kwargs):
        raise AssertionError("Keras tried to download the class index")

    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", json.loads(CLASS_INDEX_FILE.read_text(encoding="utf-8")))
    monkeypatch.setattr(imagenet_utils.file_utils, "get_file", no_download)
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(3, 1000)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for top in (1, 5, 20):
        ours = decode_predictions(probs, top=top)
        theirs = imagenet_utils.decode_predictions(probs, top=top)
        assert len(ours) == len(theirs) == 3
        for our_row, their_row in zip(ours, theirs):
            assert [item[:2] for item in our_row] == [item[:2] for item in their_row]
            assert [item[2] for item in our_row] == pytest.approx([float(item[2]) for item in their_row])
            assert all(type(item[2]) is float for item in our_row)


def test_decode_predictions_finds_a_planted_class():
    probs = np.full((2, 1000), 1e-4)
    probs[0, 281], probs[0, 282], probs[1, 999] = 0.7, 0.2, 0.9
    first, second = decode_predictions(probs, top=2)
    assert first == [("n02123045", "tabby", 0.7), ("n02123159", "tiger_cat", 0.2)]
    assert second[0] == ("n15075141", "toilet_tissue", 0.9)


@pytest.mark.parametrize("shape", [(1000,), (2, 999), (1, 1000, 1), (0,)])
def test_decode_predictions_checks_the_shape(shape):
    with pytest.raises(ValueError, match=r"shape \(N, 1000\)"):
        decode_predictions(np.zeros(shape))


@pytest.mark.parametrize("top", [0, 1001, 2.0, True])
def test_decode_predictions_checks_top(top):
    with pytest.raises(ValueError, match="top must be"):
        decode_predictions(np.zeros((1, 1000)), top=top)


def test_decode_predictions_rejects_nan():
    probs = np.zeros((1, 1000))
    probs[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        decode_predictions(probs)
