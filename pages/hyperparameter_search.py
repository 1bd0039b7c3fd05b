"""Hyperparameter search: grid against random search with the same budget, then the chosen model's test score."""
import pandas as pd
import streamlit as st

from models.classroom.questions import QUESTIONS
from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.evaluation import search
from pages.evaluation.search_link import DEFAULTS, PAGE, SCHEMA, span
from pages.evaluation.search_parts import KERAS_TUNER, LABELS, score_charts, trials_chart, trials_frame, values_tried
from pages.shared import links
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

K = "search_"
CHOICES = QUESTIONS["hyperparameter_search.winner"].choices
state = st.session_state
gate = RevealGate(K + "winner", question="hyperparameter_search.winner")
for key, value in DEFAULTS.items():
    state.setdefault(key, value)


def show_settings():
    st.header("1 · The search")
    explain(
        "The data: two interleaved half-moons with noise (scikit-learn's `make_moons`), "
        f"{search.N_TRAIN} training, {search.N_VAL} validation and {search.N_TEST} test points. The model: two hidden "
        "layers. Each **trial** trains one setting with early stopping and keeps its best validation accuracy. "
        "**Grid search** (`ParameterGrid`) tries every combination of a few evenly spread values; **random search** "
        "(`ParameterSampler`) draws each trial's values at random (log scale for the learning rate and L2).")
    if presenting():  # the trials' picture first, the settings folded below it
        picture, box = st.container(), st.expander("Search settings: hyperparameters, budget, seed, epochs")
    else:
        box, picture = st.columns([3, 2], gap="medium")
    with box:
        chosen = st.multiselect("Hyperparameters to search", span(K + "names"), format_func=LABELS.get,
                                key=K + "names")
        c = st.columns(2)
        budget = c[0].number_input("Trials per strategy (budget)", *span(K + "budget"), key=K + "budget")
        seed = c[1].number_input("Seed", *span(K + "seed"), key=K + "seed")
        epochs = c[0].number_input("Epochs at most", *span(K + "epochs"), key=K + "epochs")
        patience = c[1].number_input("Early-stopping patience", *span(K + "patience"), key=K + "patience")
        names = [n for n in search.SPACE if n in chosen]  # one order, so a link gives the same picture
        ranges = ", ".join(f"{LABELS[n]} {search.SPACE[n].low:g}–{search.SPACE[n].high:g}" for n in names)
        st.caption(f"Ranges: {ranges or 'none chosen'}. Hyperparameters not searched keep "
                   + ", ".join(f"{LABELS[n]} {v:g}" for n, v in search.DEFAULTS.items()) + ".")
    with picture:
        show_trials(names, int(budget), int(seed))
    return names, int(budget), int(seed), int(epochs), int(patience)


def show_trials(names, budget, seed) -> None:
    """The settings both strategies will try, before anything trains."""
    try:
        trials = trials_frame({n: search.SPACE[n] for n in names}, budget, seed)
    except ValueError as problem:
        st.info(str(problem))
        return
    st.altair_chart(trials_chart(trials, names), width="stretch")
    st.caption(f"The {budget} trials of each strategy, before any training"
               + (f" (shown: {LABELS[names[0]]} and {LABELS[names[1]]})." if len(names) > 2 else "."))


def run_searches(names, budget, seed, epochs, patience, guess) -> None:
    space = {n: search.SPACE[n] for n in names}
    progress, table = st.progress(0.0, text="Starting…"), st.empty()
    rows, total = [], 2 * budget
    try:
        search.candidates(space, strategy="grid", budget=budget, seed=seed)  # bad settings: a message, no training
        results = []
        for strategy in search.STRATEGIES:
            def show(number, row, strategy=strategy):
                rows.append(row)
                progress.progress(len(rows) / total, text=f"{strategy} search: trial {number} of {budget}")
                table.dataframe(pd.DataFrame(rows).drop(columns="seconds"), hide_index=True)
            results.append(search.hyperparameter_search(space, strategy=strategy, budget=budget, seed=seed,
                                                        epochs=epochs, patience=patience, progress=show,
                                                        guard=heavy_work))
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    except Exception as problem:  # a student's click must never show a traceback
        show_unexpected(problem, "The search")
        return
    progress.empty()
    table.empty()
    signature = (tuple(names), budget, seed, epochs, patience)
    state[K + "result"] = (signature, space, pd.concat(results, ignore_index=True))
    state.pop(K + "test", None)
    gate.reveal(signature, guess, answer=guess)


def winner(results: pd.DataFrame) -> str:
    best = {s: search.best_trial(part)["val_accuracy"] for s, part in results.groupby("strategy")}
    return "a tie" if best["grid"] == best["random"] else max(best, key=best.get)


def show_results() -> None:
    st.header("2 · Results")
    result = state.get(K + "result")
    if result is None or not gate.revealed(result[0]):
        st.info("Make your prediction and start the search: every trial appears here as it finishes.")
        return
    signature, space, results = result
    show_verdict(grade_choice(gate.feedback(), winner(results)), "Compared: the best validation accuracy of each.")
    st.dataframe(results.drop(columns="seconds").sort_values("val_accuracy", ascending=False), hide_index=True,
                 column_config={n: st.column_config.NumberColumn(format="%.4g") for n in space})
    st.markdown("**Different values tried** with the same budget:")
    st.dataframe(values_tried(results, list(space)), hide_index=True)
    charts = score_charts(results, list(space))
    for start in range(0, len(charts), 2):
        for column, chart in zip(st.columns(2), charts[start:start + 2]):
            column.altair_chart(chart, width="stretch")
    st.caption("Where a hyperparameter hardly matters, grid search spends its trials repeating the same few values "
               "of the ones that do; random search tries a new value of every hyperparameter in every trial.")
    show_test_score(signature, space, results)


def show_test_score(signature, space, results) -> None:
    st.header("3 · The chosen model on the test set")
    best = search.best_trial(results)
    st.markdown(f"The choice: trial {best['trial']} of the **{best['strategy']}** search, validation accuracy "
                f"**{best['val_accuracy']:.3f}**. Its test score is looked at once, after the choice.")
    revealed = state.get(K + "test")
    if st.button("Reveal the test score", key=K + "reveal", disabled=revealed is not None):
        with st.spinner("Training the chosen settings again…"), heavy_work():
            state[K + "test"] = revealed = search.final_test_accuracy(best, space, epochs=signature[3],
                                                                      patience=signature[4], seed=signature[2])
        st.rerun()
    if revealed is not None:
        c = st.columns(3)
        c[0].metric("Validation accuracy", f"{best['val_accuracy']:.3f}")
        c[1].metric("Test accuracy", f"{revealed:.3f}")
        c[2].metric("Optimism of the choice", f"{best['val_accuracy'] - revealed:+.3f}")
        st.caption(f"The best of {len(results)} validation scores is picked partly for luck, so the test score is "
                   "usually a little lower: that gap is why the test set stays untouched until now.")


def show_keras_tuner() -> None:
    st.header("4 · The same search with keras-tuner")
    st.markdown("For a real model at home, keras-tuner runs the search for you (`kt.RandomSearch`, "
                "`kt.GridSearch`, `kt.BayesianOptimization`).")
    st.warning("keras-tuner 1.4.8 with tensorflow-cpu 2.21 needs the `tensorboard` package installed. Without it "
               "every trial fails on `import tensorboard` while `search()` still returns as if it had worked: check "
               "`results_summary()` shows scores.", icon=":material/warning:")
    st.code(KERAS_TUNER, language="python")


links.restore(SCHEMA, PAGE)  # a shared link sets every control, seed included
st.title("Hyperparameter search")
links.show_ignored(PAGE)
link_slot = st.container()
explain("Learning rate, network size, penalties, dropout: which settings work best? Try them in a **search**, "
            "compare on the validation set, and only then look at the test set.")
names, budget, seed, epochs, patience = show_settings()
links.sync(SCHEMA, PAGE)
with link_slot:
    links.link_box(PAGE)
guess = st.radio("Predict first: with the same budget, will grid or random search find the better validation "
                 "accuracy?", CHOICES, index=None, key=K + "guess", horizontal=True)
gate.offer_to_class()
if st.button("Lock in my guess and search", type="primary", key=K + "run", disabled=guess is None):
    run_searches(names, budget, seed, epochs, patience, guess)
show_results()
show_keras_tuner()
