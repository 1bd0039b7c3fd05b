"""Every page in a real browser: it renders without an exception box, and one student action works."""
import re
from pathlib import Path

import pytest

from models.lessons import load_lessons
from tests.streamlit_server import ARTIFACTS, browser_unavailable_reason, launch_browser, running_app, \
    wait_for_script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 820, "height": 1180}}


@pytest.fixture(scope="module")
def app_url():
    with running_app() as (base_url, _process):
        yield base_url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()


def open_page(browser, url, viewport="desktop"):
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(url)
    wait_for_script(page)
    # The first paint of a fresh server can show the legacy page list; wait for our sections.
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Foundations", timeout=30_000)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return page


def assert_no_exception(page):
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()
    assert "Traceback" not in page.inner_text("body")


def test_navigation_in_the_browser_lists_every_lesson(browser, app_url):
    page = open_page(browser, app_url)
    links = page.get_by_test_id("stSidebarNav").locator("a")
    paths = sorted(re.sub(r"^https?://[^/]+/?", "", links.nth(i).get_attribute("href")) for i in range(links.count()))
    assert paths == sorted(["", *[Path(lesson["page"]).stem for lesson in load_lessons()]])
    page.close()


@pytest.mark.parametrize("url_path", [Path(lesson["page"]).stem for lesson in load_lessons()][:2])
def test_a_fresh_server_opened_at_a_page_address_shows_the_app_navigation(browser, url_path):
    """A student's first request may be a page link; it must still get the sections, not the folder list."""
    with running_app() as (base_url, _process):
        page = open_page(browser, f"{base_url}/{url_path}")
        nav = page.get_by_test_id("stSidebarNav").inner_text()
        assert "Foundations" in nav and "Lesson map" in nav and "app" not in nav.split()
        assert page.url.rstrip("/").endswith(url_path)
        page.close()


def _url_paths():
    return ["", *[Path(lesson["page"]).stem for lesson in load_lessons()]]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("url_path", _url_paths())
def test_page_renders_in_the_browser(browser, app_url, url_path, viewport):
    page = open_page(browser, f"{app_url}/{url_path}", viewport)
    page.wait_for_timeout(500)  # let charts finish drawing before the screenshot
    assert_no_exception(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{url_path or 'home'}-{viewport}.png"), full_page=True)
    page.close()
