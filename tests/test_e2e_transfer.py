"""Transfer learning in a real browser at both sizes: nothing cut off, and a readable confusion matrix."""
import re

import pytest

from tests.streamlit_server import browser_unavailable_reason

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser import VIEWPORTS, choose, main, open_page, save_screenshots, settle  # noqa: E402


def overflowing(locator) -> list[str]:
    """Texts inside `locator` that are wider than their box (cut off or ellipsised)."""
    return locator.evaluate_all(
        "els => els.flatMap(el => [el, ...el.querySelectorAll('*')])"
        ".filter(e => e.children.length === 0 && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent.trim())")


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_transfer_results_are_not_cut_off(browser, app_url, viewport):
    page = open_page(browser, f"{app_url}/transfer_learning", viewport)
    network = main(page).get_by_test_id("stSelectbox").first
    choose(page, network, "MobileNetV2")
    main(page).get_by_text("Random weights (features are meaningless", exact=False).click()
    settle(page)
    # The network's name shows whole in its select (issue 8, item 12).
    combo = network.get_by_role("combobox")
    expect(combo).to_have_value(re.compile("for older laptops"))
    widths = combo.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1] + 1, widths
    assert not overflowing(network), overflowing(network)
    main(page).get_by_role("button", name="Train the head").click()
    settle(page)
    expect(main(page)).to_contain_text("Results on the validation pictures", timeout=120_000)
    # The per-class table fits its box: no column (e.g. "accuracy") hidden behind a horizontal scroll.
    grid = main(page).get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    scroll = grid.evaluate("el => { const s = el.querySelector('.dvn-scroller');"
                           " return s ? [s.scrollWidth, s.clientWidth] : null; }")
    assert scroll is None or scroll[0] <= scroll[1] + 1, scroll
    # The confusion matrix draws one cell per pair of classes, at least 48 px each.
    matrix = main(page).get_by_test_id("stVegaLiteChart").nth(2)
    box = matrix.bounding_box()
    assert box["height"] >= 3 * 48 and box["width"] >= 3 * 48, box
    save_screenshots(page, f"transfer_learning-results-{viewport}", VIEWPORTS[viewport]["width"])
    page.close()
