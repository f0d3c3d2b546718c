"""End-to-end in a real headless Chromium: sign in, search, upload a real BOM, confirm the mapping,
follow the job, read grouped results, give feedback, download the XLSX. Every request the pages
make must go to the service itself."""

from __future__ import annotations

import io
import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOM = "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx"


@pytest.fixture()
def advisor(live_service):
    """A key of organisation "AD Grand Est" (token, principal)."""
    return live_service.store.create_key("advisor-e2e", org="AD Grand Est")


@pytest.fixture()
def page(browser, live_service):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="fr-FR")
    pg = ctx.new_page()
    pg.requested = []
    pg.on("request", lambda req: pg.requested.append(req.url))
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def _only_own_origin(page, origin: str) -> None:
    foreign = [u for u in page.requested if not u.startswith(origin + "/")]
    assert page.requested, "no request recorded"
    assert not foreign, f"requests to other hosts: {foreign}"


def _sign_in(page, url: str, token: str, next_path: str = "/search") -> None:
    page.goto(url + next_path)
    assert "/signin" in page.url  # not signed in yet: sent to the sign-in page
    page.get_by_label("Clé d'API").fill(token)
    page.get_by_role("button", name="Se connecter avec la clé").click()
    page.wait_for_url(re.compile(re.escape(url + next_path.split("?")[0])))


def test_search_shows_a_grand_est_supplier_with_its_reasons(page, live_service, advisor, artifacts_dir):
    from playwright.sync_api import expect

    url = live_service.url
    token, _ = advisor
    _sign_in(page, url, token)
    box = page.get_by_label("Produit recherché (texte libre)")
    expect(box).to_be_focused()  # autofocus: type straight away, Enter submits (keyboard only)
    page.keyboard.type("roulements à billes")
    assert page.get_by_label("Région privilégiée").input_value() == "44"
    page.keyboard.press("Enter")
    page.wait_for_selector("table.suppliers tbody tr")
    assert "q=roulements" in page.url and "region=44" in page.url  # the query lives in the URL

    rows = page.locator("table.suppliers tbody tr")
    assert rows.count() >= 3
    regional = page.locator('table.suppliers tbody tr[data-tier="regional"]')
    assert regional.count() >= 1, "no Grand Est supplier ranked for ball bearings"
    first = regional.first
    assert first.locator(".badge.regional").inner_text() == "Grand Est"
    rank = int(first.locator("td").nth(0).inner_text())
    assert rank >= 1
    reasons = first.locator("ul.reasons li")
    assert reasons.count() >= 1 and len(reasons.first.inner_text().strip()) > 5
    dep = first.locator("td").nth(4).inner_text()
    assert re.search(r"\((08|10|51|52|54|55|57|67|68|88)\)", dep), dep  # a Grand Est département
    # what an advisor reads at a glance (issue 16): the line's confidence, plain reasons with the
    # code chain behind a toggle, the no-buyer note said once, and honest tie notes
    assert page.locator("[data-confidence]").first.is_visible()
    assert page.locator("[data-confidence]").first.get_attribute("data-confidence") in ("high", "medium", "low")
    activity_reason = first.locator("ul.reasons li").filter(has_text="NAF").first
    assert "→" in activity_reason.inner_text() and "roulements à billes (SH 8482 10)" in activity_reason.inner_text()
    toggle = activity_reason.locator("details.reason-codes")
    assert not toggle.locator("code").is_visible()  # the code chain is folded away...
    toggle.locator("summary").click()
    expect(toggle.locator("code")).to_be_visible()  # ...and one click shows it
    assert "CPA" in toggle.locator("code").inner_text() or "NACE" in toggle.locator("code").inner_text()
    assert page.locator("[data-no-buyer]").count() == 1
    assert "pas de commune acheteur" not in page.locator("ul.reasons").first.inner_text()
    ties = page.locator("table.suppliers [data-tie]")
    assert ties.count() >= 1 and "même score" in ties.first.inner_text()
    page.screenshot(path=str(artifacts_dir / "search.png"), full_page=True)

    # feedback from the search page too: the query is stored as the line text
    siret = first.get_attribute("data-siret")
    first.get_by_role("button", name="Contacté", exact=True).click()
    expect(first.locator("output")).to_contain_text("Avis enregistré : Contacté")
    mine = [f for f in live_service.store.list_feedback(owner=advisor[1]) if f.siret == siret]
    assert [(f.label, f.line_text, f.job_id) for f in mine] == [("contacted", "roulements à billes", None)]

    # the establishment page, reached from the row, says what it was matched for
    name = first.locator("td").nth(2).inner_text()
    first.locator("td").nth(2).get_by_role("link").click()
    page.wait_for_url(re.compile(r"/suppliers/\d{14}"))
    assert page.locator("h1").inner_text() == name
    assert "roulements à billes" in page.locator("main").inner_text()
    siret_shown = re.search(r"/suppliers/(\d{14})", page.url).group(1)
    assert page.locator("#annuaire-link").get_attribute("href") == (
        f"https://annuaire-entreprises.data.gouv.fr/etablissement/{siret_shown}")

    # keyboard: the first Tab reaches the "skip to content" link
    page.goto(url + "/boms")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()

    # English on request
    page.goto(url + "/search?q=roulements+%C3%A0+billes&region=44&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Search").is_visible()
    _only_own_origin(page, url)


def test_bom_upload_mapping_progress_results_feedback_export(page, live_service, advisor, artifacts_dir, data_dir):
    import openpyxl
    from playwright.sync_api import expect

    url = live_service.url
    token, principal = advisor
    _sign_in(page, url, token, "/boms/new")
    page.get_by_label("Fichier (CSV, TSV, XLSX, ODS, JSON)").set_input_files(str(data_dir / "boms" / BOM))
    page.get_by_role("button", name="Lire le fichier").click()

    # the detected layout and mapping, for confirmation
    page.wait_for_url(re.compile(r"/boms/uploads/[0-9a-f]{32}"))
    assert "XLSX" in page.locator("main").inner_text().upper()
    desc = page.get_by_label("Désignation", exact=True)
    assert "Pièce" in desc.locator("option:checked").inner_text()
    page.screenshot(path=str(artifacts_dir / "bom-mapping.png"), full_page=True)
    # correct one role (the unit price column is not needed): choose "(aucune)"
    page.get_by_label("Prix unitaire").select_option("")
    page.get_by_role("button", name="Confirmer et lancer l'analyse").click()

    # progress, then results on the same URL
    page.wait_for_url(re.compile(r"/boms/[0-9a-f]{32}$"))
    job_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("[data-summary=lines]", timeout=300_000)
    job = live_service.store.get_job(job_id)
    assert job.status == "done" and job.org == "AD Grand Est"
    assert "unit_price" not in job.layout["columns"]

    n_lines = int(page.locator("[data-summary=lines]").inner_text())
    matched = int(page.locator("[data-summary=matched]").inner_text())
    assert n_lines == page.locator("article.line").count() > 10
    assert 0 < matched <= n_lines
    assert int(page.locator("[data-summary=with_regional]").inner_text()) == page.locator("article.line.has-regional").count()
    # lines without a domestic candidate are marked as such
    for art in page.locator("article.line.no-candidate").all():
        assert "Aucune alternative française trouvée" in art.inner_text()
    # each line says what product was understood and shows its suppliers
    first_line = page.locator("article.line.has-regional, article.line.national-only").first
    assert first_line.locator("table.suppliers tbody tr").count() >= 1
    # the pictures: a map with circles and a bar, each with a title
    assert page.locator("svg.map circle").count() >= 1
    assert page.locator("svg.map title").first.text_content() == "Fournisseurs proposés par département"
    assert page.locator("svg.bar rect.bar-regional, svg.bar rect.bar-national, svg.bar rect.bar-none").count() >= 1
    # confidence on every line that has suppliers, low lines flagged, plain reasons, tie notes
    with_suppliers = [a for a in page.locator("article.line").all() if a.locator("table.suppliers tbody tr").count()]
    assert with_suppliers and all(a.locator("[data-confidence]").count() >= 1 for a in with_suppliers)
    bands = {a.locator("[data-confidence]").first.get_attribute("data-confidence") for a in with_suppliers}
    assert bands <= {"high", "medium", "low"} and len(bands) >= 2  # the demo BOM has sure and unsure lines
    # plain reasons: a line read through a product says "produit → activité" (a line read from its text alone says
    # "d'après le texte")
    assert any("→" in a.locator("ul.reasons li").first.inner_text() for a in with_suppliers)
    assert page.locator("table.suppliers [data-tie]").count() >= 1
    # a supplier of an activity shown as an "autre piste" says so (Roulettes: a plastics maker, 22.23Z)
    assert page.locator("ul.reasons li", has_text="autre piste").count() >= 1
    (artifacts_dir / "bom-results.html").write_text(page.content(), encoding="utf-8")
    page.screenshot(path=str(artifacts_dir / "bom-results.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1366, "height": 2200})

    # feedback on the first proposed supplier: "pertinent" with a comment (fetch, no reload)
    form = first_line.locator("form.fb").first
    siret = form.locator("input[name=siret]").get_attribute("value")
    form.locator("input[name=comment]").fill("Appelé, fabrique bien ce produit")
    form.get_by_role("button", name="Pertinent", exact=True).click()
    expect(form.locator("output")).to_contain_text("Avis enregistré : Pertinent")
    expect(form.get_by_role("button", name="Pertinent", exact=True)).to_have_attribute("aria-pressed", "true")
    assert "/boms/" + job_id == page.url.split(url, 1)[1]  # enhanced with fetch: no navigation
    fbs = live_service.store.list_feedback(job_id=job_id)
    assert [(f.siret, f.label, f.comment) for f in fbs] == [(siret, "relevant", "Appelé, fabrique bien ce produit")]

    # XLSX export opens with openpyxl and holds one row per (line, supplier)
    with page.expect_download() as dl_info:
        page.get_by_role("link", name="Télécharger (XLSX)").click()
    dl = dl_info.value
    target = artifacts_dir / "bom-results.xlsx"
    dl.save_as(str(target))
    wb = openpyxl.load_workbook(io.BytesIO(target.read_bytes()), read_only=True)
    ws = wb.active
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert "siret" in header and "tier" in header
    data_rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(data_rows) >= n_lines
    assert siret in {r[header.index("siret")] for r in data_rows}
    _only_own_origin(page, url)

    # another organisation's advisor cannot see this BOM
    other_token, _ = live_service.store.create_key("other", org="Autre agence")
    page.context.clear_cookies()
    _sign_in(page, url, other_token, "/boms")
    assert job_id not in page.content()
    resp = page.goto(f"{url}/boms/{job_id}")
    assert resp.status == 404
