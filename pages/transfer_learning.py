"""Transfer learning: a frozen pretrained base, features computed once, and a small head trained on them."""
import pandas as pd
import streamlit as st

from models.images import transfer
from models.images import transfer_run as tr
from models.vision.pretrained import ARCHITECTURES, WeightsUnavailable
from models.vision.shapes import MAX_PER_CLASS, SHAPES
from pages.images.transfer_parts import (
    GATE,
    confusion_chart,
    curves,
    progress_view,
    show_download,
    show_fine_tuning,
    show_new_picture,
)
from pages.shared.errors import show_unexpected
from pages.shared.feedback import plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()
RANDOM = "Random weights (features are meaningless for real photos; only shows the mechanics)"
WEIGHTS = {"imagenet": "ImageNet weights (the real thing)", "random": RANDOM}
state = st.session_state


def main() -> None:
    st.title("Transfer learning")
    explain(
        "A network trained on ImageNet's 1.2 million photos has learned edges, textures and parts in its "
        "convolutional layers. **Transfer learning** keeps those layers **frozen** (their weights never change) "
        "and trains only a small new **head** for *your* classes. Like Teachable Machine, this page sends each "
        "picture through the frozen base **once**, keeps the resulting feature vector, and then trains the head "
        "on those vectors, so each epoch takes milliseconds instead of a full pass through the big network.")
    base = show_base()                                # 1 · the frozen base
    collection = show_classes()                       # 2 · your classes
    trained = show_training(base, collection)         # 3 · train the head
    run = state.get("transfer_run")
    if run is None or run.signature != base.signature or not GATE.revealed(run.signature):
        return
    show_results(run, redraw=not trained)             # 4 · results on the validation pictures
    show_new_picture(run)                             # 5 · try a new picture
    show_fine_tuning(run)                             # 6 · fine-tune the last block
    show_download(run)                                # 7 · take your model home


@st.cache_resource(show_spinner=False)
def shared_feature_store() -> dict:
    """Features of the built-in shapes: identical for every student, so computed once per server."""
    return {}


def show_base() -> tr.Base:
    st.header("1 · The frozen base")
    model_name = st.selectbox("Pretrained network", list(transfer.BASES), key="transfer_model",
                              format_func=lambda name: ARCHITECTURES[name].label)  # full width: never cut off
    left, right = st.columns(2)
    input_size = left.selectbox("Input size (pixels)", transfer.BASES[model_name].sizes,
                                key=f"transfer_size_{model_name}",
                                help="128 px costs about a third of 224 px: (128/224)² ≈ 0.33.")
    weights = right.radio("Weights", list(WEIGHTS), format_func=WEIGHTS.get, key="transfer_weights")
    if weights == "random":
        st.warning(f"**{RANDOM}.** The base has never seen a photo, so its features do not describe what is in "
                   "a picture. Use this mode to see how the pieces fit together, not to judge transfer learning.",
                   icon=":material/warning:")
    try:
        with st.spinner(f"Loading {model_name} (once per server)…"):
            base = tr.load_base(model_name, weights, input_size, failures=state.setdefault("transfer_missing", {}))
    except WeightsUnavailable as error:
        st.error(str(error), icon=":material/cloud_off:")
        st.code(error.command, language="bash")
        st.info("Until the weights are on the server, choose the random-weights mode above to see the mechanics.")
        if st.button("Check again", key="transfer_retry"):
            state["transfer_missing"].pop(model_name, None)
            st.rerun()
        st.stop()
    except Exception as error:  # a damaged weights file, memory: one clear line instead of a traceback
        show_unexpected(error, f"Loading {model_name}")
        st.stop()
    st.markdown(f"The base is {model_name}'s convolutional part (`include_top=False`), at {input_size}×{input_size} "
                f"pixels, ending in global average pooling: each picture becomes **{base.n_features} numbers**.")
    return base


def show_classes() -> tr.Collection:
    st.header("2 · Your classes")
    source = st.segmented_control("Pictures", ["Built-in shapes", "My own pictures"], default="Built-in shapes",
                                  required=True, key="transfer_source")
    if source == "Built-in shapes":
        left, right = st.columns(2)
        n_per_class = left.slider("Pictures per class", 6, MAX_PER_CLASS, 20, key="transfer_n_per_class")
        data_seed = right.number_input("Dataset seed", 0, 10_000, 0, key="transfer_data_seed")
        collection = tr.builtin_collection(*tr.builtin_shapes(n_per_class, int(data_seed)), shared_feature_store())
        st.image([p for c in range(len(SHAPES)) for p in collection.pictures[c * n_per_class:c * n_per_class + 6]],
                 width=64, caption=[name for name in SHAPES for _ in range(6)])
    else:
        collection = own_pictures()
    for problem in collection.problems:  # class and file names are the student's text: shown as typed
        st.error(f"{plain(problem.class_name)} · `{problem.file_name.replace('`', '')}`: {plain(problem.message)}",
                 icon=":material/broken_image:")
    try:
        return tr.checked(collection)
    except ValueError as error:
        st.warning(plain(error), icon=":material/info:")
        st.stop()


def own_pictures() -> tr.Collection:
    n_classes = st.number_input("Number of classes", transfer.MIN_CLASSES, transfer.MAX_CLASSES, 2,
                                key="transfer_n_classes")
    camera = state.setdefault("transfer_camera", {})
    names, uploads, columns = [], [], st.columns(int(n_classes))
    for c, column in enumerate(columns):
        names.append(column.text_input("Class name", f"Class {c + 1}", key=f"transfer_name_{c}",
                                       max_chars=tr.MAX_NAME_LENGTH))
        files = column.file_uploader("Pictures", accept_multiple_files=True, key=f"transfer_files_{c}")
        uploads += [tr.Upload(c, f.name, f.getvalue()) for f in files or []]
        uploads += [tr.Upload(c, f"camera photo {i + 1}", b) for i, b in enumerate(camera.get(c, []))]
    collection = tr.collect_uploads(names, uploads, state.setdefault("transfer_decoded", {}))
    for c, column in enumerate(columns):
        column.caption(f"{collection.count(c)} picture(s)")
    with st.expander("Add pictures with the camera"):
        target = st.selectbox("Class", range(int(n_classes)), format_func=lambda c: names[c], key="transfer_cam_class")
        shot = st.camera_input("Take a photo", key="transfer_cam")
        if shot is not None and st.button("Add this photo", key="transfer_cam_add"):
            camera.setdefault(target, []).append(shot.getvalue())
        if st.button("Remove all camera photos", key="transfer_cam_clear"):
            camera.clear()
    return collection


def show_training(base: tr.Base, collection: tr.Collection) -> bool:
    st.header("3 · Train the head")
    cols = st.columns(4)
    epochs = cols[0].slider("Epochs", 1, 200, 40, key="transfer_epochs")
    units = cols[1].select_slider("Hidden units", [16, 32, 64, 128, 256], 64, key="transfer_units")
    dropout = cols[2].slider("Dropout rate", 0.0, 0.7, 0.3, 0.05, key="transfer_dropout")
    rate = cols[3].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 1e-3, key="transfer_lr",
                                 format_func=lambda v: f"{v:g}")
    cols = st.columns(3)
    share = cols[0].slider("Validation share", 0.1, 0.5, 0.25, 0.05, key="transfer_val_share")
    copies = cols[1].slider("Augmented copies per training picture (0 = off)", 0, transfer.MAX_COPIES, 0,
                            key="transfer_copies")
    seed = int(cols[2].number_input("Seed", 0, 10_000, 0, key="transfer_seed"))
    if copies:
        st.info(f"Augmentation (random flip, rotation up to 18°, zoom up to 15%) makes {copies} new picture(s) from "
                "each training picture **before** training. Each copy is a different picture, so each needs its own "
                f"pass through the frozen base: feature extraction costs {1 + copies}× as much. Validation pictures "
                "are never augmented.", icon=":material/auto_awesome_mosaic:")
    n_in, n_out, n_base = base.n_features, len(collection.names), base.weight_count
    n_head = tr.head_weight_count(n_in, n_out, units)
    st.table(pd.DataFrame({"part": ["Frozen base (shared, never trained)", "Head (trainable)", "Trainable share"],
                           "weights": [f"{n_base:,}", f"{n_head:,}", f"{100 * n_head / (n_base + n_head):.2f} %"]}
                          ).set_index("part"))
    st.caption(f"Head: Dense({units}, ReLU) → Dropout({dropout:g}) → Dense({n_out}, softmax) on the {n_in} features: "
               f"{n_in}×{units} + {units} + {units}×{n_out} + {n_out} = {n_head:,} weights. "
               "Loss: categorical cross-entropy; optimizer: Adam.")
    guess = st.number_input(f"Predict first: what validation accuracy (%) will the head reach after {epochs} epochs?",
                            0.0, 100.0, 50.0, 5.0, key="transfer_guess")
    GATE.offer_to_class()
    if not st.button("Train the head", type="primary", key="transfer_train"):
        return False
    settings = tr.HeadSettings(epochs, units, dropout, rate, share, copies, seed)
    try:
        run = tr.train_run(base, collection, settings, guess=guess, feature_store=state.setdefault(
            "transfer_features", {}), trainers=state.setdefault("transfer_trainers", {}),
            on_progress=progress_view("Passing pictures through the frozen base…"))
    except Exception as error:  # the student sees one line; the teacher's terminal gets the traceback
        show_unexpected(error, "Training the head")
        return False
    state["transfer_run"] = run
    GATE.reveal(run.signature, run.feedback(), answer=guess)
    return True


def show_results(run: tr.TransferRun, *, redraw: bool) -> None:
    st.header("4 · Results on the validation pictures")
    if redraw:  # a run that has just trained drew its curves while training
        curves(st.empty(), run.history)
    show_verdict(GATE.feedback(), f"Validation accuracy ({run.stage}): **{100 * run.accuracy:.1f} %** on "
                                  f"{len(run.y_val)} pictures.")
    st.altair_chart(confusion_chart(run.counts, list(run.names)), width="content")
    st.dataframe(tr.per_class_table(run.counts, run.names), hide_index=True, column_config={
        "class": st.column_config.TextColumn("class", width="medium"),
        "accuracy": st.column_config.NumberColumn("accuracy", format="percent", width="small")})
    st.caption("Rows are the true classes, columns what the model said; the diagonal counts the right answers. "
               "A class's accuracy is its diagonal count over its row's total.")


main()
