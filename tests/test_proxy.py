"""Two app processes behind nginx (tests/proxy/): sticky sessions by cookie, WebSockets, one Redis for the polls."""
import asyncio
import contextlib
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from models.classroom.rooms import REDIS_ENV
from tests.redis_server import redis_unavailable_reason, running_redis
from tests.streamlit_server import browser_unavailable_reason, free_port, running_app, wait_for_script

PROXY = Path(__file__).resolve().parent / "proxy"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")  # sbin: not on a user's PATH
if NGINX is None:
    pytest.skip("proxy tests skipped: no nginx (apt-get install nginx)", allow_module_level=True)
_browser_reason = browser_unavailable_reason() or redis_unavailable_reason()
needs_browser_and_redis = pytest.mark.skipif(_browser_reason is not None, reason=f"proxy tests: {_browser_reason}")

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

    def report(self, routes) -> str:
        """What nginx saw for these routes (all but static files), and its error log's end: for a failure message."""
        lines = [line for line in self.log.read_text().splitlines()
                 if line.split("|", 1)[0] in routes and "|/static/" not in line]
        errors = self.log.with_name("error.log")
        return "\n".join([*lines[-60:], "error.log:", errors.read_text()[-3000:] if errors.exists() else ""])

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
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        assert context.request.get(f"{proxy.url}/_stcore/health").ok
        if proxy.backend_of(route_of(context)) == backend:
            return context
        context.close()
    raise AssertionError(f"40 fresh route cookies and none went to {backend}")


def open_class_poll(context, proxy: Proxy):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(f"{proxy.url}/class_poll")
    wait_for_script(page)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=60_000)
    wait_for_script(page)
    return page


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """A stand-in app process: answers with its own port and the headers it received."""

    def do_GET(self):  # noqa: N802 - the standard library's name
        body = json.dumps({"port": self.server.server_address[1], "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def echo_backends(count: int = 2):
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler) for _ in range(count)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield servers
    finally:
        for server in servers:
            stop(server)


def stop(server) -> None:
    if server.socket.fileno() != -1:
        server.shutdown()
        server.server_close()


def addresses(servers) -> list[str]:
    return [f"127.0.0.1:{server.server_address[1]}" for server in servers]


def get(url: str, headers: dict | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return json.loads(response.read()), response.headers.get_all("Set-Cookie") or []


def test_the_route_cookie_keeps_each_browser_on_one_process_and_spreads_the_class():
    with echo_backends() as servers, running_nginx(addresses(servers)) as proxy:
        landed = {server.server_address[1]: 0 for server in servers}
        for _ in range(60):  # sixty devices behind one school router: one client address
            first, cookies = get(f"{proxy.url}/")
            assert len(cookies) == 1 and cookies[0].startswith(ROUTE_COOKIE + "=")
            assert "HttpOnly" in cookies[0] and "Path=/" in cookies[0]
            cookie = cookies[0].split(";")[0]
            for path in ("/static/app.js", "/_stcore/host-config", "/_stcore/stream"):
                again, cookies_again = get(f"{proxy.url}{path}", {"Cookie": cookie})
                assert again["port"] == first["port"] and cookies_again == []  # the same process, no new cookie
            landed[first["port"]] += 1
        assert min(landed.values()) >= 10, landed  # 60 fair coin flips: each process gets its share


def test_when_a_process_stops_its_browsers_move_to_another_and_the_others_stay():
    with echo_backends() as servers, running_nginx(addresses(servers)) as proxy:
        cookie_on = {}
        while len(cookie_on) < 2:  # one device on each process
            first, cookies = get(f"{proxy.url}/")
            cookie_on.setdefault(first["port"], cookies[0].split(";")[0])
        stopped, kept = servers
        stop(stopped)
        for server in (stopped, kept):  # the stopped one's browser starts a new session on the other process
            answer, _cookies = get(f"{proxy.url}/", {"Cookie": cookie_on[server.server_address[1]]})
            assert answer["port"] == kept.server_address[1]


def test_websocket_upgrades_reach_the_app_with_the_browsers_host():
    with echo_backends() as servers, running_nginx(addresses(servers)) as proxy:
        host = proxy.url.removeprefix("http://")
        seen, _cookies = get(f"{proxy.url}/_stcore/stream", {"Upgrade": "websocket", "Connection": "Upgrade"})
        headers = {name.lower(): value for name, value in seen["headers"].items()}
        assert headers["upgrade"] == "websocket" and headers["connection"] == "upgrade"
        assert headers["host"] == host  # with the port, which Streamlit's origin check compares
        plain, _cookies = get(f"{proxy.url}/")
        assert {name.lower(): value for name, value in plain["headers"].items()}["connection"] == "close"


@pytest.mark.e2e
@pytest.mark.slow
@needs_browser_and_redis
def test_a_poll_with_students_on_both_processes_gives_the_teacher_an_exact_tally(browser, cluster):
    from playwright.sync_api import expect

    from models.classroom.redis_store import RedisRoomStore
    from tests.browser import main, settle

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


@pytest.mark.e2e
@pytest.mark.slow
@needs_browser_and_redis
def test_three_concurrent_classify_sessions_through_the_proxy_all_succeed(cluster):
    from benchmarks.load import run_load

    proxy = cluster["proxy"]
    before = set(proxy.served())
    # No server pid: the sessions land on either process, so one process's CPU would say nothing about them.
    # No solo sessions: the CPU per action they measure is the benchmark's business, not this test's.
    with ThreadPoolExecutor(max_workers=1) as pool:  # its own event loop, beside the suite's shared browser
        figures = pool.submit(asyncio.run, run_load(3, proxy.url, None, solo=0)).result()
    checked = [figures["baseline"], *figures["alone"], *figures["results"]]
    problems = [f"{r.name}: {r.problem}" for r in checked if not r.ok]
    served = proxy.served()
    new_routes = [route for route in served if route not in before]
    assert not problems, f"{problems}\n{proxy.report(new_routes)}"
    assert figures["ok"] == 3
    assert len(new_routes) >= 4  # the baseline and three students, one cookie each
    for route in new_routes:
        only_backend(served[route])
