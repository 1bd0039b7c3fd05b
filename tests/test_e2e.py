"""Every page in a real browser: it renders without an exception box, and one student action works."""
import re
from pathlib import Path

import pytest

from models.core.lessons import load_lessons, page_files
from models.core.paths import ROOT
from tests.streamlit_server import browser_unavailable_reason, running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser import (  # noqa: E402
    VIEWPORTS,
    assert_no_exception,
    choose,
    main,
    open_page,
    save_screenshots,
    set_number,
    settle,
    type_into_cell,
)


def test_navigation_in_the_browser_lists_every_lesson(browser, app_url):
    page = open_page(browser, app_url)
    links = page.get_by_test_id("stSidebarNav").locator("a")
    paths = sorted(re.sub(r"^https?://[^/]+/?", "", links.nth(i).get_attribute("href")) for i in range(links.count()))
    assert paths == sorted(_url_paths())
    page.close()


@pytest.mark.parametrize("url_path", [Path(lesson["page"]).stem for lesson in load_lessons()][:2])
def test_a_fresh_server_opened_at_a_page_address_shows_the_app_navigation(browser, url_path):
    """A student's first request may be a page link; it must still get the sections, not the folder list."""
    with running_app() as (base_url, _process):
        page = open_page(browser, f"{base_url}/{url_path}")
        nav = page.get_by_test_id("stSidebarNav").inner_text()
        assert "Foundations" in nav and "Lesson map" in nav and "app" not in nav.split()
        assert page.url.split("?")[0].rstrip("/").endswith(url_path)  # a page may keep its settings in the query
        page.close()


def _url_paths():
    """Each page's address: the home page at the root, every other page at its file's stem."""
    return ["" if page == "pages/home.py" else Path(page).stem for page in page_files()]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("url_path", _url_paths())
def test_page_renders_in_the_browser(browser, app_url, url_path, viewport):
    page = open_page(browser, f"{app_url}/{url_path}", viewport)
    page.wait_for_timeout(500)  # let charts finish drawing before the screenshot
    assert_no_exception(page)
    save_screenshots(page, f"{url_path or 'home'}-{viewport}", VIEWPORTS[viewport]["width"])
    page.close()


# --- One student action per page, done through the browser ----------------------------------------

def act_home(page):
    main(page).get_by_role("link", name="Softmax calculator").click()
    settle(page)
    expect(main(page).locator("h1").first).to_have_text("Softmax calculator")


def act_activations(page):
    guess = main(page).get_by_label("Your guess: sigmoid(2) = ?")
    guess.fill("0.9")
    guess.press("Enter")
    settle(page)
    main(page).get_by_role("button", name="Check my guess").click()
    settle(page)
    expect(main(page)).to_contain_text("the answer is 0.8808")  # 1 / (1 + e^-2) = 0.880797


def act_softmax(page):
    logits = main(page).get_by_label("Logits", exact=True)
    logits.fill("yes: 2, no: 0")
    logits.press("Enter")
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and reveal").click()
    settle(page)
    # e^2 / (e^2 + 1) = 0.880797; the bars carry three-decimal labels.
    expect(main(page).get_by_test_id("stVegaLiteChart")).to_contain_text("0.881")


def act_forward_pass(page):
    main(page).get_by_text("Teacher mode", exact=False).click()
    settle(page)
    # The lecture preset's first neuron, written out: 0.4×1 + 0.6×0.5 + 0.1 = 0.8, then sigmoid(0.8).
    expect(main(page)).to_contain_text("z_h1 = 0.4×1 + 0.6×0.5 + 0.1 = 0.8")
    expect(main(page)).to_contain_text("a_h1 = sigmoid(0.8) = 0.689974481")


def act_classify(page):
    main(page).get_by_text("Upload a file", exact=True).click()
    settle(page)
    main(page).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        str(ROOT / "data" / "gallery" / "photo_coffee.jpg"))
    settle(page)
    main(page).get_by_text("Show the pipeline with random weights", exact=False).click()
    settle(page)
    choose(page, main(page).get_by_test_id("stSelectbox").first, "espresso")
    main(page).get_by_role("button", name="Lock in my guess and reveal").click()
    settle(page)
    expect(main(page)).to_contain_text("RANDOM WEIGHTS", timeout=30_000)
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)


def act_augmentation(page):
    pictures = main(page).get_by_test_id("stImage").locator("img")
    before = [pictures.nth(i).get_attribute("src") for i in range(pictures.count())]
    main(page).get_by_role("button", name="New samples").click()
    settle(page)
    after = [pictures.nth(i).get_attribute("src") for i in range(pictures.count())]
    assert after and after != before  # a new grid was drawn


def act_transfer_learning(page):
    choose(page, main(page).get_by_test_id("stSelectbox").first, "MobileNetV2")  # the light base: a quick suite
    main(page).get_by_text("Random weights (features are meaningless", exact=False).click()
    settle(page)
    main(page).get_by_role("button", name="Train the head").click()
    settle(page)
    expect(main(page)).to_contain_text("Confusion matrix", timeout=120_000)
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible()


def act_overfitting(page):
    set_number(page, "Epochs", 40)
    main(page).get_by_role("button", name="Train", exact=True).click()
    settle(page)
    expect(main(page)).to_contain_text("Download the run table", timeout=120_000)
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible()


def act_dropout(page):
    main(page).get_by_text("Data, network and training").click()
    set_number(page, "Epochs", 30)
    main(page).get_by_role("button", name="Train both").click()
    settle(page)
    expect(main(page)).to_contain_text("Measured effect", timeout=120_000)
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible()


def act_loss_functions(page):
    main(page).get_by_role("button", name="Point 8 jumps to y = 40").click()
    settle(page)
    main(page).get_by_test_id("stRadio").filter(has_text="which line moves most").get_by_text(
        "MAE", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and fit").click()
    settle(page)
    expect(main(page)).to_contain_text("The MSE line moved most", timeout=120_000)
    expect(main(page)).to_contain_text("the answer is 'MSE'")


def act_recurrent(page):
    # The pulse preset's first step, written out: tanh(1×0.5 + 0×0.8 + 0×0.3 + 0) = tanh(0.5).
    expect(main(page)).to_contain_text("h1(t=1) = tanh(1×0.5 + 0×0.8 + 0×0.3 + 0) = tanh(0.5) = 0.462117")
    main(page).get_by_test_id("stRadio").get_by_text("40", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and train both").click()
    settle(page, 300_000)
    expect(main(page)).to_contain_text("You picked")
    expect(main(page)).to_contain_text("Dashed line: chance")


def act_optimizers(page):
    main(page).get_by_test_id("stRadioGroup").get_by_text("Adam", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and reveal").click()
    settle(page)
    # The ravine race with the defaults: Nesterov momentum is first within 0.1 of (0, 0), at step 14.
    expect(main(page)).to_contain_text("the answer is", timeout=60_000)
    expect(main(page)).to_contain_text("First within 0.1 of a minimum: Nesterov momentum at step 14")
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible()


def act_class_poll(page):
    main(page).get_by_role("button", name="Start a class poll").click()
    settle(page)
    expect(main(page)).to_contain_text(re.compile(r"Join code: [CDFHJKMNPRTVWXY]{4}"))
    main(page).get_by_role("button", name="Close the room").click()
    settle(page)
    expect(main(page).get_by_role("button", name="Start a class poll")).to_be_visible()


def act_convolution(page):
    choose(page, main(page).get_by_test_id("stSelectbox").filter(has_text="Kernel preset"), "vertical edges")
    set_number(page, "Output column (0–21)", 5)
    # Digit 0 at output (11, 5): 0.25×(−1) + 0.75×1 + 0.3125×(−2) + 0.5×2 + 0.3125×(−1) + 0.5×1 = 1.0625
    expect(main(page).get_by_test_id("stCode").first).to_contain_text("= 1.06")
    # The kernel's middle cell from 0 to 2 adds 2 × 0.5 (the pixel under it): 2.0625.
    type_into_cell(page, main(page).get_by_test_id("stDataFrame").first, 1, 0.5, "2")
    expect(main(page).get_by_test_id("stCode").first).to_contain_text("= 2.06")
    set_number(page, "Predict first: the validation accuracy (%) after 20 epochs", 95)
    main(page).get_by_role("button", name="Lock in my guess and train").click()
    settle(page)
    expect(main(page)).to_contain_text("Confusion matrix", timeout=120_000)
    expect(main(page)).to_contain_text("Validation accuracy")


def act_validation(page):
    main(page).get_by_test_id("stRadio").filter(has_text="does the F1 score go").get_by_text(
        "up, then down", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and reveal").click()
    settle(page)
    # The default tumour classifier (seed 0) at threshold 0.5: 40 of the 42 malignant test tumours found.
    expect(main(page)).to_contain_text("You picked 'up, then down', and that is right", timeout=60_000)
    expect(main(page)).to_contain_text("40 (TP)")
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible()


def act_hyperparameter_search(page):
    set_number(page, "Trials per strategy (budget)", 4)  # a short search keeps the browser suite quick
    main(page).get_by_test_id("stRadio").get_by_text("random", exact=True).click()
    settle(page)
    main(page).get_by_role("button", name="Lock in my guess and search").click()
    settle(page, 300_000)  # eight trainings in one run: about 20 s here, several times that on a busy machine
    expect(main(page)).to_contain_text("Different values tried")
    main(page).get_by_role("button", name="Reveal the test score").click()
    settle(page)
    expect(main(page)).to_contain_text("Optimism of the choice", timeout=60_000)


ACTIONS = {"": act_home, "class_poll": act_class_poll,
           "activations": act_activations, "softmax": act_softmax, "forward_pass": act_forward_pass,
           "overfitting": act_overfitting, "loss_functions": act_loss_functions, "optimizers": act_optimizers,
           "dropout": act_dropout,
           "classify": act_classify, "transfer_learning": act_transfer_learning, "augmentation": act_augmentation,
           "convolution": act_convolution, "recurrent": act_recurrent,
           "validation": act_validation, "hyperparameter_search": act_hyperparameter_search}


def test_every_page_has_a_browser_interaction():
    """A page added to the navigation without an e2e action fails here."""
    assert sorted(ACTIONS) == sorted(_url_paths())


@pytest.mark.parametrize("url_path", sorted(ACTIONS))
def test_a_student_action_works_in_the_browser(browser, app_url, url_path):
    page = open_page(browser, f"{app_url}/{url_path}")
    ACTIONS[url_path](page)
    assert_no_exception(page)
    save_screenshots(page, f"{url_path or 'home'}-after-action", VIEWPORTS["desktop"]["width"])
    page.close()
