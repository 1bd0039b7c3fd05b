"""Many students at once: N browser sessions use one page together, and what each costs the server.

    python benchmarks/load.py [--sessions 30] [--scenario classify|train] [--no-tour]

Starts the app and, for the scenario:
- classify: each student opens the classify page, uploads their own picture, types a guess, reveals the
  answer and changes the Grad-CAM class; each checks that it sees its own picture's name and nobody else's;
- train: each student opens the over/underfitting page and presses Train on the default run.

First one session runs alone (it pays the one-off costs: building the network, compiling), then two more
alone, step by step, to measure the server's CPU-seconds per action; then N sessions at once. Every step
waits for its visible effect (a file chip, the guess box, the result), not for a timer, and does the action
again if a rerun dropped it; a step that shows nothing within its time is reported as `HUNG at <step>`,
not as a slow result. Then (unless --no-tour) one student visits every page once, the classify page with
both networks, to measure the server's memory after every page has been used.

The last three lines are `cpu_per_session_s: <x>` (server CPU-seconds over the N sessions, divided by N),
`rss_growth_mb: <y>` (RSS after the N sessions minus RSS after one), and `sessions_ok: <k>/<N>`.
Uses the ImageNet weights when the server has them, otherwise the page's labelled random-weights mode
(the same work per picture).
"""
import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402
from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE, rss_mb, running_app  # noqa: E402

RESULT_HEADER = "What the model says"
RECONNECT_WINDOW_S = 120  # Streamlit's default server.disconnectedSessionTTL (the app does not change it)
STEP_TIMEOUT_S = 240.0  # one step, for thirty browsers sharing two cores with the server
RETRY_AFTER_S = 20.0  # an action whose effect has not shown by then, on an idle page, was dropped: do it again
LESSONS = Path(__file__).resolve().parent.parent / "data" / "lessons.json"
# Counts the script runs the page sees (each time the app goes to "running"), for the report.
COUNT_RUNS = """
window.__scriptRuns = 0;
new MutationObserver(records => {
  for (const r of records) {
    if (r.target.getAttribute && r.target.getAttribute('data-test-script-state') === 'running'
        && r.oldValue !== 'running') window.__scriptRuns += 1;
  }
}).observe(document, {attributes: true, attributeOldValue: true, subtree: true,
                      attributeFilter: ['data-test-script-state']});
"""


class Hung(Exception):
    """A step whose visible effect never came."""


@dataclass
class SessionResult:
    name: str
    ok: bool
    seconds: float  # from opening the page to the last step's effect
    problem: str = ""
    result_seconds: float = float("nan")  # from the main action (reveal, Train) to its result
    steps: dict = field(default_factory=dict)  # step -> seconds
    cpu: dict = field(default_factory=dict)  # step -> server CPU-seconds (solo sessions only)
    script_runs: int = 0


def picture(index: int) -> bytes:
    """A distinct 640x480 JPEG per session: its own colour and number."""
    image = Image.new("RGB", (640, 480), ((index * 53) % 256, (index * 97) % 256, (index * 151) % 256))
    ImageDraw.Draw(image).text((280, 220), f"#{index}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle(page) -> None:
    """The page's script is not running (it may not have started the next run yet: effects decide)."""
    try:
        await page.wait_for_selector(SCRIPT_DONE, timeout=STEP_TIMEOUT_S * 1000)
    except PlaywrightTimeout:
        raise Hung(f"HUNG: the page's script still running after {STEP_TIMEOUT_S:.0f} s") from None


async def server_quiet(pid: int | None, *, quiet: float = 0.03, timeout: float = 60.0) -> None:
    """Solo sessions: wait until the server's own follow-up work is done, so the step is charged for it."""
    if pid is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < quiet * 0.5:
            return


class Steps:
    """Runs a session's steps: each action, then its visible effect; timing (and, alone, CPU) per step."""

    def __init__(self, page, result: SessionResult, pid: int | None):
        self.page, self.result, self.pid = page, result, pid

    async def runs(self) -> int:
        return await self.page.evaluate("window.__scriptRuns || 0")

    async def _appears(self, seen, until: float, name: str) -> bool:
        """Whether the effect shows before the monotonic time `until`."""
        while time.monotonic() < until:
            try:
                await seen.first.wait_for(state="visible", timeout=1_000)
                return True
            except Exception:  # noqa: BLE001 - not yet
                if await self.page.get_by_test_id("stException").count():
                    raise Hung(f"exception on the page at {name}") from None
        return False

    async def __call__(self, name: str, action, effect, *, timeout: float = STEP_TIMEOUT_S):
        """Do `action` (async, or None) until `effect` (a locator, or a function giving one) is visible.

        An action sent while a rerun is finishing can be dropped: no new run starts for it. When the effect
        is late and no run started, the action is done again; a run that started is left to finish.
        Raises Hung when the effect has not shown after `timeout` seconds.
        """
        cpu = cpu_seconds(self.pid) if self.pid else 0.0
        clock, deadline = time.perf_counter(), time.monotonic() + timeout
        tries = 0
        while True:
            runs = await self.runs()
            if action is not None:
                tries += 1
                await action()
            seen = effect() if callable(effect) else effect  # a function when it depends on the action
            if await self._appears(seen, min(deadline, time.monotonic() + RETRY_AFTER_S), name):
                break
            await idle(self.page)
            dropped = action is not None and await self.runs() == runs
            if not dropped or time.monotonic() >= deadline:
                if await self._appears(seen, deadline, name):
                    break
                state = await self.page.get_by_test_id("stApp").get_attribute("data-test-script-state")
                raise Hung(f"HUNG at {name}: no effect after {timeout:.0f} s and {tries} tries "
                           f"(script state {state})")
        await idle(self.page)
        self.result.steps[name] = time.perf_counter() - clock
        if self.pid:
            await server_quiet(self.pid)
            self.result.cpu[name] = cpu_seconds(self.pid) - cpu


async def student_page(browser, result: SessionResult, pid: int | None):
    """A new browser context (a new session) whose page counts its script runs: (context, page, main, steps)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(COUNT_RUNS)
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_S * 1000)
    return context, page, page.get_by_test_id("stMain"), Steps(page, result, pid)


async def classify_session(browser, base_url: str, index: int, all_names: list[str],
                           pid: int | None = None) -> SessionResult:
    """One student: open the classify page, upload their picture, guess, reveal, change the Grad-CAM class.

    With `pid` (a session alone) each step's server CPU is measured too.
    """
    name = f"student-{index:02d}.jpg"
    result = SessionResult(name, False, float("nan"))
    context, page, main, step = await student_page(browser, result, pid)
    start = time.perf_counter()
    try:
        await step("open page", lambda: page.goto(f"{base_url}/classify", timeout=STEP_TIMEOUT_S * 1000),
                   main.get_by_text("Upload a file", exact=True))
        dropzone = main.get_by_test_id("stFileUploaderDropzoneInput")
        await step("choose upload", lambda: main.get_by_text("Upload a file", exact=True).click(),
                   main.get_by_test_id("stFileUploaderDropzone"))  # the file input itself is hidden
        random_mode = main.get_by_text("Show the pipeline with random weights", exact=False)
        guess_box = main.get_by_role("combobox", name="Top class")
        chip = main.get_by_test_id("stFileChip").filter(has_text=name)
        await step("upload", lambda: dropzone.set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": picture(index)}), chip)
        # The guess box or, without ImageNet weights on the server, the switch to random weights.
        await step("picture shown", None, random_mode.or_(guess_box))
        if await random_mode.count() and not await guess_box.count():
            switch = main.get_by_test_id("stCheckbox").filter(has_text="Show the pipeline with random weights")

            async def switch_on():  # a retry must not switch it off again when the first click's run is late
                if not await switch.first.locator("input").is_checked():
                    await switch.first.click()

            await step("random weights", switch_on, guess_box)

        async def guess():
            await guess_box.click()
            await page.keyboard.type("tabby")
            await page.keyboard.press("Enter")

        await step("guess", guess, main.locator('input[aria-label="Top class"][value*="tabby" i]'))
        clock = time.perf_counter()
        await step("reveal", lambda: main.get_by_role("button", name="Lock in my guess and reveal").click(),
                   page.get_by_text(RESULT_HEADER))
        result.result_seconds = time.perf_counter() - clock
        cam_box = main.get_by_role("combobox", name="Grad-CAM heatmap", exact=False)
        chosen = {}

        async def other_class():  # the second of the top five
            box = main.get_by_test_id("stSelectbox").filter(has_text="Grad-CAM heatmap")
            option = page.get_by_role("option").nth(1)
            for _ in range(10):  # a rerun that lands while the list is open closes it: open it again
                await idle(page)
                await box.click()
                try:
                    await option.wait_for(timeout=3_000)
                    chosen["label"] = (await option.inner_text()).strip()
                    await option.click(timeout=3_000)
                    return
                except Exception:  # noqa: BLE001
                    await page.keyboard.press("Escape")
            raise Hung("HUNG at Grad-CAM class: its list of classes did not open")

        await cam_box.wait_for()
        await step("Grad-CAM class", other_class,
                   lambda: main.get_by_text(f"raised “{chosen['label']}”", exact=False))
        result.seconds = time.perf_counter() - start
        text = await main.inner_text()
        others = [other for other in all_names if other != name and other in text]
        if name not in text or others:
            result.problem = f"sees {others or 'not its own picture'}"
        else:
            result.ok = True
    except Exception as error:  # noqa: BLE001 - a benchmark reports every failure and carries on
        result.seconds = time.perf_counter() - start
        result.problem = f"{type(error).__name__}: {error}"[:300] if not isinstance(error, Hung) else str(error)
    finally:
        try:
            result.script_runs = await page.evaluate("window.__scriptRuns")
        except Exception:  # noqa: BLE001 - the page may be gone
            pass
        await context.close()
    return result


async def train_session(browser, base_url: str, index: int, all_names: list[str],
                        pid: int | None = None) -> SessionResult:
    """One student: open the over/underfitting page and press Train on the default run."""
    result = SessionResult(f"student-{index:02d}", False, float("nan"))
    context, page, main, step = await student_page(browser, result, pid)
    start = time.perf_counter()
    try:
        train = main.get_by_role("button", name="Train", exact=True)
        await step("open page", lambda: page.goto(f"{base_url}/overfitting", timeout=STEP_TIMEOUT_S * 1000), train)
        clock = time.perf_counter()
        # The run table lists the first run as "#1 good fit" once its training is done.
        await step("train", lambda: train.click(), main.get_by_text("#1 good fit", exact=False))
        result.result_seconds = time.perf_counter() - clock
        result.seconds = time.perf_counter() - start
        result.ok = True
    except Exception as error:  # noqa: BLE001
        result.seconds = time.perf_counter() - start
        result.problem = f"{type(error).__name__}: {error}"[:300] if not isinstance(error, Hung) else str(error)
    finally:
        try:
            result.script_runs = await page.evaluate("window.__scriptRuns")
        except Exception:  # noqa: BLE001
            pass
        await context.close()
    return result


SCENARIOS = {"classify": classify_session, "train": train_session}


class PeakMemory:
    """Samples a process's RSS in the background and keeps the peak."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(-(-share * len(ordered) // 1)) - 1))]


async def run_load(sessions: int, base_url: str, server_pid: int | None, *, scenario: str = "classify",
                   solo: int = 2, settle: bool = True) -> dict:
    """A first session alone, `solo` more alone (CPU per action), then `sessions` at once; the figures.

    `server_pid` None (e.g. behind a proxy, several processes) skips the CPU and memory figures; `settle`
    False skips the wait for the closed sessions' reconnect window (the memory figure after it is then NaN).
    """
    session = SCENARIOS[scenario]
    names = [f"student-{i:02d}.jpg" for i in range(sessions + solo + 1)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        baseline = await session(browser, base_url, 0, names, server_pid)
        alone = [await session(browser, base_url, sessions + 1 + i, names, server_pid) for i in range(solo)]
        rss_one = rss_mb(server_pid) if server_pid else float("nan")
        cpu_before, wall = (cpu_seconds(server_pid) if server_pid else 0.0), time.perf_counter()
        with PeakMemory(server_pid) if server_pid else _nothing() as memory:
            results = await asyncio.gather(*(session(browser, base_url, i, names) for i in range(1, sessions + 1)))
        wall = time.perf_counter() - wall
        server_cpu = rss_after = rss_settled = float("nan")
        if server_pid:
            server_cpu = cpu_seconds(server_pid) - cpu_before
            await asyncio.sleep(3)  # the sessions' contexts closed: give the server a moment to drop them
            rss_after = rss_mb(server_pid)
        if server_pid and settle:
            # Streamlit keeps a closed session for its reconnect window (server.disconnectedSessionTTL), so a
            # tablet that lost Wi-Fi resumes where it was; past it, the next session that ends drops them.
            await asyncio.sleep(RECONNECT_WINDOW_S + 5)
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(base_url, timeout=STEP_TIMEOUT_S * 1000)
            await page.get_by_test_id("stMain").wait_for(timeout=STEP_TIMEOUT_S * 1000)
            await context.close()
            await asyncio.sleep(3)
            rss_settled = rss_mb(server_pid)
        await browser.close()
    times = [r.result_seconds for r in results if r.ok]
    return {"scenario": scenario, "baseline": baseline, "alone": alone, "results": results,
            "rss_one": rss_one, "rss_peak": getattr(memory, "peak", float("nan")), "rss_after": rss_after,
            "rss_settled": rss_settled,
            "server_cpu": server_cpu, "wall": wall,
            "median": statistics.median(times) if times else float("nan"),
            "p95": percentile(times, 0.95) if times else float("nan"),
            "max": max(times) if times else float("nan"), "ok": sum(r.ok for r in results)}


class _nothing:
    peak = float("nan")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


async def tour(base_url: str, pid: int, rows: list[tuple[str, float]]) -> None:
    """One student visits every page once (classify with both networks): the server's RSS after each, into `rows`.

    A page that does not show what the tour waits for stops the tour with a message (and a screenshot); the
    rows measured so far stay, and the load figures are reported either way.
    """
    pages = ["home"] + [Path(lesson["page"]).stem for lesson in json.loads(LESSONS.read_text())]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_S * 1000)
        main = page.get_by_test_id("stMain")
        where = "home"
        try:
            for name in pages:
                where = name
                await page.goto(f"{base_url}/{'' if name == 'home' else name}")
                await main.locator("h1").first.wait_for()
                await idle(page)
                if name == "classify":
                    for network in ("VGG16", "MobileNetV2"):
                        where = f"classify ({network})"
                        await classify_result(page, main, network)
                        rows.append((where, rss_mb(pid)))
                    continue
                if name == "transfer_learning":
                    random_choice = main.get_by_text("Random weights", exact=False)
                    if await random_choice.count():
                        await random_choice.first.click()
                        await page.wait_for_timeout(500)
                        await idle(page)
                await server_quiet(pid, timeout=30)
                rows.append((name, rss_mb(pid)))
        except Exception as error:  # noqa: BLE001 - the load figures are reported all the same
            shot = Path(tempfile.gettempdir()) / "load-tour-stopped.png"
            try:
                await page.screenshot(path=str(shot), full_page=True)
            except Exception:  # noqa: BLE001
                shot = None
            print(f"tour stopped at {where}: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
                  + (f" (screenshot {shot})" if shot else ""), flush=True)
        await browser.close()


async def classify_result(page, main, network: str) -> None:
    """On the classify page: choose `network`, random weights when there are no others, and show its result."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    await main.get_by_test_id("stRadio").first.get_by_text(network, exact=False).click()
    await page.wait_for_timeout(500)
    await idle(page)
    while not await main.get_by_text(RESULT_HEADER).count():
        if time.monotonic() > deadline:
            raise Hung(f"HUNG at classify ({network}): no result after {STEP_TIMEOUT_S:.0f} s")
        for label in ("Show the pipeline with random weights", "Teacher mode"):  # switch on what is off
            switch = main.get_by_test_id("stCheckbox").filter(has_text=label)
            if await switch.count() and not await switch.first.locator("input").is_checked():
                await switch.first.click()
                break
        await page.wait_for_timeout(1000)
        await idle(page)
    await idle(page)


def report(figures: dict, sessions: int, rows: list[tuple[str, float]] | None) -> None:
    """Prints the figures; the last three lines are the ones the issue asks for."""
    def describe(result):
        return "ok" if result.ok else "FAILED " + result.problem

    print(f"scenario: {figures['scenario']}")
    first = figures["baseline"]
    print(f"first session alone (one-off costs included): {describe(first)}, {first.seconds:.1f} s, "
          f"server CPU {sum(first.cpu.values()):.2f} s")
    alone = [r for r in figures["alone"] if r.ok]
    for result in figures["alone"]:
        if not result.ok:
            print(f"  solo session {result.name}: FAILED: {result.problem}")
    if alone:
        print("server CPU-seconds per action, a session alone (median of "
              f"{len(alone)}; the first session in brackets):")
        for name in alone[0].cpu:
            values = [r.cpu.get(name, float("nan")) for r in alone]
            print(f"  {name:<16} {statistics.median(values):6.2f}   ({first.cpu.get(name, float('nan')):.2f})")
        print(f"  {'whole session':<16} {statistics.median(sum(r.cpu.values()) for r in alone):6.2f}   "
              f"({sum(first.cpu.values()):.2f})")
        print(f"script runs per session: {statistics.median(r.script_runs for r in alone):.0f} alone")
    failed = [r for r in figures["results"] if not r.ok]
    for result in failed:
        print(f"  {result.name}: FAILED after {result.seconds:.1f} s: {result.problem}")
    runs = [r.script_runs for r in figures["results"] if r.ok]
    if runs:
        print(f"script runs per session with {sessions} at once: median {statistics.median(runs):.0f}, "
              f"max {max(runs)}")
    print(f"time from the main action to its result with {sessions} at once: median {figures['median']:.1f} s, "
          f"p95 {figures['p95']:.1f} s, max {figures['max']:.1f} s")
    print(f"server CPU: {figures['server_cpu']:.1f} s over {figures['wall']:.1f} s of wall time for "
          f"{sessions} sessions (the rest of the machine ran the {sessions} browsers)")
    print(f"server RSS: {figures['rss_one']:.0f} MB after one session, peak {figures['rss_peak']:.0f} MB "
          f"with {sessions}, {figures['rss_after']:.0f} MB just after (closed sessions kept for reconnecting), "
          f"{figures['rss_settled']:.0f} MB once their {RECONNECT_WINDOW_S} s reconnect window is over")
    if rows:
        print("server RSS after visiting each page once, in order:")
        for name, rss in rows:
            print(f"  {name:<24} {rss:7.0f} MB")
        print(f"rss_after_every_page_mb: {rows[-1][1]:.0f}")
    print(f"cpu_per_session_s: {figures['server_cpu'] / sessions:.2f}")
    print(f"rss_growth_mb: {figures['rss_settled'] - figures['rss_one']:+.0f} "
          f"({figures['rss_after'] - figures['rss_one']:+.0f} within the reconnect window)")
    print(f"sessions_ok: {figures['ok']}/{sessions}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="classify")
    parser.add_argument("--solo", type=int, default=2, help="sessions alone after the first, for CPU per action")
    parser.add_argument("--no-tour", action="store_true", help="skip the visit of every page (memory)")
    args = parser.parse_args()
    with running_app() as (base_url, process):
        figures = asyncio.run(run_load(args.sessions, base_url, process.pid, scenario=args.scenario,
                                       solo=args.solo))
        print(f"{figures['ok']}/{args.sessions} sessions ok; "
              + ("the memory tour next" if not args.no_tour else "no tour"), flush=True)
        rows = None if args.no_tour else []
        if rows is not None:
            asyncio.run(tour(base_url, process.pid, rows))
    report(figures, args.sessions, rows)


if __name__ == "__main__":
    main()
