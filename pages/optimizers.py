"""Gradient descent and optimisers: Keras optimisers racing on a loss surface, their state, batches, learning rates."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.core.guess import grade_choice
from models.core.numbers import parse_number
from models.engine.heavy_work import heavy_work
from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES, surface_grid
from models.training.optim_updates import RULES, pair, written_update
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

# Every setting's start value in one place; widget keys are "optim_" + name.
D = {"surface": "ravine", "optimizers": list(opt.OPTIMIZERS), "learning_rate": str(SURFACES["ravine"].learning_rate),
     "momentum": 0.9, "steps": 200, "step": 200, "fit_learning_rate": "0.1", "fit_epochs": 10, "points": 100,
     "noise": 0.5, "seed": 0, "update": 5, "rate_epochs": 20}
K = {name: f"optim_{name}" for name in D}
GATE = RevealGate("optim_race")
LABELS = opt.OPTIMIZERS
COLORS = alt.Scale(domain=list(LABELS.values()), range=["#e45756", "#4c78a8", "#72b7b2", "#f58518", "#54a24b",
                                                        "#b279a2"])
NONE = "none of them, within these steps"
BATCHES = {"all points (batch)": None, "32 (mini-batch)": 32, "1 (stochastic)": 1}
state = st.session_state
for name, value in D.items():
    state.setdefault(K[name], value)


def main() -> None:
    st.title("Gradient descent and optimisers")
    st.markdown("Training walks the weights downhill on the loss. **Gradient descent** takes a step against the "
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


@st.cache_data(show_spinner=False, max_entries=64)
def cached_fits(n_points: int, noise: float, seed: int, sizes: tuple, epochs: int, rates: tuple):
    points = lf.make_line_points(n_points, noise, seed)
    with heavy_work():
        return [lf.line_fit_path(points["x"], points["y"], batch_size=size or n_points, epochs=epochs,
                                 learning_rate=rate, seed=seed) for size, rate in zip(sizes, rates)]


def contour(grid: pd.DataFrame, box, x: str, y: str) -> alt.Chart:
    """Loss bands of a grid (darker is higher; the colour steps are equal steps of log loss)."""
    return alt.Chart(grid).mark_rect().encode(
        x=alt.X(f"{x}1:Q", title=x, scale=alt.Scale(domain=list(box[0]), nice=False)), x2=f"{x}2:Q",
        y=alt.Y(f"{y}1:Q", title=y, scale=alt.Scale(domain=list(box[1]), nice=False)), y2=f"{y}2:Q",
        color=alt.Color("level:Q", bin=alt.Bin(maxbins=14), scale=alt.Scale(range=["#f4f4f4", "#6e6e6e"]), legend=None),
        tooltip=[alt.Tooltip(f"{x}:Q", format=".2f"), alt.Tooltip(f"{y}:Q", format=".2f"),
                 alt.Tooltip("loss:Q", format=".4f")])


def path_layer(path: pd.DataFrame, x: str, y: str, color) -> alt.Chart:
    return alt.Chart(path).mark_line(point=alt.OverlayMarkDef(size=14), clip=True, strokeWidth=2).encode(
        x=f"{x}:Q", y=f"{y}:Q", order="step:Q", color=color,
        tooltip=["step:Q", alt.Tooltip(f"{x}:Q", format=".4f"), alt.Tooltip(f"{y}:Q", format=".4f"),
                 alt.Tooltip("loss:Q", format=".4g")])


def race_settings():
    st.header("1 · The race")
    a, b, c = st.columns(3)
    surface = a.selectbox("Loss surface", list(SURFACES), key=K["surface"], on_change=lambda: state.update(
        {K["learning_rate"]: str(SURFACES[state[K["surface"]]].learning_rate)}))
    text = b.text_input("Learning rate (the same for every optimiser)", key=K["learning_rate"])
    momentum = c.slider("Momentum m (SGD with momentum, Nesterov)", 0.0, 0.99, step=0.01, key=K["momentum"])
    steps = a.slider("Steps", 10, 500, step=10, key=K["steps"])
    s = SURFACES[surface]
    b.markdown(f"f(x, y) = **{s.formula}**, start ({s.start[0]:g}, {s.start[1]:g}). {s.about}")
    st.caption("Keras' own defaults for everything else: RMSprop ρ = 0.9, ε = 1e-7; Adam β₁ = 0.9, β₂ = 0.999, "
               "ε = 1e-7; Adagrad starts its accumulator at 0.1. (Keras' default learning rates differ: 0.01 for "
               "SGD, 0.001 for the others; here they share one, so only the update rule differs.)")
    names = st.multiselect("Optimisers", list(LABELS), format_func=LABELS.get, key=K["optimizers"])
    try:
        rate = parse_number(text, "The learning rate")
        opt.check_race(names, start=s.start, steps=steps, learning_rate=rate, params={"momentum": momentum})
    except ValueError as problem:
        st.error(plain(problem), icon=":material/error:")
        return None
    return surface, tuple(names), steps, rate, momentum


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
    grid = surface_grid(surface)
    start = pd.DataFrame({"x": [SURFACES[surface].start[0]], "y": [SURFACES[surface].start[1]]})
    st.altair_chart(alt.layer(contour(grid, SURFACES[surface].box, "x", "y"), alt.Chart(start).mark_point(
        size=150, filled=True, color="black").encode(x="x:Q", y="y:Q")).properties(height=320), width="stretch")
    guess = st.radio(f"Which optimiser gets within 0.1 of the minimum of the **{surface}** first, in {race[2]} "
                     "steps?", [LABELS[n] for n in names] + [NONE], index=None, key="optim_guess")
    if st.button("Lock in my guess and reveal", type="primary", key="optim_reveal", disabled=guess is None):
        GATE.reveal(race, grade_choice(guess, LABELS.get(winner, NONE)))
        st.rerun()
    return False


def show_race(race, paths) -> None:
    surface, steps = race[0], race[2]
    st.header("3 · The paths")
    state[K["step"]] = min(state[K["step"]], steps)  # fewer steps than the slider stood at
    step = st.slider("Step", 0, steps, key=K["step"])
    shown = paths[paths["step"] <= step]
    now = shown.groupby("optimizer").tail(1)
    color = alt.Color("label:N", scale=COLORS, title=None, legend=alt.Legend(orient="top", columns=3, labelLimit=200))
    left, right = st.columns([3, 2])
    left.altair_chart(alt.layer(contour(surface_grid(surface), SURFACES[surface].box, "x", "y"),
                                path_layer(shown, "x", "y", color),
                                alt.Chart(now).mark_point(size=160, filled=True, shape="diamond").encode(
                                    x="x:Q", y="y:Q", color=color)).properties(height=420), width="stretch")
    gap = shown.assign(gap=np.maximum(shown["loss"] - SURFACES[surface].minimum, 1e-12))
    right.altair_chart(alt.Chart(gap).mark_line(strokeWidth=2).encode(
        x=alt.X("step:Q", scale=alt.Scale(domain=[0, steps])),
        y=alt.Y("gap:Q", scale=alt.Scale(type="log"), title="loss above the minimum (log scale)"),
        color=alt.Color("label:N", scale=COLORS, legend=None),
        tooltip=["label:N", "step:Q", alt.Tooltip("loss:Q", format=".6g")]).properties(height=420), width="stretch")
    for note in paths.loc[paths["diverged"]].groupby("optimizer")["note"].first().items():
        st.warning(f"**{LABELS[note[0]]}** {note[1]} A smaller learning rate keeps it on the plot.")
    table = now[["label", "step", "x", "y", "loss"]].rename(columns={"label": "optimiser"})
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.6f")
                                                        for c in ("x", "y", "loss")})


def show_state(race, paths) -> None:
    surface, names, steps, rate, momentum = race
    st.header("4 · What each optimiser keeps")
    state[K["update"]] = min(state[K["update"]], steps)
    step = st.slider("Update number k (turns step k − 1 into step k)", 1, steps, key=K["update"])
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
    st.markdown("A line y = w·x + b is fitted to noisy points with the mean squared error and plain SGD "
                "(`keras.optimizers.SGD`). Three terms: a **batch** is the set of points one gradient is computed "
                "on; an **iteration** is one batch and one update of the weights; an **epoch** is every point once. "
                "With all points in one batch the gradient is exact; with 32 it is an estimate; with 1 a noisy one.")
    a, b, c = st.columns(3)
    text = a.text_input("Learning rate", key=K["fit_learning_rate"])
    epochs = b.slider("Epochs", 1, 40, key=K["fit_epochs"])
    seed = c.number_input("Seed (points and shuffles)", 0, 9999, key=K["seed"])
    n_points = a.slider("Points", 10, 500, step=10, key=K["points"])
    noise = b.slider("Noise", 0.0, 2.0, step=0.1, key=K["noise"])
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
    line_charts(points, fits, list(BATCHES), seed)
    st.dataframe(pd.DataFrame({"batch size": [s or n_points for s in sizes],
                               "iterations per epoch": [len(lf.batches(n_points, s or n_points)) for s in sizes],
                               "updates": [len(f) - 1 for f in fits], "w": [f["w"].iloc[-1] for f in fits],
                               "b": [f["b"].iloc[-1] for f in fits], "loss": [f["loss"].iloc[-1] for f in fits]}),
                 hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.4f")
                                                 for c in ("w", "b", "loss")})
    return points, noise, seed


def line_charts(points, fits, titles, seed) -> None:
    best = np.polyfit(points["x"], points["y"], 1)
    box = ((min(0.0, best[0]) - 1, max(0.0, best[0]) + 1), (min(0.0, best[1]) - 1, max(0.0, best[1]) + 1))
    grid = lf.line_loss_grid(points["x"], points["y"], box)
    marker = alt.Chart(pd.DataFrame({"w": [best[0]], "b": [best[1]]})).mark_point(shape="cross", size=200,
                                                                                 color="black").encode(x="w:Q", y="b:Q")
    for column, fit, title in zip(st.columns(len(fits)), fits, titles):
        column.altair_chart(alt.layer(contour(grid, box, "w", "b"), path_layer(fit, "w", "b", alt.value("#e45756")),
                                      marker).properties(title=title, height=260), width="stretch")
    st.caption("Red: the path of (w, b), one dot per update, from (0, 0). Cross: the least-squares line (NumPy's "
               f"`polyfit`), the bottom of the bowl. Mini-batches in a new shuffled order every epoch (seed {seed}).")


def show_learning_rates(data) -> None:
    points, noise, seed = data
    st.header("6 · The learning rate")
    epochs = D["rate_epochs"]
    limit_curve, limit = lf.stability_limit(points["x"])
    rates = lf.learning_rate_presets(points["x"])
    st.markdown(f"The same line fit with all {len(points)} points in one batch, {epochs} epochs. Here the loss's "
                f"steepest curvature is λ = {limit_curve:.3f}, so gradient descent converges only for a learning "
                f"rate below 2/λ = **{limit:.3f}**, and overshoots (zig-zags) above 1/λ = {limit / 2:.3f}.")
    fits = cached_fits(len(points), noise, seed, (None,) * 4, epochs, tuple(rates.values()))
    line_charts(points, fits, [f"{name} ({rate:g})" for name, rate in rates.items()], seed)
    curves = pd.concat([f.assign(rate=f"{name} ({rate:g})") for (name, rate), f in zip(rates.items(), fits)])
    st.altair_chart(alt.Chart(curves).mark_line(point=True).encode(
        x="step:Q", y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="loss (MSE, log scale)"),
        color=alt.Color("rate:N", title=None, sort=None, legend=alt.Legend(orient="top")),
        tooltip=["rate:N", "step:Q", alt.Tooltip("loss:Q", format=".4g")]).properties(height=280), width="stretch")


main()
