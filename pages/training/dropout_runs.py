"""The dropout page's live comparison: session start, training both runs with Stop, and the measured effect."""
import time
from dataclasses import replace

import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.engine.runs import prime
from models.training import dropout as do
from models.training.live import LiveSlot, SettingsMemory, why_cut_short
from pages.shared import class_poll
from pages.shared.charts import curve_chart
from pages.shared.errors import show_unexpected
from pages.shared.feedback import VERDICT_BOX
from pages.training.fit_charts import ChartMemo

REDRAW_SECONDS = 0.3  # the chart resends every point; more often only loads slow browsers
NUMBER = st.column_config.NumberColumn(format="%.4f")
state = st.session_state


def start_session(defaults: dict) -> LiveSlot:
    """Restore the settings after a visit to another page, and say truthfully how an interrupted run ended."""
    memory = SettingsMemory(state, "dropout_saved", defaults,
                            always_drawn=[k for k in defaults if not k.startswith("dropout_layers_")])
    came_back = memory.came_back()
    live = state.setdefault("dropout_live", LiveSlot())
    live.wait_idle()
    if live.runs_cut_short and live.latest is not None:
        ending = why_cut_short(state, stop_key="dropout_stop", new_run_keys=("dropout_train",), left_page=came_back)
        live.latest = replace(live.latest, ending=ending)
    live.runs_cut_short.clear()
    memory.restore(defaults, came_back=came_back)
    state["dropout_memory"] = memory
    return live


def charts() -> ChartMemo:
    """The charts this session's page drew last time (an idle rerun re-sends them instead of encoding them)."""
    return state.setdefault("dropout_charts", ChartMemo())


@st.cache_resource(show_spinner=False)
def primed() -> float:
    """TensorFlow's one-time start-up, once per server process."""
    return prime()


def loss_chart(results, epochs: int):
    return curve_chart(do.curves(results), run="run", epochs=epochs, height=360, title="loss (binary cross-entropy)")


def show_training(settings, guesses, live: LiveSlot) -> None:
    st.header("3 · Train both side by side")
    st.markdown("Same points, same initial weights, same order of batches (one seed); only the dropout differs. "
                "Solid lines: validation loss; dashed: training loss.")
    start = st.button("Train both", type="primary", key="dropout_train", disabled=settings is None)
    controls, chart_slot, status_slot = st.container(), st.empty(), st.empty()
    if start and settings is not None:
        if st.session_state.get("dropout_guess_training_send_to_class"):
            for question_id, answer in zip(("dropout.training", "dropout.validation"), guesses):
                if answer is not None:
                    class_poll.send(question_id, answer)
            class_poll.show_sent_message()
        train_live(settings, guesses, live, controls, chart_slot)
    run = live.latest
    if run is None or not run.results:
        return
    drawn = ("loss", run.settings, tuple(result.epochs_run for result in run.results.values()))
    charts().draw(chart_slot, drawn, lambda: loss_chart(run.results, run.settings.epochs), width="stretch",
                  alt="Training and validation loss per epoch, with and without dropout.")
    for line in run.notes():
        st.info(line)
    if run.settings != settings:
        status_slot.caption("These curves come from earlier settings; press **Train both** to use the new ones.")
    show_measured(run)


def train_live(settings, guesses, live: LiveSlot, controls, chart_slot) -> None:
    """Train both runs, redrawing as they go; a Stop click, a new Train or leaving the page keeps what was trained."""
    stop_slot = controls.empty()
    stop_slot.button("Stop", key="dropout_stop", help="Keeps the curves so far.")  # a click reruns the page
    progress = controls.progress(0, text="Starting TensorFlow…")
    live.hold()
    try:
        primed()
        trainers = do.start_comparison(settings, cache=state.setdefault("dropout_trainers", {}))
        live.latest = do.ComparisonRun(settings, guesses, {})
        progress.progress(0, text="Compiling (a few seconds the first time with new settings)…")
        drawn = 0.0
        for results in do.train_side_by_side(trainers, guard=heavy_work):
            live.latest = do.ComparisonRun(settings, guesses, results)
            done = {run: result.epochs_run for run, result in results.items()}
            progress.progress(min(sum(done.values()) / (2 * settings.epochs), 1.0),
                              text=" · ".join(f"{run}: epoch {n} of {settings.epochs}" for run, n in done.items()))
            if time.monotonic() - drawn > REDRAW_SECONDS:  # every chunk ends at a progress update (a Stop point)
                chart_slot.altair_chart(loss_chart(results, settings.epochs), width="stretch")
                drawn = time.monotonic()
    except ValueError as problem:  # the settings were checked above; this is a last line of defence
        st.error(str(problem), icon=":material/error:")
    except Exception as problem:
        show_unexpected(problem, "Training")
    finally:  # an interruption stops at an st call; what was trained stays in live.latest, its ending read later
        if live.latest is not None and live.latest.settings == settings and not all(
                result.done for result in live.latest.results.values()):
            live.runs_cut_short.append("dropout")
        live.release()
    stop_slot.empty()
    progress.empty()


def show_measured(run) -> None:
    st.subheader("Measured effect")
    gaps = do.gap_table(run.results)
    st.dataframe(gaps, hide_index=True, column_config={
        name: NUMBER for name in gaps.columns if "loss" in name or "gap" in name})
    st.caption("Train loss, val(idation) loss and gap = val loss − train loss are at the last epoch; *gap at best* "
               "is the gap at the epoch with the lowest validation loss. A large gap means the network memorised "
               "its training points. The training loss of the dropout run is measured with units dropped, as "
               "Keras' `fit` reports it; the validation loss always uses all units.")
    answer = do.answers(run.results)
    if not answer:
        return
    st.subheader("Your predictions")
    for name, guess in zip(("training", "validation"), run.guesses):
        off, on = answer["values"][name]
        detail = f"At epoch {answer['epoch']} the {name} loss was {on:.4f} with dropout, {off:.4f} without."
        if guess is None:
            st.info(f"You did not guess the {name} loss. It was **{answer[name]}** with dropout. {detail}")
        else:
            feedback = grade_choice(guess, answer[name])  # both texts are the page's own choices
            VERDICT_BOX[feedback.verdict](f"{feedback.message} {detail}")
    st.markdown("\n".join(f"- {do.WHY[name, answer[name]]}" for name in ("training", "validation")))
