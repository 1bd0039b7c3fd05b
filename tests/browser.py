"""What every browser test does to a page: open it, wait for a rerun, find the main area, check, screenshot.

The server and the browser themselves are session fixtures (`app_url`, `browser` in conftest.py): one
app server and one Chromium serve every browser test file.
"""
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.streamlit_server import ARTIFACTS, wait_for_script

SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 820, "height": 1180}}
DESKTOP = VIEWPORTS["desktop"]


def open_page(browser, url, viewport="desktop"):
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(url)
    wait_for_script(page)
    # The first paint of a fresh server can show the legacy page list; wait for our sections.
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Foundations", timeout=30_000)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return page


def settle(page):
    """Wait for the rerun that a click or an edit starts to finish."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=3_000)
    except PlaywrightTimeout:
        pass  # the rerun was quicker than the poll
    wait_for_script(page)


def main(page):
    return page.get_by_test_id("stMain")


def set_number(page, label, value):
    """Type a number into the main area's input with this label, as a student does, and wait for the rerun."""
    box = main(page).get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def assert_no_exception(page):
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()
    assert "Traceback" not in page.inner_text("body")


def save_screenshots(page, name, width):
    """The view a student sees first, and the whole page (`-whole.png`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    # The app scrolls inside its main area, so a whole-page picture needs a viewport as tall as the content.
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(int(height), 16000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-whole.png"))
