"""Classify an image: a pretrained ImageNet CNN's top-5, where it looked (Grad-CAM) and what its layers see."""
import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from models.core import guess
from models.vision import pretrained
from pages.shared.image_input import pick_image
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

RANDOM_BANNER = "RANDOM WEIGHTS — these predictions are meaningless; this only shows the pipeline"
VERDICT_BOX = {"spot on": st.success, "close": st.info, "off": st.warning}
LABELS = pretrained.class_labels()


@st.cache_resource(show_spinner=False, max_entries=4)
def shared_model(model_name: str, weights: str | None):
    """One frozen copy per server process, shared by every student; never trained or changed."""
    model = pretrained.load_model(model_name, weights=weights)
    pretrained.prepare_analysis(model, model_name)
    return model


@st.cache_data(ttl=30, show_spinner=False)
def weights_check(model_name: str) -> tuple[str, str | None]:
    """'disk', 'download' or 'missing' with the reason; checked at most every 30 s, not on every click."""
    try:
        return ("disk" if pretrained.weights_source(model_name) else "download"), None
    except pretrained.WeightsUnavailable as error:
        return "missing", str(error)


def imagenet_model(model_name: str, arch):
    """The model with real weights, or None after explaining clearly why there is none."""
    status, problem = weights_check(model_name)
    if status != "missing":
        try:
            if pretrained.is_loaded(model_name):
                return shared_model(model_name, "imagenet")
            text = (f"Downloading the {arch.builder} ImageNet weights ({arch.download_mb} MB) once; later "
                    "visits load them from disk…" if status == "download"
                    else f"Loading {arch.builder} (once per server)…")
            with st.spinner(text, show_time=True):
                return shared_model(model_name, "imagenet")
        except pretrained.WeightsUnavailable as error:
            weights_check.clear()
            problem = str(error)
    st.error(f"**The ImageNet weights for {arch.builder} are missing.** {problem}", icon=":material/cloud_off:")
    st.markdown("**The fix**, once, on a computer with internet access (from the app's folder):")
    st.code(pretrained.PREFETCH_COMMAND, language="bash")
    st.markdown(
        f"It saves the files in the Keras cache (`$KERAS_HOME/models`, by default `~/.keras/models`); this page "
        f"finds them within 30 seconds. Other ways: start the app with **`{arch.env_var}`**`=/path/to/"
        f"{arch.weights_file}` (a copied file), or with **`KERAS_HOME`**`=/some/folder` when "
        f"`/some/folder/models/` holds the file copied from a machine that ran the command.")
    return None


def hide_answer() -> None:
    st.session_state.pop("classify_revealed_for", None)


st.title("Classify an image")
st.markdown(
    "A **pretrained CNN** has already learned from 1.28 million ImageNet photos to tell 1000 classes apart "
    "(dog breeds, cups, rockets… but no plain “person”). Give it any picture: it resizes it to 224×224, "
    "passes it through its layers and ends in a softmax over the 1000 classes. Then see **where it looked** "
    "(Grad-CAM) and **what its layers respond to** (feature maps).")

# ---- Inputs ---------------------------------------------------------------------------------------
st.header("1 · Model and picture")
model_name = st.segmented_control(
    "Model", list(pretrained.ARCHITECTURES), default="vgg16", required=True, key="classify_model",
    format_func=lambda key: pretrained.ARCHITECTURES[key].label)
arch = pretrained.architecture(model_name)
st.caption("Both reach about 71% top-1 and 90% top-5 accuracy on ImageNet's validation set (Keras' figures). "
           "MobileNetV2 is about 40 times smaller and much faster: choose it on older laptops.")
image, picture_label = pick_image("classify", default_sample="photo_cat")
model = imagenet_model(model_name, arch)
random_weights = model is None
if random_weights:
    if not st.toggle("Show the pipeline with random weights instead (the predictions will be meaningless)",
                     key="classify_random_weights"):
        st.stop()
    with st.spinner(f"Building {arch.builder} with random weights…"):
        model = shared_model(model_name, None)
    st.error(f"## {RANDOM_BANNER}", icon=":material/warning:")
if image is None:
    st.stop()
batch, seen = pretrained.model_input(image, model_name)
signature = (hashlib.sha256(seen.tobytes()).hexdigest(), model_name, random_weights)


def results():
    """Probabilities, top-5 and analysis for this picture, computed once and kept for this student."""
    kept = st.session_state.get("classify_result")
    if kept is None or kept[0] != signature:
        with st.spinner(f"Running {arch.builder} on {picture_label}…"):
            probabilities = pretrained.predict(model, batch)[0]
            top = pretrained.top_predictions(probabilities, pretrained.TOP)
            analysis = pretrained.analyse(model, batch, [p.index for p in top], model_name)
        kept = st.session_state["classify_result"] = (signature, probabilities, top, analysis)
    return kept[1:]


# ---- Predict first --------------------------------------------------------------------------------
skip_guess = st.toggle("Teacher mode: show the answer without asking for a guess", key="classify_skip_guess")
revealed = skip_guess or st.session_state.get("classify_revealed_for") == signature
if not revealed:
    st.header("2 · Predict first")
    st.markdown("Before the model answers: **which class will it put first**, and **how sure** (its top "
                "probability, 0 to 1) will it be? Type in the box to search the 1000 classes.")
    left, right = st.columns([3, 2])
    guessed_class = left.selectbox("Top class", sorted(range(len(LABELS)), key=lambda i: LABELS[i].lower()),
                                   index=None, format_func=LABELS.__getitem__, placeholder="Type a class, e.g. cat",
                                   key="classify_guess_class")
    guessed_p = right.slider("Its probability", 0.0, 1.0, 0.5, 0.05, key="classify_guess_p")
    if st.button("Lock in my guess and reveal", type="primary", key="classify_reveal"):
        if guessed_class is None:
            st.warning("Pick the class you expect first (type part of its name in the box).")
        else:
            probabilities, top, _analysis = results()
            rank, ties = pretrained.rank_of(probabilities, guessed_class)
            st.session_state["classify_feedback"] = (
                guess.grade_choice(LABELS[guessed_class], top[0].name),
                guess.grade_number(guessed_p, top[0].probability, close_within=0.1, digits=3),
                f"The model gave “{LABELS[guessed_class]}” a probability of {probabilities[guessed_class]:.4f} "
                f"(rank {rank} of {len(LABELS)}" + (f", tied with {ties} other classes)." if ties else ")."))
            st.session_state["classify_revealed_for"] = signature
            st.rerun()  # draw the page again without the answered question
if not revealed:
    st.stop()

# ---- The answer -----------------------------------------------------------------------------------
probabilities, top, analysis = results()
if st.session_state.get("classify_revealed_for") == signature:
    choice, sureness, rank_note = st.session_state["classify_feedback"]
    st.header("2 · Your guess")
    VERDICT_BOX[choice.verdict](choice.message)
    VERDICT_BOX[sureness.verdict](sureness.message)
    st.caption(rank_note)
    st.button("Hide the answer and guess again", key="classify_hide", on_click=hide_answer)

st.header("3 · What the model says, and where it looked")
if random_weights:
    st.warning(RANDOM_BANNER, icon=":material/warning:")
table = pd.DataFrame({"class": [p.name for p in top], "probability": [p.probability for p in top]})
bars = alt.Chart(table).mark_bar(color="#4c78a8").encode(
    y=alt.Y("class:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
    x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
    tooltip=["class", alt.Tooltip("probability:Q", format=".4f")])
labels = bars.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".4f"))
title = ["Top 5 of 1000 classes"] + (["RANDOM WEIGHTS: meaningless"] if random_weights else [])
st.altair_chart((bars + labels).properties(title=alt.TitleParams(title, anchor="start"), height=320),
                width="stretch", alt=f"Bar chart of the five most likely classes; the first is {top[0].name}.")
st.caption(f"Softmax probabilities. The other {len(LABELS) - len(top)} classes share the remaining "
           f"{max(0.0, 1 - sum(p.probability for p in top)):.4f}.")
cam_class = st.selectbox("Grad-CAM heatmap (right) for the class", [p.index for p in top],
                         format_func=LABELS.__getitem__, key="classify_cam_class")
seen_col, cam_col = st.columns(2)
seen_col.image(seen, caption=f"What the model saw: {arch.input_size}×{arch.input_size}, the short side "
               "scaled to 224 and the centre cut out", width="stretch")
cam_col.image(pretrained.overlay_heatmap(seen, analysis.heatmaps[cam_class]), width="stretch",
              caption=f"Grad-CAM: yellow raised “{LABELS[cam_class]}” most")
side = analysis.heatmaps[cam_class].shape[0]
st.markdown(
    f"**Grad-CAM** (Selvaraju et al., 2017) takes the last conv layer, `{arch.last_conv_layer}`: {side}×{side} "
    "positions, each a cell of the picture. It asks how the chosen class's score (before softmax) would change "
    "if each feature map grew, averages that gradient over the map to weigh the map, adds the weighted maps, "
    f"keeps the positive part and stretches the {side}×{side} result over the picture. It shows evidence *for* "
    "the class; it is a rough guide, not proof of what the network “understood”.")

st.header("4 · What a CNN does, layer by layer")
st.markdown(
    "Each conv layer slides many small filters over its input; each filter gives one **feature map**, bright "
    "where its pattern appears. Early layers respond to edges and colours, middle layers to textures and "
    "simple shapes, late layers to parts of objects. Pooling and strides shrink the maps while the number of "
    "channels grows. Below: the 8 channels with the strongest average response to this picture in three "
    "layers, early to late (black = 0, white = the layer's strongest response here).")
for column, layer in zip(st.columns(len(analysis.layers)), analysis.layers):
    height, width, _count = layer.maps.shape
    column.image(pretrained.tile_maps(layer.maps), width="stretch",
                 caption=f"{layer.layer}: {height}×{width} maps, {layer.total_channels} channels; shown: "
                         f"{', '.join(map(str, layer.channels))}")
if random_weights:
    st.caption("With random weights the filters are random too: the maps still show the mechanics, "
               "but not learned edges, textures or parts.")
