"""Evaluation library: our metrics against scikit-learn, folds, cross-validation, the leak, saving and loading."""
import io
import json
import zipfile

import keras
import numpy as np
import pytest
from keras import layers
from sklearn import metrics as skm
from sklearn.model_selection import StratifiedKFold

from models.evaluation import data, saving
from models.evaluation import metrics as m
from models.evaluation import validation as v

RNG_CASES = 120


def random_case(rng):
    n = int(rng.integers(1, 60))
    y = rng.integers(0, 2, n) if rng.random() > 0.1 else np.full(n, int(rng.integers(0, 2)))
    scores = np.round(rng.random(n), int(rng.integers(1, 3)))  # rounding makes ties, also with the threshold
    threshold = float(rng.choice([rng.random(), 0.0, 1.0, scores[0]]))
    return y, scores, threshold


def test_threshold_metrics_equal_scikit_learn_over_many_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(RNG_CASES):
        y, scores, threshold = random_case(rng)
        ours = m.threshold_metrics(y, scores, threshold)
        predicted = (scores >= threshold).astype(int)
        tn, fp, fn, tp = skm.confusion_matrix(y, predicted, labels=[0, 1]).ravel()
        assert (ours["tn"], ours["fp"], ours["fn"], ours["tp"]) == (tn, fp, fn, tp)
        assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
        assert ours["precision"] == pytest.approx(skm.precision_score(y, predicted, zero_division=0))
        assert ours["recall"] == pytest.approx(skm.recall_score(y, predicted, zero_division=0))
        assert ours["f1"] == pytest.approx(skm.f1_score(y, predicted, zero_division=0))


def test_edge_cases_all_one_class_and_no_positive_predictions():
    nothing = m.threshold_metrics([0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4], 0.9)
    assert nothing | {} == {"accuracy": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0, "tn": 2, "fp": 0, "fn": 2,
                            "tp": 0}
    all_negative = m.threshold_metrics([0, 0, 0], [0.9, 0.1, 0.5], 0.5)
    assert (all_negative["fp"], all_negative["precision"], all_negative["recall"]) == (2, 0.0, 0.0)
    all_positive = m.threshold_metrics([1, 1], [0.9, 0.1], 0.0)
    assert all_positive["recall"] == 1.0 and all_positive["precision"] == 1.0


def test_the_accuracy_paradox_at_95_to_5():
    y = m.imbalanced_labels(1000, 0.05, seed=3)
    assert y.sum() == 50
    scores = m.always_majority(y)
    assert scores["accuracy"] == pytest.approx(0.95) and scores["recall"] == 0.0 and scores["f1"] == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: m.threshold_metrics([0, 1], [0.2, 0.8], 1.5), "The threshold"),
    (lambda: m.threshold_metrics([0, 1], [0.2, 0.8], -0.1), "The threshold"),
    (lambda: m.threshold_metrics([0, 1], [0.2, 0.8], float("nan")), "The threshold"),
    (lambda: m.threshold_metrics([0, 2], [0.2, 0.8], 0.5), "must be 0 or 1"),
    (lambda: m.threshold_metrics([0, 1, 1], [0.2, 0.8], 0.5), "3 labels for 2 scores"),
    (lambda: m.threshold_metrics([], [], 0.5), "at least one"),
    (lambda: m.roc_points([1, 1], [0.2, 0.8]), "both classes"),
    (lambda: m.per_class_report([0, 1], [0, 7], [0, 1]), "Label 7 is not one of the classes"),
])
def test_bad_input_gets_a_readable_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_roc_and_pr_points_equal_scikit_learn():
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(4, 80))
        y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
        scores = np.round(rng.random(n), 2)
        roc = m.roc_points(y, scores)
        fpr, tpr, _ = skm.roc_curve(y, scores, drop_intermediate=False)
        np.testing.assert_allclose(roc["fpr"], fpr)
        np.testing.assert_allclose(roc["tpr"], tpr)
        assert m.auc(roc) == pytest.approx(skm.roc_auc_score(y, scores))
        pr = m.pr_points(y, scores)
        precision, recall, thresholds = skm.precision_recall_curve(y, scores)
        by_threshold = dict(zip(thresholds, zip(precision, recall)))
        for row in pr.itertuples():
            if row.threshold in by_threshold:  # scikit-learn stops once recall reaches 1
                assert (row.precision, row.recall) == pytest.approx(by_threshold[row.threshold])


def test_per_class_report_and_averages_equal_scikit_learn():
    rng = np.random.default_rng(2)
    for _ in range(40):
        k = int(rng.integers(2, 6))
        n = int(rng.integers(1, 50))
        y = rng.integers(0, k, n)
        pred = np.where(rng.random(n) < 0.5, y, rng.integers(0, k - 1, n))  # class k-1 is rarely predicted
        classes = list(range(k))
        report = m.per_class_report(y, pred, classes).set_index("class")
        p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
        np.testing.assert_allclose(report.loc[[str(c) for c in classes], ["precision", "recall", "f1"]].to_numpy(),
                                   np.c_[p, r, f])
        assert list(report.loc[[str(c) for c in classes], "support"]) == list(s)
        for average in m.AVERAGES:
            expected = skm.precision_recall_fscore_support(y, pred, labels=classes, average=average, zero_division=0)
            assert list(report.loc[f"{average} avg", ["precision", "recall", "f1"]]) == pytest.approx(
                expected[:3]), average
        np.testing.assert_array_equal(m.confusion(y, pred, classes), skm.confusion_matrix(y, pred, labels=classes))


def test_confusion_cells_list_their_examples():
    y, pred = [0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0]
    cells = m.confusion_examples(y, pred, [0, 1, 2])
    assert cells[(0, 0)] == [0, 5] and cells[(1, 2)] == [1] and cells[(2, 1)] == [3]
    matrix = m.confusion(y, pred, [0, 1, 2])
    assert all(len(cells[(t, p)]) == matrix[t, p] for t in range(3) for p in range(3))
    assert sorted(i for found in cells.values() for i in found) == list(range(6))


def test_f1_trend_reads_the_sweep():
    y = np.array([0] * 50 + [1] * 50)
    scores = np.r_[np.linspace(0, 0.6, 50), np.linspace(0.4, 1, 50)]
    assert m.f1_trend(m.threshold_sweep(y, scores)) == "up, then down"
    assert m.f1_trend(m.threshold_sweep(y, np.r_[np.zeros(50), np.linspace(0.05, 0.95, 50)])) == "down"


# --- Splits and folds ---

def test_three_way_split_is_a_partition_standardised_with_training_statistics():
    split = data.three_way_split("breast_cancer", seed=4)
    everything = np.concatenate([split.train, split.val, split.test])
    assert sorted(everything) == list(range(569))
    x, y = data.load("breast_cancer")
    mean, std = x[split.train].mean(axis=0), x[split.train].std(axis=0)
    np.testing.assert_allclose(split.x["test"], (x[split.test] - mean) / std, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(split.x["training"].mean(axis=0), 0, atol=1e-4)
    assert abs(split.x["test"].mean()) > 1e-3  # the test set is not centred on itself
    assert set(split.assignment()) == set(data.SETS)


@pytest.mark.parametrize("stratified", [True, False])
@pytest.mark.parametrize("k", [2, 5, 10])
def test_every_point_is_in_exactly_one_validation_fold(k, stratified):
    _, _, y = v.development_part(v.ModelSettings())
    folds = v.fold_assignments(y, k=k, seed=7, stratified=stratified)
    assert sorted(np.unique(folds)) == list(range(k))
    counts = np.bincount(folds)
    assert counts.max() - counts.min() <= 1 and counts.sum() == len(y)
    if stratified:  # every fold keeps the overall share of malignant tumours (to one point)
        for number in range(k):
            part = y[folds == number]
            assert abs(part.sum() - y.mean() * len(part)) <= 1
        expected = [val for _, val in StratifiedKFold(k, shuffle=True, random_state=7).split(y[:, None], y)]
        assert all(set(np.flatnonzero(folds == i)) == set(val) for i, val in enumerate(expected))


def test_folds_are_seeded():
    y = np.arange(100) % 2
    a, b = (v.fold_assignments(y, k=5, seed=1) for _ in range(2))
    assert np.array_equal(a, b) and not np.array_equal(a, v.fold_assignments(y, k=5, seed=2))


@pytest.mark.parametrize("k, y, stratified, message", [
    (4, [0] * 10 + [1] * 3, True, "class 1 has only 3 examples: choose k ≤ 3"),
    (1, [0, 1] * 5, False, "The number of folds k"),
    (11, [0, 1] * 20, False, "The number of folds k"),
    (5, [0, 1, 0], False, "need at least 5 points"),
])
def test_bad_k_gets_a_readable_message(k, y, stratified, message):
    with pytest.raises(ValueError, match=message):
        v.fold_assignments(np.array(y), k=k, seed=0, stratified=stratified)


FAST = v.ModelSettings(epochs=15, hidden_units=(8,))


@pytest.fixture(scope="module")
def cache():
    return {}


@pytest.mark.slow
def test_cross_validation_rows_equal_a_fold_trained_by_hand(cache):
    table = v.cross_validation(FAST, k=3, seed=5, cache=cache)
    assert list(table.columns) == ["fold", "train_size", "val_size", "val_loss", "val_accuracy"]
    index, x, y = v.development_part(FAST)
    assert list(table["fold"]) == [1, 2, 3] and set(table["train_size"] + table["val_size"]) == {len(index)}
    train, val = next(iter(StratifiedKFold(3, shuffle=True, random_state=5).split(x, y)))
    x_train, x_val = data.standardise(x[train], x[val])
    trainer, _ = v.fit(FAST, x_train, y[train], x_val, y[val])  # no cache: a separate model
    assert table["val_accuracy"][0] == pytest.approx(np.mean(v.predicted_labels(trainer, x_val) == y[val]))
    assert table["val_size"][0] == len(val)
    assert table.equals(v.cross_validation(FAST, k=3, seed=5, cache=cache))  # seeded


@pytest.mark.slow
def test_picking_by_test_score_is_optimistic(cache):
    leak = v.selection_leak(trials=8, seed=1, cache=cache)
    trials = leak.trials
    assert leak.picked == trials["test_accuracy"].idxmax()
    assert leak.optimism == pytest.approx(trials["test_accuracy"][leak.picked] - trials["fresh_accuracy"][leak.picked])
    assert trials["fresh_accuracy"].between(0.45, 0.55).all()  # coin flips: nothing generalises
    assert leak.optimism > 0


# --- Saving and loading ---

@pytest.fixture(scope="module")
def trained(cache):
    split = data.three_way_split("breast_cancer")
    trainer, _ = v.fit(FAST, split.x["training"], split.y["training"], split.x["validation"], split.y["validation"],
                       cache=cache)
    return trainer, split


@pytest.mark.slow
def test_keras_round_trip_gives_identical_predictions(trained):
    trainer, split = trained
    archive = saving.model_to_bytes(trainer.model)
    assert list(saving.archive_contents(archive)["file"]) == ["metadata.json", "config.json", "model.weights.h5"]
    loaded = saving.load_uploaded(archive)
    assert np.array_equal(saving.predictions(loaded, split.x["test"]), trainer.predict(split.x["test"]))


def rewrite(archive: bytes, name: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


@pytest.fixture(scope="module")
def lambda_archive():
    inputs = keras.Input((30,))
    model = keras.Model(inputs, layers.Lambda(lambda x: x * 2)(inputs))
    return saving.model_to_bytes(model)


def test_a_lambda_layer_is_refused_before_keras_sees_it(lambda_archive):
    with pytest.raises(ValueError, match="Refused: the file contains a Lambda layer.*Nothing in it was run"):
        saving.load_uploaded(lambda_archive)


def test_keras_safe_mode_refuses_it_too(lambda_archive, tmp_path):
    """The second route: Keras itself, with safe_mode=True, will not load the file."""
    path = tmp_path / "lambda.keras"
    path.write_bytes(lambda_archive)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path, safe_mode=True)


def test_a_foreign_module_is_refused(lambda_archive):
    def foreign(content):
        return json.dumps(json.loads(content) | {"module": "os", "class_name": "system"}).encode()
    with pytest.raises(ValueError, match="from the module 'os'"):
        saving.check_archive(rewrite(lambda_archive, "config.json", foreign))


@pytest.mark.parametrize("blob, message", [
    (b"not a zip at all", "damaged or not a .keras file"),
    (b"PK\x03\x04" + b"\0" * 40, "damaged or not a .keras file"),
    (b"x" * 2048, "at most 0 MB"),
])
def test_corrupt_and_oversize_files_are_refused(blob, message):
    with pytest.raises(ValueError, match=message):
        saving.check_archive(blob, max_bytes=1024 if len(blob) > 1024 else saving.MAX_MODEL_BYTES)


def test_a_zip_with_other_files_or_bad_json_is_refused(lambda_archive):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.py", "print('hi')")
    with pytest.raises(ValueError, match="holds evil.py"):
        saving.check_archive(out.getvalue())
    with pytest.raises(ValueError, match="not readable JSON"):
        saving.check_archive(rewrite(lambda_archive, "config.json", lambda content: b"{oops"))


@pytest.mark.slow
def test_damaged_weights_are_refused(trained):
    archive = saving.model_to_bytes(trained[0].model)
    with pytest.raises(ValueError, match="could not"):
        saving.load_uploaded(rewrite(archive, "model.weights.h5", lambda content: content[:100]))
