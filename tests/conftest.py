"""Hermetic settings for the whole suite, set before any test module imports Keras.

Tests never download pretrained weights: the Keras cache is an empty folder, no weights file is
configured, and the weights server is a closed local port. Tests that need weights write them.
The browser tests' server inherits the same environment.
"""
import os
import tempfile

import pytest

_KERAS_HOME = tempfile.mkdtemp(prefix="classroom-tests-keras-")
os.environ["KERAS_HOME"] = _KERAS_HOME
os.environ["CLASSROOM_WEIGHTS_HOST"] = "127.0.0.1:9"  # the discard port: nothing listens there
for variable in ("VGG16_WEIGHTS_PATH", "MOBILENETV2_WEIGHTS_PATH"):
    os.environ.pop(variable, None)


@pytest.fixture(scope="session")
def app_url():
    """One app server for every browser test file (a test that needs its own server starts it)."""
    from tests.streamlit_server import running_app

    with running_app() as (base_url, _process):
        yield base_url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test file; each test opens its own pages."""
    from playwright.sync_api import sync_playwright

    from tests.streamlit_server import launch_browser

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()
