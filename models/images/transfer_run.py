"""One student's transfer-learning workflow: collected pictures -> feature requests and labels -> a frozen run."""
import dataclasses
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd
from PIL import Image

from models.core.guess import GuessFeedback, grade_number
from models.engine.heavy_work import heavy_work
from models.engine.runs import train_in_chunks
from models.images import transfer
from models.images.transfer import MAX_CLASSES, MAX_IMAGES_PER_CLASS, MIN_CLASSES, MIN_IMAGES_PER_CLASS
from models.vision import pretrained
from models.vision.images import ImageInputError, load_image
from models.vision.shapes import make_shapes

MAX_NAME_LENGTH = 40  # characters in a class name
MAX_DECODED = 4 * MAX_CLASSES * MAX_IMAGES_PER_CLASS  # decoded uploads kept per session


# --- Pictures from uploads, the camera or the built-in shapes ---

@dataclass(frozen=True)
class Upload:
    """One file a student gave for a class: an upload or a camera photo."""
    label: int
    name: str
    data: bytes


@dataclass(frozen=True)
class Problem:
    """An upload that could not be used, and why."""
    class_name: str
    file_name: str
    message: str


@dataclass(frozen=True, eq=False)
class Collection:
    """The pictures to learn from: picture i belongs to class labels[i], called names[labels[i]].

    `store` is where their features are cached: a server-wide dict for the built-in shapes, None for uploads.
    """
    pictures: tuple[Image.Image, ...]
    labels: tuple[int, ...]
    names: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
    store: dict | None = None

    def count(self, label: int) -> int:
        return self.labels.count(label)


def decode(data: bytes, cache: dict) -> tuple[Image.Image | None, str | None]:
    """(picture, None) or (None, the loader's message); each distinct file is decoded once per `cache`."""
    digest = hashlib.sha256(data).hexdigest()
    if digest not in cache:
        try:
            cache[digest] = (load_image(data), None)
        except ImageInputError as error:
            cache[digest] = (None, str(error))
        while len(cache) > MAX_DECODED:  # oldest first
            cache.pop(next(iter(cache)))
    return cache[digest]


def collect_uploads(names: list[str], uploads: list[Upload], cache: dict) -> Collection:
    """Decode every upload; the ones that are not pictures become problems, the rest pictures of their class."""
    pictures, labels, problems = [], [], []
    for upload in uploads:
        picture, problem = decode(upload.data, cache)
        if problem:
            class_name = names[upload.label] or f"Class {upload.label + 1}"
            problems.append(Problem(class_name, upload.name, problem))
        else:
            pictures.append(picture)
            labels.append(upload.label)
    return Collection(tuple(pictures), tuple(labels), tuple(names), tuple(problems))


@functools.lru_cache(maxsize=8)
def builtin_shapes(n_per_class: int, seed: int) -> tuple:
    """The built-in shapes at 128 px (pictures, labels, names): the same for every student."""
    return make_shapes(n_per_class, size=128, seed=seed)


def builtin_collection(pictures, labels, names, store: dict) -> Collection:
    """The built-in shapes, with the server-wide feature store they share."""
    return Collection(tuple(pictures), tuple(int(label) for label in labels), tuple(names), store=store)


def check_classes(names: list[str], counts: list[int]) -> list[str]:
    """Raise ValueError with a student-readable message if the classes cannot be trained; return clean names."""
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise ValueError(f"Make between {MIN_CLASSES} and {MAX_CLASSES} classes; there are {len(names)}.")
    clean = [str(name).strip() for name in names]
    for number, name in enumerate(clean, start=1):
        if not name:
            raise ValueError(f"Class {number} has no name. Give every class a name.")
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"Class {number}'s name is {len(name)} characters long; use at most {MAX_NAME_LENGTH}.")
    seen = {}
    for number, name in enumerate(clean, start=1):
        if name.casefold() in seen:
            raise ValueError(f"Classes {seen[name.casefold()]} and {number} are both called “{name}”. "
                             "Every class needs its own name.")
        seen[name.casefold()] = number
    for name, count in zip(clean, counts):
        if count < MIN_IMAGES_PER_CLASS:
            raise ValueError(f"“{name}” has {count} picture{'s' if count != 1 else ''}; every class needs at "
                             f"least {MIN_IMAGES_PER_CLASS} (one to learn from and one to check on).")
        if count > MAX_IMAGES_PER_CLASS:
            raise ValueError(f"“{name}” has {count} pictures; use at most {MAX_IMAGES_PER_CLASS} per class "
                             "so that everyone's training stays quick.")
    return clean


def checked(collection: Collection) -> Collection:
    """The collection with clean class names, or ValueError saying what to fix."""
    names = check_classes(list(collection.names), [collection.count(c) for c in range(len(collection.names))])
    return dataclasses.replace(collection, names=tuple(names))


# --- Which pictures become which feature requests ---

def split_indices(labels, *, validation_fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split: each class keeps at least one training and one validation picture."""
    labels = np.asarray(labels)
    if not 0 < validation_fraction < 1:
        raise ValueError(f"The validation share must be between 0 and 1; got {validation_fraction!r}.")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if len(members) < 2:
            raise ValueError(f"Class {label} has {len(members)} picture; every class needs at least 2.")
        n_val = min(len(members) - 1, max(1, round(validation_fraction * len(members))))
        val.extend(members[:n_val])
        train.extend(members[n_val:])
    return np.sort(np.array(train)), np.sort(np.array(val))


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """Feature requests in order (training pictures, each followed by its augmented copies, then validation)."""
    requests: tuple[transfer.FeatureRequest, ...]
    y_train: tuple[int, ...]
    y_val: tuple[int, ...]
    train_pictures: tuple[Image.Image, ...]
    y_train_originals: tuple[int, ...]
    val_pictures: tuple[Image.Image, ...]

    def split(self, features: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray, list[int]]:
        """(x_train, y_train, x_val, y_val) from the features of `requests`."""
        n = len(self.y_train)
        return features[:n], list(self.y_train), features[n:], list(self.y_val)


def training_set(collection: Collection, *, validation_fraction: float, copies: int, seed: int) -> TrainingSet:
    """Split the pictures and list the features to look up; validation pictures are never augmented."""
    train_idx, val_idx = split_indices(collection.labels, validation_fraction=validation_fraction, seed=seed)
    pictures, labels, store = collection.pictures, collection.labels, collection.store
    requests = []
    for i in train_idx:
        digest = transfer.image_digest(pictures[i])
        requests.append(transfer.FeatureRequest(digest, pictures[i], store=store))
        requests += [transfer.FeatureRequest(digest, pictures[i], copy, transfer.copy_seed(digest, seed), copies,
                                             store=store) for copy in range(1, copies + 1)]
    requests += [transfer.FeatureRequest(transfer.image_digest(pictures[i]), pictures[i], store=store)
                 for i in val_idx]
    return TrainingSet(tuple(requests), tuple(labels[i] for i in train_idx for _ in range(1 + copies)),
                       tuple(labels[i] for i in val_idx), tuple(pictures[i] for i in train_idx),
                       tuple(labels[i] for i in train_idx), tuple(pictures[i] for i in val_idx))


@functools.lru_cache(maxsize=64)
def head_weight_count(n_features: int, n_classes: int, units: int) -> int:
    """Weights of the head these settings build, counted by Keras (dropout adds none)."""
    return transfer.build_head(n_features=n_features, n_classes=n_classes, units=units, dropout_rate=0.0).count_params()


# --- The base and the head ---

@dataclass(frozen=True, eq=False)
class Base:
    """The shared pretrained model at one input size, seen through its feature extractors.

    A random-weights base is not held here: the process keeps that copy only while it is in use (see
    `pretrained.drop_idle`), and `model` asks for it each time, so a kept run does not pin 0.5 GB.
    """
    model_name: str
    weights: str  # "imagenet" or "random"
    input_size: int
    held: keras.Model | None = None  # the model itself, for ImageNet weights (kept for the process's life)

    @property
    def model(self) -> keras.Model:
        if self.held is not None:
            return self.held
        return pretrained.load_model(self.model_name, weights=None)

    @property
    def signature(self) -> tuple:
        return (self.model_name, self.weights, self.input_size)

    @property
    def extractor(self) -> keras.Model:
        return transfer.feature_extractor(self.model, self.model_name, input_size=self.input_size)

    @property
    def cut(self) -> keras.Model:
        return transfer.feature_extractor(self.model, self.model_name, input_size=self.input_size, stage="cut")

    @property
    def n_features(self) -> int:
        return int(self.extractor.outputs[0].shape[-1])

    @property
    def weight_count(self) -> int:
        return transfer.base_parameter_count(self.model, self.model_name, self.input_size)


def load_base(model_name: str, weights: str, input_size: int, *, failures: dict) -> Base:
    """The shared model as a Base; a missing-weights failure is remembered in `failures` and raised again
    from there, so a page does not wait for the network on every rerun."""
    if weights == "imagenet" and model_name in failures:
        raise failures[model_name]
    try:
        model = pretrained.load_model(model_name, weights="imagenet" if weights == "imagenet" else None)
    except pretrained.WeightsUnavailable as error:
        failures[model_name] = error
        raise
    return Base(model_name, weights, input_size, model if weights == "imagenet" else None)


@dataclass(frozen=True)
class HeadSettings:
    """What the student chose for training the head."""
    epochs: int = 40
    units: int = 64
    dropout: float = 0.3
    learning_rate: float = 1e-3
    validation_share: float = 0.25
    copies: int = 0
    seed: int = 0


@dataclass(frozen=True)
class Progress:
    """How far a run is, for a progress bar; `note` is a line for the page, `history` the curves so far."""
    fraction: float
    text: str
    note: str | None = None
    history: pd.DataFrame | None = None


def _ignore(_progress: Progress) -> None:
    pass


def train_run(base: Base, collection: Collection, settings: HeadSettings, *, guess: float, feature_store: dict,
              trainers: dict | None = None, on_progress: Callable[[Progress], None] = _ignore) -> "TransferRun":
    """Features for every picture (cached ones reused), then the head trained on them: a new run."""
    s = settings
    data = training_set(collection, validation_fraction=s.validation_share, copies=s.copies, seed=s.seed)
    clock = time.perf_counter()
    features, n_new = transfer.cached_features(
        list(data.requests), base.extractor, model_key=base.signature[:2], input_size=base.input_size,
        default_store=feature_store,
        on_batch=lambda done, total: on_progress(Progress(done / total, f"Base pass: {done} of {total} pictures")))
    on_progress(Progress(0.0, "Training the head…", note=f"Features: {n_new} computed now in "
                         f"{time.perf_counter() - clock:.1f} s, {len(data.requests) - n_new} taken from the cache."))
    x_train, y_train, x_val, y_val = data.split(features)
    trainer = transfer.head_trainer(n_features=base.n_features, n_classes=len(collection.names), units=s.units,
                                    dropout_rate=s.dropout, n_train=len(y_train), n_val=len(y_val), cache=trainers)
    trainer.start(x_train, y_train, x_val, y_val, epochs=s.epochs, learning_rate=s.learning_rate, seed=s.seed)
    clock = time.perf_counter()
    for result in train_in_chunks(trainer, guard=heavy_work):
        on_progress(Progress(result.epochs_run / s.epochs, f"Epoch {result.epochs_run} of {s.epochs}",
                             history=result.history))
    on_progress(Progress(1.0, f"{result.message} Training took {time.perf_counter() - clock:.2f} s."))
    return TransferRun(base, list(collection.names), guess=guess, seed=s.seed, history=result.history,
                       head=trainer.model, head_weights=trainer.model.get_weights(), data=data,
                       probabilities=trainer.predict(x_val))


def fine_tune_run(run: "TransferRun", *, epochs: int, on_progress: Callable[[Progress], None] = _ignore
                  ) -> "TransferRun":
    """The run with a fresh copy of the last block trained together with its head, from the trained head."""
    base, n_train = run.base, len(run.data.train_pictures)
    maps, _ = transfer.cached_features(
        run.originals(), base.cut, model_key=base.signature[:2] + ("cut",), input_size=base.input_size,
        default_store=run.cut_store,
        on_batch=lambda done, total: on_progress(Progress(done / total, f"Frozen layers: {done} of {total}")))
    tail = transfer.clone_tail(base.model, base.model_name)
    run.head.set_weights(run.head_weights)  # start again from the trained head
    rows = []
    for row in transfer.fine_tune(tail, run.head, maps[:n_train], list(run.data.y_train_originals), maps[n_train:],
                                  run.y_val, epochs=epochs, seed=run.seed):
        rows.append(row)
        on_progress(Progress(row["epoch"] / epochs, f"Fine-tuning epoch {row['epoch']} of {epochs}",
                             history=pd.DataFrame(rows)))
    with heavy_work():
        probabilities = transfer.head_probabilities(run.head, maps[n_train:], tail)
    return dataclasses.replace(run, tail=tail, fine_tune=pd.DataFrame(rows), probabilities=probabilities)


def picture_probabilities(run: "TransferRun", picture: Image.Image) -> np.ndarray:
    """The run's class probabilities for one new picture."""
    pixels = transfer.to_pixels(picture, run.base.input_size)[None]
    with heavy_work():
        if run.tail is None:
            return transfer.head_probabilities(run.head, run.base.extractor(pixels, training=False))[0]
        return transfer.head_probabilities(run.head, run.base.cut(pixels, training=False), run.tail)[0]


# --- Results ---

def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """counts[i, j] = how many pictures of true class i were predicted as class j."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return counts


def per_class_table(counts: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """Per-class validation results: pictures, correct, and accuracy (the matrix's diagonal over its rows)."""
    totals = counts.sum(axis=1)
    correct = np.diag(counts)
    accuracy = np.divide(correct, totals, out=np.full(len(totals), np.nan), where=totals > 0)
    return pd.DataFrame({"class": list(class_names), "pictures": totals, "correct": correct, "accuracy": accuracy})


def confusion_frame(counts: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """The matrix in long form (true class, predicted class, count) for a heatmap."""
    return pd.DataFrame([{"true class": class_names[i], "predicted class": class_names[j], "count": int(counts[i, j])}
                         for i in range(len(class_names)) for j in range(len(class_names))])


@dataclass(frozen=True, eq=False)
class TransferRun:
    """A trained head (and, after fine-tuning, its tuned block) with what the results sections show."""
    base: Base
    names: list[str]
    guess: float
    seed: int
    history: pd.DataFrame
    head: keras.Model
    head_weights: list  # the head as training left it: fine-tuning starts again from here
    probabilities: np.ndarray  # on the validation pictures
    data: TrainingSet
    tail: list | None = None
    fine_tune: pd.DataFrame | None = None
    cut_store: dict = field(default_factory=dict)  # cut maps of this run's pictures, for fine-tuning

    @property
    def signature(self) -> tuple:
        """The base settings this run belongs to: other settings on the page hide it."""
        return self.base.signature

    @property
    def y_val(self) -> list[int]:
        return list(self.data.y_val)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.probabilities.argmax(axis=1) == np.asarray(self.y_val)))

    @property
    def counts(self) -> np.ndarray:
        return confusion_matrix(self.y_val, self.probabilities.argmax(axis=1), len(self.names))

    @property
    def stage(self) -> str:
        return "head + fine-tuned block" if self.tail is not None else "frozen base + head"

    def feedback(self) -> GuessFeedback:
        """The student's accuracy guess (in %) graded against the validation accuracy."""
        return grade_number(self.guess, 100 * self.accuracy, close_within=10, digits=1)

    def originals(self) -> list[transfer.FeatureRequest]:
        """Training then validation pictures, without augmented copies: what fine-tuning passes through the cut."""
        pictures = self.data.train_pictures + self.data.val_pictures
        return [transfer.FeatureRequest(transfer.image_digest(p), p) for p in pictures]


def export_bytes(run: TransferRun) -> bytes:
    """The run as one .keras file: pixels to class probabilities."""
    base = run.base
    model = transfer.build_export_model(base.model, base.model_name, input_size=base.input_size, head=run.head,
                                        tail=run.tail)
    return transfer.keras_file_bytes(model)
