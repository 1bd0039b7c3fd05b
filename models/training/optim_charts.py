"""Altair charts of the gradient-descent page: loss contours with paths over them, and loss per step."""
import altair as alt
import numpy as np
import pandas as pd

from models.training import optim_line_fit as lf
from models.training.optim_surfaces import SURFACES, surface_grid
from models.training.optimizers import OPTIMIZERS

COLORS = alt.Scale(domain=list(OPTIMIZERS.values()),
                   range=["#e45756", "#4c78a8", "#72b7b2", "#f58518", "#54a24b", "#b279a2"])
BATCH_COLORS = ["#e45756", "#4c78a8", "#f58518"]
RATE_COLORS = ["#72b7b2", "#54a24b", "#f58518", "#e45756"]


def contour(grid: pd.DataFrame, box, x: str, y: str) -> alt.Chart:
    """Loss bands of a grid (darker is higher; the colour steps are equal steps of log loss)."""
    shade = {"bin": alt.Bin(maxbins=14), "scale": alt.Scale(scheme={"name": "greys", "extent": [0.04, 0.6]}),
             "legend": None}
    return alt.Chart(grid).mark_rect(strokeWidth=0.6).encode(  # a stroke of the fill's colour hides the seams
        x=alt.X(f"{x}1:Q", title=x, scale=alt.Scale(domain=list(box[0]), nice=False)), x2=f"{x}2:Q",
        y=alt.Y(f"{y}1:Q", title=y, scale=alt.Scale(domain=list(box[1]), nice=False)), y2=f"{y}2:Q",
        color=alt.Color("level:Q", **shade), stroke=alt.Stroke("level:Q", **shade),
        tooltip=[alt.Tooltip(f"{x}:Q", format=".2f"), alt.Tooltip(f"{y}:Q", format=".2f"),
                 alt.Tooltip("loss:Q", format=".4f")])


def path_layer(path: pd.DataFrame, x: str, y: str, color) -> alt.Chart:
    return alt.Chart(path).mark_line(point=alt.OverlayMarkDef(size=14), clip=True, strokeWidth=2).encode(
        x=f"{x}:Q", y=f"{y}:Q", order="step:Q", color=color,
        tooltip=["step:Q", alt.Tooltip(f"{x}:Q", format=".4f"), alt.Tooltip(f"{y}:Q", format=".4f"),
                 alt.Tooltip("loss:Q", format=".4g")])


def start_chart(surface: str) -> alt.LayerChart:
    """The surface before the race: contours and the start."""
    s = SURFACES[surface]
    start = alt.Chart(pd.DataFrame({"x": [s.start[0]], "y": [s.start[1]]})).mark_point(
        size=150, filled=True, color="black").encode(x="x:Q", y="y:Q")
    return alt.layer(contour(surface_grid(surface), s.box, "x", "y"), start).properties(height=320)


def legend_chart(labels: list, scale: alt.Scale, *, columns: int = 3) -> alt.LayerChart:
    """A legend as its own full-width chart: the labels in rows of `columns`, wherever the charts below are."""
    table = pd.DataFrame({"label": labels, "col": [i % columns for i in range(len(labels))],
                          "row": [i // columns for i in range(len(labels))]})
    base = alt.Chart(table).encode(x=alt.X("col:Q", axis=None, scale=alt.Scale(domain=[0, columns])),
                                   y=alt.Y("row:Q", axis=None, scale=alt.Scale(domain=[-0.5, table["row"].max() + 0.5],
                                                                               reverse=True)))
    return alt.layer(base.mark_point(filled=True, size=110, opacity=1).encode(
        color=alt.Color("label:N", scale=scale, legend=None)), base.mark_text(align="left", dx=10, fontSize=13).encode(
        text="label:N")).properties(height=28 * (table["row"].max() + 1))


def race_charts(surface: str, shown: pd.DataFrame, steps: int) -> tuple[alt.LayerChart, alt.Chart]:
    """The paths up to the slider's step over the contours (a diamond where each is now), and loss per step."""
    color = alt.Color("label:N", scale=COLORS, legend=None)  # legend_chart draws it above both charts
    now = shown.groupby("optimizer").tail(1)
    paths = alt.layer(contour(surface_grid(surface), SURFACES[surface].box, "x", "y"),
                      path_layer(shown, "x", "y", color),
                      alt.Chart(now).mark_point(size=160, filled=True, shape="diamond").encode(
                          x="x:Q", y="y:Q", color=color)).properties(height=420)
    gap = shown.assign(gap=np.maximum(shown["loss"] - SURFACES[surface].minimum, 1e-12))
    losses = alt.Chart(gap).mark_line(strokeWidth=2).encode(
        x=alt.X("step:Q", scale=alt.Scale(domain=[0, steps])),
        y=alt.Y("gap:Q", scale=alt.Scale(type="log"), title="loss above the minimum (log scale)",
                axis=alt.Axis(format=".0e", tickCount=6)),
        color=color, tooltip=["label:N", "step:Q", alt.Tooltip("loss:Q", format=".6g")]).properties(height=420)
    return paths, losses


def line_fit_charts(points: pd.DataFrame, fits: list, titles: list, *, together: bool) -> list:
    """The (w, b) paths over the loss contours: one chart of all paths (`together`), else one chart each."""
    best = np.polyfit(points["x"], points["y"], 1)
    box = ((min(0.0, best[0]) - 1, max(0.0, best[0]) + 1), (min(0.0, best[1]) - 1, max(0.0, best[1]) + 1))
    grid = contour(lf.line_loss_grid(points["x"], points["y"], box), box, "w", "b")
    marker = alt.Chart(pd.DataFrame({"w": [best[0]], "b": [best[1]]})).mark_point(
        shape="cross", size=200, color="black", strokeWidth=2).encode(x="w:Q", y="b:Q")
    if together:
        paths = pd.concat([f.assign(batch=title) for title, f in zip(titles, fits)][::-1])  # full batch on top
        color = alt.Color("batch:N", title=None, sort=titles, legend=alt.Legend(orient="top", labelLimit=200),
                          scale=alt.Scale(domain=titles, range=BATCH_COLORS[:len(titles)]))
        width = alt.Size("batch:N", scale=alt.Scale(domain=titles, range=[3, 2, 1][:len(titles)]), legend=None)
        return [alt.layer(grid, path_layer(paths, "w", "b", color).encode(detail="batch:N", size=width),
                          marker).properties(height=420)]
    return [alt.layer(grid, path_layer(fit, "w", "b", alt.value("#e45756")), marker).properties(title=title,
                                                                                                 height=260)
            for fit, title in zip(fits, titles)]


def rate_curves_chart(fits: list, titles: list) -> alt.Chart:
    curves = pd.concat([f.assign(rate=title) for title, f in zip(titles, fits)])
    return alt.Chart(curves).mark_line(point=True).encode(
        x="step:Q", y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="loss (MSE, log scale)"),
        color=alt.Color("rate:N", title=None, sort=titles, legend=alt.Legend(orient="top", columns=2, labelLimit=200),
                        scale=alt.Scale(domain=titles, range=RATE_COLORS[:len(titles)])),
        tooltip=["rate:N", "step:Q", alt.Tooltip("loss:Q", format=".4g")]).properties(height=280)
