"""Over- and underfitting: train small networks live and watch training and validation loss part ways."""
import threading
import time
from dataclasses import replace

import altair as alt
import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.engine.mlp import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_UNITS
from models.engine.trainer import MAX_EPOCHS, OPTIMIZERS, prime, train_in_chunks
from models.training import overfitting as ov
from models.training.datasets import DATASETS
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

K = "overfitting_"
SETS = alt.Scale(domain=["training", "validation"], range=["#1f77b4", "#ff7f0e"])
SHAPES = alt.Scale(domain=["training", "validation"], range=["circle", "triangle-up"])
KINDS = ["underfitting", "good fit", "overfitting"]
VERDICT_BOX = {"spot on": st.success, "off": st.warning}


@st.cache_resource(show_spinner="Starting the training engine…")
def engine_ready() -> float:
    return prime()  # one-time TensorFlow start-up per server process; nothing in it is shared


def widget_values(settings: ov.RunSettings) -> dict:
    values = {K + name: getattr(settings, name) for name in settings.__dataclass_fields__ if name != "patience"}
    return values | {K + "early_stopping": settings.patience is not None, K + "patience": settings.patience or 20}


def load_preset(name: str) -> None:
    current = st.session_state.get(K + "seed", 0)
    st.session_state.update(widget_values(replace(ov.preset_settings(name), seed=current)))


def clear_runs() -> None:
    for key in ("runs", "latest", "overlay", "new_overlay"):
        st.session_state.pop(K + key, None)


for key, value in widget_values(ov.preset_settings("good fit")).items():
    st.session_state.setdefault(key, value)
state = st.session_state
state.setdefault(K + "runs", [])
state.setdefault(K + "new_overlay", [])  # runs to add to the overlay picker on the next render
# Held while a run trains and is saved. A click during training starts the next script run at once
# (the old one stops at its next st call), so the next run waits here for the old one to save.
state.setdefault(K + "busy", threading.Lock())
state.setdefault(K + "trainers", {})  # compiled trainers hold variables: one cache per student session


def curve_chart(history, metric, *, epochs, marks=None, height=320, y_max=None):
    """Training and validation curves of one run, with optional labelled vertical markers."""
    data = ov.long_curves(history, metric)
    title = {"loss": "loss", "accuracy": "accuracy"}[metric]
    lines = alt.Chart(data).mark_line(strokeWidth=2.5).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, epochs]), title="epoch"),
        y=alt.Y(f"{metric}:Q", title=title, scale=alt.Scale(domain=[0, 1 if metric == "accuracy" else y_max])
                if metric == "accuracy" or y_max else alt.Undefined),
        color=alt.Color("set:N", scale=SETS, title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["set:N", "epoch:Q", alt.Tooltip(f"{metric}:Q", format=".4f")])
    if marks is None or marks.empty:
        return lines.properties(height=height)
    marks = marks.assign(row=[6 + 16 * i for i in range(len(marks))], right=marks["epoch"] > 0.55 * epochs)
    layers = [lines, alt.Chart(marks).mark_rule(strokeDash=[5, 3], color="#444").encode(x="epoch:Q",
                                                                                         tooltip=["marker:N"])]
    for right, part in marks.groupby("right"):  # labels stay inside the plot: left of late markers
        layers.append(alt.Chart(part).mark_text(align="right" if right else "left", dx=-4 if right else 4,
                                                baseline="top", fontSize=12).encode(
            x="epoch:Q", y=alt.Y("row:Q", scale=None), text="short:N"))
    return alt.layer(*layers).properties(height=height)


def picture_chart(run, height=420, legends=True, side=None):
    """Classification: P(label 1) over the plane with the points on top (a `side` x `side` square, so circles
    look round). Regression: the fitted curve."""
    if run.settings.regression:
        points = alt.Chart(run.points).mark_point(filled=True, size=45, color="#9a9a9a").encode(
            x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
            shape=alt.Shape("set:N", scale=SHAPES, title=None, legend=alt.Legend(orient="top")))
        curve = run.picture.rename(columns={"prediction": "model", "true": "sin(x), no noise"}).melt(
            "x", ["model", "sin(x), no noise"], var_name="curve", value_name="y")
        lines = alt.Chart(curve).mark_line(strokeWidth=3).encode(
            x="x:Q", y="y:Q", strokeDash=alt.StrokeDash("curve:N", title=None, legend=alt.Legend(orient="top")),
            color=alt.Color("curve:N", scale=alt.Scale(domain=["model", "sin(x), no noise"], range=["#d62728", "#222"]),
                            title=None))
        return alt.layer(points, lines).properties(height=height)
    # Light background colours, so that the saturated points stay visible on top of them.
    probability = alt.Scale(domain=[0, 0.5, 1], range=["#8fb9dc", "#f7f7f7", "#f5b27a"])
    cells = run.picture.assign(  # overlap neighbours by a quarter cell: no hairline seams between them
        x1_end=lambda g: g["x1_end"] + 0.25 * (g["x1_end"] - g["x1_start"]),
        x2_end=lambda g: g["x2_end"] + 0.25 * (g["x2_end"] - g["x2_start"]))
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("x1_start:Q", title="x1", scale=alt.Scale(nice=False, zero=False)), x2="x1_end:Q",
        y=alt.Y("x2_start:Q", title="x2", scale=alt.Scale(nice=False, zero=False)), y2="x2_end:Q",
        color=alt.Color("probability:Q", scale=probability, title="P(label 1)",
                        legend=alt.Legend(gradientLength=160) if legends else None))
    legend = alt.Undefined if legends else None
    labelled = run.points.assign(class_=run.points["label"].map({0: "label 0", 1: "label 1"}))
    points = alt.Chart(labelled).mark_point(filled=True, size=50, stroke="black", strokeWidth=0.7).encode(
        x="x1:Q", y="x2:Q", shape=alt.Shape("set:N", scale=SHAPES, title=None, legend=legend),
        fill=alt.Fill("class_:N", scale=alt.Scale(domain=["label 0", "label 1"], range=["#2166ac", "#e66101"]),
                      title=None, legend=legend),
        tooltip=["set:N", "class_:N", alt.Tooltip("x1:Q", format=".2f"), alt.Tooltip("x2:Q", format=".2f")])
    # Streamlit fits axes and legends inside width x height; these margins leave a square plot.
    size = {"width": side + 150, "height": side + 45} if side else {"height": height}
    return alt.layer(heat, points).properties(**size)


def train_live(settings: ov.RunSettings, label: str, slot) -> None:
    """Train one run, redrawing its curves in `slot` between chunks; the run is kept even if Stop cuts it short."""
    data, notes = ov.check_settings(settings)
    for note in notes:
        st.info(note)
    slot.progress(0, text=f"{label}: preparing (a new network shape takes a second or two the first time)…")
    # After Stop even reading st.session_state raises again, so `finally` only touches these objects.
    runs, latest, overlay, busy = state[K + "runs"], state[K + "latest"], state[K + "new_overlay"], state[K + "busy"]
    if not busy.acquire(timeout=60):
        raise ValueError("Your previous run is still finishing. Press the button again in a moment.")
    result, clock = None, time.perf_counter()
    try:
        trainer = ov.start_trainer(settings, data, state[K + "trainers"])
        for result in train_in_chunks(trainer, guard=heavy_work):
            with slot.container():
                st.progress(int(100 * result.epochs_run / result.epochs),
                            text=f"{label}: epoch {result.epochs_run} of {result.epochs}")
                st.altair_chart(curve_chart(result.history, "loss", epochs=settings.epochs, height=280),
                                width="stretch")
    finally:
        try:
            if result is not None:
                seconds = time.perf_counter() - clock
                number = max((run.number for run in runs), default=0) + 1
                with heavy_work():
                    runs.append(ov.make_run(number, label, settings, result, data, seconds, trainer.predict))
                del runs[:-ov.MAX_RUNS]
                latest["numbers"].append(number)
                overlay.append(number)
        finally:
            busy.release()


def show_run(run, *, compact=False, y_max=None) -> None:
    marks = ov.markers(run.history, best_epoch=run.best_epoch, early_stopping=run.settings.patience is not None)
    (st.error if run.status == "diverged" else st.caption if compact else st.info)(run.message)
    if run.history.empty:
        st.markdown(f"**Diagnosis: {run.diagnosis.kind}.** {run.diagnosis.text} No epoch finished, so there is "
                    "no curve to draw.")
        return
    if compact:
        with st.expander(f"**{run.diagnosis.kind.capitalize()}**: why?"):
            st.markdown(run.diagnosis.text)
        st.altair_chart(curve_chart(run.history, "loss", epochs=run.settings.epochs, marks=marks, height=280,
                                    y_max=y_max), width="stretch")
        if run.picture is not None:
            st.altair_chart(picture_chart(run, height=300, legends=False), width="stretch")
        return
    left, right = st.columns(2)
    left.altair_chart(curve_chart(run.history, "loss", epochs=run.settings.epochs, marks=marks), width="stretch")
    if not run.settings.regression:
        right.altair_chart(curve_chart(run.history, "accuracy", epochs=run.settings.epochs), width="stretch")
    st.markdown(f"**Diagnosis: {run.diagnosis.kind}.** {run.diagnosis.text}")
    if run.picture is not None:
        if run.settings.regression:
            st.altair_chart(picture_chart(run), width="stretch")
        else:
            st.altair_chart(picture_chart(run, side=340), width="content")
        st.caption("Training points are circles, validation points triangles." + (
            "" if run.settings.regression else " The colour behind them is the model's probability of label 1"
            + (", with the weights early stopping restored." if run.settings.patience else ".")))


st.title("Over- and underfitting")
st.markdown(
    "A network learns from the **training** points; the **validation** points are held back to see how it does "
    "on data it has never seen. **Overfitting**: low training error, high validation error: the model memorises "
    "the training points, noise included, and the gap between the two curves grows. **Underfitting**: both errors "
    "stay high: the model is too simple (or trained too little) to capture the pattern."
)

# ---- Parameters --------------------------------------------------------------------------------------
st.header("1 · Data and model")
st.markdown("Load a preset (your seed stays), then change anything. " + " ".join(
    f"**{preset['label'].split(':')[0]}**:{preset['label'].split(':')[1]}." for preset in ov.CAPACITY_PRESETS.values()))
for column, name in zip(st.columns(3), ov.PRESETS):
    column.button(name.capitalize(), key=K + "preset_" + name.replace(" ", "_"), on_click=load_preset, args=(name,),
                  width="stretch", help=f"Load the {name} preset")
c1, c2, c3, c4 = st.columns(4)
dataset = c1.selectbox("Dataset", list(DATASETS), key=K + "dataset")
noise = c2.slider("Noise", 0.0, 1.0, step=0.05, key=K + "noise")
n_samples = c3.number_input("Number of points", 2, 5000, step=10, key=K + "n_samples")
validation_fraction = c4.slider("Validation share", 0.1, 0.9, step=0.05, key=K + "validation_fraction")
c1, c2, c3, c4 = st.columns(4)
hidden_layers = c1.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, key=K + "hidden_layers")
units = c2.number_input("Neurons per layer", 0, MAX_UNITS, key=K + "units", disabled=hidden_layers == 0)
activation = c3.selectbox("Activation", ACTIVATIONS, key=K + "activation")
seed = c4.number_input("Seed", 0, 2**31 - 1, key=K + "seed", help="The same seed gives the same data and curve.")
c1, c2, c3, c4 = st.columns(4)
optimizer = c1.selectbox("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get, key=K + "optimizer")
learning_rate = c2.number_input("Learning rate", 0.0, 100.0, step=0.001, format="%g", key=K + "learning_rate")
batch_size = c3.number_input("Batch size", 1, 10_000, key=K + "batch_size")
epochs = c4.number_input("Epochs", 0, MAX_EPOCHS, step=50, key=K + "epochs")
c1, c2, c3, c4 = st.columns(4)
l1 = c1.number_input("L1 penalty", 0.0, 1.0, step=0.0001, format="%g", key=K + "l1")
l2 = c2.number_input("L2 penalty", 0.0, 1.0, step=0.0001, format="%g", key=K + "l2")
early_stopping = c3.checkbox("Early stopping", key=K + "early_stopping")  # wraps on tablets; a toggle label is cut
patience = c4.number_input("Patience (epochs)", 1, 1000, key=K + "patience", disabled=not early_stopping)
settings = ov.RunSettings(
    dataset=dataset, noise=float(noise), n_samples=int(n_samples), validation_fraction=float(validation_fraction),
    hidden_layers=int(hidden_layers), units=int(units), activation=activation, optimizer=optimizer,
    learning_rate=float(learning_rate), batch_size=int(batch_size), epochs=int(epochs), l1=float(l1), l2=float(l2),
    patience=int(patience) if early_stopping else None, seed=int(seed))
work, share = ov.work_share(settings)
st.caption(f"{ov.limits_text()} This run: {settings.epochs:,} epochs × {settings.n_samples:,} points × "
           f"{ov.count_weights(settings):,} weights = {work:,} ({'under 1%' if share < 0.01 else f'{share:.0%}'} "
           "of that limit).")

# ---- Predict first, then train -----------------------------------------------------------------------
st.header("2 · Predict first, then train")
left, right = st.columns(2)
guess = left.radio("Will this run underfit, fit well or overfit?", KINDS, index=None, key=K + "guess")
compare_guess = right.radio("Which preset will end with the largest gap between validation and training loss?",
                            ov.PRESETS, index=None, key=K + "compare_guess")
b1, b2, b3 = st.columns(3)
train = b1.button("Train", type="primary", key=K + "train", width="stretch")
compare = b2.button("Compare presets", key=K + "compare", width="stretch",
                    help="Underfit, good fit and overfit on the data above, one after the other.")
b3.button("Stop", key=K + "stop", width="stretch", help="Stops the run; the curve so far is kept.")
st.caption("Compare trains the three preset networks (with their own epochs, Adam 0.01, batch 32, no penalties, "
           "no early stopping) on the data chosen above, so all three see exactly the same points.")

st.header("3 · Results")
if state[K + "busy"].acquire(timeout=60):  # an earlier run of this session may still be saving (see above)
    state[K + "busy"].release()
live = st.empty()
if train or compare:
    engine_ready()
    jobs = [(settings, ov.run_label(settings))] if train else [
        (ov.preset_settings(name, settings, keep_data=True), name) for name in ov.PRESETS]
    state[K + "latest"] = {"numbers": [], "question": "single" if train else "compare",
                           "guess": guess if train else compare_guess}
    try:
        for job_settings, _ in jobs:
            ov.check_settings(job_settings)
        slots = [live] if train else live.container().columns(3)
        for (job_settings, label), slot in zip(jobs, slots):
            train_live(job_settings, label, slot.empty())
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
    except Exception as problem:  # a last safety net: a student's click must never show a traceback
        st.error(f"Training stopped with an unexpected error: {problem}", icon=":material/error:")
    live.empty()

# ---- Results -------------------------------------------------------------------------------------------
runs = {run.number: run for run in state[K + "runs"]}
latest = state.get(K + "latest") or {"numbers": []}
shown = [runs[n] for n in latest["numbers"] if n in runs]
if not shown:
    st.info("Make your prediction, then press **Train**: the curves appear here as the network learns.")
else:
    if latest["question"] == "single":
        show_run(shown[0])
        answer = shown[0].diagnosis.kind
    else:
        y_max = max((float(run.history[["loss", "val_loss"]].max().max()) for run in shown if not run.history.empty),
                    default=None)
        for column, run in zip(st.columns(len(shown)), shown):
            with column:
                st.subheader(run.name)
                show_run(run, compact=True, y_max=y_max)
        st.caption("Same loss scale in all three. Circles: training points, triangles: validation points; dark blue "
                   "and orange: labels 0 and 1; the background is the model's probability of label 1, from light "
                   "blue (0) through white (0.5) to light orange (1).")
        answer = ov.largest_gap(shown)
    if latest["guess"] and answer in (KINDS if latest["question"] == "single" else ov.PRESETS):
        feedback = grade_choice(latest["guess"], answer)
        VERDICT_BOX[feedback.verdict](feedback.message)
    elif not latest["guess"]:
        st.caption("Next time, make your prediction in section 2 before you train.")
    else:
        st.caption("No verdict to grade your prediction against: the run diverged or finished no epoch.")

st.header("4 · Compare runs")
if not runs:
    st.info("Every run you train is listed here, so you can compare settings and overlay their curves.")
else:
    table = ov.runs_table(list(runs.values()))
    number = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(table, hide_index=True, column_config={
        c: number for c in table.columns if "loss" in c or "accuracy" in c} | {
        "seconds": st.column_config.NumberColumn(format="%.2f"),
        "learning rate": st.column_config.NumberColumn(format="%g")})
    state[K + "overlay"] = [n for n in state.get(K + "overlay", []) + state[K + "new_overlay"] if n in runs]
    state[K + "new_overlay"].clear()
    picked = st.multiselect("Runs to overlay", list(runs), format_func=lambda n: runs[n].name, key=K + "overlay")
    with_training = st.toggle("Also draw training loss (dashed)", key=K + "with_training")
    curves = ov.curves_table([runs[n] for n in picked])
    if not curves.empty:
        curves["name"] = curves["run"].map(lambda n: runs[n].name)
        long = curves.rename(columns={"val_loss": "validation", "loss": "training"}).melt(
            ["name", "epoch"], ["validation", "training"] if with_training else ["validation"], var_name="set",
            value_name="loss")
        st.altair_chart(alt.Chart(long).mark_line(strokeWidth=2.5).encode(
            x=alt.X("epoch:Q"), y=alt.Y("loss:Q"), color=alt.Color("name:N", title="run",
                                                                   scale=alt.Scale(scheme="category10")),
            strokeDash=alt.StrokeDash("set:N", scale=alt.Scale(domain=["validation", "training"],
                                                                range=[[1, 0], [5, 4]]), title=None),
            tooltip=["name:N", "set:N", "epoch:Q", alt.Tooltip("loss:Q", format=".4f")]).properties(height=320),
            width="stretch")
    d1, d2, d3 = st.columns(3)
    d1.download_button("Download the run table (CSV)", ov.to_csv(table), "runs.csv", "text/csv", key=K + "csv_runs")
    d2.download_button("Download every curve (CSV)", ov.to_csv(ov.curves_table(list(runs.values()))), "curves.csv",
                       "text/csv", key=K + "csv_curves")
    d3.button("Clear all runs", key=K + "clear", on_click=clear_runs)
    st.caption(f"The last {ov.MAX_RUNS} runs of this browser session are kept; nobody else sees them.")

st.header("5 · What to do about it")
st.markdown(
    "- **Overfitting** (validation loss far above training loss, often turning up after a minimum): get more "
    "training data, add an L1/L2 penalty or dropout, stop early at the validation minimum, or use a *smaller* "
    "model. (Some notes say to make the model *more* flexible; it is the other way round.)\n"
    "- **Underfitting** (both losses high and close): use a *larger* model, train longer, or fix the learning "
    "rate. Regularisation makes underfitting worse.\n"
    "- With an L1/L2 penalty, both losses on this page include the penalty, as Keras reports them.\n"
    "- **Early stopping** watches the validation loss and stops after *patience* epochs without a new lowest "
    "value, then restores the weights of that lowest epoch (the marked line on the curve).\n"
    "- The validation set has now steered your choices, so it is no longer unseen: judge the final model on "
    "a separate test set."
)
