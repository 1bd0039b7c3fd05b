"""A small version of the load benchmark: three students classify at once, each sees only their own; three
students press Train at once, and each gets a run."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.streamlit_server import browser_unavailable_reason, running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from benchmarks.load import run_load  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with running_app() as app:
        yield app


def load(server, scenario: str) -> dict:
    base_url, process = server
    # Its own thread and event loop: the suite's shared browser keeps one running on the main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run_load(3, base_url, process.pid, scenario=scenario, solo=1,
                                                 settle=False)).result()


@pytest.mark.parametrize("scenario", ["classify", "train"])
def test_three_concurrent_sessions_all_succeed_and_stay_isolated(server, scenario):
    figures = load(server, scenario)
    everyone = [figures["baseline"], *figures["alone"], *figures["results"]]
    problems = [f"{r.name}: {r.problem}" for r in everyone if not r.ok]
    assert not problems
    assert figures["ok"] == 3
    assert all(r.result_seconds > 0 for r in figures["results"])  # each saw its own result arrive
    assert figures["alone"][0].cpu  # CPU per action was measured for the session alone
