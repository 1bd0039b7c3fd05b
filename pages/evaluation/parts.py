"""The later sections of the validation page: per-class scores on the digits, and saving and loading a model."""
import numpy as np
import pandas as pd
import streamlit as st

from models.evaluation import metrics as m
from models.evaluation import saving
from models.evaluation.data import load
from pages.evaluation import charts
from pages.shared.feedback import plain

MAX_SHOWN = 24  # pictures listed for one confusion-matrix cell


def digit_picture(pixels: np.ndarray) -> np.ndarray:
    """An 8×8 digit (0-16, dark on white) as a 48×48 greyscale picture."""
    return np.kron(255 - pixels.reshape(8, 8) * 255 / 16, np.ones((6, 6))).astype(np.uint8)


def show_multiclass(run, key: str) -> None:
    st.header("5 · Many classes: per-class scores")
    classes = list(range(len(run.classes)))
    y = run.split.y["test"]
    st.markdown(f"A network trained on scikit-learn's handwritten digits, scored on its {len(y)} test pictures. "
                "Precision, recall and F1 per digit, then three averages (named as in scikit-learn's "
                "`classification_report`): **macro** (every class counts the same), "
                "**micro** (every picture counts the same; equal to accuracy here), **weighted** (classes weighted "
                "by their number of pictures, the *support*).")
    report = m.per_class_report(y, run.predicted, classes)
    left, right = st.columns(2)
    left.dataframe(report.style.format({n: "{:.3f}" for n in ("precision", "recall", "f1")}), hide_index=True,
                   height="content")
    matrix = m.confusion(y, run.predicted, classes)
    right.markdown("**Confusion matrix** (rows: true digit, columns: predicted)")
    right.altair_chart(charts.confusion_chart(matrix, run.classes), width="stretch")
    cells = {f"{t}-{p}": found for (t, p), found in m.confusion_examples(y, run.predicted, classes).items()}
    # Every cell can be picked (and linked): the mistakes first, most frequent on top, then the right answers.
    order = sorted(cells, key=lambda c: (c[0] == c[-1], not cells[c], -len(cells[c]) if c[0] != c[-1] else int(c[0])))
    st.session_state.setdefault(key + "cell", order[0])
    cell = st.selectbox("Show the pictures of one cell", order, key=key + "cell",
                        format_func=lambda c: f"true {c[0]} → predicted {c[-1]} ({len(cells[c])})")
    found = cells[cell][:MAX_SHOWN]
    x = load(run.settings.dataset)[0][run.split.test]
    if found:
        st.image([digit_picture(x[i]) for i in found], caption=[f"#{i}" for i in found], width=48)
    if len(cells[cell]) > MAX_SHOWN or not found:
        st.caption(f"The first {MAX_SHOWN} of {len(cells[cell])}." if found else "No test picture is in this cell.")


@st.cache_data(max_entries=4, show_spinner=False)
def round_trip(archive: bytes, x: np.ndarray) -> np.ndarray:
    """The outputs on `x` of the model loaded back from its .keras bytes."""
    return saving.predictions(saving.load_uploaded(archive), x)


def show_save_and_load(run, key: str) -> None:
    st.header("6 · Saving and loading a model")
    archive = run.archive
    st.markdown("`model.save('tumours.keras')` writes one file: a zip archive with the architecture, the Keras "
                "version and the weights. `keras.saving.load_model('tumours.keras')` builds the same model again.")
    st.download_button("Download the tumour classifier (.keras)", archive, "tumours.keras", "application/zip",
                       key=key + "download")
    st.dataframe(saving.archive_contents(archive), hide_index=True)
    again = round_trip(archive, run.split.x["test"])
    same = "identical" if np.array_equal(again, run.outputs) else "different"
    st.markdown(f"Loaded back from these {len(archive):,} bytes, the model gives **{same}** outputs on the "
                f"{len(again)} test tumours (largest difference {float(np.abs(again - run.outputs).max()):.1e}).")
    st.subheader("Load a .keras file")
    st.markdown(f"Files are loaded with `safe_mode=True`, after a check of the archive: a `Lambda` layer or any "
                f"other code is refused before anything runs, and so are files over "
                f"{saving.MAX_MODEL_BYTES // 2**20} MB and damaged ones.")
    upload = st.file_uploader("A .keras model file", type=["keras"], key=key + "upload")
    if upload is None:
        return
    try:
        model = saving.load_uploaded(upload.getvalue())
    except ValueError as problem:
        st.error(f"{plain(upload.name)}: {problem}", icon=":material/block:")
        return
    layers = pd.DataFrame([{"layer": layer.name, "type": type(layer).__name__,
                            "weights": int(layer.count_params())} for layer in model.layers])
    st.success(f"{plain(upload.name)} loaded: {len(model.layers)} layers, {model.count_params():,} weights.")
    st.dataframe(layers, hide_index=True)
    shape = tuple(model.inputs[0].shape[1:])
    if shape == (run.split.x["test"].shape[1],) and tuple(model.outputs[0].shape[1:]) == (1,):
        scores = saving.predictions(model, run.split.x["test"])[:, 0]
        accuracy = m.threshold_metrics(run.split.y["test"], np.clip(scores, 0, 1), 0.5)["accuracy"]
        st.markdown(f"It takes 30 measurements and gives one score, so it was scored on the test tumours: accuracy "
                    f"**{accuracy:.3f}** at threshold 0.5.")
    else:
        st.caption(f"Its input shape {shape} is not the tumours' (30,), so it is not scored here.")
