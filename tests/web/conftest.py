"""Browser-test fixtures: Debian's Chromium driven by Playwright, and the real service on a free port.

The service is the real app (``api.main.create_app``) with a temporary SQLite database and the real
IREP catalog (session fixture ``irep_catalog_dir``), served by uvicorn in a background thread on
127.0.0.1. Chromium missing: skip with the reason, except in CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("RELOCMATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where the browser tests save screenshots and downloads ($RELOCMATCH_ARTIFACTS or a tmp dir)."""
    d = Path(os.environ.get("RELOCMATCH_ARTIFACTS") or Path(tempfile.gettempdir()) / "relocmatch-artifacts") / "web"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API allows a single running instance per
    thread, so it is stopped before other areas' browser tests start their own."""
    if not CHROMIUM.is_file():
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _in_ci():
            pytest.fail(msg + " — required in CI")
        pytest.skip(msg)
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default, apart from the page timeout: a loaded CI box needs more
    expect.set_options(timeout=30_000)
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
    finally:
        pw.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveService:
    url: str
    app: Any

    @property
    def store(self) -> Any:
        return self.app.state.store


def _serve(app: Any) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="relocmatch-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # the lifespan loads the catalog and the classifier
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def live_service(irep_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service with API keys required (advisors sign in), on the real IREP catalog."""
    from api.main import create_app
    from api.settings import Settings

    db = tmp_path_factory.mktemp("webdb") / "web.sqlite3"
    settings = Settings(database_url=f"sqlite:///{db}", catalog=str(irep_catalog_dir), auth="keys",
                        rate_limit_per_minute=0)
    app = create_app(settings)
    for url in _serve(app):
        yield LiveService(url, app)


@pytest.fixture(scope="module")
def accounts_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service with accounts and the real argon2 cost, on a temporary SQLite store. No catalog:
    the pages under test (sign-in, BOM list, admin) do not match anything, and the job runner is
    stopped so the jobs the test writes keep the state it gives them. Lockout after 3 failures."""
    from api.main import create_app
    from api.settings import Settings

    folder = tmp_path_factory.mktemp("accountsdb")
    settings = Settings(database_url=f"sqlite:///{folder / 'web.sqlite3'}", catalog=str(folder / "no-catalog"),
                        auth="keys", rate_limit_per_minute=0, lockout_attempts=3)
    app = create_app(settings)
    for url in _serve(app):
        app.state.runner.stop()
        yield LiveService(url, app)
