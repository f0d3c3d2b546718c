"""Access rules of the advisor pages through the real app and a real SQLite store (no browser,
no catalog: the matcher is absent, pages that do not need it must still work)."""

from __future__ import annotations

import re
from html import unescape
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings


def _client(tmp_path: Path, auth: str) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}", catalog=str(tmp_path / "no-catalog"),
                        auth=auth, rate_limit_per_minute=0)
    return TestClient(create_app(settings), base_url="http://127.0.0.1")


@pytest.fixture()
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, "keys") as c:
        yield c


@pytest.fixture()
def local(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, "none") as c:
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(c: TestClient, token: str) -> None:
    csrf = _csrf(c.get("/signin").text)
    r = c.post("/signin", data={"csrf": csrf, "key": token, "next": "/boms"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/boms"


def test_home_redirects_to_search_keeping_the_query(local):
    r = local.get("/?lang=en", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/search?lang=en"


def test_local_mode_pages_are_open(local):
    r = local.get("/boms")
    assert r.status_code == 200 and "Mode local" in r.text
    r = local.get("/search?q=roulements")
    assert r.status_code == 200 and "catalogue des fournisseurs n'est pas chargé" in unescape(r.text)


def test_keyed_mode_sends_anonymous_visitors_to_sign_in(keyed):
    for path in ("/search", "/boms", "/boms/new", "/boms/" + "a" * 32):
        r = keyed.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), path


def test_session_cookie_is_httponly_samesite_and_signed(keyed):
    token, _ = keyed.app.state.store.create_key("a", org="AD")
    csrf = _csrf(keyed.get("/signin").text)
    r = keyed.post("/signin", data={"csrf": csrf, "key": token, "next": "/boms"}, follow_redirects=False)
    set_cookie = r.headers["set-cookie"].lower()
    assert set_cookie.startswith("relocmatch_session=")
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    from itsdangerous import URLSafeTimedSerializer

    session = URLSafeTimedSerializer(keyed.app.state.web_secret, salt="relocmatch-web-session").loads(
        keyed.cookies.get("relocmatch_session"))
    assert set(session) == {"csrf", "kid"} and token.split(".", 1)[1] not in str(session)  # id only, never the secret
    assert keyed.get("/boms", follow_redirects=False).status_code == 200
    # a tampered cookie is no session at all
    value = keyed.cookies.get("relocmatch_session")
    keyed.cookies.clear()
    keyed.cookies.set("relocmatch_session", value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
    assert keyed.get("/boms", follow_redirects=False).status_code == 303


def test_wrong_key_is_refused(keyed):
    csrf = _csrf(keyed.get("/signin").text)
    r = keyed.post("/signin", data={"csrf": csrf, "key": "rmk_0000.nope"})
    assert r.status_code == 401 and "Clé inconnue" in r.text


def test_revoked_key_loses_its_session(keyed):
    store = keyed.app.state.store
    token, p = store.create_key("a", org="AD")
    _sign_in(keyed, token)
    assert keyed.get("/boms").status_code == 200
    store.revoke_key(p.key_id)
    assert keyed.get("/boms", follow_redirects=False).status_code == 303


def test_posts_without_the_session_csrf_token_are_refused(keyed):
    store = keyed.app.state.store
    token, _ = store.create_key("a", org="AD")
    # sign-in itself is protected (login CSRF)
    assert keyed.post("/signin", data={"csrf": "forged", "key": token}).status_code == 403
    _sign_in(keyed, token)
    r = keyed.post("/boms/new", data={"csrf": "forged"}, files={"file": ("a.csv", b"Designation\nvis M3\n")})
    assert r.status_code == 403
    r = keyed.post("/boms/" + "a" * 32 + "/feedback", data={"verdict": "pertinent"}, headers={"Accept": "application/json"})
    assert r.status_code == 403


def test_advisors_see_their_organisation_boms_only(keyed):
    store = keyed.app.state.store
    t1, p1 = store.create_key("alice", org="AD Grand Est")
    _, p2 = store.create_key("bob", org="AD Grand Est")
    _, p3 = store.create_key("eve", org="Autre")
    lines = [{"row": 1, "description": "vis M3"}]
    colleague = store.create_job(p2, data=b"x", lines=lines, filename="colleague.csv")
    foreign = store.create_job(p3, data=b"x", lines=lines, filename="foreign.csv")
    _sign_in(keyed, t1)
    listing = keyed.get("/boms").text
    assert "colleague.csv" in listing and "foreign.csv" not in listing
    assert keyed.get(f"/boms/{colleague.id}").status_code == 200
    assert keyed.get(f"/boms/{foreign.id}").status_code == 404
    assert keyed.get(f"/boms/{foreign.id}/status.json").status_code == 404
    assert keyed.get(f"/boms/{foreign.id}/export.xlsx").status_code == 404


def test_upload_shows_the_detected_mapping_and_confirm_creates_a_job(local, data_dir):
    csrf = _csrf(local.get("/boms/new").text)
    path = data_dir / "boms" / "bancthermique__Nomenclature.csv"
    up = local.post("/boms/new", data={"csrf": csrf, "region": "44", "buyer": "57463"},
                    files={"file": (path.name, path.read_bytes())}, follow_redirects=False)
    assert up.status_code == 303
    upload_url = up.headers["location"].split("?")[0]
    mapping = local.get(up.headers["location"])
    assert mapping.status_code == 200
    # description detected on the "Désignation" column, quantity on "Quantité", with evidence
    assert re.search(r'id="col-description".*?<option value="B" selected>B — Désignation', mapping.text, re.S)
    assert re.search(r'id="col-quantity".*?<option value="C" selected>C — Quantité', mapping.text, re.S)
    assert '<input type="hidden" name="buyer" value="57463">' in mapping.text
    # the upload is stored, not yet a job
    store = local.app.state.store
    assert store.list_jobs() == []
    r = local.post(upload_url + "/confirm",
                   data={"csrf": csrf, "region": "44", "buyer": "57463", "col_description": "B", "col_quantity": "",
                         "col_code": ""},
                   follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/boms/[0-9a-f]{32}", r.headers["location"])
    job = store.get_job(r.headers["location"].rsplit("/", 1)[1], with_lines=True)
    assert job.filename == path.name and job.upload_id == upload_url.rsplit("/", 1)[1]
    assert job.options["region"] == "44" and job.options["buyer"] == "57463"
    assert "quantity" not in job.layout["columns"]
    assert all(ln["quantity"] is None for ln in job.lines)
    # confirming the same upload twice makes no second job
    again = local.post(upload_url + "/confirm", data={"csrf": csrf, "col_description": "B"})
    assert again.status_code == 404 and len(store.list_jobs()) == 1


def test_unmapping_the_unit_price_drops_the_values_derived_from_it(local, data_dir):
    # cncfraese has Preis and Stück but no total: the value comes from unit price × quantity, unless
    # the advisor says the file has no unit-price column
    csrf = _csrf(local.get("/boms/new").text)
    path = data_dir / "boms" / "cncfraese__Stueckliste.xlsx"
    up = local.post("/boms/new", data={"csrf": csrf, "region": "44"},
                    files={"file": (path.name, path.read_bytes())}, follow_redirects=False)
    upload_url = up.headers["location"].split("?")[0]
    store = local.app.state.store

    def confirm(**cols: str):
        r = local.post(upload_url + "/confirm", data={"csrf": csrf, "region": "44", **cols}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return store.get_job(r.headers["location"].rsplit("/", 1)[1], with_lines=True)

    mapping = local.get(up.headers["location"]).text
    price_col = re.search(r'id="col-unit_price".*?<option value="([A-Z]+)" selected>', mapping, re.S).group(1)
    job = confirm(col_unit_price="")
    assert "unit_price" not in job.layout["columns"]
    items = [ln for ln in job.lines if ln["status"] != "skipped"]
    assert len(items) == 12 and all(ln["annual_value_eur"] is None for ln in items)
    assert any("unit_price column: none" in n for n in job.layout["notes"])
    # kept, the same column gives the derived values
    up2 = local.post("/boms/new", data={"csrf": csrf, "region": "44"},
                     files={"file": (path.name, path.read_bytes())}, follow_redirects=False)
    upload_url = up2.headers["location"].split("?")[0]
    job2 = confirm(col_unit_price=price_col)
    items2 = [ln for ln in job2.lines if ln["status"] != "skipped"]
    assert items2[0]["annual_value_eur"] == pytest.approx(45.0)  # NEMA17: Preis 15 × Stück 3


def test_an_upload_is_confirmed_only_by_its_owner(keyed, data_dir):
    store = keyed.app.state.store
    t1, p1 = store.create_key("alice", org="AD")
    t2, _ = store.create_key("bob", org="AD")
    pid = store.create_upload(p1, data=(data_dir / "boms" / "bancthermique__Nomenclature.csv").read_bytes(),
                              filename="b.csv")
    _sign_in(keyed, t2)
    assert keyed.get(f"/boms/uploads/{pid}").status_code == 404
    r = keyed.post(f"/boms/uploads/{pid}/confirm", data={"csrf": _csrf(keyed.get("/boms").text)})
    assert r.status_code == 404 and store.list_jobs() == []


def test_unreadable_upload_says_why(local):
    csrf = _csrf(local.get("/boms/new").text)
    r = local.post("/boms/new", data={"csrf": csrf}, files={"file": ("empty.csv", b"   \n")})
    assert r.status_code == 422 and "Le fichier n'a pas pu être lu" in unescape(r.text)


def test_language_toggle_sets_a_cookie(local):
    r = local.get("/search?lang=en")
    assert '<html lang="en">' in r.text and "relocmatch_lang=en" in r.headers["set-cookie"]
    assert '<html lang="en">' in local.get("/boms").text
    assert '<html lang="fr">' in local.get("/boms?lang=fr").text


def test_static_assets_are_served_and_nothing_else(local):
    assert local.get("/web-static/web.css").status_code == 200
    assert local.get("/web-static/../routes.py").status_code == 404
    assert local.get("/web-static/routes.py").status_code == 404


def test_progress_page_has_a_progress_bar_a_json_status_and_a_no_js_refresh(local):
    from api.store import LOCAL_PRINCIPAL

    local.app.state.runner.stop()  # keep the job queued while we look at it
    store = local.app.state.store
    job = store.create_job(LOCAL_PRINCIPAL, data=b"x", lines=[{"row": 2, "description": "vis M3"},
                                                             {"row": 3, "description": "écrou M3"}], filename="p.csv")
    html = local.get(f"/boms/{job.id}").text
    assert '<progress id="prog" max="2" value="0">' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert f'data-poll="/boms/{job.id}/status.json"' in html
    st = local.get(f"/boms/{job.id}/status.json").json()
    assert (st["state"], st["done"], st["total"]) == ("queued", 0, 2)
    # a failed job says why, and stops refreshing
    store.fail_job(job.id, None, "interrupted: runner stopped")
    html = local.get(f"/boms/{job.id}").text
    assert "L'analyse a échoué" in unescape(html) and "interrupted: runner stopped" in html
    assert 'http-equiv="refresh"' not in html
    # no export before results exist
    assert local.get(f"/boms/{job.id}/export.xlsx").status_code == 409
