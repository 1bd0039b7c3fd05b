"""What opening a page costs the server: in a browser that has never seen the app, and in one that has.

Run from the repository root: python benchmarks/page_open.py [--page classify] [--opens 5]
Starts the app and opens the page in Chromium: first in new browser contexts (empty cache, as a student's
device the first time), then reloading in one context (its front-end scripts cached). Prints the server's
CPU-seconds (its /proc utime + stime, until it is quiet again) and the number of requests of each open.
The last line is "cpu_per_cold_open_s: <x>" (the median of the cold opens).
"""
import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import async_playwright  # noqa: E402

from benchmarks.load import cpu_seconds, server_quiet  # noqa: E402
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE, running_app  # noqa: E402


async def measure(base_url: str, pid: int, page_name: str, opens: int) -> tuple[list, list, list]:
    url = f"{base_url}/{page_name}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        async def opened(page, reload: bool = False) -> float:
            await server_quiet(pid)
            before = cpu_seconds(pid)
            await (page.reload() if reload else page.goto(url))
            await page.wait_for_selector(SCRIPT_DONE)
            await server_quiet(pid)
            return cpu_seconds(pid) - before

        warm_up = await browser.new_context()  # the server's own first-visit work is not a device's cost
        page = await warm_up.new_page()
        await opened(page)
        await warm_up.close()
        cold, requests = [], []
        for _ in range(opens):
            context = await browser.new_context()
            page = await context.new_page()
            seen = []
            page.on("request", lambda request, seen=seen: seen.append(request.url))
            cold.append(await opened(page))
            requests.append(len(seen))
            await context.close()
        context = await browser.new_context()
        page = await context.new_page()
        await opened(page)
        warm = [await opened(page, reload=True) for _ in range(opens)]
        await browser.close()
    return cold, warm, requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="classify")
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    with running_app() as (base_url, process):
        cold, warm, requests = asyncio.run(measure(base_url, process.pid, args.page, args.opens))
    print(f"page: {args.page}")
    print("cold opens (new browser), server CPU-s:", " ".join(f"{x:.2f}" for x in cold),
          f"({statistics.median(requests)} requests each)")
    print("warm opens (scripts cached), server CPU-s:", " ".join(f"{x:.2f}" for x in warm))
    print(f"cpu_per_cold_open_s: {statistics.median(cold):.3f}")


if __name__ == "__main__":
    main()
