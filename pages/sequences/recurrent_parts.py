"""Page parts of the recurrent page: the editable tables (seeded from a link), the hand route beside Keras' numbers,
and the state h_t of the SimpleRNN as a picture."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.sequences import rnn_steps as rs
from pages.evaluation.present_parts import table_start, table_text
from pages.sequences.recurrent_link import PAGE, PRESETS, SYMBOL, K, text_key

state = st.session_state


@st.cache_data(max_entries=200, show_spinner=False)
def keras_route(cell: str, x, w, u, b) -> dict:
    """Keras' float64 layer with these weights (a pure function of them, so cached)."""
    if cell == "simple_rnn":
        return {"h": rs.keras_simple_rnn(x, w, u, b)}
    return rs.keras_lstm(x, w, u, b)


def edit_tables(cell: str) -> list[pd.DataFrame]:
    """The preset picker and the four editable tables (text cells, so 2e3 and 1,5 work)."""
    name = st.selectbox("Start from", list(PRESETS[cell]), key=K + cell + "_preset")
    preset = PRESETS[cell][name]
    st.caption(preset["description"])
    tables = rs.weight_tables(preset)
    slots = st.columns(2) if cell == "simple_rnn" else [st.container(), st.container()]
    gates = ", grouped by gate: i:h1 feeds unit 1's input gate" if cell == "lstm" else ""
    labels = ["**Inputs x_t** (one row per time step; add rows for a longer sequence)",
              f"**Kernel W** (row: input, column: unit{gates})",
              "**Recurrent kernel U** (row: the previous output h_{t−1})", "**Bias b** (the initial state is 0)"]
    edited = []
    for slot, table, label in zip([*slots, st.container(), st.container()], tables, labels):
        seed, version = table_start(PAGE, f"{cell}_{SYMBOL[table]}_{name}")
        start = tables[table] if seed is None else linked_table(tables[table], seed, table)
        slot.markdown(label)
        edited.append(slot.data_editor(start, key=f"{K}{cell}_{SYMBOL[table]}_{name}_{version}",
                                       num_rows="dynamic" if table == "inputs" else "fixed"))
        try:  # the address keeps the numbers; a cell that does not parse yet keeps the last good ones there
            state[text_key(cell, table)] = table_text(rs.as_matrix(edited[-1], table), preset[table])
        except ValueError:
            pass
    edited[0].index = [f"t={t + 1}" for t in range(len(edited[0]))]
    return edited


def linked_table(preset_table: pd.DataFrame, values: np.ndarray, table: str) -> pd.DataFrame:
    index = [f"t={t + 1}" for t in range(len(values))] if table == "inputs" else preset_table.index
    return pd.DataFrame(values, index=index, columns=preset_table.columns).map(rs.fmt)


def compare_with_keras(cell: str, tables: list[pd.DataFrame], lines_of):
    """The hand computation beside the same numbers from Keras, or a message naming the bad cell; returns the
    hand route's outputs h (time steps x units), or None."""
    try:
        parts = (rs.simple_rnn_parts if cell == "simple_rnn" else rs.lstm_parts)(*tables)
        lines = lines_of(*parts[:4])
    except ValueError as problem:
        st.error(f"This cannot be computed yet. {problem}", icon=":material/error:")
        return None
    hand_col, keras_col = st.columns([3, 2], gap="medium")
    for t, step in enumerate(lines, start=1):
        hand_col.markdown(f"**Step t = {t}**")
        hand_col.code("\n".join(step), language=None, wrap_lines=True)
    by_keras = keras_route(cell, *(np.asarray(p) for p in parts[:4]))
    hand = (rs.simple_rnn_steps if cell == "simple_rnn" else lambda *p: rs.lstm_steps(*p)["h"])(*parts[:4])
    table = pd.DataFrame([{"t": t + 1, "unit": f"h{j + 1}", "by hand": hand[t, j], "Keras": by_keras["h"][t, j]}
                          for t in range(hand.shape[0]) for j in range(hand.shape[1])])
    table["difference"] = (table["by hand"] - table["Keras"]).abs().map(lambda d: f"{d:.1e}")
    layer = ("SimpleRNN(units, return_sequences=True)" if cell == "simple_rnn"
             else "LSTM(units, return_sequences=True, return_state=True)")
    keras_col.markdown("**The same from Keras**")
    keras_col.caption(f"`keras.layers.{layer}` in float64, holding these weights")
    keras_col.dataframe(table.assign(**{c: table[c].map(rs.fmt) for c in ("by hand", "Keras")}), hide_index=True,
                        height="content")
    if cell == "lstm":
        c_gap = abs(rs.lstm_steps(*parts[:4])["c"][-1] - by_keras["c_last"]).max()
        keras_col.caption(f"The last cell state c, returned by `return_state=True`, differs by {c_gap:.1e}.")
    return hand


def state_chart(hand: np.ndarray, height: int = 280) -> alt.Chart:
    """Each unit's output h_t at every step: the state the layer carries forward."""
    rows = pd.DataFrame([{"t": t + 1, "unit": f"h{j + 1}", "h": float(hand[t, j])}
                         for t in range(hand.shape[0]) for j in range(hand.shape[1])])
    return alt.Chart(rows).mark_line(point=True, strokeWidth=3).encode(
        x=alt.X("t:O", title="time step t", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("h:Q", title="h_t", scale=alt.Scale(domain=[-1, 1])),
        color=alt.Color("unit:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["unit:N", "t:O", alt.Tooltip("h:Q", format=".6f")]).properties(height=height)
