"""Browser-test harness: a live server started exactly like production, and Debian Chromium.

* ``live_server`` (session): a fresh SQLite file in a temp dir, ``gxm db upgrade`` (or, only when
  ``GXM_BROWSER_CREATE_ALL=1`` while migrations are not generated yet, ``db.create_all()``), then
  ``gxm seed demo``, then ``gunicorn -w 2 wsgi:app`` on a free port. Under pytest-xdist every worker
  starts its own server (the worker id is in the temp path). The process group is killed at the end.
* ``browser`` (session): Debian ``/usr/bin/chromium`` through Playwright's sync API; never
  ``playwright install``. Without it every browser test is skipped with a clear message.
* ``new_page(locale=..., width=..., height=...)``: a fresh context (cookies, language) per call;
  ``page`` is one such page (locale via ``@pytest.mark.parametrize("page", ["en"], indirect=True)``).
* ``login_as(page, email)``: signs in through the login form with the demo password.
* On failure every page the test opened is saved as a PNG under ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from seed.accounts import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60
DEFAULT_TIMEOUT_MS = 15_000

# Demo logins (seed/accounts.py USERS) by role, used by the journeys and the usability checks.
DEMO_LOGINS = {
    "admin": "admin@demo.gx",
    "certifier": "certifier@demo.gx",
    "maker": "maker@demo.gx",
    "contractor": "contractor@demo.gx",
    "agency": "agency@demo.gx",
    "committee": "member1@demo.gx",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test (so ``-m "not browser"`` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item so fixtures can screenshot failed tests."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- live server -----------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(database_url: str, upload_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GXM_TEST_", "PYTEST_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "browser-tests-secret-key",
            "GXM_LOGIN_RATE_LIMIT": "1000 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
            "GXM_UPLOAD_DIR": str(upload_dir),
            "GXM_ENV": "development",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _run_step(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(
            f"live server setup failed at {what} (exit {done.returncode}):\n"
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-6000:]}",
            pytrace=False,
        )


CREATE_ALL = (
    "from gxmachinery import create_app; from gxmachinery.extensions import db; "
    "app=create_app(); app.app_context().push(); db.create_all()"
)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving a freshly migrated and seeded SQLite database, as in production."""
    from gxmachinery.i18n import compile_catalogs

    compile_catalogs()  # the server reads the .mo files; they are never committed
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    workdir = tmp_path_factory.mktemp(f"live-{worker}")
    database_url = f"sqlite:///{workdir / 'x.sqlite3'}"
    env = _server_env(database_url, workdir / "uploads")
    gxm = str(BIN / "gxm")
    if os.environ.get("GXM_BROWSER_CREATE_ALL") == "1":
        # Only while the domains' Alembic migrations are not generated yet (development).
        _run_step([sys.executable, "-c", CREATE_ALL], env, "db.create_all()")
    else:
        _run_step([gxm, "db", "upgrade"], env, "gxm db upgrade")
    _run_step([gxm, "seed", "demo"], env, "gxm seed demo")

    port = _free_port()
    log_path = workdir / "gunicorn.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as a whole at the end
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, workdir, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)
        log.close()


def _wait_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {server.process.returncode} before answering:\n{server.log_tail()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(server.url + "/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.3)
    _stop(server.process)
    pytest.fail(
        f"gunicorn did not answer /api/v1/health within {START_TIMEOUT_S}s ({last_error}):\n"
        f"{server.log_tail()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


# --- browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian Chromium through Playwright (sync API); skipped with a clear message when absent."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (python) not installed: pip install -e '.[dev]'")
    executable = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:150]


@pytest.fixture
def new_page(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """``new_page(locale="zh-TW", width=1280, height=900)`` -> a page in a fresh browser context.

    Every context is closed at the end; when the test failed, each page is screenshotted first.
    """
    contexts: list[Any] = []

    def make(locale: str = "zh-TW", width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    failed = any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )
    for n, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for m, open_page in enumerate(context.pages):
                target = ARTIFACTS / f"{_artifact_name(request.node.nodeid)}-{n}-{m}.png"
                try:
                    open_page.screenshot(path=str(target), full_page=True)
                except Exception as exc:  # noqa: BLE001 - a broken page must not hide the real failure
                    sys.stderr.write(f"screenshot of {target.name} failed: {exc}\n")
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any], request: pytest.FixtureRequest) -> Any:
    """One page in a fresh context; the browser locale defaults to zh-TW (the scheme's users).

    Choose another with ``@pytest.mark.parametrize("page", ["en"], indirect=True)``.
    """
    return new_page(locale=getattr(request, "param", "zh-TW"))


@pytest.fixture
def login_as() -> Callable[[Any, str], Any]:
    """``login_as(page, email)``: sign in through the login form with the demo password."""

    def do(page: Any, email: str) -> Any:
        page.goto("/login")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        if "/login" in page.url:
            raise AssertionError(f"login as {email} failed: still on {page.url}")
        return page

    return do
