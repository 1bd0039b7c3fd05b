"""Foundations pages in a real browser: what a student types into a table cell, a wild spec, a huge learning rate."""
import json

import pytest

from tests.streamlit_server import browser_unavailable_reason

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from models.foundations.forward_pass import load_presets, spec_to_json  # noqa: E402
from tests.browser import (  # noqa: E402
    VIEWPORTS,
    assert_no_exception,
    choose,
    main,
    open_page,
    save_screenshots,
    settle,
    type_into_cell,
)


def test_softmax_table_cell_reads_2e3_as_2000(browser, app_url):
    page = open_page(browser, f"{app_url}/softmax")
    main(page).get_by_role("radio", name="Table", exact=True).click()
    settle(page)
    grid = main(page).get_by_test_id("stDataFrame").first
    type_into_cell(page, grid, 0, 0.75, "2e3")  # the logit of "cat": the right half of the grid
    assert_no_exception(page)
    expect(main(page).get_by_test_id("stAlert")).to_have_count(0)
    main(page).get_by_role("button", name="Lock in my guess and reveal").click()
    settle(page)
    # Step 1 names the largest logit: 2000, not the 23 that a number column made of "2e3".
    expect(main(page)).to_contain_text("= 2000 and")
    expect(main(page).get_by_test_id("stVegaLiteChart")).to_contain_text("1.000")
    save_screenshots(page, "softmax-table-2e3", VIEWPORTS["desktop"]["width"])
    page.close()


def test_softmax_table_cell_beyond_float64_says_so(browser, app_url):
    page = open_page(browser, f"{app_url}/softmax")
    main(page).get_by_role("radio", name="Table", exact=True).click()
    settle(page)
    type_into_cell(page, main(page).get_by_test_id("stDataFrame").first, 0, 0.75, "1e309")
    assert_no_exception(page)
    expect(main(page).get_by_test_id("stAlert")).to_contain_text("The logit of 'cat': 1e309 is too large")
    page.close()


def upload_spec(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    main(page).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    settle(page)


@pytest.mark.parametrize("digits", [400, 5001])
def test_forward_pass_upload_with_a_huge_integer_gives_a_message(browser, app_url, tmp_path, digits):
    page = open_page(browser, f"{app_url}/forward_pass")
    classic = next(spec for name, spec in load_presets().items() if name.startswith("Classic"))
    upload_spec(page, tmp_path, "huge.json", spec_to_json(classic).replace("0.15", "9" * digits, 1))
    assert_no_exception(page)
    expect(main(page)).to_contain_text(f"a number of {digits} digits is too large")
    expect(main(page).get_by_test_id("stFileUploaderDropzoneInput")).to_have_count(1)  # the uploader stays
    page.close()


def test_forward_pass_upload_shows_in_the_start_box_and_markdown_stays_text(browser, app_url, tmp_path):
    page = open_page(browser, f"{app_url}/forward_pass")
    classic = next(spec for name, spec in load_presets().items() if name.startswith("Classic"))
    spec = {**classic, "name": "My **net**", "description": "see [here](http://example.com) $x^2$ www.example.org"}
    upload_spec(page, tmp_path, "mine.json", json.dumps(spec))
    assert_no_exception(page)
    expect(main(page).get_by_role("combobox", name="Start from")).to_have_value("Uploaded: My **net**")
    expect(main(page)).to_contain_text("see [here](http://example.com) $x^2$")  # as typed, not a link
    assert main(page).locator("a[href*='example']").count() == 0  # not even a bare URL becomes a link
    page.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_forward_pass_huge_learning_rate_shows_the_step_with_a_note(browser, app_url, viewport):
    page = open_page(browser, f"{app_url}/forward_pass", viewport)
    choose(page, main(page).get_by_test_id("stSelectbox").first, "Regression 3-2-1")
    grids = main(page).get_by_test_id("stDataFrame")
    type_into_cell(page, grids.nth(grids.count() - 1), 0, 0.75, "10000")  # the targets table: index, then o1
    rate = main(page).get_by_label("Learning rate", exact=True)
    rate.fill("100")
    rate.press("Enter")
    settle(page)
    assert_no_exception(page)
    main(page).get_by_role("button", name="Check my guess and show the working").click()
    settle(page)
    assert_no_exception(page)
    expect(main(page)).to_contain_text("One step at learning rate 100 throws the weights to", timeout=120_000)
    expect(main(page)).to_contain_text("that is what a too-large learning rate does")
    expect(main(page)).to_contain_text("5. Answer key")
    save_screenshots(page, f"forward_pass-huge-rate-{viewport}", VIEWPORTS[viewport]["width"])
    page.close()
