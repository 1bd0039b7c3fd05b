"""The two trained classifiers the Evaluation pages score: tumours (yes/no) and handwritten digits (10 classes)."""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evaluation.data import CLASS_NAMES, Split, three_way_split
from models.evaluation.saving import model_to_bytes
from models.evaluation.validation import ModelSettings, fit

BINARY = ModelSettings(dataset="breast_cancer", hidden_units=(16,), epochs=60)
DIGITS = ModelSettings(dataset="digits", hidden_units=(32,), epochs=40)


@dataclass(frozen=True)
class TrainedClassifier:
    """A trained model's outputs on its test set, its curves, and the model itself as a .keras file."""
    settings: ModelSettings
    split: Split
    outputs: np.ndarray  # test set: (n, 1) sigmoid or (n, k) softmax outputs
    history: pd.DataFrame
    archive: bytes

    @property
    def classes(self) -> tuple:
        return CLASS_NAMES[self.settings.dataset]

    @property
    def scores(self) -> np.ndarray:
        """The yes/no model's score (probability of class 1) for every test example."""
        return self.outputs[:, 0]

    @property
    def predicted(self) -> np.ndarray:
        return (self.outputs[:, 0] >= 0.5).astype(int) if self.outputs.shape[1] == 1 else self.outputs.argmax(1)


def train_classifier(settings: ModelSettings) -> TrainedClassifier:
    """Train on the training set (early-stopping-free, seeded), score the test set once, keep the model's file."""
    split = three_way_split(settings.dataset, seed=settings.seed)
    trainer, result = fit(settings, split.x["training"], split.y["training"], split.x["validation"],
                          split.y["validation"])
    return TrainedClassifier(settings=settings, split=split, outputs=trainer.predict(split.x["test"]),
                             history=result.history, archive=model_to_bytes(trainer.model))
