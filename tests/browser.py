"""What every browser test does to a page: open it, wait for a rerun, find the main area, check, screenshot.

The server and the browser themselves are session fixtures (`app_url`, `browser` in conftest.py): one
app server and one Chromium serve every browser test file.
"""
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.streamlit_server import ARTIFACTS, wait_for_script

SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 820, "height": 1180}}
DESKTOP = VIEWPORTS["desktop"]
ROW, HEADER = 37, 37  # the data grid's row and header heights, in CSS pixels


def open_page(browser, url, viewport="desktop"):
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(url)
    wait_for_script(page)
    # The first paint of a fresh server can show the legacy page list; wait for our sections.
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Foundations", timeout=30_000)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return page


def settle(page, timeout_ms: float = 120_000):
    """Wait for the rerun that a click or an edit starts to finish (a click that trains may pass more time:
    the page shows its progress meanwhile, and a loaded machine is slow, not broken)."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=3_000)
    except PlaywrightTimeout:
        pass  # the rerun was quicker than the poll
    wait_for_script(page, timeout_ms)


def main(page):
    return page.get_by_test_id("stMain")


def set_number(page, label, value):
    """Type a number into the main area's input with this label, as a student does, and wait for the rerun."""
    box = main(page).get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def choose(page, select, text: str, attempts: int = 3) -> None:
    """Pick the option that contains `text` in a select box, as a student does: open it, type, click the option.

    It starts once the page has been quiet for a while, and each step waits for the one before: on a loaded
    machine a late rerun can redraw the box under the cursor, and keys typed then are lost (the page would go
    on with the old choice). A step that fails closes the box and starts again, up to `attempts` times.
    """
    pattern = re.compile(re.escape(text), re.IGNORECASE)
    for attempt in range(attempts):
        quiet(page)
        box = select.get_by_role("combobox")
        try:
            box.click()
            expect(box).to_be_focused()
            page.keyboard.type(text)
            page.get_by_role("option").filter(has_text=text).first.click(timeout=10_000)
            expect(box).to_have_value(pattern)
            settle(page)
            return
        except (AssertionError, PlaywrightTimeout):
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


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


def type_into_cell(page, grid, row: int, across: float, text: str) -> None:
    """Type `text` into a data-editor cell: row `row` (0-based), at `across` (0 to 1) of the grid's width.

    The grid is drawn on a canvas, so the cell is reached by position, as a student's click reaches it.
    """
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + across * box["width"], box["y"] + HEADER + ROW * row + ROW / 2)
    editor = page.locator("textarea:focus")
    editor.wait_for()  # the cell's editor, holding the old value
    editor.fill(text)
    expect(editor).to_have_value(text)
    editor.press("Enter")
    page.wait_for_function("!document.activeElement || document.activeElement.tagName !== 'TEXTAREA'")
    quiet(page)


def quiet(page, quiet_ms: int = 4_000) -> None:
    """Wait until the page has stopped running for `quiet_ms` in a row.

    An edited grid cell can start a second run a moment after the first; a click during it may be lost.
    """
    settle(page)
    calm = 0
    while calm < quiet_ms:
        page.wait_for_timeout(250)
        running = page.locator('[data-testid="stApp"][data-test-script-state="running"]').count()
        calm = 0 if running else calm + 250
        if running:
            settle(page)
