"""Page parts of the transfer-learning page: own pictures, charts, progress view, the sections after the results."""
import altair as alt
import pandas as pd
import streamlit as st

from models.images import transfer
from models.images import transfer_run as tr
from models.vision.shapes import draw_shape
from pages.images.transfer_link import PAGE, TRY_SOURCES, K, span
from pages.shared import links
from pages.shared.charts import curve_chart, long_curves
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, plain

# Predict first: a run's results show once Train has locked in its guess.
GATE = RevealGate("transfer", question="transfer_learning.accuracy")
state = st.session_state


def own_pictures() -> tr.Collection:
    n_classes = st.number_input("Number of classes", *span(K + "n_classes"), key=K + "n_classes")
    camera = state.setdefault("transfer_camera", {})
    names, uploads, columns = [], [], st.columns(int(n_classes))
    for c, column in enumerate(columns):
        names.append(column.text_input("Class name", key=K + f"name_{c}", max_chars=tr.MAX_NAME_LENGTH))
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


def show_class_pictures(collection: tr.Collection, *, per_class: int, width: int) -> None:
    """The first pictures of each class, a row per class, captioned with its name (shown as typed)."""
    for c, name in enumerate(collection.names):
        chosen = [picture for picture, label in zip(collection.pictures, collection.labels) if label == c][:per_class]
        if chosen:
            st.image(chosen, width=width, caption=[plain(name)] * len(chosen))


def show_link_box(*, own: bool) -> None:
    links.link_box(PAGE)
    if own:
        st.caption("Pictures cannot travel in a link: it opens with the built-in shapes. Your class names come "
                   "along, ready for your pictures.")


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
    how = st.segmented_control("New picture from", TRY_SOURCES, default=TRY_SOURCES[0], required=True,
                               key="transfer_try_source")
    picture = None
    if how == TRY_SOURCES[0]:
        left, right = st.columns(2)
        shape = left.selectbox("Shape", span(K + "try_shape"), key=K + "try_shape")
        picture = draw_shape(shape, seed=int(right.number_input("Picture seed", *span(K + "try_seed"),
                                                                key=K + "try_seed")))
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
            tooltip=["class", alt.Tooltip("probability:Q", format=".4f")]).properties(
            height=alt.Step(32)), width="stretch")  # one readable row per class, 2 to 5 classes


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
    epochs = st.slider("Fine-tuning epochs", *span(K + "ft_epochs"), key=K + "ft_epochs")
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
