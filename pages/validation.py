"""Validation and metrics: three sets, k-fold cross-validation, scores at a threshold, per-class scores, saving."""
import pandas as pd
import streamlit as st

from models.classroom.questions import QUESTIONS
from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.evaluation import metrics as m
from models.evaluation import validation as v
from models.evaluation.classifiers import BINARY, DIGITS, train_classifier
from models.evaluation.data import load, three_way_split
from pages.evaluation import charts
from pages.evaluation.parts import show_multiclass, show_save_and_load
from pages.evaluation.present_parts import folded
from pages.evaluation.validation_link import DEFAULTS, PAGE, SCHEMA, span
from pages.shared import links
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()

K = "validation_"
TRENDS = QUESTIONS["validation.f1_trend"].choices
state = st.session_state
for key, value in DEFAULTS.items():
    if key != K + "cell":  # the cell's default is the most confused one, known once the digits are scored
        state.setdefault(key, value)
state.setdefault(K + "trainers", {})  # compiled training programs hold variables: one set per session
gate = RevealGate(K + "f1", question="validation.f1_trend")


@st.cache_data(max_entries=4, show_spinner="Training the classifier…")
def classifier(name: str):
    with heavy_work():
        return train_classifier(BINARY if name == "binary" else DIGITS)


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def show_three_sets() -> None:
    st.header("1 · Training, validation and test sets")
    split = three_way_split(BINARY.dataset, seed=BINARY.seed)
    explain(
        f"The {len(split.assignment())} tumours of scikit-learn's breast-cancer data, split 60/20/20 with the class "
        "ratio kept (sorted by class below: benign first, then malignant; within each class by set). The network "
        "learns from the **training** set; you compare settings on the **validation** set; the **test** set is "
        "touched **once**, at the end, to report how the chosen model does on new data. Every feature is "
        "standardised with the *training* set's mean and spread only.")
    st.altair_chart(charts.set_strip(split.assignment(), load(BINARY.dataset)[1]), width="stretch")
    explain("**A leak, measured.** Labels that are coin flips (nothing to learn), 100 training and 50 test "
                "points. Twenty settings (learning rate, epochs, seed) are tried and the one with the best **test** "
                "score is kept. Then the same model meets 2,000 new points.")
    if st.button("Measure the leak", key=K + "leak"):
        try:
            with st.spinner("Training 20 small networks…"), heavy_work():
                state[K + "leak_result"] = v.selection_leak(cache=state[K + "trainers"])
        except Exception as problem:  # a student's click must never show a traceback
            show_unexpected(problem, "The leak measurement")
    leak = state.get(K + "leak_result")
    if leak is not None:
        best = leak.trials.iloc[leak.picked]
        c = st.columns(3)
        c[0].metric("Test score of the pick", percent(best["test_accuracy"]))
        c[1].metric("Same model on new points", percent(best["fresh_accuracy"]))
        c[2].metric("Optimism", f"{100 * leak.optimism:+.1f} points")
        st.caption("Picking by the test score turned the test set into a second validation set: its number is now "
                   "optimistic. Choose with the validation set (or k-fold), then look at the test set once.")


def show_kfold() -> None:
    st.header("2 · k-fold cross-validation")
    explain("One validation split is one draw of luck. **k-fold** splits the non-test points into k folds; the "
                "same network trains k times, each time validated on another fold. Every point is validated once.")
    picture = st.container()  # the folds above their settings
    with folded("Folds: k, seed, stratified"):
        c = st.columns(3)
        k = c[0].slider("Folds k", *span(K + "k"), key=K + "k")
        seed = c[1].number_input("Fold seed", *span(K + "fold_seed"), key=K + "fold_seed")
        stratified = c[2].checkbox("Stratified folds", key=K + "stratified",
                                   help="StratifiedKFold (every fold keeps the class ratio) instead of KFold")
    _, _, y = v.development_part(BINARY)
    try:
        folds = v.fold_assignments(y, k=k, seed=int(seed), stratified=stratified)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    picture.altair_chart(charts.fold_strips(folds, y), width="stretch")
    picture.caption("Points sorted by class (benign, then malignant), then by fold. Stratified folds split both "
                    "classes in the same ratio; plain k-fold only roughly.")
    signature = (k, int(seed), stratified)
    if st.button(f"Train {k} networks, one per fold", key=K + "cv_train", type="primary"):
        try:
            with st.spinner(f"Training {k + 1} networks…"), heavy_work():
                table = v.cross_validation(BINARY, k=k, seed=int(seed), stratified=stratified,
                                           cache=state[K + "trainers"])
                state[K + "cv"] = (signature, table, v.single_split(BINARY, cache=state[K + "trainers"]))
        except Exception as problem:
            show_unexpected(problem, "Cross-validation")
    if state.get(K + "cv") and state[K + "cv"][0] == signature:
        _, table, single = state[K + "cv"]
        st.dataframe(table.style.format({"val_loss": "{:.4f}", "val_accuracy": "{:.3f}"}), hide_index=True)
        st.altair_chart(charts.fold_scores(table, single["val_accuracy"]), width="stretch")
        scores = table["val_accuracy"]
        st.markdown(f"**Mean {percent(scores.mean())} ± {percent(scores.std(ddof=1))}** (spread: standard deviation "
                    f"of the {k} folds); the single split above scores **{percent(single['val_accuracy'])}**.")


def show_threshold() -> None:
    st.header("3 · Precision and recall at a threshold")
    run = classifier("binary")
    st.markdown(f"A network ({BINARY.hidden_units[0]} hidden neurons, {BINARY.epochs} epochs) gives each of the "
                f"{len(run.scores)} test tumours a score from 0 to 1. **Malignant** is the positive class: predicted "
                "where the score ≥ the threshold.")
    signature = (BINARY.dataset, BINARY.seed)
    guess = st.radio("Predict first: as the threshold rises from 0.1 to 0.9, does the F1 score go…", TRENDS,
                     index=None, key=K + "f1_guess", horizontal=True)
    gate.offer_to_class()
    if st.button("Lock in my guess and reveal", key=K + "f1_lock", disabled=guess is None):
        gate.reveal(signature, guess, answer=guess)
    if not gate.revealed(signature):
        st.info("Lock in a guess to open the threshold slider and the curves.")
        return
    sweep = m.threshold_sweep(run.split.y["test"], run.scores)
    show_verdict(grade_choice(gate.feedback(), m.f1_trend(sweep)),
                 "Raising the threshold trades recall (malignant tumours found) for precision (alarms that are right).")
    threshold = st.slider("Threshold", *span(K + "threshold"), step=0.01, key=K + "threshold")
    scores = m.threshold_metrics(run.split.y["test"], run.scores, threshold)
    c = st.columns(4)
    for column, name in zip(c, ("accuracy", "precision", "recall", "f1")):
        column.metric(name.capitalize() if name != "f1" else "F1", f"{scores[name]:.3f}")
    st.markdown("**Confusion matrix** (T/F: the prediction is right/wrong; P/N: it says malignant/benign)")
    st.dataframe(pd.DataFrame({f"predicted {run.classes[0]}": [f"{scores['tn']} (TN)", f"{scores['fn']} (FN)"],
                                 f"predicted {run.classes[1]}": [f"{scores['fp']} (FP)", f"{scores['tp']} (TP)"]},
                                index=[f"true {name}" for name in run.classes]))
    roc = m.roc_points(run.split.y["test"], run.scores)
    here = {"fpr": scores["fp"] / max(scores["fp"] + scores["tn"], 1), "tpr": scores["recall"],
            "recall": scores["recall"], "precision": scores["precision"]}
    middle, right = st.columns(2)
    middle.markdown(f"**ROC curve** (area {m.auc(roc):.3f})")
    middle.altair_chart(charts.curve_with_point(roc, "fpr", "tpr", here, titles=("false-positive rate",
                                                                                  "true-positive rate (recall)")),
                        width="stretch")
    right.markdown("**Precision–recall curve**")
    right.altair_chart(charts.curve_with_point(m.pr_points(run.split.y["test"], run.scores), "recall", "precision",
                                               here, titles=("recall", "precision")), width="stretch")


def show_paradox() -> None:
    st.header("4 · The accuracy paradox")
    with folded("Share of positives"):
        share = st.slider("Share of positives (sick) among 1,000 patients", *span(K + "share"), step=0.01,
                          key=K + "share")
    y = m.imbalanced_labels(1000, share)
    lazy = m.always_majority(y)
    st.dataframe(pd.DataFrame([{"classifier": "always “healthy” (the majority)",
                                **{n: f"{lazy[n]:.3f}" for n in ("accuracy", "precision", "recall", "f1")}}]),
                 hide_index=True)
    st.markdown(f"Predicting “healthy” for everyone scores **{percent(lazy['accuracy'])} accuracy** and finds "
                f"**{lazy['tp']} of {int(y.sum())}** sick patients (recall {lazy['recall']:.0%}). With imbalanced "
                "classes, report precision, recall and F1 of the rare class, not accuracy alone.")


links.restore(SCHEMA, PAGE)  # a shared link sets every control, seeds included
st.title("Validation and metrics")
links.show_ignored(PAGE)
link_slot = st.container()
explain("How good is a model, really? Keep data it never saw, average over several splits, choose the score "
            "that matches the cost of a mistake, and save the model you chose.")
show_three_sets()
show_kfold()
show_threshold()
show_paradox()
show_multiclass(classifier("digits"), K)
show_save_and_load(classifier("binary"), K)
links.sync(SCHEMA, PAGE)
with link_slot:
    links.link_box(PAGE)
