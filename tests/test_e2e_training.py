"""Over/underfitting and dropout in a real browser: settings survive another page, Train sits near the top."""
import pytest

from tests.streamlit_server import browser_unavailable_reason, wait_for_script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser import DESKTOP, SCREENSHOTS, main, open_page, set_number, settle  # noqa: E402


def go_to(page, title):
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)
    expect(main(page).locator("h1").first).to_be_visible(timeout=60_000)
    wait_for_script(page)


def test_overfitting_train_button_sits_in_the_first_screen(browser, app_url):
    page = open_page(browser, app_url + "/overfitting")
    box = main(page).get_by_role("button", name="Train", exact=True).bounding_box()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "overfitting-first-screen.png"))
    assert box is not None and box["y"] + box["height"] < DESKTOP["height"], box  # was at y ≈ 1220
    page.close()


def test_overfitting_settings_survive_another_page(browser, app_url):
    page = open_page(browser, app_url + "/overfitting")
    set_number(page, "Hidden layers", 3)
    set_number(page, "Neurons per layer", 128)
    set_number(page, "Epochs", 40)
    go_to(page, "Lesson map")
    go_to(page, "Over- and underfitting")
    for label, value in (("Hidden layers", "3"), ("Neurons per layer", "128"), ("Epochs", "40")):
        expect(main(page).get_by_label(label, exact=True)).to_have_value(value)
    main(page).get_by_role("button", name="Train", exact=True).click()
    settle(page)
    expect(main(page)).to_contain_text("Download the run table", timeout=120_000)
    table = main(page).get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "overfitting-run-table.png"))
    page.close()


def test_dropout_settings_survive_another_page(browser, app_url):
    page = open_page(browser, app_url + "/dropout")
    main(page).get_by_text("Data, network and training").click()
    set_number(page, "Epochs", 120)
    go_to(page, "Lesson map")
    go_to(page, "Dropout")
    main(page).get_by_text("Data, network and training").click()
    expect(main(page).get_by_label("Epochs", exact=True)).to_have_value("120")
    page.close()
