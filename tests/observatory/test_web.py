"""The observatory page: rendered by the real app over a real database, charts as inline SVG,
and the follow-up editor (CSRF-protected form) enforcing the funnel rules."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


def _app(tmp_path, auth: str = "none"):
    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}", auth=auth,
                              catalog=str(tmp_path / "none")), matcher=object())
    if not any(getattr(r, "path", None) == "/observatory" for r in app.routes):
        # until api/web/routes.py (or api/main.py) includes it: the page's own router
        from api.web.observatory import router

        app.include_router(router)
    return app


@pytest.fixture
def client(tmp_path, load_fixture):
    with TestClient(_app(tmp_path)) as c:
        load_fixture(c)
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_page_shows_indicators_and_svg_charts(client):
    r = client.get("/observatory")
    assert r.status_code == 200
    html = r.text
    assert 'data-obs="relocations">3 / 500<' in html
    assert 'data-obs="share_regional">32%<' in html
    # no external script or CDN address (a random CSRF token may spell "cdn": look at addresses only)
    assert html.count("<svg") >= 4 and "<script src=\"http" not in html and not re.search(r"//[^\"'\s]*cdn", html.lower())
    assert "2026-04" in html  # the monthly chart and table
    assert 'id="line-GAMMA-PLAST-1"' in html and 'data-stage="quote"' in html
    assert 'data-stage="" ' not in html
    en = client.get("/observatory", params={"lang": "en", "company": "ACME-MECA"}).text
    assert "Relocation observatory" in en and 'data-obs="relocations">1 / 500<' in en


def test_editor_records_a_step_and_refuses_a_bad_one(client):
    page = client.get("/observatory").text
    token = _csrf(page)
    r = client.post("/observatory/followups/GAMMA-PLAST/1/events", follow_redirects=False,
                    data={"csrf": token, "stage": "contracted", "on": "2026-04-02", "supplier_siret": "90000000000128",
                          "supplier_tier": "regional", "value_moved_eur": "300 000"})
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert 'data-obs="relocations">4 / 500<' in page
    # going back from contracted is refused with the funnel's message, no traceback
    r = client.post("/observatory/followups/GAMMA-PLAST/1/events", follow_redirects=True,
                    data={"csrf": token, "stage": "contacted", "on": "2026-04-05"})
    assert r.status_code == 200 and "cannot go from contracted to contacted" in r.text
    # wrong CSRF token: 403, nothing stored
    r = client.post("/observatory/followups/ACME-MECA/4/events", data={"csrf": "nope", "stage": "contacted", "on": "2026-04-05"})
    assert r.status_code == 403
    assert client.get("/v1/observatory/followups/ACME-MECA/4").json()["stage"] == "proposed"


def test_page_needs_a_signed_in_advisor(tmp_path):
    with TestClient(_app(tmp_path, auth="keys")) as c:
        r = c.get("/observatory", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")


@pytest.mark.browser
def test_observatory_page_in_a_real_browser(tmp_path, load_fixture):
    """Serve the app with uvicorn, open the page in headless Chromium, record one step through
    the form, and keep a screenshot (docs/observatory/observatory_page.png is made this way)."""
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    app = _app(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        import httpx

        with httpx.Client(base_url=base) as hc:
            load_fixture(hc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []  # failed requests of the page's own assets (the browser's favicon probe aside)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(f"{base}/observatory")
            assert page.locator('[data-obs="relocations"]').inner_text() == "3 / 500"
            assert page.locator("svg.chart").count() >= 4
            row = page.locator("#line-ACME-MECA-4")
            row.locator("summary").click()
            row.locator('select[name="stage"]').select_option("contacted")
            row.locator('input[name="on"]').fill("2026-04-03")
            with page.expect_navigation():
                row.locator('button[type="submit"]').click()
            assert page.locator('[role="status"]').inner_text().startswith("ACME-MECA #4")
            assert page.locator("#line-ACME-MECA-4 td[data-stage]").get_attribute("data-stage") == "contacted"
            out = Path(os.environ.get("OBSERVATORY_SCREENSHOT", tmp_path / "observatory_page.png"))
            page.screenshot(path=str(out), full_page=True)
            assert errors == []
            browser.close()
        assert out.stat().st_size > 20_000
    finally:
        server.should_exit = True
        th.join(timeout=10)
