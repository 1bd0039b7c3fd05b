"""The classify page's results: the top-5 bars, Grad-CAM for a chosen class, and the first layers' feature maps."""
import io
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.vision import gradcam, pretrained
from pages.shared.charts import encode

RANDOM_BANNER = "RANDOM WEIGHTS — these predictions are meaningless; this only shows the pipeline"
LABELS = pretrained.class_labels()


def jpeg(image) -> bytes:
    """An image encoded once, as st.image would encode it on every rerun (JPEG, quality 100)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=100)
    return buffer.getvalue()


@dataclass(frozen=True)
class LayerTiles:
    layer: str
    side: tuple[int, int]
    total_channels: int
    channels: tuple[int, ...]
    picture: bytes  # the tiled maps, encoded


@dataclass(frozen=True)
class Result:
    """What one student's answer needs to be redrawn, and no more: a few kB of numbers and encoded pictures."""
    signature: tuple
    probabilities: np.ndarray  # (1000,) float32
    top: list
    heatmaps: dict  # class index -> small (e.g. 14×14) Grad-CAM map in [0, 1]
    layers: tuple[LayerTiles, ...]
    overlays: dict = field(default_factory=dict)  # class index -> encoded overlay, made when first shown
    charts: dict = field(default_factory=dict)  # (chart, options) -> its encoded spec, made when first shown

    @classmethod
    def of(cls, signature, probabilities, top, analysis) -> "Result":
        layers = tuple(LayerTiles(layer.layer, layer.maps.shape[:2], layer.total_channels, layer.channels,
                                  jpeg(gradcam.tile_maps(layer.maps))) for layer in analysis.layers)
        return cls(signature, np.asarray(probabilities, dtype="float32"), list(top), dict(analysis.heatmaps), layers)

    def overlay(self, seen, class_index: int) -> bytes:
        if class_index not in self.overlays:
            self.overlays[class_index] = jpeg(gradcam.overlay_heatmap(seen, self.heatmaps[class_index]))
        return self.overlays[class_index]


def top5_chart(top, random_weights) -> alt.LayerChart:
    table = pd.DataFrame({"class": [p.name for p in top], "probability": [p.probability for p in top]})
    bars = alt.Chart(table).mark_bar(color="#4c78a8").encode(
        y=alt.Y("class:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
        tooltip=["class", alt.Tooltip("probability:Q", format=".4f")])
    labels = bars.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".4f"))
    title = ["Top 5 of 1000 classes"] + (["RANDOM WEIGHTS: meaningless"] if random_weights else [])
    return (bars + labels).properties(title=alt.TitleParams(title, anchor="start"), height=320)


def show_top5(result: Result, picture_label, random_weights) -> None:
    """The top-5 bars; the chart is built and encoded once per result, not on every rerun."""
    st.subheader("2 · What the model says")
    if random_weights:
        st.warning(RANDOM_BANNER, icon=":material/warning:")
    top = result.top
    key = ("top5", random_weights)
    if key not in result.charts:
        result.charts[key] = encode(top5_chart(top, random_weights))
    st.vega_lite_chart(dict(result.charts[key]), width="stretch",
                       alt=f"Bar chart of the five most likely classes; the first is {top[0].name}.")
    st.caption(f"Softmax probabilities for {picture_label}. The other {len(LABELS) - len(top)} classes share "
               f"the remaining {max(0.0, 1 - sum(p.probability for p in top)):.4f}.")


def show_grad_cam(result: Result, seen, seen_jpeg, arch, random_weights) -> None:
    st.header("3 · Where it looked")
    grad_cam_view(result, seen, seen_jpeg, arch, random_weights)


@st.fragment
def grad_cam_view(result: Result, seen, seen_jpeg, arch, random_weights) -> None:
    """Choosing another class reruns only this part: its pictures are made once per class and kept."""
    cam_class = st.selectbox("Grad-CAM heatmap (right) for the class", [p.index for p in result.top],
                             format_func=LABELS.__getitem__, key="classify_cam_class")
    heatmap = result.heatmaps[cam_class]
    empty = gradcam.heatmap_is_empty(heatmap)
    seen_col, cam_col = st.columns(2)
    seen_col.image(seen_jpeg, caption=f"What the model saw: {arch.input_size}×{arch.input_size}, the short side "
                   "scaled to 224 and the centre cut out", width="stretch")
    cam_col.image(result.overlay(seen, cam_class), width="stretch",
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


def show_feature_maps(result: Result, random_weights) -> None:
    st.header("4 · What a CNN does, layer by layer")
    st.markdown(
        "Each conv layer slides many small filters over its input; each filter gives one **feature map**, bright "
        "where its pattern appears. Early layers respond to edges and colours, middle layers to textures and "
        "simple shapes, late layers to parts of objects. Pooling and strides shrink the maps while the number of "
        "channels grows. Below: the 8 channels with the strongest average response to this picture in three "
        "layers, early to late (black = 0, white = the layer's strongest response here).")
    for column, layer in zip(st.columns(len(result.layers)), result.layers):
        height, width = layer.side
        column.image(layer.picture, width="stretch",
                     caption=f"{layer.layer}: {height}×{width} maps, {layer.total_channels} channels; shown: "
                             f"{', '.join(map(str, layer.channels))}")
    if random_weights:
        st.caption("With random weights the filters are random too: the maps still show the mechanics, "
                   "but not learned edges, textures or parts.")
