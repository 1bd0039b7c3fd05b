"""The recurrent-networks page in a real browser: the worked step shows, and a prediction trains both networks."""
import pytest

from tests.test_e2e import app_url, browser, main, open_page, settle  # noqa: F401  (fixtures and helpers)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402


def act_recurrent(page):
    # The pulse preset's first step, written out: tanh(1×0.5 + 0×0.8 + 0×0.3 + 0) = tanh(0.5).
    expect(main(page)).to_contain_text("h1(t=1) = tanh(1×0.5 + 0×0.8 + 0×0.3 + 0) = tanh(0.5) = 0.462117")
    main(page).get_by_test_id("stRadio").get_by_text("40", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and train both").click()
    settle(page)
    expect(main(page)).to_contain_text("You picked", timeout=180_000)
    expect(main(page)).to_contain_text("Dashed line: chance")


def test_recurrent_page_action(browser, app_url):  # noqa: F811
    act_recurrent(open_page(browser, f"{app_url}/recurrent"))
