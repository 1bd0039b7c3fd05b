"""Transfer learning: a frozen pretrained base, features computed once, and a small head trained on them."""
import hashlib
import time

import altair as alt
import pandas as pd
import streamlit as st

from models.core.guess import grade_number
from models.engine.heavy_work import heavy_work
from models.engine.trainer import train_in_chunks
from models.images import transfer
from models.vision.images import ImageInputError, load_image
from models.vision.pretrained import ARCHITECTURES, WeightsUnavailable, load_model
from models.vision.shapes import MAX_PER_CLASS, SHAPES, draw_shape, make_shapes
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

RANDOM = "Random weights (features are meaningless for real photos; only shows the mechanics)"
WEIGHTS = {"imagenet": "ImageNet weights (the real thing)", "random": RANDOM}
UPLOAD_TYPES = ["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"]
VERDICT_BOX = {"spot on": st.success, "close": st.info, "off": st.warning}
state = st.session_state


@st.cache_resource(show_spinner=False)
def shared_feature_store() -> dict:
    """Features of the built-in shapes: identical for every student, so computed once per server."""
    return {}


@st.cache_data(show_spinner=False, max_entries=8)
def builtin_shapes(n_per_class: int, seed: int):
    return make_shapes(n_per_class, size=128, seed=seed)


def decoded(data: bytes):
    """(picture, problem) for an upload, decoded once per distinct file in this session."""
    cache = state.setdefault("transfer_decoded", {})
    digest = hashlib.sha256(data).hexdigest()
    if digest not in cache:
        try:
            cache[digest] = (load_image(data), None)
        except ImageInputError as error:
            cache[digest] = (None, str(error))
        while len(cache) > 4 * transfer.MAX_CLASSES * transfer.MAX_IMAGES_PER_CLASS:
            cache.pop(next(iter(cache)))
    return cache[digest]


def curves_chart(history: pd.DataFrame, metric: str) -> alt.Chart:
    data = pd.concat([pd.DataFrame({"epoch": history["epoch"], "value": history[metric], "split": "training"}),
                      pd.DataFrame({"epoch": history["epoch"], "value": history[f"val_{metric}"],
                                    "split": "validation"})])
    y_scale = alt.Scale(domain=[0, 1]) if metric == "accuracy" else alt.Scale(zero=True)
    return alt.Chart(data).mark_line(point=len(history) <= 30).encode(
        x=alt.X("epoch:Q", title="epoch"), y=alt.Y("value:Q", title=metric, scale=y_scale),
        color=alt.Color("split:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["epoch", "split", alt.Tooltip("value:Q", format=".4f")]).properties(height=320)


def show_curves(slot, history: pd.DataFrame) -> None:
    with slot.container():
        for column, metric in zip(st.columns(2), ("loss", "accuracy")):
            column.markdown(f"**{metric.capitalize()}** (categorical cross-entropy)" if metric == "loss"
                            else "**Accuracy** (share of pictures classified right)")
            column.altair_chart(curves_chart(history, metric), width="stretch")


st.title("Transfer learning")
st.markdown(
    "A network trained on ImageNet's 1.2 million photos has learned edges, textures and parts in its "
    "convolutional layers. **Transfer learning** keeps those layers **frozen** (their weights never change) "
    "and trains only a small new **head** for *your* classes. Like Teachable Machine, this page sends each "
    "picture through the frozen base **once**, keeps the resulting feature vector, and then trains the head "
    "on those vectors, so each epoch takes milliseconds instead of a full pass through the big network.")

# ---- 1 · The pretrained base ---------------------------------------------------------------------------
st.header("1 · The frozen base")
left, right = st.columns(2)
model_name = left.selectbox("Pretrained network", list(transfer.BASES), key="transfer_model",
                            format_func=lambda name: ARCHITECTURES[name].label)
sizes = transfer.BASES[model_name].sizes
input_size = right.selectbox("Input size (pixels)", sizes, key=f"transfer_size_{model_name}",
                             help="128 px costs about a third of 224 px: (128/224)² ≈ 0.33.")
weights_mode = st.radio("Weights", list(WEIGHTS), format_func=WEIGHTS.get, key="transfer_weights")
if weights_mode == "random":
    st.warning(f"**{RANDOM}.** The base has never seen a photo, so its features do not describe what is in "
               "a picture. Use this mode to see how the pieces fit together, not to judge transfer learning.",
               icon=":material/warning:")
failures = state.setdefault("transfer_missing", {})
weights = "imagenet" if weights_mode == "imagenet" else None
if weights is not None and model_name in failures:
    problem = failures[model_name]
else:
    try:
        with st.spinner(f"Loading {model_name} (once per server)…"):
            base_model = load_model(model_name, weights=weights)
        problem = None
    except WeightsUnavailable as error:
        problem = failures[model_name] = (str(error), error.command)
if problem:
    st.error(problem[0], icon=":material/cloud_off:")
    st.code(problem[1], language="bash")
    st.info("Until the weights are on the server, choose the random-weights mode above to see the mechanics.")
    if st.button("Check again", key="transfer_retry"):
        failures.pop(model_name, None)
        st.rerun()
    st.stop()
model_key = (model_name, weights_mode)
extractor = transfer.feature_extractor(base_model, model_name, input_size=input_size)
n_features = int(extractor.outputs[0].shape[-1])
n_base = transfer.base_parameter_count(base_model, model_name, input_size)
st.markdown(f"The base is {model_name}'s convolutional part (`include_top=False`), at {input_size}×{input_size} "
            f"pixels, ending in global average pooling: each picture becomes **{n_features} numbers**.")

# ---- 2 · Classes ---------------------------------------------------------------------------------------
st.header("2 · Your classes")
source = st.segmented_control("Pictures", ["Built-in shapes", "My own pictures"], default="Built-in shapes",
                              required=True, key="transfer_source")
pictures, labels, problems = [], [], []
if source == "Built-in shapes":
    left, right = st.columns(2)
    n_per_class = left.slider("Pictures per class", 6, MAX_PER_CLASS, 20, key="transfer_n_per_class")
    data_seed = right.number_input("Dataset seed", 0, 10_000, 0, key="transfer_data_seed")
    pictures, labels, names = builtin_shapes(n_per_class, int(data_seed))
    labels = list(labels)
    store = shared_feature_store()
    st.image([p for c in range(len(SHAPES)) for p in pictures[c * n_per_class:c * n_per_class + 6]], width=64,
             caption=[name for name in SHAPES for _ in range(6)])
else:
    store = None
    n_classes = st.number_input("Number of classes", transfer.MIN_CLASSES, transfer.MAX_CLASSES, 2,
                                key="transfer_n_classes")
    camera = state.setdefault("transfer_camera", {})
    names = []
    for c, column in enumerate(st.columns(int(n_classes))):
        name = column.text_input("Class name", f"Class {c + 1}", key=f"transfer_name_{c}", max_chars=40)
        files = column.file_uploader("Pictures", type=UPLOAD_TYPES, accept_multiple_files=True,
                                     key=f"transfer_files_{c}")
        blobs = [(f.name, f.getvalue()) for f in files or []]
        blobs += [(f"camera photo {i + 1}", b) for i, b in enumerate(camera.get(c, []))]
        for file_name, data in blobs:
            picture, problem = decoded(data)
            if problem:
                problems.append(f"{name or f'Class {c + 1}'} · {file_name}: {problem}")
            else:
                pictures.append(picture)
                labels.append(c)
        column.caption(f"{labels.count(c)} picture(s)")
        names.append(name)
    with st.expander("Add pictures with the camera"):
        target = st.selectbox("Class", range(int(n_classes)), format_func=lambda c: names[c], key="transfer_cam_class")
        shot = st.camera_input("Take a photo", key="transfer_cam")
        if shot is not None and st.button("Add this photo", key="transfer_cam_add"):
            camera.setdefault(target, []).append(shot.getvalue())
        if st.button("Remove all camera photos", key="transfer_cam_clear"):
            camera.clear()
for message in problems:
    st.error(message, icon=":material/broken_image:")
try:
    names = transfer.check_classes(names, [labels.count(c) for c in range(len(names))])
except ValueError as error:
    st.warning(str(error), icon=":material/info:")
    st.stop()

# ---- 3 · Train the head --------------------------------------------------------------------------------
st.header("3 · Train the head")
cols = st.columns(4)
epochs = cols[0].slider("Epochs", 1, 200, 40, key="transfer_epochs")
units = cols[1].select_slider("Hidden units", [16, 32, 64, 128, 256], 64, key="transfer_units")
dropout = cols[2].slider("Dropout rate", 0.0, 0.7, 0.3, 0.05, key="transfer_dropout")
rate = cols[3].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 1e-3, key="transfer_lr",
                             format_func=lambda v: f"{v:g}")
cols = st.columns(3)
val_share = cols[0].slider("Validation share", 0.1, 0.5, 0.25, 0.05, key="transfer_val_share")
copies = cols[1].slider("Augmented copies per training picture (0 = off)", 0, transfer.MAX_COPIES, 0,
                        key="transfer_copies")
seed = int(cols[2].number_input("Seed", 0, 10_000, 0, key="transfer_seed"))
if copies:
    st.info(f"Augmentation (random flip, rotation up to 18°, zoom up to 15%) makes {copies} new picture(s) from each "
            "training picture **before** training. Each copy is a different picture, so each needs its own pass "
            f"through the frozen base: feature extraction costs {1 + copies}× as much. Validation pictures are "
            "never augmented.", icon=":material/auto_awesome_mosaic:")
n_head = units * n_features + units + units * len(names) + len(names)
st.table(pd.DataFrame({"part": ["Frozen base (shared, never trained)", "Head (trainable)", "Trainable share"],
                       "weights": [f"{n_base:,}", f"{n_head:,}", f"{100 * n_head / (n_base + n_head):.2f} %"]}
                      ).set_index("part"))
st.caption(f"Head: Dense({units}, ReLU) → Dropout({dropout:g}) → Dense({len(names)}, softmax) on the "
           f"{n_features} features: {n_features}×{units} + {units} + {units}×{len(names)} + {len(names)} = "
           f"{n_head:,} weights. Loss: categorical cross-entropy; optimizer: Adam.")

guess = st.number_input(f"Predict first: what validation accuracy (%) will the head reach after {epochs} epochs?",
                        0.0, 100.0, 50.0, 5.0, key="transfer_guess")
just_trained = st.button("Train the head", type="primary", key="transfer_train")
if just_trained:
    train_idx, val_idx = transfer.split_indices(labels, validation_fraction=val_share, seed=seed)
    requests = []
    for i in train_idx:
        digest = transfer.image_digest(pictures[i])
        requests.append(transfer.FeatureRequest(digest, pictures[i], store=store))
        for copy in range(1, copies + 1):
            requests.append(transfer.FeatureRequest(digest, pictures[i], copy, transfer.copy_seed(digest, seed),
                                                    copies, store=store))
    requests += [transfer.FeatureRequest(transfer.image_digest(pictures[i]), pictures[i], store=store)
                 for i in val_idx]
    y_train = [labels[i] for i in train_idx for _ in range(1 + copies)]
    y_val = [labels[i] for i in val_idx]
    bar = st.progress(0.0, text="Passing pictures through the frozen base…")
    clock = time.perf_counter()
    features, n_new = transfer.cached_features(
        requests, extractor, model_key=model_key, input_size=input_size,
        default_store=state.setdefault("transfer_features", {}),
        on_batch=lambda done, total: bar.progress(done / total, text=f"Base pass: {done} of {total} pictures"))
    n_train = len(y_train)
    st.caption(f"Features: {n_new} computed now in {time.perf_counter() - clock:.1f} s, "
               f"{len(requests) - n_new} taken from the cache.")
    trainer = transfer.head_trainer(n_features=n_features, n_classes=len(names), units=units, dropout_rate=dropout,
                                    n_train=n_train, n_val=len(y_val), cache=state.setdefault("transfer_trainers", {}))
    trainer.start(features[:n_train], y_train, features[n_train:], y_val, epochs=epochs, learning_rate=rate,
                  seed=seed)
    slot, clock = st.empty(), time.perf_counter()
    for result in train_in_chunks(trainer, guard=heavy_work):
        bar.progress(result.epochs_run / epochs, text=f"Epoch {result.epochs_run} of {epochs}")
        show_curves(slot, result.history)
    bar.progress(1.0, text=f"{result.message} Training took {time.perf_counter() - clock:.2f} s.")
    state["transfer_run"] = {
        "names": names, "history": result.history, "head": trainer.model, "tail": None, "guess": guess,
        "head_weights": trainer.model.get_weights(), "model_name": model_name, "weights": weights_mode,
        "input_size": input_size, "val_features": features[n_train:], "y_val": y_val, "seed": seed,
        "train_pictures": [pictures[i] for i in train_idx], "y_train_originals": [labels[i] for i in train_idx],
        "val_pictures": [pictures[i] for i in val_idx], "store": store, "fine_tune": None,
        "probabilities": trainer.predict(features[n_train:])}

run = state.get("transfer_run")
if run is None or (run["model_name"], run["weights"], run["input_size"]) != (model_name, weights_mode, input_size):
    st.stop()

# ---- 4 · Results ---------------------------------------------------------------------------------------
st.header("4 · Results on the validation pictures")
if not just_trained:
    show_curves(st.empty(), run["history"])
predicted = run["probabilities"].argmax(axis=1)
accuracy = float((predicted == pd.Series(run["y_val"]).to_numpy()).mean())
stage = "head + fine-tuned block" if run["tail"] is not None else "frozen base + head"
feedback = grade_number(run["guess"], 100 * accuracy, close_within=10, digits=1)
VERDICT_BOX[feedback.verdict](f"Validation accuracy ({stage}): **{100 * accuracy:.1f} %** on {len(predicted)} "
                              f"pictures. {feedback.message}")
counts = transfer.confusion_matrix(run["y_val"], predicted, len(run["names"]))
frame = transfer.confusion_frame(counts, run["names"])
order = alt.Scale(domain=run["names"])
heat = alt.Chart(frame, title="Confusion matrix (validation)").mark_rect().properties(
    height=70 * len(run["names"])).encode(
    x=alt.X("predicted class:N", sort=run["names"]), y=alt.Y("true class:N", sort=run["names"]),
    color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None), tooltip=["true class", "predicted class",
                                                                                       "count"])
text = heat.mark_text(fontSize=16).encode(text="count:Q", color=alt.condition(
    alt.datum.count > counts.max() / 2, alt.value("white"), alt.value("black")))
left, right = st.columns([3, 2])
left.altair_chart(heat + text, width="stretch")
right.dataframe(transfer.per_class_table(counts, run["names"]), hide_index=True, column_config={
    "accuracy": st.column_config.NumberColumn("accuracy", format="percent")})
right.caption("Rows are the true classes, columns what the model said; the diagonal counts the right answers. "
              "A class's accuracy is its diagonal count over its row's total.")

# ---- 5 · Try a new picture -----------------------------------------------------------------------------
st.header("5 · Try a new picture")
how = st.segmented_control("New picture from", ["A new shape", "Upload", "Camera"], default="A new shape",
                           required=True, key="transfer_try_source")
picture = None
if how == "A new shape":
    left, right = st.columns(2)
    shape = left.selectbox("Shape", SHAPES, key="transfer_try_shape")
    picture = draw_shape(shape, seed=int(right.number_input("Picture seed", 0, 10_000, 999, key="transfer_try_seed")))
else:
    file = (st.file_uploader("A picture", type=UPLOAD_TYPES, key="transfer_try_upload") if how == "Upload"
            else st.camera_input("Take a photo", key="transfer_try_camera"))
    if file is not None:
        picture, problem = decoded(file.getvalue())
        if problem:
            st.error(problem, icon=":material/broken_image:")
if picture is not None:
    pixels = transfer.to_pixels(picture, input_size)[None]
    cut = transfer.feature_extractor(base_model, model_name, input_size=input_size, stage="cut")
    with heavy_work():
        if run["tail"] is None:
            probabilities = transfer.head_probabilities(run["head"], extractor(pixels, training=False))
        else:
            probabilities = transfer.head_probabilities(run["head"], cut(pixels, training=False), run["tail"])
    bars = pd.DataFrame({"class": run["names"], "probability": probabilities[0]})
    left, right = st.columns([1, 3])
    left.image(picture, caption="The picture", width="stretch")
    right.altair_chart(alt.Chart(bars, title="Class probabilities").mark_bar().encode(
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("class:N", sort=run["names"]),
        tooltip=["class", alt.Tooltip("probability:Q", format=".4f")]), width="stretch")

# ---- 6 · Fine-tuning -----------------------------------------------------------------------------------
st.header("6 · Fine-tune the last block (optional)")
block = transfer.BASES[model_name].block_label
st.markdown(
    f"After the head has learned, the Keras transfer-learning guide **unfreezes the last block** ({block}) and "
    "trains it together with the head at a very low learning rate (here 1e-5), so the pretrained features "
    "shift only a little towards your classes. Everyone on this server shares one copy of the base, which must "
    f"never change, so fine-tuning makes **your own copy of {block}** (more memory) and trains it with its "
    "gradients (more time). The layers before it stay frozen and shared: their outputs are computed once and "
    "cached, then only the copy and the head run in each epoch. It uses the original training pictures only.")
if model_name == "vgg16" and input_size != 128:
    st.info("Fine-tuning is offered at 128 px here, to keep its memory and time small. Choose 128 px above.")
else:
    tail_size = transfer.tail_parameter_count(base_model, model_name)
    ft_epochs = st.slider("Fine-tuning epochs", 1, transfer.MAX_FINE_TUNE_EPOCHS, 2, key="transfer_ft_epochs")
    st.caption(f"Trainable while fine-tuning: {tail_size:,} ({block} copy) + {run['head'].count_params():,} (head).")
    if st.button(f"Fine-tune {block} for {ft_epochs} epoch(s)", key="transfer_ft"):
        cut = transfer.feature_extractor(base_model, model_name, input_size=input_size, stage="cut")
        originals = run["train_pictures"] + run["val_pictures"]
        requests = [transfer.FeatureRequest(transfer.image_digest(p), p) for p in originals]
        bar = st.progress(0.0, text="Computing the frozen layers' outputs once…")
        maps, _ = transfer.cached_features(
            requests, cut, model_key=model_key + ("cut",), input_size=input_size,
            default_store=run.setdefault("cut_store", {}),
            on_batch=lambda done, total: bar.progress(done / total, text=f"Frozen layers: {done} of {total}"))
        n_tr = len(run["train_pictures"])
        tail = transfer.clone_tail(base_model, model_name)
        run["head"].set_weights(run["head_weights"])  # start again from the trained head
        rows, slot = [], st.empty()
        for row in transfer.fine_tune(tail, run["head"], maps[:n_tr], run["y_train_originals"], maps[n_tr:],
                                      run["y_val"], epochs=ft_epochs, seed=run["seed"]):
            rows.append(row)
            bar.progress(row["epoch"] / ft_epochs, text=f"Fine-tuning epoch {row['epoch']} of {ft_epochs}")
            show_curves(slot, pd.DataFrame(rows))
        with heavy_work():
            run["probabilities"] = transfer.head_probabilities(run["head"], maps[n_tr:], tail)
        run["tail"], run["fine_tune"] = tail, pd.DataFrame(rows)
        st.rerun()
    if run["fine_tune"] is not None:
        st.caption("Fine-tuning curves (the results above now use the fine-tuned model):")
        show_curves(st.empty(), run["fine_tune"])

# ---- 7 · Download --------------------------------------------------------------------------------------
st.header("7 · Take your model home")
st.markdown(
    f"The download is one Keras model from a {input_size}×{input_size} RGB picture (values 0–255) to the "
    f"probabilities of your {len(run['names'])} classes: preprocessing, the base, and your head. Load it with "
    "`keras.models.load_model(\"transfer_model.keras\")`. The class list gives the order of the outputs.")


def export_bytes(run=run, base=base_model, name=model_name, size=input_size) -> bytes:
    model = transfer.build_export_model(base, name, input_size=size, head=run["head"], tail=run["tail"])
    return transfer.keras_file_bytes(model)


left, right = st.columns(2)
left.download_button("Download the model (.keras)", export_bytes, file_name="transfer_model.keras",
                     mime="application/octet-stream", key="transfer_download_model", on_click="ignore")
right.download_button("Download the class list (.json)", transfer.classes_json(
    run["names"], model_name=model_name, input_size=input_size), file_name="classes.json",
    mime="application/json", key="transfer_download_classes", on_click="ignore")
