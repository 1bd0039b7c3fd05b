"""The pictures of the over/underfitting and dropout pages: curves, decision boundary, fitted curve, dropout mask."""
from collections.abc import Callable, Hashable

import altair as alt
import pandas as pd

from models.training import overfitting as ov
from pages.shared.charts import curve_chart, encode, long_curves

SHAPES = alt.Scale(domain=["training", "validation"], range=["circle", "triangle-up"])


class ChartMemo:
    """The encoded charts (Vega-Lite specs, data as Arrow bytes) that a session's page drew on its last run.

    Building and validating an Altair chart costs 10-30 ms; a rerun that changes nothing re-sends the stored
    spec instead. Only the charts the last run showed are kept, in the session, so they go with it.
    """

    def __init__(self):
        self._kept, self._shown = {}, {}

    def draw(self, where, key: Hashable, build: Callable[[], alt.TopLevelMixin], **options) -> None:
        """Draw `build()` in `where` (st or a container), encoding it only when `key` was not drawn last time."""
        spec = self._shown.get(key) or self._kept.get(key)
        if spec is None:
            spec = encode(build())
        self._shown[key] = spec
        where.vega_lite_chart(dict(spec), **options)

    def end_run(self) -> None:
        """Keep what this page run showed, drop the rest (call once at the end of the page)."""
        self._kept, self._shown = self._shown, {}

    def __len__(self) -> int:
        return len(self._kept | self._shown)


def loss_chart(history: pd.DataFrame, epochs: int, *, marks=None, height=320, y_max=None, metric="loss"):
    """One run's training and validation curves (long runs thinned for drawing)."""
    data = long_curves(ov.thin_history(history), metric)
    domain = (0, 1) if metric == "accuracy" else (0, y_max) if y_max else None
    return curve_chart(data, value=metric, epochs=epochs, marks=marks, height=height, y_domain=domain)


def overlay_chart(runs: list, *, with_training: bool) -> alt.Chart | None:
    """Validation (and training, dashed) loss of several runs, one colour per run."""
    curves = ov.curves_table(runs)
    if curves.empty:
        return None
    names = {run.number: run.name for run in runs}
    parts = [long_curves(curves[curves["run"] == n]).assign(name=names[n]) for n in curves["run"].unique()]
    data = pd.concat(parts, ignore_index=True)
    if not with_training:
        data = data[data["set"] == "validation"]
    return curve_chart(data, run="name", height=320)


def data_chart(points: pd.DataFrame, regression: bool, side=340, legends=True):
    """The points alone, before any training: what the network will learn from (`legends=False`: a thumbnail)."""
    legend = alt.Undefined if legends else None
    size = 30 if legends else 14
    if regression:
        return alt.Chart(points).mark_point(filled=True, size=size + 15, color="#555").encode(
            x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
            shape=alt.Shape("set:N", scale=SHAPES, title=None,
                            legend=alt.Legend(orient="top") if legends else None)).properties(height=side)
    labelled = points.assign(class_=points["label"].map({0: "label 0", 1: "label 1"}))
    return alt.Chart(labelled).mark_point(filled=True, size=size + 20, stroke="black", strokeWidth=0.5).encode(
        x=alt.X("x1:Q", scale=alt.Scale(zero=False)), y=alt.Y("x2:Q", scale=alt.Scale(zero=False)),
        shape=alt.Shape("set:N", scale=SHAPES, title=None, legend=legend),
        fill=alt.Fill("class_:N", scale=alt.Scale(domain=["label 0", "label 1"], range=["#2166ac", "#e66101"]),
                      title=None, legend=legend)).properties(width=side + (150 if legends else 30), height=side + 45)


def picture_chart(run, height=420, legends=True, side=None):
    """Classification: P(label 1) over the plane with the points on top (a `side` x `side` square, so circles
    look round). Regression: the fitted curve."""
    if run.settings.regression:
        points = alt.Chart(run.points).mark_point(filled=True, size=45, color="#9a9a9a").encode(
            x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
            shape=alt.Shape("set:N", scale=SHAPES, title=None, legend=alt.Legend(orient="top")))
        curve = run.picture.rename(columns={"prediction": "model", "true": "sin(x), no noise"}).melt(
            "x", ["model", "sin(x), no noise"], var_name="curve", value_name="y")
        lines = alt.Chart(curve).mark_line(strokeWidth=3).encode(
            x=alt.X("x:Q"), y=alt.Y("y:Q"),
            strokeDash=alt.StrokeDash("curve:N", title=None, legend=alt.Legend(orient="top")),
            color=alt.Color("curve:N", scale=alt.Scale(domain=["model", "sin(x), no noise"], range=["#d62728", "#222"]),
                            title=None))
        return alt.layer(points, lines).properties(height=height)
    # Light background colours, so that the saturated points stay visible on top of them.
    probability = alt.Scale(domain=[0, 0.5, 1], range=["#8fb9dc", "#f7f7f7", "#f5b27a"])
    cells = run.picture.assign(  # overlap neighbours by a quarter cell: no hairline seams between them
        x1_end=lambda g: g["x1_end"] + 0.25 * (g["x1_end"] - g["x1_start"]),
        x2_end=lambda g: g["x2_end"] + 0.25 * (g["x2_end"] - g["x2_start"]))
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("x1_start:Q", title="x1", scale=alt.Scale(nice=False, zero=False)), x2=alt.X2("x1_end:Q"),
        y=alt.Y("x2_start:Q", title="x2", scale=alt.Scale(nice=False, zero=False)), y2=alt.Y2("x2_end:Q"),
        color=alt.Color("probability:Q", scale=probability, title="P(label 1)",
                        legend=alt.Legend(gradientLength=160) if legends else None))
    legend = alt.Undefined if legends else None
    labelled = run.points.assign(class_=run.points["label"].map({0: "label 0", 1: "label 1"}))
    points = alt.Chart(labelled).mark_point(filled=True, size=50, stroke="black", strokeWidth=0.7).encode(
        x=alt.X("x1:Q"), y=alt.Y("x2:Q"), shape=alt.Shape("set:N", scale=SHAPES, title=None, legend=legend),
        fill=alt.Fill("class_:N", scale=alt.Scale(domain=["label 0", "label 1"], range=["#2166ac", "#e66101"]),
                      title=None, legend=legend),
        tooltip=[alt.Tooltip("set:N"), alt.Tooltip("class_:N"), alt.Tooltip("x1:Q", format=".2f"),
                 alt.Tooltip("x2:Q", format=".2f")])
    # Streamlit fits axes and legends inside width x height; these margins leave a square plot.
    size = {"width": side + 150, "height": side + 45} if side else {"height": height}
    return alt.layer(heat, points).properties(**size)


def mask_chart(frame: pd.DataFrame) -> alt.Chart:
    """Kept and dropped units of one batch: one row per example, one column per unit."""
    return alt.Chart(frame).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("unit:O", title="unit of the hidden layer", axis=alt.Axis(labelOverlap=True)),
        y=alt.Y("example:O", title="example in the batch", axis=alt.Axis(labelOverlap=True)),
        color=alt.Color("state:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["kept", "dropped"], range=["#4c78a8", "#e6e6e6"])),
        tooltip=[alt.Tooltip("example:O"), alt.Tooltip("unit:O"), alt.Tooltip("state:N")]).properties(
        height=max(120, 11 * frame["example"].max()))
