"""Dropout: the same network trained with and without it, the mask of one batch, and Keras' 1/(1 - rate) scaling."""

import streamlit as st

from models.training import dropout as do
from pages.shared import class_poll, links
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain
from pages.training.dropout_link import PAGE, schema, span
from pages.training.dropout_runs import charts, show_training, start_session
from pages.training.fit_charts import mask_chart

ensure_app_navigation()

D = do.DEFAULTS
MAX_MASK_UNITS = 128
NUMBER = st.column_config.NumberColumn(format="%.4f")
DEFAULTS = {"dropout_rate": D["dropout_rate"], "dropout_dataset": D["dataset"], "dropout_points": D["n_samples"],
            "dropout_noise": D["noise"], "dropout_width": D["hidden_units"][0],
            "dropout_depth": len(D["hidden_units"]), "dropout_epochs": D["epochs"],
            "dropout_learning_rate": D["learning_rate"], "dropout_seed": D["seed"],
            "dropout_guess_training": None, "dropout_guess_validation": None} | {
    f"dropout_layers_{depth}": list(range(1, depth + 1)) for depth in (1, 2, 3)}
state = st.session_state
SCHEMA = schema(DEFAULTS)


def main() -> None:
    live = start_session(DEFAULTS)
    links.restore(SCHEMA, PAGE)  # a shared link sets every control, seed included
    st.title("Dropout")
    links.show_ignored(PAGE)
    explain(
        "**Dropout** switches hidden units off at random while a network trains: in every training step each unit "
        "after a Dropout layer is set to 0 with probability *rate* (a new random choice for every example and every "
        "step), so the network cannot rely on any single unit. Predictions use all units. Below, the same network "
        "trains with and without dropout on the same few noisy points; then you see one batch's mask and the "
        "scaling Keras applies to the units it keeps."
    )
    inputs, settings = show_settings()
    links.sync(SCHEMA, PAGE)
    links.link_box(PAGE)
    guesses = show_predictions()
    show_training(settings, guesses, live)
    show_mask(inputs)
    show_scaling(inputs["rate"], inputs["seed"])
    charts().end_run()


@st.cache_data(show_spinner=False, max_entries=256)
def cached_scaling(rate: float, seed: int):
    return do.scaling_example(rate, seed), do.large_sample_means(rate, seed)


def show_settings():
    st.header("1 · Settings")
    left, right = st.columns(2)
    rate = left.slider("Dropout rate (fraction of units dropped)", *span("dropout_rate"), step=0.05, key="dropout_rate")
    layers_slot = right.container()
    with st.expander("Data, network and training"):
        a, b, c = st.columns(3)
        dataset = a.selectbox("Data", span("dropout_dataset"), key="dropout_dataset")
        n_samples = b.slider("Points (half for validation)", *span("dropout_points"), step=10, key="dropout_points")
        noise = c.slider("Noise", *span("dropout_noise"), step=0.05, key="dropout_noise")
        width = a.selectbox("Neurons per hidden layer", span("dropout_width"), key="dropout_width")
        depth = b.radio("Hidden layers", span("dropout_depth"), horizontal=True, key="dropout_depth")
        epochs = c.number_input("Epochs", *span("dropout_epochs"), step=50, key="dropout_epochs")
        learning_rate = a.select_slider("Learning rate (Adam)", span("dropout_learning_rate"),
                                        key="dropout_learning_rate")
        seed = b.number_input("Seed (data, initial weights, shuffles, masks)", *span("dropout_seed"),
                              key="dropout_seed")
        st.caption(f"ReLU hidden layers, one sigmoid output, binary cross-entropy, batches of {D['batch_size']}.")
    chosen = layers_slot.multiselect("Hidden layers followed by dropout", span(f"dropout_layers_{depth}"),
                                     format_func=lambda k: f"hidden layer {k}", key=f"dropout_layers_{depth}")
    inputs = {"rate": rate, "n_samples": n_samples, "width": width, "depth": depth, "chosen": chosen, "seed": seed}
    try:
        settings = do.check_comparison(dataset=dataset, n_samples=n_samples, noise=noise, hidden_units=(width,) * depth,
                                       dropout_rate=rate, dropout_layers=chosen, epochs=epochs,
                                       learning_rate=learning_rate, seed=seed)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        settings = None
    st.caption(f"One click trains two networks of {do.count_weights((width,) * depth):,} weights each, so each run "
               f"may use half the per-click budget: epochs × points × weights at most {do.MAX_WORK_PER_RUN:,} and at "
               f"most {do.MAX_STEPS_PER_RUN:,} optimizer steps. Training students take turns on the server, chunk by "
               "chunk.")
    return inputs, settings


def show_predictions():
    st.header("2 · Predict first")
    st.markdown("Commit before you train: compared with the run **without** dropout, at the last epoch…")
    guesses = (st.radio("…the training loss **with** dropout will be", do.ANSWERS, index=None, horizontal=True,
                        key="dropout_guess_training"),
               st.radio("…the validation loss **with** dropout will be", do.ANSWERS, index=None, horizontal=True,
                        key="dropout_guess_validation"))
    class_poll.send_checkbox("dropout.training", "dropout_guess_training")  # sends both guesses at Train
    state["dropout_memory"].save()
    return guesses


def show_mask(inputs) -> None:
    st.header("4 · Inside one batch: the mask")
    try:
        mask_layers = do.check_layers(inputs["chosen"], inputs["depth"])
        rate = do.check_rate(inputs["rate"])
    except ValueError as problem:
        st.warning(str(problem))
        return
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    layer = a.selectbox("Hidden layer", mask_layers, format_func=lambda k: f"hidden layer {k}",
                        key="dropout_mask_layer")
    if b.button("New mask", key="dropout_new_mask", help="The mask of the next training batch"):
        state["dropout_mask_draw"] = state.get("dropout_mask_draw", 0) + 1
    if c.button("First batch", key="dropout_first_mask"):
        state["dropout_mask_draw"] = 0
    width = inputs["width"]
    view = do.batch_mask(n_samples=inputs["n_samples"], rate=rate, seed=inputs["seed"], layer=layer,
                         dropout_layers=mask_layers, units=width, draw=state.get("dropout_mask_draw", 0))
    mask = view.mask
    drawn = ("mask", inputs["n_samples"], rate, inputs["seed"], layer, tuple(mask_layers), width,
             state.get("dropout_mask_draw", 0))
    charts().draw(st, drawn, lambda: mask_chart(do.mask_frame(mask[:, :MAX_MASK_UNITS])), width="stretch",
                  alt=f"Grid of kept and dropped units of hidden layer {layer}.")
    shown = "" if width <= MAX_MASK_UNITS else f" (the chart shows the first {MAX_MASK_UNITS} of {width} units)"
    st.markdown(f"Epoch {view.epoch}, batch {view.batch} of {view.batches_per_epoch}: **{(~mask).sum()} of "
                f"{mask.size}** units dropped ({(~mask).mean():.1%}; the rate is {rate:.0%}){shown}. Each example in "
                "the batch gets its own mask, and the next batch a new one.")
    st.caption("This is the very mask the *with dropout* run used for this batch: the training engine's mask "
               "(`apply_dropout` with the key `hash_key(seed, epoch, step, layer)`), a seeded hash rather than "
               "Keras' Dropout layer, so the same seed always gives the same masks. Nothing is dropped at inference.")


def show_scaling(rate: float, seed: int) -> None:
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
                    f"**{row['training output']:.4f}**. With only ten units the two means differ by chance; over "
                    f"10,000 units the same layer dropped {dropped:.1%} and the means are {mean_in:.4f} (input) and "
                    f"{mean_out:.4f} (training output).")


main()
