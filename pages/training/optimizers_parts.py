"""The optimisers page's line-fit charts and tables: how the fits are drawn and summed up."""
import pandas as pd
import streamlit as st

from models.training import optim_charts as ch
from models.training import optim_line_fit as lf


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
