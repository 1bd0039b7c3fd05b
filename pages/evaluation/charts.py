"""Charts of the validation page: set strips, fold strips, ROC and precision-recall curves, a confusion matrix."""
import altair as alt
import numpy as np
import pandas as pd

SET_COLORS = alt.Scale(domain=["training", "validation", "test"], range=["#1f77b4", "#ff7f0e", "#7f7f7f"])
LEGEND = alt.Legend(orient="top", direction="horizontal", labelLimit=0, title=None)


def set_strip(sets: np.ndarray, classes: np.ndarray) -> alt.Chart:
    """One thin bar per point, coloured by its set; the points sorted by class, then set, so the ratios show."""
    order = np.lexsort(([SET_COLORS.domain.index(name) for name in sets], classes))
    table = pd.DataFrame({"point": np.arange(len(sets)), "set": sets[order], "class": classes[order].astype(str),
                          "row": "every point"})
    return alt.Chart(table).mark_rect().encode(
        x=alt.X("point:O", axis=None), y=alt.Y("row:N", axis=None),
        color=alt.Color("set:N", scale=SET_COLORS, legend=LEGEND),
        tooltip=["set:N", "class:N"]).properties(height={"step": 40})


def fold_strips(folds: np.ndarray, classes: np.ndarray) -> alt.Chart:
    """A row per fold: its validation points orange, the rest (its training points) blue; sorted by class, then fold."""
    order = np.lexsort((folds, classes))
    k = int(folds.max()) + 1
    table = pd.DataFrame([{"point": i, "fold": f"fold {number + 1}", "class": str(classes[p]),
                           "set": "validation" if folds[p] == number else "training"}
                          for number in range(k) for i, p in enumerate(order)])
    return alt.Chart(table).mark_rect().encode(
        x=alt.X("point:O", axis=None), y=alt.Y("fold:N", title=None, sort=None),
        color=alt.Color("set:N", scale=alt.Scale(domain=SET_COLORS.domain[:2], range=SET_COLORS.range[:2]),
                        legend=LEGEND),
        tooltip=["fold:N", "set:N", "class:N"]).properties(height={"step": 22})


def fold_scores(table: pd.DataFrame, single: float) -> alt.Chart:
    """Each fold's validation accuracy as a bar, with the mean and the single-split score as lines."""
    low = max(0.0, min(table["val_accuracy"].min(), single) - 0.05)
    bars = alt.Chart(table).mark_bar(color="#ff7f0e", clip=True).encode(
        x=alt.X("fold:O", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("val_accuracy:Q", title="validation accuracy", scale=alt.Scale(domain=[low, 1])),
        tooltip=["fold:O", alt.Tooltip("val_accuracy:Q", format=".3f")])
    lines = pd.DataFrame({"score": [table["val_accuracy"].mean(), single],
                          "line": ["mean of the folds", "single split"]})
    rules = alt.Chart(lines).mark_rule(strokeWidth=2.5).encode(
        y="score:Q", strokeDash=alt.StrokeDash("line:N", legend=LEGEND),
        tooltip=["line:N", alt.Tooltip("score:Q", format=".3f")])
    return alt.layer(bars, rules).properties(height=240)


def curve_with_point(points: pd.DataFrame, x: str, y: str, here: dict, *, titles: tuple[str, str]) -> alt.Chart:
    """A ROC or precision-recall curve with the current threshold's point marked."""
    line = alt.Chart(points).mark_line(interpolate="step-after" if x == "fpr" else "linear", strokeWidth=2.5).encode(
        x=alt.X(f"{x}:Q", title=titles[0], scale=alt.Scale(domain=[0, 1])),
        y=alt.Y(f"{y}:Q", title=titles[1], scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip(f"{x}:Q", format=".3f"),
                 alt.Tooltip(f"{y}:Q", format=".3f")], order="threshold:Q" if x == "recall" else alt.Undefined)
    point = alt.Chart(pd.DataFrame([here])).mark_point(size=220, filled=True, color="#d62728").encode(
        x=f"{x}:Q", y=f"{y}:Q")
    return alt.layer(line, point).properties(height=280)


def confusion_chart(matrix: np.ndarray, names) -> alt.Chart:
    """Counts per (true, predicted) cell; darker = more."""
    table = pd.DataFrame([{"true": str(names[t]), "predicted": str(names[p]), "count": int(matrix[t, p])}
                          for t in range(len(names)) for p in range(len(names))])
    names = [str(n) for n in names]
    base = alt.Chart(table).encode(x=alt.X("predicted:N", sort=names, axis=alt.Axis(orient="top", labelAngle=0)),
                                   y=alt.Y("true:N", sort=names))
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues", type="symlog"),
                                                    legend=None), tooltip=["true:N", "predicted:N", "count:Q"])
    text = base.mark_text(fontSize=13).encode(text="count:Q", color=alt.condition(
        alt.datum.count > matrix.max() / 2, alt.value("white"), alt.value("black")))
    return alt.layer(cells, text).properties(height=34 * len(names) + 20)
