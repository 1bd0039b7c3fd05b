"""What a Train click on the over/underfitting page costs, measured in a browser.

Run from the repository root: python benchmarks/train_click.py
Starts the app, opens the page in Chromium as one student, clicks Train twice on the default run and twice
on the overfit preset, then does the same as a second student (a new browser context, so a new session).
Prints the time from click to result and the server's CPU-seconds (its /proc utime + stime) per click.
The last line is "cpu_per_train_click_s: <x>" (median over the default-run clicks after the first).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.streamlit_server import SCRIPT_DONE, launch_browser, running_app, wait_for_script  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
RESULT_TIMEOUT_MS = 120_000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_until_idle(pid: int, *, quiet=0.05, timeout=120.0) -> float:
    """Wait until the server uses under `quiet` of a core for a second (start-up work done); seconds waited."""
    clock = time.perf_counter()
    while time.perf_counter() - clock < timeout:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < quiet:
            break
    return time.perf_counter() - clock


def open_overfitting(context, base_url):
    page = context.new_page()
    page.goto(base_url + "/overfitting")
    page.get_by_test_id("stMain").get_by_role("button", name="Train", exact=True).wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_for_script(page)
    return page


def click_and_time(page, pid: int, button: str, run_name: str) -> tuple[float, float]:
    """(seconds from the click until the run `run_name` is listed and the page is idle, server CPU-seconds)."""
    cpu, clock = cpu_seconds(pid), time.perf_counter()
    page.get_by_test_id("stMain").get_by_role("button", name=button, exact=True).click()
    page.wait_for_function(
        "([name, done]) => document.querySelector(done) !== null && document.body.innerText.includes(name)",
        arg=[run_name, SCRIPT_DONE], timeout=RESULT_TIMEOUT_MS, polling=50)
    return time.perf_counter() - clock, cpu_seconds(pid) - cpu


def load_preset(page, name: str) -> None:
    page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True).click()
    page.wait_for_timeout(300)
    wait_for_script(page)


def student(browser, base_url, pid, who: str, rows: list) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = open_overfitting(context, base_url)
    busy = wait_until_idle(pid)  # the student reads the page meanwhile; its start-up work is not the click's
    print(f"{who:>9}  page open, server busy for {busy:.1f} s more (start-up, warming the presets' programs)")
    for number, (preset, label) in enumerate([(None, "good fit"), (None, "good fit"), ("Overfit", "overfit"),
                                              (None, "overfit")], start=1):
        if preset:
            load_preset(page, preset)
        seconds, cpu = click_and_time(page, pid, "Train", f"#{number} {label}")
        kind = "first" if number in (1, 3) else "repeat"
        rows.append((who, label, kind, seconds, cpu))
        print(f"{who:>9}  {label:<8} {kind:<6} click: {seconds:6.2f} s to result, server CPU {cpu:5.2f} s",
              flush=True)
    context.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2, help="browser contexts, one after the other")
    args = parser.parse_args()
    rows = []
    print(f"load average at start: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)")
    with running_app() as (base_url, process), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        start_cpu = cpu_seconds(process.pid)
        for index in range(args.students):
            student(browser, base_url, process.pid, f"student {index + 1}", rows)
        browser.close()
        print(f"server CPU in all: {cpu_seconds(process.pid) - start_cpu:.2f} s; "
              f"load average at the end: {os.getloadavg()[0]:.1f}")
    for label in ("good fit", "overfit"):
        for kind in ("first", "repeat"):
            mine = [r for r in rows if r[1] == label and r[2] == kind]
            print(f"{label:<8} {kind:<6} clicks: median {statistics.median(r[3] for r in mine):.2f} s to result, "
                  f"max {max(r[3] for r in mine):.2f} s, median CPU {statistics.median(r[4] for r in mine):.2f} s")
    later_first = [r for r in rows if r[0] != "student 1" and r[2] == "first"]
    if later_first:
        print(f"later students' first clicks: max {max(r[3] for r in later_first):.2f} s to result")
    warm_default = [r[4] for r in rows if r[1] == "good fit" and not (r[0] == "student 1" and r[2] == "first")]
    print(f"cpu_per_train_click_s: {statistics.median(warm_default):.3f}")


if __name__ == "__main__":
    main()
