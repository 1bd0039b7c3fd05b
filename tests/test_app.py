"""The spine: navigation lists every page, every page renders, the home page stays light."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.core.lessons import load_lessons, page_files
from models.core.paths import ROOT

LESSON_PAGES = [lesson["page"] for lesson in load_lessons()]


def test_every_page_file_is_in_the_navigation_and_back():
    on_disk = {f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py")}
    assert on_disk == set(page_files()) and set(page_files()) >= {"pages/home.py", "pages/class_poll.py", *LESSON_PAGES}


def test_every_page_first_joins_the_app_navigation():
    """Each page reroutes a direct first visit through app.py (see pages/shared/navigation.py)."""
    for page in page_files():
        assert "\nensure_app_navigation()\n" in (ROOT / page).read_text(), page


def test_lessons_have_the_fields_the_home_page_uses():
    for lesson in load_lessons():
        assert set(lesson) >= {"section", "page", "title", "icon", "summary"}
        assert lesson["summary"].endswith(".")


def test_home_page_renders_a_link_per_lesson():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    links = at.get("page_link")
    # Streamlit links a page by its URL path, the file's stem.
    assert [link.proto.page for link in links] == [Path(page).stem for page in LESSON_PAGES]


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_every_page_renders_without_exception(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{page} shows no title"


def fresh_process_output(code: str) -> list[str]:
    """Run `code` in a new Python process from the repository root (no TensorFlow preload); its printed words."""
    env = {**os.environ, "CLASSROOM_PRELOAD_TENSORFLOW": "0"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_home_page_does_not_import_tensorflow():
    """A fresh process renders the home page; TensorFlow must not be loaded by it."""
    code = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
            "assert not at.exception\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    assert fresh_process_output(code)[-2:] == ["False", "False"]


def test_config_admits_phone_photos_and_keeps_xsrf():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 15 <= config["server"]["maxUploadSize"] <= 25
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["browser"]["gatherUsageStats"] is False


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = "pip install -r requirements-test.txt && pytest"
    assert command in readme and command in ci


def test_config_turns_the_file_watcher_off():
    """A classroom server edits no code; the watcher's inotify warnings buried real errors in the log."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_an_unexpected_error_is_logged_once_with_its_traceback(caplog):
    page = ("import streamlit as st\nfrom pages.shared.errors import show_unexpected\n"
            "try:\n    raise RuntimeError('**boom** $x$')\nexcept RuntimeError as e:\n"
            "    show_unexpected(e, 'Training')\n    show_unexpected(e, 'Training')\n")
    with caplog.at_level("ERROR", logger="classroom"):
        at = AppTest.from_string(page, default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 2 and r"\*\*boom\*\* \$x\$" in at.error[0].value
    records = [r for r in caplog.records if r.name == "classroom"]
    assert len(records) == 1 and records[0].exc_info[0] is RuntimeError


def test_student_text_shows_as_text_not_markdown_or_links():
    typed = "**bold** $x^2$ [a](http://e.com) ![i](http://e.com/i.png) http://e.com www.e.org a@b.com"
    page = f"import streamlit as st\nfrom pages.shared.feedback import plain\nst.markdown(plain({typed!r}))\n"
    at = AppTest.from_string(page, default_timeout=30).run()
    shown = at.markdown[0].value
    for pattern in ["**bold**", "$x^2$", "](http://", "http://e.com", "www.e.org", "a@b.com"]:
        assert pattern not in shown, pattern
    # What a student reads is what they typed: drop the escapes and the invisible joiners.
    assert shown.replace("\\", "").replace("\u2060", "") == typed


def test_the_server_fixes_its_large_block_limit_once_before_the_first_page():
    """A fresh process runs app.py twice: the allocator setting is applied on the first run only."""
    code = ("import sys\nfrom streamlit.testing.v1 import AppTest\nfrom models.engine import heap\n"
            "calls = []\noriginal = heap.return_large_blocks\n"
            "heap.return_large_blocks = lambda: calls.append(1) or original()\n"
            "at = AppTest.from_file('app.py', default_timeout=60).run()\nat.run()\n"
            "assert not at.exception\n"
            "print(len(calls))\n")
    assert fresh_process_output(code)[-1] == "1"
