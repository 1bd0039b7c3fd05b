"""The over/underfitting page's live runs: session start, one click's training with Stop, and one run's results."""
import os
import threading
import time

import streamlit as st

from models.engine.heavy_work import heavy_work
from models.engine.runs import prime, train_in_chunks
from models.engine.settings import RunStatus
from models.training import overfitting as ov
from models.training.live import LiveSlot, SettingsMemory, why_cut_short
from pages.shared.errors import show_unexpected
from pages.training.fit_charts import ChartMemo, loss_chart, picture_chart

K = "overfitting_"
LIVE_CURVE_AFTER = 0.3  # seconds of training before the curve is drawn live (the first chunk is one epoch)
DEFAULTS = ov.widget_values(ov.preset_settings("good fit"), K) | {K + "guess": None, K + "compare_guess": None,
                                                                  K + "overlay": [], K + "with_training": False}
state = st.session_state


def start_session() -> LiveSlot:
    """Restore the settings after a visit to another page, and say truthfully how an interrupted run ended."""
    memory = SettingsMemory(state, K + "saved", DEFAULTS,  # the run table's widgets show only with runs
                            always_drawn=[k for k in DEFAULTS if k not in (K + "overlay", K + "with_training")])
    came_back = memory.came_back()
    live = state.setdefault(K + "live", LiveSlot())
    state.setdefault(K + "runs", [])
    state.setdefault(K + "trainers", {})  # a student's trainers (their weights); compiled programs are shared
    state.setdefault(K + "charts", ChartMemo())  # the charts drawn last time, so an idle rerun encodes none
    warm_up_presets()
    live.wait_idle()
    if live.runs_cut_short:
        ending = why_cut_short(state, stop_key=K + "stop", new_run_keys=(K + "train", K + "compare"),
                               left_page=came_back)
        state[K + "runs"] = ov.settle_endings(state[K + "runs"], set(live.runs_cut_short), ending)
        live.runs_cut_short.clear()
    memory.restore(DEFAULTS, came_back=came_back)
    state[K + "memory"] = memory
    return live


@st.cache_resource(show_spinner=False)
def warm_up_presets() -> threading.Thread | None:
    """Once per server, in the background while the first student reads: compile the presets' programs, which
    every session then shares (no student data in them). Off with CLASSROOM_PRELOAD_TENSORFLOW=0."""
    if os.environ.get("CLASSROOM_PRELOAD_TENSORFLOW", "1") == "0":
        return None
    thread = threading.Thread(target=ov.warm_up_presets, kwargs={"guard": heavy_work}, daemon=True,
                              name="overfitting-warm-up")  # engine work only: no Streamlit call in it
    thread.start()
    return thread


@st.cache_resource(show_spinner="Starting the training engine…")
def engine_ready() -> float:
    return prime()  # one-time TensorFlow start-up per server process; nothing in it is shared


def train_jobs(settings: ov.RunSettings, compare: bool, guess, live: LiveSlot) -> None:
    """Check every job of the click (a refused click keeps the previous result), then train them one by one."""
    try:
        jobs = ov.plan_jobs(settings, compare=compare)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    engine_ready()
    state[K + "runs"] = ov.without_pictures(state[K + "runs"])  # only the runs of this click will show theirs
    first = max((run.number for run in state[K + "runs"]), default=0) + 1
    state[K + "latest"] = ov.Attempt("compare" if compare else "single", guess, tuple(range(first, first + len(jobs))))
    slot = st.empty()
    columns = slot.container().columns(3) if compare else [slot]
    try:
        for number, (job, column) in enumerate(zip(jobs, columns), start=first):
            train_live(job, number, column.empty(), live)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
    except Exception as problem:  # a last safety net: a student's click must never show a traceback
        show_unexpected(problem, "Training")
    slot.empty()


def train_live(job: ov.Job, number: int, slot, live: LiveSlot) -> None:
    """Train one run, redrawing its curves in `slot`; the run is kept even if a click or leaving cuts it short."""
    for note in job.notes:
        st.info(note)
    slot.progress(0, text=f"{job.label}: preparing (a new network shape takes a second or two the first time)…")
    # After an interruption even reading st.session_state raises again, so `finally` only touches these objects.
    runs, trainers = state[K + "runs"], state[K + "trainers"]
    live.hold()
    result, clock = None, time.perf_counter()
    try:
        trainer = ov.start_trainer(job.settings, job.data, trainers)
        for result in train_in_chunks(trainer, guard=heavy_work):
            with slot.container():
                st.progress(int(100 * result.epochs_run / result.epochs),
                            text=f"{job.label}: epoch {result.epochs_run} of {result.epochs}")
                # A live curve only for runs long enough to watch; the finished one is drawn once, by the results.
                if not result.done and time.perf_counter() - clock > LIVE_CURVE_AFTER:
                    st.altair_chart(loss_chart(result.history, job.settings.epochs, height=280), width="stretch")
    finally:
        try:
            if result is not None:
                with heavy_work():
                    runs.append(ov.make_run(number, job.label, job.settings, result, job.data,
                                            time.perf_counter() - clock, trainer.predict))
                del runs[:-ov.MAX_RUNS]
                if not result.done:
                    live.runs_cut_short.append(number)
        finally:
            live.release()


def show_run(run: ov.Run, *, compact=False, y_max=None) -> None:
    charts, drawn = state[K + "charts"], (run.settings, run.epochs_run, compact, y_max)  # a run's charts, once
    marks = ov.markers(run.history, best_epoch=run.best_epoch, early_stopping=run.settings.patience is not None)
    (st.error if run.status == RunStatus.DIVERGED else st.caption if compact else st.info)(run.message)
    if run.history.empty:
        why = ("The loss blew up during the first epoch" if run.status == RunStatus.DIVERGED
               else "The run ended before its first epoch finished")
        st.markdown(f"**Diagnosis: {run.diagnosis.kind}.** {run.diagnosis.text} {why}, so there is no curve to draw.")
        return
    epochs = run.settings.epochs
    if compact:
        with st.expander(f"**{run.diagnosis.kind.capitalize()}**: why?"):
            st.markdown(run.diagnosis.text)
        charts.draw(st, ("loss", *drawn), lambda: loss_chart(run.history, epochs, marks=marks, height=280,
                                                             y_max=y_max), width="stretch")
        if run.picture is not None:
            charts.draw(st, ("picture", *drawn), lambda: picture_chart(run, height=300, legends=False),
                        width="stretch")
        return
    left, right = st.columns(2)
    charts.draw(left, ("loss", *drawn), lambda: loss_chart(run.history, epochs, marks=marks), width="stretch")
    if not run.settings.regression:
        charts.draw(right, ("accuracy", *drawn), lambda: loss_chart(run.history, epochs, metric="accuracy"),
                    width="stretch")
    st.markdown(f"**Diagnosis: {run.diagnosis.kind}.** {run.diagnosis.text}")
    if run.picture is not None:
        charts.draw(st, ("picture", *drawn),
                    lambda: picture_chart(run) if run.settings.regression else picture_chart(run, side=340),
                    width="stretch" if run.settings.regression else "content")
        st.caption("Training points are circles, validation points triangles." + (
            "" if run.settings.regression else " The colour behind them is the model's probability of label 1"
            + (", with the weights early stopping restored." if run.settings.patience else ".")))
