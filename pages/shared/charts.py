"""One chart of training curves for every page that trains: loss or accuracy per epoch, per set and per run."""
import altair as alt
import pandas as pd
from streamlit.elements import vega_charts

# Legends above the plot, one row, never truncated: side-by-side charts on a tablet are narrow.
LEGEND = alt.Legend(orient="top", direction="horizontal", labelLimit=0, columns=0)
SET_COLORS = alt.Scale(domain=["training", "validation"], range=["#1f77b4", "#ff7f0e"])


def curve_chart(data: pd.DataFrame, *, value: str = "loss", title: str | None = None, epochs: int | None = None,
                y_domain: tuple[float, float] | None = None, run: str | None = None, marks: pd.DataFrame | None = None,
                height: int = 320, points: bool = False) -> alt.Chart:
    """Curves from a long table with columns `epoch`, `set` ("training" / "validation"), `value` and optionally `run`.

    Without `run`, colour tells the sets apart; with it, colour is the run and the dash is the set.
    `marks` (columns epoch, marker, short) draws labelled vertical rules, e.g. where validation loss turns up.
    """
    x = alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[0, epochs]) if epochs else alt.Undefined)
    y = alt.Y(f"{value}:Q", title=title or value,
              scale=alt.Scale(domain=list(y_domain)) if y_domain else alt.Scale(zero=True))
    # Channel objects, not shorthand strings: Altair turns each string into a channel by searching its whole
    # schema (about 4 ms each), and these charts are rebuilt on every live update of a training run.
    tooltip = ([alt.Tooltip(f"{run}:N")] if run else []) + [alt.Tooltip("set:N"), alt.Tooltip("epoch:Q"),
                                                           alt.Tooltip(f"{value}:Q", format=".4f")]
    if run:
        encoding = {"color": alt.Color(f"{run}:N", title=None, legend=LEGEND),
                    "strokeDash": alt.StrokeDash("set:N", scale=alt.Scale(domain=["validation", "training"],
                                                                           range=[[1, 0], [5, 4]]),
                                                 title=None, legend=LEGEND),
                    "detail": alt.Detail("set:N")}
    else:
        encoding = {"color": alt.Color("set:N", scale=SET_COLORS, title=None, legend=LEGEND)}
    lines = alt.Chart(data).mark_line(strokeWidth=2.5, point=points).encode(x=x, y=y, tooltip=tooltip, **encoding)
    if marks is None or marks.empty:
        return lines.properties(height=height)
    right_side = marks["epoch"] > 0.55 * (epochs or marks["epoch"].max() or 1)
    marks = marks.assign(row=[6 + 16 * i for i in range(len(marks))], right=right_side)
    layers = [lines, alt.Chart(marks).mark_rule(strokeDash=[5, 3], color="#444").encode(
        x=alt.X("epoch:Q"), tooltip=[alt.Tooltip("marker:N")])]
    for right, part in marks.groupby("right"):  # labels stay inside the plot: left of late markers
        layers.append(alt.Chart(part).mark_text(align="right" if right else "left", dx=-4 if right else 4,
                                                baseline="top", fontSize=12).encode(
            x=alt.X("epoch:Q"), y=alt.Y("row:Q", scale=None), text=alt.Text("short:N")))
    return alt.layer(*layers).properties(height=height)


def long_curves(history: pd.DataFrame, metric: str = "loss", *, value: str | None = None) -> pd.DataFrame:
    """A history with columns epoch, <metric>, val_<metric> as the long table `curve_chart` draws."""
    value = value or metric
    parts = [pd.DataFrame({"epoch": history["epoch"], value: history[column], "set": name})
             for column, name in ((metric, "training"), (f"val_{metric}", "validation")) if column in history]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["epoch", value, "set"])


def encode(chart, *, validate: bool = False) -> dict:
    """The spec `st.altair_chart` would send for `chart` (its data as Arrow bytes), to keep and send again
    with `st.vega_lite_chart` instead of building and validating the chart on every rerun (10-30 ms).

    Altair checks every spec against the whole Vega-Lite schema, a few milliseconds for each layer, on each
    live redraw of a training chart. Our builders make the same spec shapes every time, so the page skips the
    check; the tests encode every builder's charts with `validate=True`, which raises on a spec Vega-Lite
    would reject, and compare the two specs.
    """
    return vega_charts._convert_altair_to_vega_lite_spec(chart if validate else _Unchecked(chart))


class _Unchecked:
    """A chart whose `to_dict` skips the schema check (the only method Streamlit's conversion calls)."""

    def __init__(self, chart):
        self._chart = chart

    def to_dict(self, **options) -> dict:
        return self._chart.to_dict(validate=False, **options)
