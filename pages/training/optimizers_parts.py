"""The optimisers page's line fits: their charts and table, and section 6, the learning rate."""
import pandas as pd
import streamlit as st

from models.engine.heavy_work import heavy_work
from models.training import optim_charts as ch
from models.training import optim_line_fit as lf

RATE_EPOCHS = 20  # the learning-rate section's fits, all points in one batch


def line_charts(points, fits, titles, seed, *, together: bool) -> None:
    charts = ch.line_fit_charts(points, fits, titles, together=together)
    for start in range(0, len(charts), 2):  # two a row: readable on a tablet too
        for column, chart in zip(st.columns(2) if len(charts) > 1 else [st], charts[start:start + 2]):
            column.altair_chart(chart, width="stretch")
    st.caption("The paths of (w, b), one dot per update, from (0, 0). Cross: the least-squares line (NumPy's "
               f"`polyfit`), the bottom of the bowl. Mini-batches in a new shuffled order every epoch (seed {seed}).")


def batch_table(n_points: int, sizes, fits) -> pd.DataFrame:
    """One row per batch size: iterations per epoch, updates, and where (w, b) and the loss ended."""
    return pd.DataFrame({"batch size": [s or n_points for s in sizes],
                         "iterations per epoch": [len(lf.batches(n_points, s or n_points)) for s in sizes],
                         "updates": [len(f) - 1 for f in fits], "w": [f["w"].iloc[-1] for f in fits],
                         "b": [f["b"].iloc[-1] for f in fits], "loss": [f["loss"].iloc[-1] for f in fits]})


@st.cache_data(show_spinner=False, max_entries=64)
def cached_fits(n_points: int, noise: float, seed: int, sizes: tuple, epochs: int, rates: tuple):
    points = lf.make_line_points(n_points, noise, seed)
    with heavy_work():
        return [lf.line_fit_path(points["x"], points["y"], batch_size=size or n_points, epochs=epochs,
                                 learning_rate=rate, seed=seed) for size, rate in zip(sizes, rates)]


def show_learning_rates(data) -> None:
    points, noise, seed = data
    st.header("6 · The learning rate")
    epochs = RATE_EPOCHS
    limit_curve, limit = lf.stability_limit(points["x"])
    rates = lf.learning_rate_presets(points["x"])
    st.markdown(f"The same line fit with all {len(points)} points in one batch, {epochs} epochs. Here the loss's "
                f"steepest curvature is λ = {limit_curve:.3f}, so gradient descent converges only for a learning "
                f"rate below 2/λ = **{limit:.3f}**, and overshoots (zig-zags) above 1/λ = {limit / 2:.3f}.")
    fits = cached_fits(len(points), noise, seed, (None,) * 4, epochs, tuple(rates.values()))
    titles = [f"{name} ({rate:g})" for name, rate in rates.items()]
    line_charts(points, fits, titles, seed, together=False)
    st.altair_chart(ch.rate_curves_chart(fits, titles), width="stretch")
