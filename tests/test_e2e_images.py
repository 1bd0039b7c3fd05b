"""Browser cases for the image pages that only a real browser shows (issue 8, cases 5 and 10)."""
import zipfile

import pytest

from models.core.paths import ROOT
from tests.streamlit_server import browser_unavailable_reason

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser import SCREENSHOTS, main, open_page, settle  # noqa: E402

PHOTO = ROOT / "data" / "gallery" / "photo_coffee.jpg"


def switch(page, label):
    """The checkbox input behind a Streamlit toggle with this label."""
    return main(page).get_by_test_id("stCheckbox").filter(has_text=label).locator("input")


def click_and_settle(page, locator):
    locator.click()
    settle(page)


def upload(page, path) -> None:
    """Give the uploader a file and wait until its chip shows that file's name.

    Under load a file handed to an uploader that a rerun is still drawing can be dropped without a request,
    as a student would see (an empty uploader); a student then picks the file again, and so does this."""
    for _attempt in range(3):
        main(page).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        settle(page)
        chip = main(page).get_by_test_id("stFileChip").filter(has_text=path.name)
        try:
            expect(chip).to_have_count(1, timeout=30_000)
            return
        except AssertionError:
            continue
    expect(main(page).get_by_test_id("stFileChip").filter(has_text=path.name)).to_have_count(1)


def classify_with_random_mobilenet(page):
    click_and_settle(page, main(page).get_by_text("MobileNetV2", exact=False).first)
    random_mode = main(page).get_by_text("Show the pipeline with random weights", exact=False)
    if random_mode.count():  # no ImageNet weights on this server
        click_and_settle(page, random_mode)


def test_classify_teacher_mode_stays_in_step_across_an_upload(browser, app_url):
    """Case 5: on with a sample picture, then "Upload a file" and an upload: it shows on and acts on."""
    page = open_page(browser, f"{app_url}/classify")
    classify_with_random_mobilenet(page)
    click_and_settle(page, main(page).get_by_text("Teacher mode", exact=False))
    expect(switch(page, "Teacher mode")).to_be_checked()
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)

    click_and_settle(page, main(page).get_by_text("Upload a file", exact=True))
    expect(switch(page, "Teacher mode")).to_be_checked()
    main(page).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(PHOTO))
    settle(page)
    expect(switch(page, "Teacher mode")).to_be_checked()  # shows on ...
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)  # ... and acts on
    expect(main(page).get_by_role("button", name="Lock in my guess and reveal")).to_have_count(0)

    click_and_settle(page, main(page).get_by_text("Teacher mode", exact=False))  # the first click turns it off
    expect(switch(page, "Teacher mode")).not_to_be_checked()
    expect(main(page).get_by_role("button", name="Lock in my guess and reveal")).to_be_visible()
    expect(main(page).get_by_test_id("stVegaLiteChart")).to_have_count(0)
    assert page.get_by_test_id("stException").count() == 0
    page.close()


def refused_files(tmp_path):
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    archive = tmp_path / "pictures.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("notes.txt", "not a picture")
    return {svg: "This is an SVG drawing", archive: "ZIP archive"}


def test_classify_a_refused_file_replaces_the_results_with_its_name(browser, app_url, tmp_path):
    """Case 10: after a good picture, an .svg or .zip clears the results and the page names the file."""
    page = open_page(browser, f"{app_url}/classify")
    classify_with_random_mobilenet(page)
    click_and_settle(page, main(page).get_by_text("Teacher mode", exact=False))
    click_and_settle(page, main(page).get_by_text("Upload a file", exact=True))
    uploader = main(page).get_by_test_id("stFileUploaderDropzoneInput")
    for path, says in refused_files(tmp_path).items():
        uploader.set_input_files(str(PHOTO))
        settle(page)
        expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
        uploader.set_input_files(str(path))
        settle(page)
        expect(main(page)).to_contain_text(says)
        expect(main(page)).to_contain_text(f"Refused: “{path.name}”.")
        expect(main(page).get_by_test_id("stVegaLiteChart")).to_have_count(0)
        expect(main(page).get_by_test_id("stImage")).to_have_count(0)
        expect(main(page).get_by_test_id("stFileChip")).to_have_count(1)  # the new file replaced the old one
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "classify-refused-file.png"))
    assert page.get_by_test_id("stException").count() == 0
    page.close()


def test_augmentation_a_refused_file_replaces_the_grid_with_its_name(browser, app_url, tmp_path):
    page = open_page(browser, f"{app_url}/augmentation")
    click_and_settle(page, main(page).get_by_text("Upload a file", exact=True))
    for path, says in refused_files(tmp_path).items():
        upload(page, PHOTO)
        expect(main(page).get_by_role("button", name="New samples")).to_be_visible(timeout=30_000)
        upload(page, path)
        expect(main(page)).to_contain_text(says)
        expect(main(page)).to_contain_text(f"Refused: “{path.name}”.")
        expect(main(page).get_by_test_id("stImage")).to_have_count(0)
        expect(main(page).get_by_test_id("stFileChip")).to_have_count(1)
    assert page.get_by_test_id("stException").count() == 0
    page.close()
