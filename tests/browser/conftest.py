"""Real processes for the dashboard's browser tests, started once per session.

- the API: ``daybook serve`` on a fresh SQLite file (``tests/servers.running_server``);
- the dashboard: Reflex's production build, frontend and backend on one free
  port (``frontend/launch.py``), pointed at that API by ``DAYBOOK_API_URL``;
- Debian's Chromium driven by Playwright (never a browser download).

Nothing is skipped: a missing Chromium, Reflex or Bun fails the run with what to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from frontend import launch
from tests.browser.world import Api, Tenant, bulk_partner, card_shop, furnish, history_partner
from tests.payments.conftest import running_localstripe
from tests.servers import ROOT, daybook, free_port, running_server

CHROMIUM = os.environ.get("DAYBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The README's pictures are refreshed on request (DAYBOOK_UPDATE_SCREENSHOTS=1
# make test); other runs write them under /tmp, so a test run leaves git clean.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("DAYBOOK_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "daybook-screenshots"
)
DASHBOARD_START_SECONDS = 420  # the first start builds the frontend (bun install + vite)
# Where a Reflex build writes outside its ignored .web/: the persisted lockfiles
# (reflex.lock/), and on init .gitignore, requirements.txt, rxconfig.py, assets/.
REFLEX_WRITES_UNDER = ("reflex.lock", "assets")


def files_a_build_may_rewrite() -> dict[str, bytes]:
    """The bytes of every file directly in the project root and under ``REFLEX_WRITES_UNDER``."""
    files = [path for path in ROOT.iterdir() if path.is_file()]
    for folder in REFLEX_WRITES_UNDER:
        if (ROOT / folder).is_dir():
            files += [path for path in (ROOT / folder).rglob("*") if path.is_file()]
    return {str(path.relative_to(ROOT)): path.read_bytes() for path in files}


@dataclass
class World:
    api_url: str
    dashboard_url: str
    api: Api
    admin_key: str
    demo: Tenant
    bulk: Tenant


@pytest.fixture(scope="package")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("browser") / "daybook.sqlite3"
    url = f"sqlite://{path}"
    migrated = daybook(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return url


@pytest.fixture(scope="package")
def history(database_url: str) -> dict:
    """Customers who signed up last month, written before the API server opens the file."""
    return history_partner(database_url)


@pytest.fixture(scope="package")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real localstripe of this package's own (its Stripe.js stand-in serves the browser)."""
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as base:
        yield base


@pytest.fixture(scope="package")
def api_server(database_url: str, history: dict, stripe_server: str) -> Iterator[str]:
    env = {
        # Stored provider secrets under a key of this run's own (no key file written).
        "DAYBOOK_SECRET_KEYS": Fernet.generate_key().decode(),
        "DAYBOOK_STRIPE_API_BASE": stripe_server,
        "DAYBOOK_STRIPE_JS_URL": f"{stripe_server}/js.stripe.com/v3/",
        "DAYBOOK_STRIPE_TIMEOUT": "5",
        "DAYBOOK_STRIPE_MAX_RETRIES": "1",
    }
    with running_server(database_url, env=env) as base:
        yield base


def _dashboard_process(api_url: str, port: int, log_path: Path) -> subprocess.Popen:
    problems = launch.missing()
    if problems:
        pytest.fail("the dashboard cannot start: " + "; ".join(problems), pytrace=False)
    log = log_path.open("w")
    return subprocess.Popen(
        launch.command(port),
        cwd=ROOT,
        env=launch.environment(api_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group: Reflex starts workers, and teardown must stop them all.
        start_new_session=True,
    )


@pytest.fixture(scope="package")
def before_dashboard_build() -> dict[str, bytes]:
    """What the committed files the build could touch held before it ran (see test_build.py)."""
    return files_a_build_may_rewrite()


@pytest.fixture(scope="package")
def dashboard(api_server: str, before_dashboard_build: dict[str, bytes]) -> Iterator[str]:
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="daybook-dashboard-", suffix=".log")[1])
    process = _dashboard_process(api_server, port, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DASHBOARD_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail("the dashboard exited:\n" + log_path.read_text()[-4000:], pytrace=False)
            try:
                if httpx.get(f"{base}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "the dashboard did not start:\n" + log_path.read_text()[-4000:], pytrace=False
                )
            time.sleep(0.5)  # waiting for a build and a server to boot, not for domain time
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="package")
def world(database_url: str, history: dict, api_server: str, dashboard: str) -> World:
    made = daybook(database_url, "create-admin-key")
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip().splitlines()[-1]
    api = Api(api_server)
    demo = furnish(api, admin, history)
    started = time.perf_counter()
    bulk = bulk_partner(api, admin)
    print(
        f"\n[bench] made 200 customers and 1,000 channels through the API in {time.perf_counter() - started:.1f} s"
    )
    return World(api_server, dashboard, api, admin, demo, bulk)


# Package scope, not session: Playwright's sync API keeps an event loop running in
# this thread while it is open, and pytest-asyncio cannot start one for the async
# tests that come after the browser tests. Everything here ends with the package.
@pytest.fixture(scope="package")
def playwright_session() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `make test` installs Debian's chromium "
            "(apt-get install -y chromium).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(
        executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        args=CHROMIUM_FLAGS,
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context per test: its own sessionStorage, so no key leaks between tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="package")
def shop(world: World, stripe_server: str) -> Tenant:
    """A partner taking cards through localstripe; ``customers[0]`` has its own ``key``."""
    return card_shop(world.api, world.admin_key, world.api_url, stripe_server)
