"""The small real datasets that ship with scikit-learn, split into training, validation and test sets."""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

from models.core.numbers import check_number

DATASETS = {"breast_cancer": "Breast cancer (569 tumours, 30 measurements, malignant or benign)",
            "digits": "Handwritten digits (1,797 pictures of 8×8 pixels, 10 classes)"}
CLASS_NAMES = {"breast_cancer": ("benign", "malignant"), "digits": tuple(str(d) for d in range(10))}
SETS = ("training", "validation", "test")


@lru_cache(maxsize=4)
def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "breast_cancer":
        data = skd.load_breast_cancer()
        return data.data.astype(np.float32), (1 - data.target).astype(int)  # 1 = malignant, the class to find
    if name == "digits":
        data = skd.load_digits()
        return data.data.astype(np.float32), data.target.astype(int)
    raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (copies, so nobody changes the shared ones)."""
    x, y = _load(name)
    return x.copy(), y.copy()


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale every column to mean 0 and spread 1 with the statistics of `train` only; applied to all."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [((part - mean) / std).astype(np.float32) for part in (train, *others)]


@dataclass(frozen=True)
class Split:
    """Indices of the three sets, and their features standardised with the training statistics."""
    dataset: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    x: dict  # set name -> features
    y: dict  # set name -> labels

    def assignment(self) -> np.ndarray:
        """For every point of the dataset, the set it is in."""
        sets = np.empty(len(self.train) + len(self.val) + len(self.test), dtype=object)
        for name, part in zip(SETS, (self.train, self.val, self.test)):
            sets[part] = name
        return sets


def three_way_split(name: str, *, val_share: float = 0.2, test_share: float = 0.2, seed: int = 0) -> Split:
    """Stratified training / validation / test split of a dataset."""
    val_share = check_number(val_share, "The validation share", low=0.05, high=0.45)
    test_share = check_number(test_share, "The test share", low=0.05, high=0.45)
    seed = check_number(seed, "The seed", low=0, high=2**32 - 1, integer=True)
    x, y = load(name)
    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=test_share, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=val_share / (1 - test_share), stratify=y[rest],
                                  random_state=seed)
    parts = dict(zip(SETS, standardise(x[train], x[val], x[test])))
    return Split(dataset=name, train=train, val=val, test=test, x=parts,
                 y={"training": y[train], "validation": y[val], "test": y[test]})
