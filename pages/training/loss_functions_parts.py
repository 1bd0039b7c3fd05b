"""The loss-functions page's charts: overlaid curves with a hover readout, and the three fitted lines."""
import altair as alt
import pandas as pd

from models.training import loss_fit as F

PALETTE = ["#4c78a8", "#f58518", "#54a24b"]  # distinct hues, not shades of one colour
LEGEND = alt.Legend(orient="bottom", direction="vertical", labelLimit=400)  # never cut at tablet widths


def hover_chart(data: pd.DataFrame, x: str, field: str, color: str, title: str, mark: float,
                height: int = 260) -> alt.LayerChart:
    """Overlaid curves; hovering (or tapping) shows every curve's value at that x; a rule marks the chosen x."""
    hover = alt.selection_point(fields=[x], nearest=True, on="pointerover", clear="pointerout", empty=False)
    base = alt.Chart(data).encode(x=alt.X(f"{x}:Q"), y=alt.Y(f"{field}:Q", title=title),
                                  color=alt.Color(f"{color}:N", title=None, scale=alt.Scale(range=PALETTE),
                                                  legend=LEGEND))
    tooltip = [f"{color}:N", alt.Tooltip(f"{x}:Q", format=".3f")] + [
        alt.Tooltip(f"{c}:Q", format=".4f") for c in data.columns if c not in (x, color)]
    points = base.mark_circle(size=90).encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)),
                                              tooltip=tooltip).add_params(hover)
    chosen = alt.Chart(pd.DataFrame({x: [mark]})).mark_rule(color="#888", strokeDash=[4, 3]).encode(x=f"{x}:Q")
    return alt.layer(base.mark_line(strokeWidth=3), points, chosen).properties(height=height, title=title)


def fit_chart(x, y, before, after, low: float, high: float) -> alt.LayerChart:
    """The starting points and the student's, with each loss's line on both (dashed: the starting points)."""
    points = pd.concat([F.REFERENCE.assign(data="starting points"), pd.DataFrame({"x": x, "y": y, "data": "yours"})])
    lines = pd.concat([F.line_points(before, low, high, "starting points"), F.line_points(after, low, high, "yours")])
    dash = alt.StrokeDash("data:N", title=None, scale=alt.Scale(domain=["yours", "starting points"],
                                                                range=[[1, 0], [5, 4]]))
    colors = alt.Color("loss:N", title=None, scale=alt.Scale(range=PALETTE))
    return alt.layer(
        alt.Chart(lines).mark_line(strokeWidth=2.5).encode(x="x:Q", y="y:Q", color=colors, strokeDash=dash,
                                                           detail="data:N", tooltip=["loss:N", "data:N"]),
        alt.Chart(points).mark_point(size=70, filled=True).encode(
            x="x:Q", y="y:Q", shape=alt.Shape("data:N", title=None), color=alt.value("#333"),
            tooltip=["data:N", "x:Q", "y:Q"])).properties(height=340)
