"""A small version of the load benchmark: three students classify at once, each sees only their own."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.streamlit_server import browser_unavailable_reason, running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

from benchmarks.load import run_load  # noqa: E402


def test_three_concurrent_sessions_all_succeed_and_stay_isolated():
    with running_app() as (base_url, process):
        # Its own thread and event loop: the suite's shared browser keeps one running on the main thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            figures = pool.submit(asyncio.run, run_load(3, base_url, process.pid)).result()
    problems = [f"{r.name}: {r.problem}" for r in [figures["baseline"], *figures["results"]] if not r.ok]
    assert not problems
    assert figures["ok"] == 3
