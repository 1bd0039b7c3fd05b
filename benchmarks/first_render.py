"""First-render times of the light pages, measured in a real browser against a fresh server.

    python benchmarks/first_render.py [--repeat 3]

For each page: a new server (nothing imported yet), one browser tab opened at the page's
address, and the time until the page title is visible and until its first chart is drawn.
A second visit, once the server has finished importing TensorFlow in the background, shows
what later students see.
"""
import argparse
import statistics
import time

from playwright.sync_api import sync_playwright

from tests.streamlit_server import launch_browser, running_app, wait_for_script

# page name -> (URL path, whether the first screen has a chart; the softmax chart waits for a guess)
PAGES = {"home": ("", False), "activations": ("activations", True), "softmax": ("softmax", False)}
TITLE = '[data-testid="stMain"] h1'
CHART = '[data-testid="stMain"] [data-testid="stVegaLiteChart"] svg'


def visit(browser, url, wants_chart):
    """Seconds until the title shows, and until the first chart is drawn (None if no chart)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(TITLE, timeout=120_000)
    title = time.perf_counter() - start
    chart = None
    if wants_chart:
        page.wait_for_selector(CHART, timeout=120_000)
        chart = time.perf_counter() - start
    wait_for_script(page)
    page.close()
    return title, chart


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers per page")
    parser.add_argument("--warm-wait", type=float, default=10.0, help="seconds to let the background import finish")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for name, (path, has_chart) in PAGES.items():
            cold, warm = [], []
            for _ in range(args.repeat):
                with running_app() as (base_url, _):
                    cold.append(visit(browser, f"{base_url}/{path}", has_chart))
                    time.sleep(args.warm_wait)
                    warm.append(visit(browser, f"{base_url}/{path}", has_chart))
            for label, runs in (("fresh server", cold), ("warm server", warm)):
                titles = statistics.median(t for t, _ in runs)
                line = f"{name:12s} {label:12s}  title {titles:5.2f} s"
                if has_chart:
                    line += f"  first chart {statistics.median(c for _, c in runs):5.2f} s"
                print(line, flush=True)
        browser.close()


if __name__ == "__main__":
    main()
