"""Accounts in a real headless Chromium (Debian's), the must-show of issue 14: an advisor signs in
with a password, sees their organisation's BOMs only and signs out; a company account sees only its
own; a locked account is refused (then unlocked by an admin on /admin); an expired session is refused.
Every request the pages make must go to the service itself."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PW = "Mot de passe assez long 2026"
ORG = "AD Grand Est"


def _sample_result():
    spec = importlib.util.spec_from_file_location("web_sample_result", Path(__file__).with_name("sample_result.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("web_sample_result", mod)
    spec.loader.exec_module(mod)
    return mod.sample_result()


@pytest.fixture(scope="module")
def people(accounts_service):
    """Accounts and BOMs: two advisors of two organisations, two companies followed by the first
    organisation, an admin, and one finished BOM uploaded by each of the four."""
    from api.accounts import accounts_of

    store = accounts_service.store
    acc = accounts_of(accounts_service.app)
    p = {
        "admin": acc.create("admin@region-ge.fr", PW, role="admin", name="Admin"),
        "advisor": acc.create("claire@ad-grandest.fr", PW, role="advisor", org=ORG, name="Claire"),
        "other": acc.create("paul@autre-agence.fr", PW, role="advisor", org="Autre agence", name="Paul"),
        "company": acc.create("achats@acme-metz.fr", PW, role="company", org=ORG, name="ACME Metz"),
        "company2": acc.create("achats@beta-nancy.fr", PW, role="company", org=ORG, name="Beta Nancy"),
        "locked": acc.create("lou@ad-grandest.fr", PW, role="advisor", org=ORG, name="Lou"),
    }
    result = _sample_result()
    jobs = {}
    for who in ("advisor", "other", "company", "company2"):
        job = store.create_job(p[who].principal(), data=b"x", lines=[{"row": 2, "description": "roulements"}],
                               filename=f"bom-{who}.xlsx")
        assert store.claim(job.id, "browser-test") and store.finish_job(job.id, "browser-test", result)
        jobs[who] = job.id
    return p, jobs


@pytest.fixture()
def page(browser, accounts_service):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    pg = ctx.new_page()
    pg.requested = []
    pg.on("request", lambda req: pg.requested.append(req.url))
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def _only_own_origin(page, origin: str) -> None:
    foreign = [u for u in page.requested if not u.startswith(origin + "/")]
    assert page.requested, "no request recorded"
    assert not foreign, f"requests to other hosts: {foreign}"


def _fill_signin(page, email: str, password: str) -> None:
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def _sign_in(page, url: str, email: str, next_path: str = "/boms") -> None:
    page.goto(url + next_path)
    assert "/signin" in page.url  # not signed in yet: sent to the sign-in page
    _fill_signin(page, email, PW)
    page.wait_for_url(url + next_path)


def _listed(page) -> set[str]:
    return {a.inner_text() for a in page.locator("main table tbody tr td:first-child a").all()}


def test_advisor_signs_in_with_a_password_sees_the_organisation_boms_only_and_signs_out(
        page, accounts_service, people, artifacts_dir):
    url = accounts_service.url
    _p, jobs = people
    _sign_in(page, url, "Claire@AD-GrandEst.fr")
    assert page.locator("header.site").get_by_text(f"Claire ({ORG})").is_visible()
    # the organisation's BOMs (the companies it follows included), not another organisation's
    assert _listed(page) == {"bom-advisor.xlsx", "bom-company.xlsx", "bom-company2.xlsx"}
    page.screenshot(path=str(artifacts_dir / "accounts-advisor-boms.png"), full_page=True)
    page.get_by_role("link", name="bom-company.xlsx").click()
    page.wait_for_url(f"{url}/boms/{jobs['company']}")
    assert page.locator("[data-summary=lines]").is_visible()
    assert page.goto(f"{url}/boms/{jobs['other']}").status == 404
    assert page.goto(f"{url}/admin").status == 403  # not an admin
    # sign out: the session is over, the pages ask for a sign-in again
    page.goto(url + "/boms")
    page.get_by_role("button", name="Se déconnecter", exact=True).click()
    page.wait_for_url(re.compile(re.escape(url) + r"/signin"))
    page.goto(url + "/boms")
    assert "/signin" in page.url
    _only_own_origin(page, url)


def test_company_account_sees_only_its_own_uploads(page, accounts_service, people, artifacts_dir):
    url = accounts_service.url
    _p, jobs = people
    _sign_in(page, url, "achats@acme-metz.fr")
    assert _listed(page) == {"bom-company.xlsx"}
    page.screenshot(path=str(artifacts_dir / "accounts-company-boms.png"), full_page=True)
    for other in ("company2", "advisor", "other"):  # same organisation or not: not its own
        assert page.goto(f"{url}/boms/{jobs[other]}").status == 404, other
    assert page.goto(f"{url}/boms/{jobs['company']}").status == 200
    assert page.goto(f"{url}/admin").status == 403
    _only_own_origin(page, url)


def test_a_locked_account_is_refused_until_an_admin_unlocks_it(page, accounts_service, people, artifacts_dir):
    from playwright.sync_api import expect

    url = accounts_service.url
    page.goto(url + "/boms")
    for _ in range(3):  # lockout_attempts=3
        _fill_signin(page, "lou@ad-grandest.fr", "pas le bon mot de passe")
        expect(page.get_by_role("alert")).to_contain_text("refusé")
    _fill_signin(page, "lou@ad-grandest.fr", PW)  # the right password, now refused
    expect(page.get_by_role("alert")).to_contain_text("verrouillé")
    assert "/signin" in page.url
    assert page.goto(url + "/boms").url.startswith(url + "/signin")
    page.screenshot(path=str(artifacts_dir / "accounts-locked.png"), full_page=True)

    # the admin sees the lock on /admin and resets it
    _sign_in(page, url, "admin@region-ge.fr", "/admin")
    row = page.locator('tr[data-email="lou@ad-grandest.fr"]')
    expect(row.locator("td.state")).to_contain_text("verrouillé")
    page.screenshot(path=str(artifacts_dir / "accounts-admin.png"), full_page=True)
    row.get_by_role("button", name="Déverrouiller").click()
    expect(page.locator('tr[data-email="lou@ad-grandest.fr"] td.state')).to_have_text("actif")
    page.context.clear_cookies()
    _sign_in(page, url, "lou@ad-grandest.fr")
    _only_own_origin(page, url)


def test_an_expired_session_is_refused(page, accounts_service, people):
    from playwright.sync_api import expect

    from api.accounts import account_sessions
    from api.store import utcnow

    url = accounts_service.url
    p, _jobs = people
    _sign_in(page, url, "paul@autre-agence.fr")
    assert _listed(page) == {"bom-other.xlsx"}
    store = accounts_service.store
    with store._tx() as conn:  # 61 minutes without a request (idle expiry: 60 minutes)
        conn.execute(account_sessions.update().where(account_sessions.c.account_id == p["other"].id)
                     .values(last_seen_at=utcnow() - timedelta(minutes=61)))
    page.reload()
    assert "/signin" in page.url and "expired=1" in page.url
    expect(page.get_by_role("status")).to_contain_text("Votre session a expiré")
    # signed in again, then the absolute limit passes while the session is in use
    _fill_signin(page, "paul@autre-agence.fr", PW)
    page.wait_for_url(url + "/boms")
    with store._tx() as conn:
        conn.execute(account_sessions.update().where(account_sessions.c.account_id == p["other"].id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    page.goto(url + "/boms")
    assert "/signin" in page.url
    _only_own_origin(page, url)
