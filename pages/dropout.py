"""Dropout: the same network trained with and without it, the mask of one batch, and Keras' 1/(1 - rate) scaling."""
import time

import altair as alt
import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.engine.trainer import MAX_EPOCHS, prime
from models.training import dropout as do
from models.training.datasets import CLASSIFICATION_DATASETS
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

D = do.DEFAULTS
RUN_COLORS = alt.Scale(domain=list(do.RUNS), range=["#e45756", "#4c78a8"])
WIDTHS = [16, 32, 64, 128, 256, 512]
MAX_MASK_UNITS = 128
REDRAW_SECONDS = 0.3  # the chart resends every point; more often only loads slow browsers
NUMBER = st.column_config.NumberColumn(format="%.4f")


@st.cache_resource(show_spinner=False)
def primed() -> float:
    """TensorFlow's one-time start-up, once per server process."""
    return prime()


@st.cache_data(show_spinner=False, max_entries=256)
def cached_scaling(rate: float, seed: int):
    return do.scaling_example(rate, seed), do.large_sample_means(rate, seed)


def finish_interrupted_run(record, seconds: float = 2.0) -> None:
    """After a Stop click the old run ends at its next st call, in its own thread; give it that moment."""
    deadline = time.monotonic() + seconds
    while record and record.get("training") and time.monotonic() < deadline:
        time.sleep(0.05)


def loss_chart(results, epochs: int) -> alt.Chart:
    return alt.Chart(do.curves(results)).mark_line(strokeWidth=2.5).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[1, epochs]), title="epoch"),
        y=alt.Y("loss:Q", title="loss (binary cross-entropy)"),
        color=alt.Color("run:N", scale=RUN_COLORS, title=None, legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("curve:N", sort=["training", "validation"], title=None,
                                  legend=alt.Legend(orient="bottom")),
        detail="curve:N",
        tooltip=["run:N", "curve:N", "epoch:Q", alt.Tooltip("loss:Q", format=".4f")]).properties(height=360)


def mask_chart(frame) -> alt.Chart:
    return alt.Chart(frame).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("unit:O", title="unit of the hidden layer", axis=alt.Axis(labelOverlap=True)),
        y=alt.Y("example:O", title="example in the batch", axis=alt.Axis(labelOverlap=True)),
        color=alt.Color("state:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["kept", "dropped"], range=["#4c78a8", "#e6e6e6"])),
        tooltip=["example:O", "unit:O", "state:N"]).properties(height=max(120, 11 * frame["example"].max()))


st.title("Dropout")
st.markdown(
    "**Dropout** switches hidden units off at random while a network trains: in every training step each unit "
    "after a Dropout layer is set to 0 with probability *rate* (a new random choice for every example and every "
    "step), so the network cannot rely on any single unit. Predictions use all units. Below, the same network "
    "trains with and without dropout on the same few noisy points; then you see one batch's mask and the "
    "scaling Keras applies to the units it keeps."
)

# ---- Settings ------------------------------------------------------------------------------------
st.header("1 · Settings")
left, right = st.columns(2)
rate = left.slider("Dropout rate (fraction of units dropped)", 0.0, 0.9, D["dropout_rate"], 0.05,
                   key="dropout_rate")
layers_slot = right.container()
with st.expander("Data, network and training"):
    a, b, c = st.columns(3)
    dataset = a.selectbox("Data", CLASSIFICATION_DATASETS, CLASSIFICATION_DATASETS.index(D["dataset"]),
                          key="dropout_dataset")
    n_samples = b.slider("Points (half for validation)", 20, 1000, D["n_samples"], 10, key="dropout_points")
    noise = c.slider("Noise", 0.0, 0.6, D["noise"], 0.05, key="dropout_noise")
    width = a.selectbox("Neurons per hidden layer", WIDTHS, WIDTHS.index(D["hidden_units"][0]), key="dropout_width")
    depth = b.radio("Hidden layers", [1, 2, 3], len(D["hidden_units"]) - 1, horizontal=True, key="dropout_depth")
    epochs = c.number_input("Epochs", 0, MAX_EPOCHS, D["epochs"], 50, key="dropout_epochs")
    learning_rate = a.select_slider("Learning rate (Adam)", [0.001, 0.003, 0.01, 0.03, 0.1], D["learning_rate"],
                                    key="dropout_learning_rate")
    seed = b.number_input("Seed (data, initial weights, shuffles, masks)", 0, 9999, D["seed"], key="dropout_seed")
    st.caption(f"ReLU hidden layers, one sigmoid output, binary cross-entropy, batches of {D['batch_size']}.")
chosen = layers_slot.multiselect("Hidden layers followed by dropout", list(range(1, depth + 1)),
                                 default=list(range(1, depth + 1)), format_func=lambda k: f"hidden layer {k}",
                                 key=f"dropout_layers_{depth}")
hidden_units = (width,) * depth
try:
    settings = do.check_comparison(dataset=dataset, n_samples=n_samples, noise=noise, hidden_units=hidden_units,
                                   dropout_rate=rate, dropout_layers=chosen, epochs=epochs,
                                   learning_rate=learning_rate, seed=seed)
except ValueError as problem:
    st.error(str(problem), icon=":material/error:")
    settings = None
st.caption(f"One click trains two networks of {do.count_weights(hidden_units):,} weights each, so each run may use "
           f"half the per-click budget: epochs × points × weights at most {do.MAX_WORK_PER_RUN:,} and at most "
           f"{do.MAX_STEPS_PER_RUN:,} optimizer steps. Training students take turns on the server, chunk by chunk.")

# ---- Predict first -------------------------------------------------------------------------------
st.header("2 · Predict first")
st.markdown("Commit before you train: compared with the run **without** dropout, at the last epoch…")
guess_train = st.radio("…the training loss **with** dropout will be", do.ANSWERS, index=None, horizontal=True,
                       key="dropout_guess_training")
guess_val = st.radio("…the validation loss **with** dropout will be", do.ANSWERS, index=None, horizontal=True,
                     key="dropout_guess_validation")

# ---- Train side by side --------------------------------------------------------------------------
st.header("3 · Train both side by side")
st.markdown("Same points, same initial weights, same order of batches (one seed); only the dropout differs. "
            "Solid lines: training loss; dashed: validation loss.")
start = st.button("Train both", type="primary", key="dropout_train", disabled=settings is None)
controls, chart_slot, status_slot = st.container(), st.empty(), st.empty()
finish_interrupted_run(st.session_state.get("dropout_run"))
if start and settings is not None:
    # Stored before training and filled in place, so the rerun that a Stop click starts sees the partial run.
    record = {"settings": settings, "guesses": (guess_train, guess_val), "results": {}, "training": True}
    st.session_state["dropout_run"] = record
    stop_slot = controls.empty()
    stop_slot.button("Stop", key="dropout_stop", help="Keeps the curves so far.")  # a click reruns the page
    progress = controls.progress(0, text="Starting TensorFlow…")
    try:
        primed()
        trainers = do.start_comparison(settings, cache=st.session_state.setdefault("dropout_trainers", {}))
        progress.progress(0, text="Compiling (a few seconds the first time with new settings)…")
        drawn = 0.0
        for results in do.train_side_by_side(trainers, guard=heavy_work):
            record["results"] = results
            done = {run: result.epochs_run for run, result in results.items()}
            progress.progress(min(sum(done.values()) / (2 * settings.epochs), 1.0),
                              text=" · ".join(f"{run}: epoch {n} of {settings.epochs}" for run, n in done.items()))
            if time.monotonic() - drawn > REDRAW_SECONDS:  # every chunk ends at a progress update (a Stop point)
                chart_slot.altair_chart(loss_chart(results, settings.epochs), width="stretch")
                drawn = time.monotonic()
    except ValueError as problem:  # the settings were checked above; this is a last line of defence
        st.error(str(problem), icon=":material/error:")
    finally:  # a Stop click (or any other widget) interrupts at an st call; what was trained stays in the record
        record["training"] = False
    stop_slot.empty()
    progress.empty()

record = st.session_state.get("dropout_run")
if record and record["results"]:
    results, ran = record["results"], record["settings"]
    chart_slot.altair_chart(loss_chart(results, ran.epochs), width="stretch",
                            alt="Training and validation loss per epoch, with and without dropout.")
    for run, result in results.items():
        if result.status == "diverged":
            st.warning(f"**{run}**: {result.message}")
        elif not result.done:
            st.info(f"**{run}**: stopped by you after epoch {result.epochs_run} of {result.epochs}.")
    if ran != settings:
        status_slot.caption("These curves come from earlier settings; press **Train both** to use the new ones.")

    st.subheader("Measured effect")
    gaps = do.gap_table(results)
    st.dataframe(gaps, hide_index=True, column_config={
        name: NUMBER for name in gaps.columns if "loss" in name or "gap" in name})
    st.caption("Train loss, val(idation) loss and gap = val loss − train loss are at the last epoch; *gap at best* "
               "is the gap at the epoch with the lowest validation loss. A large gap means the network memorised "
               "its training points. The training loss of the dropout run is measured with units dropped, as "
               "Keras' `fit` reports it; the validation loss always uses all units.")

    answer = do.answers(results)
    if answer:
        st.subheader("Your predictions")
        for (name, guess) in zip(("training", "validation"), record["guesses"]):
            off, on = answer["values"][name]
            detail = f"At epoch {answer['epoch']} the {name} loss was {on:.4f} with dropout, {off:.4f} without."
            if guess is None:
                st.info(f"You did not guess the {name} loss. It was **{answer[name]}** with dropout. {detail}")
            else:
                feedback = grade_choice(guess, answer[name])
                (st.success if feedback.verdict == "spot on" else st.warning)(f"{feedback.message} {detail}")
        why = [("Training loss: with dropout it is measured with part of every layer switched off (as `fit` reports "
                "it), and the network cannot memorise single points as easily, so it stays higher."
                if answer["training"] == "higher" else
                "Training loss: lower with dropout in this run, which is unusual; after few epochs the two runs are "
                "still close and chance decides."),
               ("Validation loss: computed with all units. Without dropout the wide network memorises the noisy "
                "training points: its training loss heads for 0 while its validation loss climbs (overfitting). "
                "Dropout holds that back." if answer["validation"] == "lower" else
                "Validation loss: not lower with dropout in this run. Dropout helps a network that overfits; with "
                "few epochs, a small network or a high rate it mostly slows learning or makes the network underfit.")]
        st.markdown("\n".join(f"- {line}" for line in why))

# ---- The mask ------------------------------------------------------------------------------------
st.header("4 · Inside one batch: the mask")
try:
    mask_layers = do.check_layers(chosen, depth)
    do.check_rate(rate)
except ValueError as problem:
    st.warning(str(problem))
else:
    n_train = n_samples - round(n_samples * D["validation_fraction"])
    batch = min(D["batch_size"], n_train)
    per_epoch = do.steps_per_epoch(n_train, batch)
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    layer = a.selectbox("Hidden layer", mask_layers, format_func=lambda k: f"hidden layer {k}",
                        key="dropout_mask_layer")
    if b.button("New mask", key="dropout_new_mask", help="The mask of the next training batch"):
        st.session_state["dropout_mask_draw"] = st.session_state.get("dropout_mask_draw", 0) + 1
    if c.button("First batch", key="dropout_first_mask"):
        st.session_state["dropout_mask_draw"] = 0
    draw = st.session_state.get("dropout_mask_draw", 0)
    epoch, step = divmod(draw, per_epoch)
    mask = do.training_mask(rate=rate, seed=seed, epoch=epoch, step=step, layer=layer, dropout_layers=mask_layers,
                            units=width, batch_size=batch)[:n_train - step * batch]  # padding rows carry no data
    st.altair_chart(mask_chart(do.mask_frame(mask[:, :MAX_MASK_UNITS])), width="stretch",
                    alt=f"Grid of kept and dropped units of hidden layer {layer}.")
    shown = "" if width <= MAX_MASK_UNITS else f" (the chart shows the first {MAX_MASK_UNITS} of {width} units)"
    st.markdown(f"Epoch {epoch + 1}, batch {step + 1} of {per_epoch}: **{(~mask).sum()} of {mask.size}** units "
                f"dropped ({(~mask).mean():.1%}; the rate is {rate:.0%}){shown}. Each example in the batch gets "
                "its own mask, and the next batch a new one.")
    st.caption("This is the very mask the *with dropout* run used for this batch: the training engine's mask "
               "(`apply_dropout` with the key `hash_key(seed, epoch, step, layer)`), a seeded hash rather than "
               "Keras' Dropout layer, so the same seed always gives the same masks. Nothing is dropped at inference.")

# ---- Scaling -------------------------------------------------------------------------------------
st.header("5 · The 1/(1 − rate) scaling")
scale = 1 / (1 - rate)
st.markdown(
    f"Keras uses **inverted dropout**. While training (`training=True`, as inside `fit`), the kept units are "
    f"multiplied by 1/(1 − rate) = 1/(1 − {rate:g}) = **{scale:.4g}**, and the dropped ones are 0. On average a "
    f"unit then passes on (1 − rate) × a / (1 − rate) = a, its own value. At inference (`predict`, `evaluate`, "
    f"or calling the model with `training=False`) the layer passes its input through unchanged: all units, "
    f"no scaling, and the weights are never rescaled."
)
st.info("Some course notes say the weights are scaled down at test time. That is the original paper's variant "
        "(Srivastava et al., 2014: no scaling in training, weights multiplied by the keep probability p at test "
        "time; their p is the chance of *keeping* a unit, Keras' rate the chance of *dropping* it). Keras does "
        "the equivalent scaling during training instead, so inference needs nothing special.")
example, (mean_in, mean_out, dropped) = cached_scaling(rate, seed)
st.markdown(f"Ten activations through `keras.layers.Dropout({rate:g}, seed={seed})`, called once with "
            "`training=True` and once with `training=False`:")
st.dataframe(example, hide_index=True, column_config={
    "activation": st.column_config.NumberColumn(format="%.1f"), "training output": NUMBER,
    "inference output": st.column_config.NumberColumn(format="%.1f")})
first_kept = example[example["kept"] == "kept"].head(1)
m1, m2, m3 = st.columns(3)
m1.metric("input mean", f"{example['activation'].mean():.4f}")
m2.metric("training-output mean", f"{example['training output'].mean():.4f}")
m3.metric("scale 1/(1 − rate)", f"{scale:.4g}")
if not first_kept.empty:
    row = first_kept.iloc[0]
    st.markdown(f"By hand: unit {row['unit']} was kept, so {row['activation']:.1f} × {scale:.4g} = "
                f"**{row['training output']:.4f}**. With only ten units the two means differ by chance; over 10,000 "
                f"units the same layer dropped {dropped:.1%} and the means are {mean_in:.4f} (input) and "
                f"{mean_out:.4f} (training output).")
