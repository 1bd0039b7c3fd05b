"""The classify page's results: the top-5 bars, Grad-CAM for a chosen class, and the first layers' feature maps."""
import altair as alt
import pandas as pd
import streamlit as st

from models.vision import gradcam, pretrained

RANDOM_BANNER = "RANDOM WEIGHTS — these predictions are meaningless; this only shows the pipeline"
LABELS = pretrained.class_labels()


def show_top5(top, picture_label, random_weights) -> None:
    st.subheader("2 · What the model says")
    if random_weights:
        st.warning(RANDOM_BANNER, icon=":material/warning:")
    table = pd.DataFrame({"class": [p.name for p in top], "probability": [p.probability for p in top]})
    bars = alt.Chart(table).mark_bar(color="#4c78a8").encode(
        y=alt.Y("class:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
        tooltip=["class", alt.Tooltip("probability:Q", format=".4f")])
    labels = bars.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".4f"))
    title = ["Top 5 of 1000 classes"] + (["RANDOM WEIGHTS: meaningless"] if random_weights else [])
    st.altair_chart((bars + labels).properties(title=alt.TitleParams(title, anchor="start"), height=320),
                    width="stretch", alt=f"Bar chart of the five most likely classes; the first is {top[0].name}.")
    st.caption(f"Softmax probabilities for {picture_label}. The other {len(LABELS) - len(top)} classes share "
               f"the remaining {max(0.0, 1 - sum(p.probability for p in top)):.4f}.")


def show_grad_cam(top, analysis, seen, arch, random_weights) -> None:
    st.header("3 · Where it looked")
    cam_class = st.selectbox("Grad-CAM heatmap (right) for the class", [p.index for p in top],
                             format_func=LABELS.__getitem__, key="classify_cam_class")
    heatmap = analysis.heatmaps[cam_class]
    empty = gradcam.heatmap_is_empty(heatmap)
    seen_col, cam_col = st.columns(2)
    seen_col.image(seen, caption=f"What the model saw: {arch.input_size}×{arch.input_size}, the short side "
                   "scaled to 224 and the centre cut out", width="stretch")
    cam_col.image(gradcam.overlay_heatmap(seen, heatmap), width="stretch",
                  caption=(f"Grad-CAM: no position raised “{LABELS[cam_class]}”, so nothing is coloured" if empty
                           else f"Grad-CAM: yellow raised “{LABELS[cam_class]}” most"))
    if empty:
        st.info(f"**This heatmap is empty.** For “{LABELS[cam_class]}” the weighted feature maps add up to zero "
                "or less at every position, and Grad-CAM keeps only the positive part, so there is nothing to "
                "stretch to 0…1 and nothing to colour."
                + (" With random weights this happens for many classes; it says nothing about the picture."
                   if random_weights else " Try another of the top classes."), icon=":material/info:")
    side = heatmap.shape[0]
    st.markdown(
        f"**Grad-CAM** (Selvaraju et al., 2017) takes the last conv layer, `{arch.last_conv_layer}`: {side}×{side} "
        "positions, each a cell of the picture. It asks how the chosen class's score (before softmax) would "
        "change if each feature map grew, averages that gradient over the map to weigh the map, adds the "
        f"weighted maps, keeps the positive part and stretches the {side}×{side} result over the picture. It "
        "shows evidence *for* the class; it is a rough guide, not proof of what the network “understood”.")


def show_feature_maps(analysis, random_weights) -> None:
    st.header("4 · What a CNN does, layer by layer")
    st.markdown(
        "Each conv layer slides many small filters over its input; each filter gives one **feature map**, bright "
        "where its pattern appears. Early layers respond to edges and colours, middle layers to textures and "
        "simple shapes, late layers to parts of objects. Pooling and strides shrink the maps while the number of "
        "channels grows. Below: the 8 channels with the strongest average response to this picture in three "
        "layers, early to late (black = 0, white = the layer's strongest response here).")
    for column, layer in zip(st.columns(len(analysis.layers)), analysis.layers):
        height, width, _count = layer.maps.shape
        column.image(gradcam.tile_maps(layer.maps), width="stretch",
                     caption=f"{layer.layer}: {height}×{width} maps, {layer.total_channels} channels; shown: "
                             f"{', '.join(map(str, layer.channels))}")
    if random_weights:
        st.caption("With random weights the filters are random too: the maps still show the mechanics, "
                   "but not learned edges, textures or parts.")
