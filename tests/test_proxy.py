"""Two app processes behind nginx (tests/proxy/): sticky sessions by cookie, WebSockets, one Redis for the polls."""
import asyncio
import contextlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.redis_server import redis_unavailable_reason, running_redis
from tests.streamlit_server import browser_unavailable_reason, free_port, running_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PROXY = Path(__file__).resolve().parent / "proxy"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
_reason = browser_unavailable_reason() or redis_unavailable_reason() or (
    None if NGINX else "no nginx (apt-get install nginx)")
if _reason:
    pytest.skip(f"proxy tests skipped: {_reason}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from benchmarks.load import run_load  # noqa: E402
from models.classroom.redis_store import RedisRoomStore  # noqa: E402
from models.classroom.rooms import REDIS_ENV  # noqa: E402
from tests.browser import DESKTOP, main, settle  # noqa: E402
from tests.streamlit_server import wait_for_script  # noqa: E402

ROUTE_COOKIE = "classroom_route"
STUDENT_ANSWERS = ["overfitting", "overfitting", "good fit"]
QUESTION = "overfitting.kind"


class Proxy:
    """A running nginx: its address, and which app process served each browser (from its access log)."""

    def __init__(self, url: str, folder: Path):
        self.url, self.log = url, folder / "access.log"

    def served(self) -> dict[str, list[tuple[str, str]]]:
        """Route cookie -> [(upstream address, path)] for every request logged so far."""
        served = defaultdict(list)
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                route, _status, path, upstream = line.split("|", 3)
                served[route].append((upstream, path))
        return served

    def backend_of(self, route: str, timeout: float = 10.0) -> str:
        """The one app process that served this route; waits for nginx to log the request."""
        deadline = time.monotonic() + timeout
        while not self.served().get(route):
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx logged no request for route {route}")
            time.sleep(0.05)
        return only_backend(self.served()[route])


def only_backend(requests: list[tuple[str, str]]) -> str:
    upstreams = {upstream for upstream, _path in requests}
    assert len(upstreams) == 1, f"one browser was served by {upstreams}"
    return upstreams.pop()


@contextlib.contextmanager
def running_nginx(backends: list[str], startup_timeout: float = 20.0):
    """nginx on a free loopback port in front of `backends` (host:port), with the config of tests/proxy/."""
    site = (PROXY / "classroom.conf").read_text()
    port = free_port()
    replacements = {"listen 80;": f"listen 127.0.0.1:{port};", "server 127.0.0.1:8501;": f"server {backends[0]};",
                    "server 127.0.0.1:8502;": f"server {backends[1]};"}
    for old, new in replacements.items():
        assert site.count(old) == 1, f"tests/proxy/classroom.conf should contain {old!r} once"
        site = site.replace(old, new)
    with tempfile.TemporaryDirectory(prefix="classroom-nginx-") as name:
        folder = Path(name)
        (folder / "temp").mkdir()
        (folder / "classroom.conf").write_text(site)
        shutil.copy(PROXY / "nginx.conf", folder / "nginx.conf")
        process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                    "-e", str(folder / "error.log"), "-g", "daemon off;"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "error.log"
                    raise RuntimeError(f"nginx did not answer:\n{log.read_text()[-2000:] if log.exists() else ''}")
                time.sleep(0.1)
            yield Proxy(url, folder)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster():
    """Redis, two app processes that share it, and nginx in front: what a school's server runs."""
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(running_redis())
        apps = [stack.enter_context(running_app(env={REDIS_ENV: redis_url})) for _ in range(2)]
        backends = [url.removeprefix("http://") for url, _process in apps]
        proxy = stack.enter_context(running_nginx(backends))
        yield {"redis_url": redis_url, "apps": apps, "backends": backends, "proxy": proxy}


def route_of(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE)


def context_on(browser, proxy: Proxy, backend: str):
    """A new browser context (another device) whose route cookie sends it to `backend`."""
    for _ in range(40):  # each fresh cookie lands on either process with even odds
        context = browser.new_context(viewport=DESKTOP)
        assert context.request.get(f"{proxy.url}/_stcore/health").ok
        if proxy.backend_of(route_of(context)) == backend:
            return context
        context.close()
    raise AssertionError(f"40 fresh route cookies and none went to {backend}")


def open_class_poll(context, proxy: Proxy):
    page = context.new_page()
    page.goto(f"{proxy.url}/class_poll")
    wait_for_script(page)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return page


def test_a_poll_with_students_on_both_processes_gives_the_teacher_an_exact_tally(browser, cluster):
    proxy, (first, second) = cluster["proxy"], cluster["backends"]
    teacher_context = context_on(browser, proxy, first)
    teacher = open_class_poll(teacher_context, proxy)
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
    for answer, backend in zip(STUDENT_ANSWERS, [second, first, second]):  # two of three on the other process
        context = context_on(browser, proxy, backend)
        contexts.append(context)
        page = open_class_poll(context, proxy)
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

    # The teacher's page, on the first process, redraws its tally on its own.
    expect(main(teacher)).to_contain_text("3 answers so far.", timeout=15_000)
    expect(main(teacher)).to_contain_text("Most of you (2 of 3) said overfitting")
    # Second route: the shared store itself.
    assert RedisRoomStore.from_url(cluster["redis_url"]).tally(code, QUESTION) == {"overfitting": 2, "good fit": 1}

    routes = [route_of(context) for context in [teacher_context, *contexts]]
    for context in [*contexts, teacher_context]:
        context.close()  # nginx logs a WebSocket when it closes
    deadline = time.monotonic() + 15
    while not all(any(path == "/_stcore/stream" for _up, path in proxy.served()[r]) for r in routes):
        assert time.monotonic() < deadline, "nginx logged no WebSocket for some browser"
        time.sleep(0.1)
    served = proxy.served()
    assert [only_backend(served[route]) for route in routes] == [first, second, first, second]
    for route in routes:  # every request of a browser, its page loads and its WebSocket, went to one process
        assert len(served[route]) > 3


def test_three_concurrent_classify_sessions_through_the_proxy_all_succeed(cluster):
    proxy, (first, _second) = cluster["proxy"], cluster["apps"]
    before = set(proxy.served())
    with ThreadPoolExecutor(max_workers=1) as pool:  # its own event loop, beside the suite's shared browser
        figures = pool.submit(asyncio.run, run_load(3, proxy.url, first[1].pid)).result()
    problems = [f"{r.name}: {r.problem}" for r in [figures["baseline"], *figures["results"]] if not r.ok]
    assert not problems
    assert figures["ok"] == 3
    served = proxy.served()
    new_routes = [route for route in served if route not in before]
    assert len(new_routes) >= 4  # the baseline and three students, one cookie each
    for route in new_routes:
        only_backend(served[route])
