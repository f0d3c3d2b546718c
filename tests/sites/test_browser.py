"""The sites page in Debian's Chromium (Playwright): sign in, describe a project with one of the
advisor's matched BOMs, read the ranked sites with their reasons and the map beside the BOM's
suppliers, download the CSV. Every request must go to the service itself. Screenshot saved to
docs/screenshots/web-sites.png (and the artifacts folder)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("RELOCMATCH_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BOM = "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "web-sites.png"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg + " — required in CI")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def bom_result(matcher, data_dir):
    """The real engine's result for a real French purchase list (IREP catalog)."""
    from matching.bom import read_bom
    from matching.results import result_to_dict

    return result_to_dict(matcher.match(read_bom(data_dir / "boms" / BOM).lines))


@pytest.fixture(scope="module")
def service(tmp_path_factory, cartofriches_register):
    import uvicorn

    from api.main import create_app
    from api.settings import Settings

    db = tmp_path_factory.mktemp("sitesweb") / "w.sqlite3"
    settings = Settings(database_url=f"sqlite:///{db}", catalog="unused", auth="keys", rate_limit_per_minute=0,
                        sites=str(cartofriches_register[0]))
    app = create_app(settings, matcher=object())  # the sites page never calls the supplier engine
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not th.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        th.join(timeout=30)


def test_sites_page_ranks_sites_beside_the_boms_suppliers(browser, service, bom_result):
    from playwright.sync_api import expect

    url, app = service
    store = app.state.store
    token, principal = store.create_key("advisor-sites", org="AD Grand Est")
    job = store.create_job(principal, data=b"bom", lines=[{"description": "x"}], filename=BOM)
    assert store.claim(job.id, "w") and store.finish_job(job.id, "w", bom_result)

    ctx = browser.new_context(viewport={"width": 1366, "height": 1000}, accept_downloads=True, locale="fr-FR")
    page = ctx.new_page()
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    page.set_default_timeout(60_000)
    try:
        page.goto(url + "/sites")
        assert "/signin" in page.url
        page.get_by_label("Clé d'API").fill(token)
        page.get_by_role("button", name="Se connecter avec la clé").click()
        page.wait_for_url(re.compile(re.escape(url + "/sites")))
        page.get_by_label("Activité (code NAF ou texte libre)").fill("28.96Z")
        page.get_by_label("Surface minimale (ha)").fill("1")
        page.get_by_label("Surface maximale (ha)").fill("4")
        assert page.get_by_label("Région", exact=True).input_value() == "44"
        page.get_by_label("Voie ferrée à moins de (km)").fill("5")
        page.get_by_label("Commune actuelle (code INSEE, facultatif)").fill("57463")
        page.get_by_label("Nomenclature analysée (fournisseurs du projet)").select_option(job.id)
        page.get_by_role("button", name="Chercher des sites").click()
        page.wait_for_selector("table.sites tbody tr")
        assert "activity=28.96Z" in page.url and f"job={job.id}" in page.url  # the query lives in the URL

        rows = page.locator("table.sites tbody tr")
        assert rows.count() == 10
        first = rows.nth(0)
        expect(first).to_contain_text("ha pour 1–4 ha demandés")
        expect(first).to_contain_text("fournisseurs de")
        expect(first).to_contain_text("voie ferrée à")
        # the page shows what the API returns for the same project, in the same order
        from matching.sites import SiteRegister
        from matching.sites.match import match_sites

        expected = match_sites({"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4, "region": "44",
                                "constraints": {"rail_within_km": 5}, "wishes": {"near_commune": "57463"}},
                               SiteRegister.load(app.state.settings.sites), bom_result=bom_result, top=10)
        shown = [rows.nth(i).get_attribute("data-site") for i in range(rows.count())]
        assert shown == [s["site_id"] for s in expected["sites"]]
        # the map: one numbered circle per site, one diamond per supplier commune of the BOM
        svg = page.locator("svg.sites-map")
        expect(svg).to_be_visible()
        assert svg.locator("circle.map-site").count() == 10
        communes = {s["commune_code"] for ln in bom_result["lines"] for s in ln.get("suppliers") or []}
        assert svg.locator("path.map-supplier").count() == len(communes) > 0
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        art = Path(os.environ.get("RELOCMATCH_ARTIFACTS") or Path(tempfile.gettempdir()) / "relocmatch-artifacts") / "web"
        art.mkdir(parents=True, exist_ok=True)
        shutil.copy(SCREENSHOT, art / "web-sites.png")

        with page.expect_download() as dl:
            page.get_by_role("link", name="CSV").click()
        text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("rank,site_id") and shown[0] in text.splitlines()[1]

        # English, and a wrong input explained on the page
        page.goto(page.url + "&lang=en")
        expect(page.locator("table.sites tbody tr").nth(0)).to_contain_text("ha for 1–4 ha requested")
        page.goto(url + "/sites?activity=99.99Z&ha_min=1&region=44")
        expect(page.get_by_role("alert")).to_contain_text("activity: unknown NAF code")
    finally:
        ctx.close()
    foreign = [u for u in requested if not u.startswith(url + "/")]
    assert requested and not foreign, f"requests to other hosts: {foreign}"
