"""Loss functions: each loss and its slope against the prediction, why cross-entropy, outliers, which loss to use."""
import numpy as np
import pandas as pd
import streamlit as st

from models.core.guess import grade_choice
from models.core.numbers import format_number
from models.engine.heavy_work import heavy_work
from models.training import loss_fit as F
from models.training import losses as L
from pages.foundations import checked_links
from pages.shared import links
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting
from pages.training.loss_functions_link import CHECKS, DEFAULTS, PAGE, SCHEMA, TASKS, points_table, points_text, span
from pages.training.loss_functions_parts import fit_chart, hover_chart

ensure_app_navigation()

GATE = RevealGate("loss_outliers", question="loss_functions.outliers")
NUMBER = st.column_config.NumberColumn(format="%.4f")
state = st.session_state
for key, value in DEFAULTS.items():  # start values here, not in the widgets: a link may set them
    state.setdefault(key, value)


def main() -> None:
    if checked_links.restore(SCHEMA, PAGE, CHECKS):  # a shared link sets every control, its points included
        state["loss_points"] = points_table(state["loss_points_link"])
        state["loss_editor_version"] = state.get("loss_editor_version", 0) + 1
    title, link_slot = st.columns([3, 1], vertical_alignment="center")
    title.title("Loss functions")
    links.show_ignored(PAGE)
    explain(
        "A **loss function** turns a prediction ŷ and the true target y into one number: how wrong the model is. "
        "Training moves the weights downhill on it, so its **slope** ∂L/∂ŷ is what the model actually learns "
        "from. Every value below comes from `keras.losses` in 64-bit floats and every slope from TensorFlow's "
        "automatic differentiation (`tf.GradientTape`). Keras reports the **mean** over the examples.")
    show_curves()           # 1 · loss and slope against the prediction
    show_logits()           # 2 · why cross-entropy for classification
    show_outliers()         # 3 · outliers: MSE, MAE and Huber fit a line
    show_which_loss()       # 4 · which loss for which task
    links.sync(SCHEMA, PAGE)
    with link_slot:
        links.link_box(PAGE)


def folded(label: str):
    """Where a section's controls go: under its chart in an expander on the projector, else in place."""
    return st.expander(label) if presenting() else st.container()


@st.cache_data(show_spinner=False, max_entries=128)
def cached_curves(names: tuple, task: str, target: float, delta: float) -> pd.DataFrame:
    return L.loss_curves(names, task, target, delta=delta)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_logits(target: int) -> pd.DataFrame:
    return L.logit_gradients(target, np.linspace(-8, 8, 161))


@st.cache_data(show_spinner=False, max_entries=16)
def reference_fits(delta: float) -> dict:
    """The starting points' three lines: the same for every student, so trained once per server and δ."""
    return F.fit_lines(F.REFERENCE["x"], F.REFERENCE["y"], delta=delta, guard=heavy_work)


def show_curves() -> None:
    st.header("1 · Loss against prediction")
    charts = st.container()  # on the projector the curves come first, their controls folded below
    with folded("Task, target and prediction"):
        a, b, c = st.columns([2, 1, 1])
        task = a.radio("Task", span("loss_task"), format_func=TASKS.get, key="loss_task")
        if task == "classification":
            target = float(b.radio("Target y", span("loss_target"), horizontal=True, key="loss_target"))
            prediction = c.number_input("Prediction ŷ (probability)", *span("loss_prediction"), step=0.01,
                                        format="%.4f", key="loss_prediction")
            names, delta = ("binary_crossentropy", "mse"), state["loss_delta"]
        else:
            target = b.number_input("Target y", *span("loss_regression_target"), step=0.5,
                                    key="loss_regression_target")
            prediction = c.number_input("Prediction ŷ", *span("loss_regression_prediction"), step=0.5,
                                        key="loss_regression_prediction")
            delta = a.slider("Huber δ: squared inside ±δ, straight outside", *span("loss_delta"), step=0.1,
                             key="loss_delta")
            names = L.REGRESSION
    data = cached_curves(names, task, target, delta)
    height = 400 if presenting() else 360  # the legend below takes about 90 pixels of it
    left, right = charts.columns(2)
    left.altair_chart(hover_chart(data, "prediction", "value", "loss", "loss L(y, ŷ)", prediction, height),
                      width="stretch")
    right.altair_chart(hover_chart(data, "prediction", "slope", "loss", "slope ∂L/∂ŷ", prediction, height),
                       width="stretch")
    lines = []
    for name in names:
        value_text, slope_text, _, _ = L.written_out(name, target, prediction, **({"delta": delta} if name == "huber"
                                                                                   else {}))
        lines.append(f"- **{L.LOSSES[name].label}**: L = {value_text}; slope ∂L/∂ŷ = {slope_text}")
    st.markdown(f"At y = {target:g}, ŷ = {prediction:g}:\n" + "\n".join(lines))
    note = st.caption if not presenting() else explain  # long notes fold away on the projector
    if task == "classification":
        note("Cross-entropy punishes a confident wrong answer without limit (−ln ŷ grows as ŷ → 0), while "
                   "MSE on a probability never exceeds 1. Keras clips probabilities to [1e-7, 1 − 1e-7] before "
                   "taking the log, so a prediction of exactly 0 or 1 gives a finite loss, at most −ln 1e-7 = "
                   "16.1181, and a slope of 0 there: the clip passes no gradient. A model that outputs logits "
                   "and uses `from_logits=True` avoids this. Categorical cross-entropy is −ln(probability of the "
                   "true class); with two classes it is exactly binary cross-entropy.")
    else:
        note("MSE's slope grows with the error, so a far-off point pulls hard; MAE's slope is always ±1; "
                   "Huber is MSE near the target and MAE beyond δ, so its slope never exceeds δ.")


def show_logits() -> None:
    st.header("2 · Why cross-entropy for classification")
    st.markdown("A classifier's last neuron outputs a **logit** z and its sigmoid turns it into ŷ = σ(z). The weights "
                "learn from ∂L/∂z. Compare the two losses on the same sigmoid neuron:")
    charts = st.container()
    with folded("True class and logit"):
        a, b = st.columns(2)
        target = a.radio("True class y", span("loss_logit_target"), horizontal=True, key="loss_logit_target")
        logit = b.number_input("Logit z", *span("loss_logit"), step=0.5, key="loss_logit")
    data = cached_logits(target)
    left, right = charts.columns(2)
    left.altair_chart(hover_chart(data, "logit", "loss", "pairing", "loss", logit, 330), width="stretch")
    right.altair_chart(hover_chart(data, "logit", "gradient", "pairing", "gradient ∂L/∂z", logit, 330),
                       width="stretch")
    probe = L.logit_probe(target, logit)
    p, (_, mse), (_, bce) = probe["probability"], probe[L.PAIRINGS[0]], probe[L.PAIRINGS[1]]
    st.markdown(f"At z = {logit:g}: ŷ = σ(z) = **{format_number(p)}**. Sigmoid + MSE: ∂L/∂z = 2(ŷ − y)·ŷ(1 − ŷ) = "
                f"**{format_number(mse)}**. Sigmoid + binary cross-entropy: ∂L/∂z = ŷ − y = **{format_number(bce)}**.")
    st.info("When the model is confidently wrong, MSE's gradient nearly vanishes because the flat sigmoid multiplies "
            "it by ŷ(1 − ŷ) ≈ 0, while cross-entropy's gradient ŷ − y stays near ±1, so it learns fastest exactly "
            "when it is most wrong.")


def show_outliers() -> None:
    st.header("3 · Outliers: MSE, MAE and Huber fit a line")
    st.markdown("Edit the points (add a row at the bottom, or type a y far away). Each loss trains its own line "
                "y = w·x + b (one Dense neuron, Adam, all points in one batch) on the starting points and on yours.")
    state.setdefault("loss_points", F.as_table(F.REFERENCE))
    a, b = st.columns(2)
    if a.button(f"Point {F.JUMP['row'] + 1} jumps to y = {F.JUMP['y']:g}", key="loss_jump"):
        state["loss_points"] = F.jumped(F.as_table(F.REFERENCE))
        state["loss_editor_version"] = state.get("loss_editor_version", 0) + 1
    if b.button("Back to the starting points", key="loss_reset"):
        state["loss_points"] = F.as_table(F.REFERENCE)
        state["loss_editor_version"] = state.get("loss_editor_version", 0) + 1
    text = st.column_config.TextColumn
    edited = st.data_editor(state["loss_points"], num_rows="dynamic", hide_index=True, column_config={
        "x": text("x", required=False), "y": text("y", required=False)},
        key=f"loss_editor_{state.get('loss_editor_version', 0)}")
    delta = st.slider("Huber δ for the fit", *span("loss_fit_delta"), step=0.1, key="loss_fit_delta")
    try:
        x, y = F.parse_points(edited)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    state["loss_points_link"] = points_text(x, y)  # the address carries the points as typed, exactly
    signature = (tuple(x), tuple(y), delta)
    guess = st.radio("Predict first: which line moves most when one point jumps?", list(F.FIT_LOSSES.values()),
                     index=None, horizontal=True, key="loss_guess")
    same = len(x) == len(F.REFERENCE) and np.array_equal(x, F.REFERENCE["x"]) and np.array_equal(y, F.REFERENCE["y"])
    if same:
        st.caption("Your points are still the starting points: make one jump first.")
    GATE.offer_to_class()
    if st.button("Lock in my guess and fit", type="primary", key="loss_fit", disabled=guess is None or same):
        with st.spinner("Training three lines with Keras (a few seconds the first time)…"):
            before = reference_fits(delta)
            after = F.fit_lines(x, y, delta=delta, cache=state.setdefault("loss_trainers", {}), guard=heavy_work)
        low, high = min(x.min(), F.REFERENCE["x"].min()), max(x.max(), F.REFERENCE["x"].max())
        table = F.movement(before, after, low, high)
        state["loss_fit_run"] = (signature, before, after, table, (low, high))
        GATE.reveal(signature, grade_choice(guess, F.most_moved(table)), answer=guess)
    run = state.get("loss_fit_run")
    if not (run and run[0] == signature and GATE.revealed(signature)):
        return
    _, before, after, table, (low, high) = run
    show_verdict(GATE.feedback(), f"The {F.most_moved(table)} line moved most: "
                                  f"{table['largest move'].max():.2f} at most, vertically, between x = {low:g} and "
                                  f"x = {high:g}.")
    chart = fit_chart(x, y, before, after, low, high)
    st.altair_chart(chart, width="stretch")
    st.dataframe(table, hide_index=True, column_config={c: NUMBER for c in table.columns if c != "loss"})
    st.caption("Dashed: lines on the starting points; solid: on yours. *Largest move* is the biggest vertical "
               "distance between a loss's two lines over the points' x range. MSE squares the far point's error, "
               "so that one point drags the line; MAE's pull is the same for every point, whatever its distance; "
               "Huber pulls like MSE within δ and like MAE beyond it.")


def show_which_loss() -> None:
    st.header("4 · Which loss?")
    st.table(L.WHICH_LOSS.set_index("task"))
    st.caption("Binary classification needs **one** sigmoid output neuron: it gives P(class 1), and P(class 0) = "
               "1 − P(class 1). With K ≥ 2 classes, use K softmax neurons; `sparse_categorical_crossentropy` takes "
               "the class numbers directly instead of one-hot rows.")


main()
