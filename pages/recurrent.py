"""Recurrent networks: a SimpleRNN and an LSTM unrolled by hand, gradients through time, and memory measured."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.sequences import gradients as gt
from models.sequences import memory
from models.sequences import rnn_steps as rs
from pages.evaluation.present_parts import folded
from pages.sequences.recurrent_link import (
    DEFAULTS,
    LENGTHS,
    PAGE,
    PRESETS,
    SCHEMA,
    SYMBOL,
    K,
    restore_tables,
    span,
    text_key,
)
from pages.sequences.recurrent_parts import compare_with_keras, edit_tables, state_chart
from pages.shared import links
from pages.shared.charts import curve_chart, long_curves
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

state = st.session_state
for key, value in DEFAULTS.items():
    state.setdefault(key, value)
for cell, table in ((c, t) for c in PRESETS for t in SYMBOL):
    state.setdefault(text_key(cell, table), "")  # "": the preset's numbers, unedited
state.setdefault(K + "trainers", {})  # compiled training programs hold variables: one set per session
NEVER = "it never does (up to the longest length)"
gate = RevealGate(K + "memory")


@st.cache_data(max_entries=200, show_spinner=False)
def gradient_reports(cells: tuple, length: int, scale: float, activation: str) -> list:
    with heavy_work():
        return [gt.gradient_report(cell, length=length, recurrent_scale=scale, activation=activation) for cell in cells]


def show_simple_rnn(preview) -> None:
    st.header("1 · A SimpleRNN, step by step")
    explain("A recurrent layer reads a sequence one step at a time and feeds its own output back in: "
            "**h_t = tanh(x_t·W + h_{t−1}·U + b)**. The same W, U and b are used at every step.")
    picture = preview if preview is not None else st.container()  # presenting: the state first, tables folded
    with folded("The inputs and weights (edit any cell)"):
        tables = edit_tables("simple_rnn")
    hand = compare_with_keras("simple_rnn", tables, rs.simple_rnn_lines)
    if hand is not None:
        picture.altair_chart(state_chart(hand), width="stretch")
        picture.caption("The SimpleRNN of section 1: each unit's output h_t at every step, the state it carries "
                        "from one step to the next.")


def show_lstm() -> None:
    st.header("2 · An LSTM cell, gate by gate")
    explain(
        "Four gates read x_t and h_{t−1}: the **input gate** i = σ(…), **forget gate** f = σ(…), **candidate** "
        "g = tanh(…) and **output gate** o = σ(…). Then **c_t = f·c_{t−1} + i·g** and **h_t = o·tanh(c_t)**.\n\n"
        "**How Keras keeps it.** One kernel of shape (inputs, 4·units) and one recurrent kernel (units, 4·units): "
        "the first `units` columns belong to i, the next to f, then the candidate (Keras calls it *c*), then o. "
        "The column headers below say which gate and unit each column feeds.\n\n"
        "**Where Keras differs from many textbooks.** Textbooks often write four matrices W_i, W_f, W_g, W_o; "
        "Keras stacks them side by side. `unit_forget_bias=True` starts the forget gate's bias at 1 (only the "
        "initial value; here you set it). The gates' σ is the exact sigmoid (`recurrent_activation='sigmoid'`; "
        "old Keras 2 used a hard sigmoid). Keras' GRU uses `reset_after=True` (the reset gate multiplies "
        "h_{t−1}·U after the product, with a second bias row) and h_t = z·h_{t−1} + (1 − z)·h̃_t, where some "
        "textbooks swap z and 1 − z.")
    picture = st.container()
    with folded("The inputs and weights (edit any cell)"):
        tables = edit_tables("lstm")
    hand = compare_with_keras("lstm", tables, rs.lstm_lines)
    if hand is not None and presenting():
        picture.altair_chart(state_chart(hand), width="stretch")


def show_gradients() -> None:
    st.header("3 · Vanishing and exploding gradients through time")
    explain("How much does the loss at the **last** step depend on each earlier input? Below: ‖∂L/∂x_t‖ for "
            "every t, from `tf.GradientTape`, with L the sum of the last state. Each recurrent matrix is a "
            "random orthogonal matrix × the scale s.")
    picture = st.container()
    with folded("Length, recurrent scale, activation, cells"):
        c1, c2, c3 = st.columns(3)
        length = c1.slider("Sequence length", *span(K + "grad_length"), key=K + "grad_length")
        scale = c2.slider("Recurrent scale s", *span(K + "grad_scale"), step=0.05, key=K + "grad_scale")
        activation = c3.selectbox("Activation", span(K + "grad_activation"), key=K + "grad_activation")
        cells = st.multiselect("Cells", span(K + "grad_cells"), format_func=gt.CELLS.get, key=K + "grad_cells")
    reports = gradient_reports(tuple(c for c in gt.CELLS if c in cells), length, scale, activation)
    rows = [{"t": t + 1, "cell": gt.CELLS[r.cell], "norm": n} for r in reports for t, n in enumerate(r.norms)
            if np.isfinite(n) and n > 0]
    if rows:
        picture.altair_chart(alt.Chart(pd.DataFrame(rows)).mark_line(point=length <= 30).encode(
            x=alt.X("t:Q", title="time step t"), y=alt.Y("norm:Q", title="‖∂L/∂x_t‖ (log scale)",
                                                         scale=alt.Scale(type="log")),
            color=alt.Color("cell:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["cell:N", "t:Q", alt.Tooltip("norm:Q", format=".3e")]).properties(height=320), width="stretch")
    for report in reports:
        (st.error if not report.finite else st.markdown)(f"**{gt.CELLS[report.cell]}.** {gt.explain(report)}")
    simple = next((r for r in reports if r.cell == "simple_rnn"), None)
    if simple is not None:
        step = gt.clipped_step(simple.weight_gradient_norm, learning_rate=0.1, clipnorm=1.0)
        st.markdown(f"**The fix for exploding: clip the gradient.** The SimpleRNN's ‖∂L/∂U‖ is "
                    f"{rs.fmt(simple.weight_gradient_norm)}. One SGD step with learning rate 0.1 moves U by "
                    f"{rs.fmt(step['plain'])}; `keras.optimizers.SGD(learning_rate=0.1, clipnorm=1.0)` first scales "
                    f"the gradient to norm at most 1 and moves U by {rs.fmt(step['clipped'])} (measured on Keras).")
        if not simple.finite:
            st.caption("Clipping cannot repair a gradient that is already inf or NaN (Keras' clip then gives NaN); "
                       "in training it stops the weights from growing step by step until that happens.")


def show_memory() -> None:
    st.header("4 · Memory, measured")
    d = memory.DEFAULTS
    explain(f"The task: **the label is the first token; the rest is noise**. The first token is one of {d.classes} "
                f"label symbols, marked as the first (so guessing gives {1 / d.classes:.0%}). Every later token is one "
                f"of {d.noise_symbols} noise symbols plus random noise (σ = {d.noise_scale:g}) on every input, so no "
                "input weight can shut the noise out: the network must keep the label in its state. A SimpleRNN "
                "and an LSTM with the same number of units learn it at each length from the same data and seed "
                f"(Adam {d.learning_rate:g}, batches of {d.batch_size}); the chart shows each final validation "
                "accuracy.")
    with folded("Lengths, units, epochs, seed"):
        c1, c2, c3, c4 = st.columns(4)
        lengths = c1.multiselect("Lengths", LENGTHS, key=K + "mem_lengths")
        units = c2.number_input("Units", *span(K + "mem_units"), key=K + "mem_units")
        epochs = c3.number_input("Epochs", *span(K + "mem_epochs"), key=K + "mem_epochs")
        seed = c4.number_input("Seed", *span(K + "mem_seed"), key=K + "mem_seed")
    settings = memory.MemorySettings(lengths=tuple(sorted(lengths)), units=int(units), epochs=int(epochs),
                                     seed=int(seed))
    choices = [str(n) for n in settings.lengths] + [NEVER]
    guess = st.radio("Predict first: from which length on does the SimpleRNN fall to chance?", choices, index=None,
                     key=K + "mem_guess", horizontal=True)
    if st.button("Lock in my guess and train both", type="primary", key=K + "mem_train", disabled=guess is None):
        train_live(settings, guess)
    result = state.get(K + "mem_result")
    if result is not None and gate.revealed(result.settings):
        draw_comparison(result)
        answer = result.falls_to_chance("simple_rnn")
        show_verdict(grade_choice(gate.feedback(), NEVER if answer is None else str(answer)),
                     "Chance means within 10 points of guessing, at that length and every longer one.")


def train_live(settings: memory.MemorySettings, guess: str) -> None:
    slot, comparison = st.empty(), None
    try:
        settings = memory.check_settings(settings)
        total = len(settings.lengths) * len(settings.cells) * settings.epochs
        for comparison, run in memory.run_comparison(settings, cache=state[K + "trainers"], guard=heavy_work):
            with slot.container():
                if run is not None:
                    done = len(comparison.runs) * settings.epochs + len(run.history)
                    st.progress(done / total, text=f"{memory.CELLS[run.cell]}, length {run.length}: epoch "
                                                   f"{len(run.history)} of {settings.epochs}")
                    st.altair_chart(curve_chart(long_curves(run.history, "accuracy"), value="accuracy",
                                                epochs=settings.epochs, y_domain=(0, 1), height=220), width="stretch")
                draw_comparison(comparison)
        slot.empty()
        gate.reveal(settings, guess)
        state[K + "mem_result"] = comparison
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
    except Exception as problem:  # a student's click must never show a traceback
        show_unexpected(problem, "Training")


def draw_comparison(comparison: memory.Comparison) -> None:
    table = comparison.table()
    if table.empty:
        return
    lines = alt.Chart(table).mark_line(point=True, strokeWidth=3).encode(
        x=alt.X("length:Q", title="sequence length"), y=alt.Y("val_accuracy:Q", title="validation accuracy",
                                                              scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("cell:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["cell:N", "length:Q", alt.Tooltip("val_accuracy:Q", format=".3f")])
    chance = alt.Chart(pd.DataFrame({"y": [comparison.chance]})).mark_rule(strokeDash=[5, 3]).encode(y="y:Q")
    st.altair_chart(alt.layer(lines, chance).properties(height=300), width="stretch")
    st.caption(f"Dashed line: chance ({comparison.chance:.0%}). Each point is one network trained once from scratch "
               f"with seed {comparison.settings.seed} (not an average); {sum(table['seconds']):.1f} s of training in "
               "all. This is a measurement: with another seed the length where a network gives up can move, so try "
               "a few.")


if links.restore(SCHEMA, PAGE):  # a shared link sets every control and table, seeds included
    restore_tables()
intro, preview = (st.container(), None) if presenting() else st.columns([3, 2], vertical_alignment="center")
with intro:
    st.title("Recurrent networks")
    links.show_ignored(PAGE)
    link_slot = st.container()
    explain("A recurrent network reads a sequence step by step and keeps a **state** from one step to the next. "
            "Below, every number is computed by hand and by Keras; then you see why plain RNNs forget and LSTMs "
            "remember longer.")
show_simple_rnn(preview)
show_lstm()
show_gradients()
show_memory()
links.sync(SCHEMA, PAGE)
with link_slot:
    links.link_box(PAGE)
