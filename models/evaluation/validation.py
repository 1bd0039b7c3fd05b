"""Validation: train the same Keras model on a split or once per k-fold fold, and measure a leak."""
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from models.core.numbers import check_number
from models.engine.runs import make_trainer
from models.evaluation.data import load, standardise, three_way_split

MAX_K = 10


@dataclass(frozen=True)
class ModelSettings:
    """One small network and how it is trained; the same for every fold and every split."""
    dataset: str = "breast_cancer"
    hidden_units: tuple = (16,)
    epochs: int = 60
    learning_rate: float = 0.01
    batch_size: int = 32
    l2: float = 0.0
    dropout_rate: float = 0.0
    patience: int | None = None
    seed: int = 0  # initial weights, shuffles and the test split

    def n_classes(self) -> int:
        return len(np.unique(load(self.dataset)[1]))

    def model_kwargs(self, input_dim: int) -> dict:
        classes = self.n_classes()
        return {"input_dim": input_dim, "hidden_units": tuple(self.hidden_units), "l2": self.l2,
                "dropout_rate": self.dropout_rate, "seed": self.seed,
                "output_units": 1 if classes == 2 else classes,
                "output_activation": "sigmoid" if classes == 2 else "softmax"}

    def loss(self) -> str:
        return "binary_crossentropy" if self.n_classes() == 2 else "categorical_crossentropy"


def fit(settings: ModelSettings, x_train, y_train, x_val, y_val, *, cache: dict | None = None):
    """Train a fresh model (weights from `settings.seed`) with the engine; the trainer and its result."""
    trainer = make_trainer(settings.model_kwargs(x_train.shape[1]), loss=settings.loss(),
                           batch_size=settings.batch_size, n_train=len(x_train), n_val=len(x_val), cache=cache)
    trainer.start(x_train, y_train, x_val, y_val, epochs=settings.epochs, learning_rate=settings.learning_rate,
                  seed=settings.seed, patience=settings.patience)
    return trainer, trainer.run()


def predicted_labels(trainer, x) -> np.ndarray:
    """The class each example gets: 1 where the sigmoid output is at least 0.5, else the largest softmax output."""
    p = trainer.predict(x)
    return (p[:, 0] >= 0.5).astype(int) if p.shape[1] == 1 else p.argmax(axis=1)


def final_scores(result, patience: int | None) -> dict:
    """Validation loss and accuracy of the weights the run kept (the best epoch's with early stopping)."""
    epoch = result.best_epoch if patience is not None and result.best_epoch else len(result.history)
    row = result.history.iloc[epoch - 1]
    return {"val_loss": float(row["val_loss"]), "val_accuracy": float(row["val_accuracy"])}


def development_part(settings: ModelSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, raw features and labels of everything but the test set (folds never touch the test set)."""
    split = three_way_split(settings.dataset, seed=settings.seed)
    index = np.sort(np.concatenate([split.train, split.val]))
    x, y = load(settings.dataset)
    return index, x[index], y[index]


def fold_assignments(y, *, k: int, seed: int, stratified: bool = True) -> np.ndarray:
    """For every point, the number (0..k-1) of the fold in which it is a validation point."""
    y = np.asarray(y)
    k = check_number(k, "The number of folds k", low=2, high=MAX_K, integer=True)
    seed = check_number(seed, "The seed", low=0, high=2**32 - 1, integer=True)
    if k > len(y):
        raise ValueError(f"k = {k} folds need at least {k} points; there are {len(y)}.")
    if stratified:
        classes, counts = np.unique(y, return_counts=True)
        if k > counts.min():
            raise ValueError(f"Stratified k-fold puts every class in every fold, but class {classes[counts.argmin()]} "
                             f"has only {counts.min()} examples: choose k ≤ {counts.min()}, or plain k-fold.")
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    folds = np.empty(len(y), dtype=int)
    for number, (_, val) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
        folds[val] = number
    return folds


def cross_validation(settings: ModelSettings, *, k: int, seed: int, stratified: bool = True,
                     cache: dict | None = None) -> pd.DataFrame:
    """Train the same model once per fold (standardised with that fold's training statistics); one row per fold."""
    _, x, y = development_part(settings)
    folds = fold_assignments(y, k=k, seed=seed, stratified=stratified)
    rows = []
    for number in range(k):
        train, val = folds != number, folds == number
        x_train, x_val = standardise(x[train], x[val])
        _, result = fit(settings, x_train, y[train], x_val, y[val], cache=cache)
        rows.append({"fold": number + 1, "train_size": int(train.sum()), "val_size": int(val.sum()),
                     **final_scores(result, settings.patience)})
    return pd.DataFrame(rows)


def single_split(settings: ModelSettings, *, cache: dict | None = None) -> dict:
    """Validation loss and accuracy of one training / validation split (the one the other sections use)."""
    split = three_way_split(settings.dataset, seed=settings.seed)
    _, result = fit(settings, split.x["training"], split.y["training"], split.x["validation"],
                    split.y["validation"], cache=cache)
    return final_scores(result, settings.patience)


@dataclass(frozen=True)
class Leak:
    """Settings picked by their test score, and the same models measured on data nobody looked at."""
    trials: pd.DataFrame  # learning_rate, seed, test_accuracy, fresh_accuracy
    picked: int  # row of the trial with the best test score

    @property
    def optimism(self) -> float:
        row = self.trials.iloc[self.picked]
        return float(row["test_accuracy"] - row["fresh_accuracy"])


def coin_flip_data(sizes, *, features: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random features with coin-flip labels, half 0 and half 1 in every part: nothing can beat 50% on new points."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, features)).astype(np.float32), rng.permutation(np.arange(n) % 2)) for n in sizes]


def selection_leak(*, trials: int = 20, n_train: int = 100, n_test: int = 50, seed: int = 0,
                   cache: dict | None = None) -> Leak:
    """Train `trials` settings on coin-flip labels, pick the one with the best test score, measure it afresh."""
    trials = check_number(trials, "The number of trials", low=2, high=40, integer=True)
    (x_train, y_train), (x_test, y_test), (x_fresh, y_fresh) = coin_flip_data((n_train, n_test, 2000), seed=seed)
    x_train, x_test, x_fresh = standardise(x_train, x_test, x_fresh)
    rng = np.random.default_rng(seed)
    base = ModelSettings(dataset="breast_cancer", hidden_units=(32,), epochs=80, batch_size=25)
    rows = []
    for trial in range(trials):
        settings = replace(base, learning_rate=float(10 ** rng.uniform(-3, -1)), seed=seed * 1000 + trial,
                           epochs=int(rng.integers(5, 80)))
        trainer, _ = fit(settings, x_train, y_train, x_test, y_test, cache=cache)
        rows.append({"learning_rate": settings.learning_rate, "epochs": settings.epochs, "seed": settings.seed,
                     "test_accuracy": float(np.mean(predicted_labels(trainer, x_test) == y_test)),
                     "fresh_accuracy": float(np.mean(predicted_labels(trainer, x_fresh) == y_fresh))})
    table = pd.DataFrame(rows)
    return Leak(trials=table, picked=int(table["test_accuracy"].idxmax()))
