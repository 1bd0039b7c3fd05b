"""Many students at once: N browser sessions upload a picture to the classify page together.

    python benchmarks/load.py [--sessions 20]

Starts the app, runs one session alone (the baseline), then N concurrent sessions, each in its
own browser context with its own picture. Each session checks that it sees its own picture's
name and nobody else's. Prints successes, the median and maximum time to a result, and the
server's memory (RSS) with one session and with N; the last line is `sessions_ok: <k>/<N>`.
Uses the ImageNet weights when the server has them, otherwise the page's labelled
random-weights mode (the same work per picture).
"""
import argparse
import asyncio
import io
import os
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.async_api import async_playwright

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE, rss_mb, running_app

RESULT_HEADER = "What the model says"


@dataclass
class SessionResult:
    name: str
    ok: bool
    seconds: float
    problem: str = ""


def picture(index: int) -> bytes:
    """A distinct 640x480 JPEG per session: its own colour and number."""
    image = Image.new("RGB", (640, 480), ((index * 53) % 256, (index * 97) % 256, (index * 151) % 256))
    ImageDraw.Draw(image).text((280, 220), f"#{index}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def settle(page):
    try:
        await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=2_000)
    except Exception:  # noqa: BLE001 - the rerun may finish before the poll
        pass
    await page.wait_for_selector(SCRIPT_DONE, timeout=300_000)


async def classify_session(browser, base_url: str, index: int, all_names: list[str]) -> SessionResult:
    """One student: open the classify page, upload their picture, guess, and wait for the top-5."""
    name = f"student-{index:02d}.jpg"
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(300_000)  # twenty browsers share the machine with the server: be patient
    start = time.perf_counter()
    try:
        await page.goto(f"{base_url}/classify", timeout=120_000)
        await page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
        await settle(page)
        main = page.get_by_test_id("stMain")
        await main.get_by_text("Upload a file", exact=True).click()
        await settle(page)
        await main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": picture(index)})
        await settle(page)
        # Without ImageNet weights on the server the page first asks to opt into random weights.
        random_mode = main.get_by_text("Show the pipeline with random weights", exact=False)
        guess_box = main.get_by_test_id("stSelectbox").first
        await random_mode.or_(guess_box).first.wait_for()
        if await random_mode.count():
            await random_mode.click()
            await settle(page)
        await guess_box.click()
        await page.keyboard.type("tabby")
        await page.keyboard.press("Enter")
        await settle(page)
        await main.get_by_role("button", name="Lock in my guess and reveal").click()
        await page.get_by_text(RESULT_HEADER).wait_for(timeout=300_000)
        await settle(page)
        seconds = time.perf_counter() - start
        text = await main.inner_text()
        if await page.get_by_test_id("stException").count():
            return SessionResult(name, False, seconds, "exception on the page")
        others = [other for other in all_names if other != name and other in text]
        if name not in text or others:
            return SessionResult(name, False, seconds, f"sees {others or 'not its own picture'}")
        return SessionResult(name, True, seconds)
    except Exception as error:  # noqa: BLE001 - a benchmark reports every failure and carries on
        return SessionResult(name, False, time.perf_counter() - start, f"{type(error).__name__}: {error}"[:200])
    finally:
        await context.close()


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


async def run_load(sessions: int, base_url: str, server_pid: int) -> dict:
    """Baseline session, then `sessions` at once; returns the figures."""
    names = [f"student-{i:02d}.jpg" for i in range(sessions + 1)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        baseline = await classify_session(browser, base_url, 0, names)
        rss_one, cpu_before, wall = rss_mb(server_pid), cpu_seconds(server_pid), time.perf_counter()
        with PeakMemory(server_pid) as memory:
            results = await asyncio.gather(*(classify_session(browser, base_url, i, names)
                                             for i in range(1, sessions + 1)))
        rss_after, server_cpu = rss_mb(server_pid), cpu_seconds(server_pid) - cpu_before
        wall = time.perf_counter() - wall
        await browser.close()
    times = [r.seconds for r in results if r.ok]
    return {"baseline": baseline, "results": results, "rss_one": rss_one, "rss_peak": memory.peak,
            "rss_after": rss_after, "server_cpu": server_cpu, "wall": wall,
            "median": statistics.median(times) if times else float("nan"),
            "max": max(times) if times else float("nan"), "ok": sum(r.ok for r in results)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    with running_app() as (base_url, process):
        figures = asyncio.run(run_load(args.sessions, base_url, process.pid))
    baseline = figures["baseline"]
    print(f"baseline session: {'ok' if baseline.ok else 'FAILED ' + baseline.problem}, {baseline.seconds:.1f} s")
    for result in figures["results"]:
        if not result.ok:
            print(f"  {result.name}: FAILED after {result.seconds:.1f} s: {result.problem}")
    print(f"time to result with {args.sessions} at once: median {figures['median']:.1f} s, "
          f"max {figures['max']:.1f} s")
    print(f"server CPU: {figures['server_cpu']:.1f} s over {figures['wall']:.1f} s of wall time for "
          f"{args.sessions} sessions (the rest of the machine ran the {args.sessions} browsers)")
    print(f"server RSS: {figures['rss_one']:.0f} MB after one session, peak {figures['rss_peak']:.0f} MB "
          f"with {args.sessions}, {figures['rss_after']:.0f} MB after "
          f"(growth {figures['rss_peak'] - figures['rss_one']:+.0f} MB)")
    print(f"sessions_ok: {figures['ok']}/{args.sessions}")


if __name__ == "__main__":
    main()
