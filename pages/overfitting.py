"""Over- and underfitting: train small networks live and watch training and validation loss part ways."""
from dataclasses import replace

import streamlit as st

from models.core.guess import grade_choice
from models.engine.mlp import ACTIVATIONS
from models.engine.settings import OPTIMIZERS
from models.training import overfitting as ov
from models.training.datasets import DATASETS
from pages.shared import class_poll, links
from pages.shared.feedback import VERDICT_BOX, plain
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting
from pages.training.fit_charts import data_chart, overlay_chart
from pages.training.overfitting_link import PAGE, SCHEMA, span
from pages.training.overfitting_runs import K, show_run, start_session, train_jobs

ensure_app_navigation()

state = st.session_state


def main() -> None:
    live = start_session()
    links.restore(SCHEMA, PAGE)  # a shared link sets every control, seed included
    intro, preview = st.columns([5, 2], vertical_alignment="center")  # the task beside the title: its points
    with intro:
        st.title("Over- and underfitting")
        links.show_ignored(PAGE)
        explain("The network learns from the **training** points; the **validation** points show how it does on data "
                "it has never seen. **Overfitting**: low training error, high validation error. **Underfitting**: "
                "both stay high.")
    # Presenting, the picture and the curves come first and the controls fold away below them.
    buttons, results = (st.container(), st.container()) if presenting() else (None, None)
    with st.expander("Data, model and prediction", expanded=False) if presenting() else st.container():
        settings, link_slot = show_settings()
        links.sync(SCHEMA, PAGE)
        with link_slot:
            links.link_box(PAGE)
        guess, compare_guess = show_predictions()
    if not presenting():  # the task in the first screen: these settings' points, beside the introduction
        with preview:
            show_data(settings, side=100, legends=False)
    with buttons if buttons is not None else st.container():
        train, compare = show_buttons()
    with results if results is not None else st.container():
        st.header("3 · Results")
        live.wait_idle()  # an earlier run of this session may still be saving
        if train or compare:
            if state.get(K + "guess_send_to_class") and (compare_guess if compare else guess) is not None:
                class_poll.send(*(("overfitting.compare", compare_guess) if compare else ("overfitting.kind", guess)))
                class_poll.show_sent_message()
            train_jobs(settings, compare, compare_guess if compare else guess, live)
        show_results(settings)
    show_run_table()
    show_remedies()
    state[K + "charts"].end_run()


def load_preset(name: str) -> None:
    state.update(ov.widget_values(replace(ov.preset_settings(name), seed=state.get(K + "seed", 0)), K))


def clear_runs() -> None:
    for key in ("runs", "latest", "overlay", "overlay_seen"):
        state.pop(K + key, None)


def show_settings():
    heading, *columns = st.columns([1.6, 1, 1, 1], vertical_alignment="center")
    heading.markdown("#### 1 · Data and model")
    for column, name in zip(columns, ov.PRESETS):
        column.button(name.capitalize(), key=K + "preset_" + name.replace(" ", "_"), on_click=load_preset,
                      args=(name,), width="stretch", help=f"{ov.CAPACITY_PRESETS[name]['label']}. Your seed stays.")
    c = st.columns(4)
    c[0].selectbox("Dataset", list(DATASETS), key=K + "dataset")
    c[1].slider("Noise", *span("noise"), step=0.05, key=K + "noise")
    c[2].number_input("Number of points", *span("n_samples"), step=10, key=K + "n_samples")
    c[3].slider("Validation share", *span("validation_fraction"), step=0.05, key=K + "validation_fraction")
    c = st.columns(4)
    layers = c[0].number_input("Hidden layers", *span("hidden_layers"), key=K + "hidden_layers")
    c[1].number_input("Neurons per layer", *span("units"), key=K + "units", disabled=layers == 0)
    c[2].selectbox("Activation", ACTIVATIONS, key=K + "activation")
    c[3].number_input("Epochs", *span("epochs"), step=50, key=K + "epochs")
    more, link_slot = st.columns([4, 1], vertical_alignment="center")  # the link sits beside the folded settings
    with more.expander("Optimizer, learning rate, batch size, seed, penalties and early stopping"):
        c = st.columns(4)
        c[0].selectbox("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get, key=K + "optimizer")
        c[1].number_input("Learning rate", *span("learning_rate"), step=0.001, format="%g", key=K + "learning_rate")
        c[2].number_input("Batch size", *span("batch_size"), key=K + "batch_size")
        c[3].number_input("Seed", *span("seed"), key=K + "seed", help="The same seed gives the same data and curve.")
        c = st.columns(4)
        c[0].number_input("L1 penalty", *span("l1"), step=0.0001, format="%g", key=K + "l1")
        c[1].number_input("L2 penalty", *span("l2"), step=0.0001, format="%g", key=K + "l2")
        stopping = c[2].checkbox("Early stopping", key=K + "early_stopping")  # a toggle label is cut on tablets
        c[3].number_input("Patience (epochs)", *span("patience"), key=K + "patience", disabled=not stopping)
    return ov.settings_from_widgets(state, K), link_slot


def show_predictions():
    st.markdown("#### 2 · Predict first, then train")
    left, right = st.columns(2)
    guess = left.radio("Will this run underfit, fit well or overfit?", ov.KINDS, index=None, key=K + "guess",
                       horizontal=True)
    compare_guess = right.radio("Which preset ends with the largest validation − training gap?", ov.PRESETS,
                                index=None, key=K + "compare_guess", horizontal=True)
    class_poll.send_checkbox("overfitting.kind", K + "guess")  # sends the guess of the button pressed
    state[K + "memory"].save()
    return guess, compare_guess


def show_buttons():
    b = st.columns(3)
    train = b[0].button("Train", type="primary", key=K + "train", width="stretch")
    compare = b[1].button("Compare presets", key=K + "compare", width="stretch",
                          help="Underfit, good fit and overfit on the data above (their own epochs, Adam 0.01, batch "
                               "32, no penalties, no early stopping), one after the other: all see the same points.")
    b[2].button("Stop", key=K + "stop", width="stretch", help="Stops the run; the curve so far is kept.")
    if not presenting():
        st.caption(ov.work_text(ov.settings_from_widgets(state, K)))
    return train, compare


def show_data(settings: ov.RunSettings, side: int = 340, legends: bool = True) -> None:
    """The points the network will learn from, so the first screen shows the task before any training."""
    try:
        points = ov.points_frame(ov.make_data(settings))
    except ValueError as problem:
        st.caption(plain(problem))
        return
    drawn = ("data", settings.dataset, settings.noise, settings.n_samples, settings.validation_fraction,
             settings.seed, side, legends)
    state[K + "charts"].draw(st, drawn, lambda: data_chart(points, settings.regression, side=side, legends=legends),
                             width="content")
    st.caption(f"The {len(points)} points of **{settings.dataset}**: circles train the network, triangles only "
               "test it." if legends else "● training  ▲ validation")


def show_results(settings: ov.RunSettings) -> None:
    runs = {run.number: run for run in state[K + "runs"]}
    latest = state.get(K + "latest")
    shown = [runs[n] for n in (latest.numbers if latest else ()) if n in runs]
    if not shown:
        if presenting():
            show_data(settings)
        st.info("Make your prediction, then press **Train**: the curves and the learned boundary appear here.")
        return
    if latest.question == "single":
        show_run(shown[0])
        answer, answers = shown[0].diagnosis.kind, ov.KINDS
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
        answer, answers = ov.largest_gap(shown), ov.PRESETS
    if latest.guess and answer in answers:
        feedback = grade_choice(latest.guess, answer)  # both texts are the page's own choices
        VERDICT_BOX[feedback.verdict](feedback.message)
    elif not latest.guess:
        st.caption("Next time, make your prediction in section 2 before you train.")
    else:
        st.caption("No verdict to grade your prediction against: the run diverged or finished no epoch.")


def show_run_table() -> None:
    st.header("4 · Compare runs")
    runs = {run.number: run for run in state[K + "runs"]}
    if not runs:
        st.info("Every run you train is listed here, so you can compare settings and overlay their curves.")
        return
    table = ov.runs_table(list(runs.values()))
    st.dataframe(ov.shown_table(table), hide_index=True, column_config={  # wide enough for every header
        name: st.column_config.Column(width=8 * max([len(name)] + [len(v) for v in table[name] if isinstance(v, str)])
                                      + 28) for name in table.columns})
    seen = state.get(K + "overlay_seen", 0)  # runs trained since the last drawing join the overlay
    state[K + "overlay"] = [n for n in state.get(K + "overlay", []) if n in runs] + [n for n in runs if n > seen]
    state[K + "overlay_seen"] = max(runs)
    picked = st.multiselect("Runs to overlay", list(runs), format_func=lambda n: runs[n].name, key=K + "overlay")
    with_training = st.toggle("Also draw training loss (dashed)", key=K + "with_training")
    state[K + "memory"].save()
    shown = [runs[n] for n in picked if not runs[n].history.empty]
    if shown:
        drawn = ("overlay", tuple((run.number, run.settings, run.epochs_run) for run in shown), with_training)
        state[K + "charts"].draw(st, drawn, lambda: overlay_chart(shown, with_training=with_training),
                                 width="stretch")
    d = st.columns(3)
    d[0].download_button("Download the run table (CSV)", ov.to_csv(table), "runs.csv", "text/csv", key=K + "csv_runs")
    d[1].download_button("Download every curve (CSV)", ov.to_csv(ov.curves_table(list(runs.values()))),
                         "curves.csv", "text/csv", key=K + "csv_curves")
    d[2].button("Clear all runs", key=K + "clear", on_click=clear_runs)
    st.caption(f"The last {ov.MAX_RUNS} runs of this browser session are kept; nobody else sees them.")


def show_remedies() -> None:
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
        "a separate test set.")


main()
