"""Gradient descent and optimisers: Keras optimisers racing on a loss surface, their state, batches, learning rates."""
import numpy as np
import pandas as pd
import streamlit as st

from models.classroom.questions import NO_OPTIMIZER
from models.core.guess import grade_choice
from models.core.numbers import parse_number
from models.engine.heavy_work import heavy_work
from models.training import optim_charts as ch
from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES
from models.training.optim_updates import RULES, pair, written_update
from pages.foundations import checked_links
from pages.shared import links
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting
from pages.training.optimizers_link import CHECKS, DEFAULTS, PAGE, SCHEMA, optimizer_names, span
from pages.training.optimizers_parts import batch_table, cached_fits, line_charts, show_learning_rates

ensure_app_navigation()

K = {name: f"optim_{name}" for name in ("surface", "optimizers", "learning_rate", "momentum", "steps", "step",
                                        "fit_learning_rate", "fit_epochs", "points", "noise", "seed", "update")}
GATE = RevealGate("optim_race", question="optimizers.race")
LABELS = opt.OPTIMIZERS
NONE = NO_OPTIMIZER
BATCHES = {"all points (batch)": None, "32 (mini-batch)": 32, "1 (stochastic)": 1}
state = st.session_state
for key, value in DEFAULTS.items():  # start values here, not in the widgets: a link may set them
    state.setdefault(key, value)
state.setdefault(K["optimizers"], optimizer_names(DEFAULTS["optim_optimizers_link"]))


def main() -> None:
    if checked_links.restore(SCHEMA, PAGE, CHECKS):  # a shared link sets every control, seed included
        state[K["optimizers"]] = optimizer_names(state["optim_optimizers_link"])
    title, link_slot = st.columns([3, 1], vertical_alignment="center")
    title.title("Gradient descent and optimisers")
    links.show_ignored(PAGE)
    explain("Training walks the weights downhill on the loss. **Gradient descent** takes a step against the "
            "gradient, `w ← w − lr·g`, with the **learning rate** `lr` setting the step size; the **optimisers** "
            "change how the step is made from the gradients seen so far. Every path below comes from the real "
            "`keras.optimizers`, each calling `apply_gradients` on its own two weights (x, y).")
    race = race_settings()                       # 1 · the race: settings
    if race is not None:
        paths = cached_race(*race)
        if show_prediction(race, paths):         # 2 · predict first
            show_race(race, paths)               # 3 · paths over the contours, loss per step
            show_state(race, paths)              # 4 · what each optimiser keeps
    points = show_batches()                      # 5 · batch, mini-batch, stochastic
    if points is not None:
        show_learning_rates(points)              # 6 · the learning rate
    state["optim_optimizers_link"] = ",".join(state[K["optimizers"]])
    links.sync(SCHEMA, PAGE)
    with link_slot:
        links.link_box(PAGE)


@st.cache_data(show_spinner="Running the optimisers…", max_entries=64)
def cached_race(surface: str, names: tuple, steps: int, rate: float, momentum: float) -> pd.DataFrame:
    with heavy_work():
        paths = opt.optimizer_paths(surface, list(names), start=SURFACES[surface].start, steps=steps,
                                    learning_rate=rate, momentum=momentum)
    return paths.assign(label=paths["optimizer"].map(LABELS))


@st.cache_data(show_spinner=False, max_entries=256)
def cached_detail(surface: str, name: str, step: int, rate: float, momentum: float):
    with heavy_work():
        detail = opt.optimizer_step_detail(surface, name, start=SURFACES[surface].start, step=step,
                                           learning_rate=rate, momentum=momentum)
    return detail, written_update(detail)


def race_settings():
    st.header("1 · The race")
    # The surface and its start beside the settings; on the projector above them, the settings folded.
    picture, settings = ((st.container(), st.expander("Race settings: surface, learning rate, momentum, optimisers"))
                         if presenting() else st.columns([3, 2])[::-1])
    with settings:
        a, b = st.columns(2)
        surface = a.selectbox("Loss surface", span("optim_surface"), key=K["surface"], on_change=lambda: state.update(
            {K["learning_rate"]: str(SURFACES[state[K["surface"]]].learning_rate)}))
        text = b.text_input("Learning rate (the same for every optimiser)", max_chars=span("optim_learning_rate"),
                            key=K["learning_rate"])
        momentum = a.slider("Momentum m (SGD with momentum, Nesterov)", *span("optim_momentum"), step=0.01,
                            key=K["momentum"])
        steps = b.slider("Steps", *span("optim_steps"), step=10, key=K["steps"])
        names = st.multiselect("Optimisers", span("optim_optimizers_link"), format_func=LABELS.get,
                               key=K["optimizers"])
    s = SURFACES[surface]
    try:
        rate = parse_number(text, "The learning rate")
        opt.check_race(names, start=s.start, steps=steps, learning_rate=rate, params={"momentum": momentum})
        race, problem = (surface, tuple(names), steps, rate, momentum), None
    except ValueError as error:
        race, problem = None, error
    with picture:  # on the projector, once the paths are shown, they are the picture
        if not (presenting() and race is not None and GATE.revealed(race)):
            st.altair_chart(ch.start_chart(surface), width="stretch")
        st.markdown(f"f(x, y) = **{s.formula}**, start ({s.start[0]:g}, {s.start[1]:g}). {s.about}")
    (explain if presenting() else st.caption)(
        "Keras' own defaults for everything else: RMSprop ρ = 0.9, ε = 1e-7; Adam β₁ = 0.9, β₂ = 0.999, "
        "ε = 1e-7; Adagrad starts its accumulator at 0.1. (Keras' default learning rates differ: 0.01 for "
        "SGD, 0.001 for the others; here they share one, so only the update rule differs.)")
    if problem is not None:
        st.error(plain(problem), icon=":material/error:")
    return race


def show_prediction(race, paths) -> bool:
    surface, names = race[0], race[1]
    winner, reached = opt.first_to_minimum(paths, surface)
    if GATE.revealed(race):
        st.header("2 · Your prediction")
        when = "" if winner is None else f" at step {reached[winner]}"
        show_verdict(GATE.feedback(), f"First within 0.1 of a minimum: **{LABELS.get(winner, NONE)}**{when}.")
        st.button("Hide the answer and guess again", key="optim_hide", on_click=GATE.hide)
        return True
    st.header("2 · Predict first")
    guess = st.radio(f"Which optimiser gets within 0.1 of the minimum of the **{surface}** first, in {race[2]} "
                     "steps?", [LABELS[n] for n in names] + [NONE], index=None, key="optim_guess")
    GATE.offer_to_class()
    if st.button("Lock in my guess and reveal", type="primary", key="optim_reveal", disabled=guess is None):
        GATE.reveal(race, grade_choice(guess, LABELS.get(winner, NONE)), answer=guess)
        st.rerun()
    return False


def show_race(race, paths) -> None:
    surface, steps = race[0], race[2]
    st.header("3 · The paths")
    state[K["step"]] = min(state[K["step"]], steps)  # fewer steps than the slider stood at
    step = st.slider("Step", span("optim_step")[0], steps, key=K["step"])
    shown = paths[paths["step"] <= step]
    st.altair_chart(ch.legend_chart([LABELS[n] for n in race[1]], ch.COLORS), width="stretch")
    left, right = st.columns([3, 2])
    for column, chart in zip((left, right), ch.race_charts(surface, shown, steps)):
        column.altair_chart(chart, width="stretch")
    for note in paths.loc[paths["diverged"]].groupby("optimizer")["note"].first().items():
        st.warning(f"**{LABELS[note[0]]}** {note[1]} A smaller learning rate keeps it on the plot.")
    table = shown.groupby("optimizer").tail(1)[["label", "step", "x", "y", "loss"]].rename(
        columns={"label": "optimiser"})
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.6f")
                                                        for c in ("x", "y", "loss")})


def show_state(race, paths) -> None:
    surface, names, steps, rate, momentum = race
    st.header("4 · What each optimiser keeps")
    state[K["update"]] = min(state[K["update"]], steps)
    step = st.slider("Update number k (turns step k − 1 into step k)", span("optim_update")[0], steps,
                     key=K["update"])
    st.markdown("The state is read from each Keras optimizer's own variables; the hand calculation below redoes "
                "the update from it and lands on the same point as Keras' `apply_gradients`.")
    tabs = st.tabs([LABELS[n] for n in names])
    for tab, name in zip(tabs, names):
        if step > paths.loc[paths["optimizer"] == name, "step"].max():
            tab.warning(f"{LABELS[name]} diverged before step {step}; move the step slider back.")
            continue
        detail, written = cached_detail(surface, name, step, rate, momentum)
        kept = ", ".join(f"{label} = {pair(value)}" for label, value in detail.state_before.items()) or "nothing"
        tab.markdown(f"Before this update {LABELS[name]} keeps: {kept}.")
        tab.code("\n".join(RULES[name]) + "\n\n" + "\n".join(written.lines), language=None, wrap_lines=True)
        tab.markdown(f"Keras' `apply_gradients` moved w to **{pair(detail.weights_after)}**.")


def show_batches():
    st.header("5 · Batch, mini-batch, stochastic")
    explain("A line y = w·x + b is fitted to noisy points with the mean squared error and plain SGD "
                "(`keras.optimizers.SGD`). Three terms: a **batch** is the set of points one gradient is computed "
                "on; an **iteration** is one batch and one update of the weights; an **epoch** is every point once. "
                "With all points in one batch the gradient is exact; with 32 it is an estimate; with 1 a noisy one.")
    a, b, c = st.columns(3)
    text = a.text_input("Learning rate", max_chars=span("optim_fit_learning_rate"), key=K["fit_learning_rate"])
    epochs = b.slider("Epochs", *span("optim_fit_epochs"), key=K["fit_epochs"])
    seed = c.number_input("Seed (points and shuffles)", *span("optim_seed"), key=K["seed"])
    n_points = a.slider("Points", *span("optim_points"), step=10, key=K["points"])
    noise = b.slider("Noise", *span("optim_noise"), step=0.1, key=K["noise"])
    try:
        rate = parse_number(text, "The learning rate")
        for size in BATCHES.values():
            lf.check_line_fit(np.zeros(n_points), np.zeros(n_points), batch_size=min(size or n_points, n_points),
                              epochs=epochs, learning_rate=rate, start=(0.0, 0.0))
    except ValueError as problem:
        st.error(plain(problem), icon=":material/error:")
        return None
    points = lf.make_line_points(n_points, noise, seed)
    sizes = tuple(min(s, n_points) if s else None for s in BATCHES.values())
    fits = cached_fits(n_points, noise, seed, sizes, epochs, (rate,) * 3)
    line_charts(points, fits, list(BATCHES), seed, together=True)
    st.dataframe(batch_table(n_points, sizes, fits), hide_index=True,
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("w", "b", "loss")})
    return points, noise, seed


main()
