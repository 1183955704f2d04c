"""Real-browser tests: headless Chromium (Debian's `chromium`, driven by Playwright) against the whole ASGI
application (HTTP and websockets, static files included) served by uvicorn in a thread of the test process,
so that it shares the test database.

- `browser`: one Chromium for all the browser tests, on Playwright's own thread (see remote.py for why).
- `portal_server`: the live server; e-mail goes to files in a temporary folder (`portal_server.mailbox`);
  Celery tasks run inline (tests/conftest.py). Chromium resolves no host but the loopback, so nothing is
  fetched from the internet (map tiles, fonts): the pages must work without it, as the issue asks.
- `network` / `station_online`: a location with a priced two-connector station (network.py), and that station
  simulated (stations.simulator) and connected to the live server over OCPP 1.6.
- `phone` / `desktop`: a fresh browser context and page per test, phone-sized (390 x 844, touch) or desktop.
- `screenshots`: `screenshots(page, "step")` writes test-artifacts/browser/<test>/<NN>-<step>.png; a failing
  test also leaves failure-<page>.png and .html there, with the browser console in console.txt.
"""

import email
import email.policy
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import Client

from tests.browser.network import Network
from tests.browser.remote import PlaywrightThread, Remote
from tests.conftest import serve_asgi
from tests.e2e.conftest import StationThread
from tests.needs import missing

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 20_000


# --- outcome of each phase, for the failure screenshots ------------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    return any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


# --- the browser -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def browser() -> Iterator[Remote]:
    """Chromium, launched once for the browser tests (closed after the last of them, not at the end of the
    whole suite) on Playwright's thread."""
    if not CHROMIUM.exists():
        missing(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium; "
                    "or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("Playwright is not installed (requirements-dev.txt)")

    thread = PlaywrightThread()
    playwright = None
    try:
        playwright = thread.call(lambda: sync_playwright().start())
        # Loopback only: a page that reaches for the internet (a CDN, map tiles) gets "not found" at once.
        args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
        chromium = thread.call(playwright.chromium.launch, executable_path=str(CHROMIUM), headless=True, args=args)
        thread.call(expect.set_options, timeout=ACTION_TIMEOUT_MS)
        yield Remote(chromium, thread)
    finally:
        if playwright is not None:
            thread.call(playwright.stop)  # closes Chromium too
        thread.shutdown()


# --- the live server and its mailbox -----------------------------------------------------------------------------
class Mailbox:
    """The e-mails the server wrote with Django's file backend, parsed."""

    SEPARATOR = b"\n" + b"-" * 79 + b"\n"

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.log"), key=lambda p: p.stat().st_mtime):
            for raw in path.read_bytes().split(self.SEPARATOR):
                if raw.strip():
                    found.append(email.message_from_bytes(raw.lstrip(b"\n"), policy=email.policy.default))
        return found

    def wait_for(self, *, to: str, subject: str = "", timeout: float = 10) -> EmailMessage:
        """The newest e-mail to `to` whose subject contains `subject` (case-insensitive)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.messages()):
                if to.lower() in str(message["To"]).lower() and subject.lower() in str(message["Subject"]).lower():
                    return message
            if time.monotonic() > deadline:
                sent = [(str(m["To"]), str(m["Subject"])) for m in self.messages()]
                raise AssertionError(f"No e-mail to {to} with {subject!r} in its subject; sent: {sent}")
            time.sleep(0.05)

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def links(self, message: EmailMessage) -> list[str]:
        return re.findall(r"https?://[^\s\"'<>]+", self.text(message))


@dataclass
class LiveServer:
    url: str
    mailbox: Mailbox
    ws_url: str = field(init=False)

    def __post_init__(self):
        self.ws_url = self.url.replace("http://", "ws://", 1)


@pytest.fixture
def portal_server(transactional_db, settings, tmp_path) -> Iterator[LiveServer]:
    """The whole product on a real port; data the test writes is committed, so the server sees it."""
    mail = tmp_path / "mail"
    mail.mkdir()
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(mail)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    connection_created.connect(_reads_take_no_table_locks)
    try:
        with serve_asgi() as url:  # which keeps no database connection between requests while serving
            yield LiveServer(url, Mailbox(mail))
    finally:
        connection_created.disconnect(_reads_take_no_table_locks)


def _reads_take_no_table_locks(sender, connection, **kwargs) -> None:
    """pytest-django's SQLite test database lives in memory with a shared cache, where a page's read that
    meets a station's write fails at once ("database table is locked") instead of waiting or reading the last
    committed state, as it does in the embedded default's database file (WAL). Reads without table locks in
    the server's connections (and the test's) give back the behaviour of the file (tests/e2e/conftest.py
    does the same for the test's reads)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


# --- the charging network ---------------------------------------------------------------------------------------
@pytest.fixture
def network(portal_server) -> Network:
    return Network()


@pytest.fixture
def station_online(network, portal_server) -> Iterator[StationThread]:
    """The network's station, simulated, connected to the live server (its loop in a thread of its own)."""
    with StationThread(network.simulated_station(portal_server.ws_url)) as running:
        yield running


# --- pages, screenshots ------------------------------------------------------------------------------------------
def _artifact_dir(request) -> Path:
    return ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)


@pytest.fixture
def artifacts(request) -> Path:
    """This test's artifact folder, emptied at its start (the last run's screenshots only)."""
    folder = _artifact_dir(request)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Screenshots:
    def __init__(self, folder: Path):
        self.folder, self.count = folder, 0

    def __call__(self, page: Remote, step: str, *, full_page: bool = True) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def screenshots(artifacts) -> Screenshots:
    return Screenshots(artifacts)


@dataclass
class BrowserLog:
    """What the pages said on the console, which scripts failed and which requests the server answered with
    a 5xx (filled on Playwright's thread; the server's traceback is in the test's captured log)."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def listen(self, page) -> None:
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")


@pytest.fixture
def browser_log() -> BrowserLog:
    """The console and script errors of every page this test opened."""
    return BrowserLog()


def _open(request, browser: Remote, server: LiveServer, log: BrowserLog, artifacts: Path, name: str,
          options: dict) -> Iterator[Remote]:
    context = browser.new_context(base_url=server.url, locale="en-GB", timezone_id="Europe/Berlin",
                                  accept_downloads=True, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.on("page", log.listen)  # runs on Playwright's thread with the page itself
    page = context.new_page()
    try:
        yield page
        if _failed(request):
            for number, open_page in enumerate(context.pages):
                suffix = f"{name}-{number}" if number else name
                open_page.screenshot(path=str(artifacts / f"failure-{suffix}.png"), full_page=True)
                (artifacts / f"failure-{suffix}.html").write_text(open_page.content())
            (artifacts / "console.txt").write_text("\n".join(
                [*log.console, "", "script errors:", *log.errors, "", "server errors:", *log.server_errors]))
    finally:
        context.close()


@pytest.fixture
def phone(request, browser, portal_server, browser_log, artifacts) -> Iterator[Remote]:
    """A page in a fresh phone-sized context (390 x 844 CSS pixels, touch), its base URL the live server."""
    yield from _open(request, browser, portal_server, browser_log, artifacts, "phone", PHONE)


@pytest.fixture
def desktop(request, browser, portal_server, browser_log, artifacts) -> Iterator[Remote]:
    """A page in a fresh desktop-sized context (1280 x 800)."""
    yield from _open(request, browser, portal_server, browser_log, artifacts, "desktop", DESKTOP)


def sign_in(page: Remote, user, server: LiveServer) -> None:
    """Sign `user` in for this page's browser context with a server-side session, as if they had logged in
    (the journey logs in through the forms; tests of one page need not)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server.url}])
