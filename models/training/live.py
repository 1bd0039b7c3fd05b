"""Live training on a page: why a run was cut short, and settings that survive a visit to another page.

Plain Python on a mapping (a page passes its session state), so tests call it directly.
"""
import threading
from collections.abc import Iterable, MutableMapping
from enum import StrEnum


class Ending(StrEnum):
    """How a run that did not finish ended; the text is what the run table shows."""
    STOPPED = "stopped by you"
    NEW_RUN = "cut short by a new run"
    LEFT_PAGE = "cut short: you left the page"
    RERUN = "cut short: the page reran"
    CUT_SHORT = "cut short"  # not yet known (the page has not run again since)

    def sentence(self, epochs_run: int, epochs: int) -> str:
        done = f"after {epochs_run} of {epochs} epochs"
        return {
            Ending.STOPPED: f"You stopped the run {done}.",
            Ending.NEW_RUN: f"A new Train click ended this run {done}.",
            Ending.LEFT_PAGE: f"The run ended {done}, when you left the page.",
            Ending.RERUN: f"The run ended {done}, when the page reran (a setting changed while it trained).",
            Ending.CUT_SHORT: f"The run ended {done}.",
        }[self]


def why_cut_short(state: MutableMapping, *, stop_key: str, new_run_keys: Iterable[str], left_page: bool) -> Ending:
    """Read, at the start of the page run after an interruption, what interrupted the previous one.

    A button's value is True only in the run its click started; widgets missing from `state` mean the page was
    not shown in the run before (the student went to another page).
    """
    if state.get(stop_key):
        return Ending.STOPPED
    if any(state.get(key) for key in new_run_keys):
        return Ending.NEW_RUN
    return Ending.LEFT_PAGE if left_page else Ending.RERUN


class SettingsMemory:
    """Widget values kept under one key of their own, because Streamlit drops the state of widgets not drawn.

    Call `came_back()` and `restore()` before the widgets are drawn, `save()` after.
    """

    def __init__(self, state: MutableMapping, key: str, widget_keys: Iterable[str], *,
                 always_drawn: Iterable[str] | None = None):
        self.state, self.key, self.widget_keys = state, key, tuple(widget_keys)
        # Widgets drawn on every run of the page: one drawn only sometimes loses its state on the page itself.
        self.always_drawn = self.widget_keys if always_drawn is None else tuple(always_drawn)

    def came_back(self) -> bool:
        """True when settings were saved before but the widgets' own state is gone (another page ran meanwhile)."""
        saved = self.state.get(self.key)
        return bool(saved) and any(key in saved and key not in self.state for key in self.always_drawn)

    def restore(self, defaults: dict, *, came_back: bool = False) -> None:
        """Give every widget key missing from state its saved value, else its default; after a visit to another
        page (`came_back`), every saved value (a widget not drawn at the time can keep a stale value)."""
        saved = self.state.get(self.key) or {}
        for key, value in (defaults | saved).items():
            if key not in self.state or (came_back and key in saved):
                self.state[key] = value

    def save(self) -> None:
        self.state[self.key] = {key: self.state[key] for key in self.widget_keys if key in self.state}


class LiveSlot:
    """Held while a run trains and is saved: a click during training starts the next page run at once (the old one
    stops at its next Streamlit call), so the next run waits here until the old one has saved what it trained."""

    def __init__(self):
        self._lock = threading.Lock()
        self.runs_cut_short: list = []  # run numbers (or keys) saved by an interrupted run, ending not yet known
        self.latest = None  # a page's latest (frozen) run, replaced as it trains

    def hold(self, timeout: float = 60.0):
        if not self._lock.acquire(timeout=timeout):
            raise ValueError("Your previous run is still finishing. Press the button again in a moment.")
        return self

    def release(self) -> None:
        self._lock.release()

    def wait_idle(self, timeout: float = 60.0) -> None:
        if self._lock.acquire(timeout=timeout):
            self._lock.release()
