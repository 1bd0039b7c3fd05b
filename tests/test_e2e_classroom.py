"""The class poll in real browsers: a teacher and three students, each in their own browser context."""
import re

import pytest

from tests.streamlit_server import browser_unavailable_reason

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser import DESKTOP, SCREENSHOTS, main, settle  # noqa: E402
from tests.streamlit_server import wait_for_script  # noqa: E402

STUDENT_ANSWERS = ["overfitting", "overfitting", "good fit"]


def open_in_context(browser, url):
    """A page in a new browser context: its own cookies and its own Streamlit session, like another device."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    wait_for_script(page)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return context, page


def test_three_students_answer_and_the_teachers_tally_shows_them_and_the_reveal(browser, app_url):
    teacher_context, teacher = open_in_context(browser, f"{app_url}/class_poll")
    main(teacher).get_by_role("button", name="Start a class poll").click()
    settle(teacher)
    heading = main(teacher).get_by_text(re.compile(r"Join code: [A-Z]{4}"))
    expect(heading).to_be_visible()
    code = re.search(r"Join code: ([A-Z]{4})", heading.inner_text()).group(1)
    main(teacher).get_by_test_id("stSelectbox").first.click()
    teacher.get_by_role("option", name=re.compile("Will this run underfit")).click()
    settle(teacher)
    expect(main(teacher)).to_contain_text("0 answers so far.")

    contexts = []
    for answer in STUDENT_ANSWERS:
        context, page = open_in_context(browser, f"{app_url}/class_poll")
        contexts.append(context)
        box = main(page).get_by_label("Class code")
        box.fill(code.lower())
        box.press("Enter")
        settle(page)
        main(page).get_by_role("button", name="Join", exact=True).click()
        settle(page)
        expect(main(page)).to_contain_text(f"You are in class {code}")
        page.get_by_test_id("stSidebarNav").get_by_text("Over- and underfitting", exact=True).click()
        settle(page)
        expect(main(page).get_by_text(f"Also send my guess to class {code}")).to_be_visible(timeout=60_000)
        main(page).get_by_test_id("stRadio").first.get_by_text(answer, exact=True).click()
        settle(page)
        main(page).get_by_role("button", name="Train", exact=True).click()
        settle(page)
        expect(main(page)).to_contain_text(f"Sent to class {code}", timeout=60_000)

    # The teacher's page is not touched again: its tally redraws itself every couple of seconds.
    expect(main(teacher)).to_contain_text("3 answers so far.", timeout=15_000)
    expect(main(teacher)).to_contain_text("Most of you (2 of 3) said overfitting")
    main(teacher).get_by_role("button", name="Reveal on the tally").click()
    settle(teacher)
    expect(main(teacher)).to_contain_text("the model says underfitting")  # the answer box starts at the first choice
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    teacher.screenshot(path=str(SCREENSHOTS / "class-poll-teacher.png"))
    for context in [*contexts, teacher_context]:
        context.close()


@pytest.mark.parametrize("url_path", ["overfitting", "dropout"])
def test_present_mode_shows_the_picture_first_with_larger_type(browser, app_url, url_path):
    context, page = open_in_context(browser, f"{app_url}/{url_path}")
    normal = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('[data-testid=stMain] p'))"
                           ".fontSize)")
    page.get_by_test_id("stSidebar").get_by_text("Present (projector)").click()
    settle(page)
    page.wait_for_timeout(1000)
    larger = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('[data-testid=stMain] p'))"
                           ".fontSize)")
    assert larger > 1.15 * normal
    expect(main(page).get_by_text("Explanation").first).to_be_visible()
    if url_path == "overfitting":  # the points are in the first screen, above the folded settings
        chart = main(page).get_by_test_id("stVegaLiteChart").first
        expect(chart).to_be_visible()
        assert chart.bounding_box()["y"] < DESKTOP["height"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{url_path}-present.png"))
    context.close()
