"""The activations page's charts and tables: how its numbers are drawn and read."""
import altair as alt
import pandas as pd

from models.core.numbers import format_number


def numbers(frame: pd.DataFrame):
    """A table with its exact numbers, read with six significant digits: tiny values stay visible, never '-0.000000'."""
    columns = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    return frame.style.format(lambda v: format_number(v, 6, significant=True), subset=columns)


def curve_chart(data, field: str, title: str, height: int = 280) -> alt.LayerChart:
    """One panel (f or f′) of the chosen functions; hover or tap shows x, f(x) and f′(x)."""
    hover = alt.selection_point(fields=["x"], nearest=True, on="pointerover", clear="pointerout", empty=False)
    colors = alt.Color("function:N", title="Function", sort=list(data["function"].unique()),
                       legend=alt.Legend(orient="top"))
    base = alt.Chart(data).encode(x=alt.X("x:Q", title="x"), y=alt.Y(f"{field}:Q", title=title), color=colors)
    # "~g": four significant digits, so swish(−100) reads −3.72e-42, not a negative zero
    tooltip = ["function:N", alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("value:Q", title="f(x)", format=".4~g"),
               alt.Tooltip("slope:Q", title="f′(x)", format=".4~g")]
    lines = base.mark_line(strokeWidth=3)
    points = base.mark_circle(size=110).encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)),
                                               tooltip=tooltip).add_params(hover)
    rule = alt.Chart(data).mark_rule(color="#6b7280").encode(x="x:Q").transform_filter(hover)
    return alt.layer(lines, points, rule).properties(height=height, title=title)
