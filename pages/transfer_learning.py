"""Transfer learning: a frozen pretrained base, features computed once, and a small head trained on them."""
import altair as alt
import pandas as pd
import streamlit as st

from models.images import transfer
from models.images import transfer_run as tr
from models.vision.pretrained import ARCHITECTURES, WeightsUnavailable
from models.vision.shapes import MAX_PER_CLASS, SHAPES, draw_shape
from pages.shared.charts import curve_chart, long_curves
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()
RANDOM = "Random weights (features are meaningless for real photos; only shows the mechanics)"
WEIGHTS = {"imagenet": "ImageNet weights (the real thing)", "random": RANDOM}
GATE = RevealGate("transfer")  # predict first: a run's results show once Train has locked in its guess
state = st.session_state


def main() -> None:
    st.title("Transfer learning")
    st.markdown(
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


def curves(slot, history: pd.DataFrame) -> None:
    with slot.container():
        for column, metric in zip(st.columns(2), ("loss", "accuracy")):
            column.markdown("**Loss** (categorical cross-entropy)" if metric == "loss"
                            else "**Accuracy** (share of pictures classified right)")
            column.altair_chart(curve_chart(long_curves(history, metric), value=metric, points=len(history) <= 30,
                                            y_domain=(0, 1) if metric == "accuracy" else None), width="stretch")


def progress_view(text: str):
    """A progress bar, a line for notes and a slot for curves, driven by the runs' Progress reports."""
    bar, note, slot = st.progress(0.0, text=text), st.empty(), st.empty()

    def show(progress: tr.Progress) -> None:
        bar.progress(progress.fraction, text=progress.text)
        if progress.note:
            note.caption(progress.note)
        if progress.history is not None:
            curves(slot, progress.history)
    return show


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
    GATE.reveal(run.signature, run.feedback())
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


def confusion_chart(counts, names: list[str]) -> alt.LayerChart:
    """One square cell per pair of classes, sized by their number, with every count written in its cell."""
    axis = {"labelLimit": 150, "labelFontSize": 12, "titleFontSize": 13}
    chart = alt.Chart(tr.confusion_frame(counts, names)).encode(
        x=alt.X("predicted class:N", sort=names, axis=alt.Axis(labelAngle=-35, orient="top", **axis)),
        y=alt.Y("true class:N", sort=names, axis=alt.Axis(**axis)), tooltip=["true class", "predicted class", "count"])
    heat = chart.mark_rect(stroke="white").encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"),
                                                                  legend=None))
    text = chart.mark_text(fontSize=18, fontWeight="bold").encode(text="count:Q", color=alt.condition(
        alt.datum.count > counts.max() / 2, alt.value("white"), alt.value("black")))
    step = 72 if len(names) <= 3 else 56
    return alt.layer(heat, text, title="Confusion matrix (validation)").properties(width=alt.Step(step),
                                                                                  height=alt.Step(step))


def show_new_picture(run: tr.TransferRun) -> None:
    st.header("5 · Try a new picture")
    how = st.segmented_control("New picture from", ["A new shape", "Upload", "Camera"], default="A new shape",
                               required=True, key="transfer_try_source")
    picture = None
    if how == "A new shape":
        left, right = st.columns(2)
        shape = left.selectbox("Shape", SHAPES, key="transfer_try_shape")
        picture = draw_shape(shape, seed=int(right.number_input("Picture seed", 0, 10_000, 999,
                                                                key="transfer_try_seed")))
    else:
        file = (st.file_uploader("A picture", key="transfer_try_upload") if how == "Upload"
                else st.camera_input("Take a photo", key="transfer_try_camera"))
        if file is not None:
            picture, problem = tr.decode(file.getvalue(), state.setdefault("transfer_decoded", {}))
            if problem:
                st.error(plain(problem), icon=":material/broken_image:")
    if picture is not None:
        bars = pd.DataFrame({"class": run.names, "probability": tr.picture_probabilities(run, picture)})
        left, right = st.columns([1, 3])
        left.image(picture, caption="The picture", width="stretch")
        right.altair_chart(alt.Chart(bars, title="Class probabilities").mark_bar().encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("class:N", sort=list(run.names), axis=alt.Axis(labelLimit=150)),
            tooltip=["class", alt.Tooltip("probability:Q", format=".4f")]), width="stretch")


def show_fine_tuning(run: tr.TransferRun) -> None:
    st.header("6 · Fine-tune the last block (optional)")
    block = transfer.BASES[run.base.model_name].block_label
    st.markdown(
        f"After the head has learned, the Keras transfer-learning guide **unfreezes the last block** ({block}) and "
        "trains it together with the head at a very low learning rate (here 1e-5), so the pretrained features "
        "shift only a little towards your classes. Everyone on this server shares one copy of the base, which must "
        f"never change, so fine-tuning makes **your own copy of {block}** (more memory) and trains it with its "
        "gradients (more time). The layers before it stay frozen and shared: their outputs are computed once and "
        "cached, then only the copy and the head run in each epoch. It uses the original training pictures only.")
    if run.base.model_name == "vgg16" and run.base.input_size != 128:
        st.info("Fine-tuning is offered at 128 px here, to keep its memory and time small. Choose 128 px above.")
        return
    tail_size = transfer.tail_parameter_count(run.base.model, run.base.model_name)
    epochs = st.slider("Fine-tuning epochs", 1, transfer.MAX_FINE_TUNE_EPOCHS, 2, key="transfer_ft_epochs")
    st.caption(f"Trainable while fine-tuning: {tail_size:,} ({block} copy) + {run.head.count_params():,} (head).")
    if st.button(f"Fine-tune {block} for {epochs} epoch(s)", key="transfer_ft"):
        try:
            tuned = tr.fine_tune_run(run, epochs=epochs, on_progress=progress_view("Frozen layers' outputs, once…"))
        except Exception as error:
            show_unexpected(error, "Fine-tuning")
        else:
            state["transfer_run"] = tuned
            GATE.reveal(tuned.signature, tuned.feedback())
            st.rerun()
    if run.fine_tune is not None:
        st.caption("Fine-tuning curves (the results above now use the fine-tuned model):")
        curves(st.empty(), run.fine_tune)


def show_download(run: tr.TransferRun) -> None:
    st.header("7 · Take your model home")
    size = run.base.input_size
    st.markdown(
        f"The download is one Keras model from a {size}×{size} RGB picture (values 0–255) to the probabilities of "
        f"your {len(run.names)} classes: preprocessing, the base, and your head. Load it with "
        "`keras.models.load_model(\"transfer_model.keras\")`. The class list gives the order of the outputs.")
    left, right = st.columns(2)
    left.download_button("Download the model (.keras)", lambda: tr.export_bytes(run), file_name="transfer_model.keras",
                         mime="application/octet-stream", key="transfer_download_model", on_click="ignore")
    right.download_button("Download the class list (.json)", transfer.classes_json(
        list(run.names), model_name=run.base.model_name, input_size=size), file_name="classes.json",
        mime="application/json", key="transfer_download_classes", on_click="ignore")


main()
