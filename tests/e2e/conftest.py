"""Fixtures of the browser suite (marker ``browser``): a real server over a fresh demo
database, and Debian's Chromium driven by Playwright.

- ``live_app`` (session, one per xdist worker): builds ``demo.db`` (Mali, 2,000 cases,
  seed 3) in a temporary directory, starts ``python -m streamlit run app.py`` on a free
  loopback port with ``NRM_DATABASE_URL`` pointing at it (``NRM_LOGIN_SLEEP`` unset, as in
  production), waits for ``/_stcore/health``, and stops the server at the end. It has
  ``.url`` (base URL), ``.db_url`` and ``.viewer(username)``.
- ``app_url`` (session): ``live_app.url``.
- ``browser`` (module): a headless Chromium.
- ``new_page`` (function): ``new_page(width=1400)`` opens a page in a fresh browser context
  (own cookies); contexts are closed after the test.

Without ``chromium`` on the PATH the browser tests are skipped, unless
``NRM_REQUIRE_BROWSER=1`` (CI), where they fail.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
REQUIRE_BROWSER = os.environ.get("NRM_REQUIRE_BROWSER") == "1"
DEMO_CASES = 2000
DEMO_SEED = 3
STARTUP_S = 60.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test in tests/e2e is a browser test (marker ``browser``)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _missing(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests are required (NRM_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-test.txt)")
    return exe


# ---------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    db_url: str
    process: subprocess.Popen
    log: Path

    def viewer(self, username: str):
        """The demo user's Viewer, read from the app's database (role, regions, import right)."""
        from dashboard import users
        from dashboard.db import make_engine

        eng = make_engine(self.db_url)
        try:
            with eng.connect() as conn:
                viewer = users.viewer_for(conn, username)
        finally:
            eng.dispose()
        assert viewer is not None, f"no active user {username!r} in {self.db_url}"
        return viewer

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def build_demo_db(path: Path, cases: int = DEMO_CASES, seed: int = DEMO_SEED) -> str:
    from dashboard import bootstrap, migrate
    from dashboard.db import make_engine

    url = f"sqlite:///{path}"
    eng = make_engine(url)
    migrate.upgrade(eng)
    bootstrap.fill_demo(eng, "mali", cases, seed=seed)
    eng.dispose()
    return url


def start_server(db_url: str, log: Path, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start the app on a free loopback port; returns (process, base URL) once healthy.
    A port taken between choosing and binding is retried on another one."""
    env = {k: v for k, v in os.environ.items() if k != "NRM_LOGIN_SLEEP"}  # AppTest helpers set it in-process
    env.update({"NRM_DATABASE_URL": db_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(extra_env or {})})
    last = ""
    for _attempt in range(3):
        port = _free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                 "--server.runOnSave", "false"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return proc, url
            except OSError:
                pass
            time.sleep(0.2)  # the server process gives no readiness event to wait on
        last = log.read_text(errors="replace")[-2000:]
        stop_server(proc)
    raise RuntimeError(f"the app did not start within {STARTUP_S:.0f} s; server log:\n{last}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_app(chromium_executable, tmp_path_factory) -> LiveApp:
    tmp = tmp_path_factory.mktemp("live_app")
    db_url = build_demo_db(tmp / "demo.db")
    log = tmp / "server.log"
    proc, url = start_server(db_url, log)
    app = LiveApp(url=url, db_url=db_url, process=proc, log=log)
    yield app
    stop_server(proc)


@pytest.fixture(scope="session")
def app_url(live_app) -> str:
    return live_app.url


# ---------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    """``new_page(width=1400, height=900)``: a page in its own browser context (own cookies);
    the contexts are closed after the test."""
    contexts = []

    def make(width: int = 1400, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        ctx.set_default_timeout(60_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
