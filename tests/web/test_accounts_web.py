"""Accounts through the real app and a real SQLite store (no browser): password sign-in, the same
answer for unknown and wrong, lockout, expired and revoked sessions, sign-out everywhere, who sees
which BOM, and the admin page (admins only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.accounts import account_sessions, accounts_of
from api.main import create_app
from api.settings import Settings
from api.store import utcnow

PW = "a long enough password"
LINES = [{"row": 1, "description": "vis M3"}]


def _app(tmp_path: Path, **kw):
    base = dict(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}", catalog=str(tmp_path / "no-catalog"),
                auth="keys", rate_limit_per_minute=0, password_time_cost=1, password_memory_kib=1024,
                lockout_attempts=3, signin_per_minute=0)
    base.update(kw)
    return create_app(Settings(**base))


@pytest.fixture()
def app(tmp_path: Path):
    return _app(tmp_path)


@pytest.fixture()
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _alert(html: str) -> str:
    m = re.search(r'role="alert">([^<]*)<', html)
    return unescape(m.group(1)) if m else ""


def _post_signin(c: TestClient, email: str, password: str, next_path: str = "/boms"):
    csrf = _csrf(c.get("/signin").text)
    return c.post("/signin", data={"csrf": csrf, "email": email, "password": password, "next": next_path},
                  follow_redirects=False)


def _sign_in(c: TestClient, email: str, password: str = PW) -> None:
    r = _post_signin(c, email, password)
    assert r.status_code == 303 and r.headers["location"] == "/boms", _alert(r.text)


def _session(c: TestClient) -> dict:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(c.app.state.web_secret, salt="relocmatch-web-session").loads(
        c.cookies.get("relocmatch_session"))


def _accounts(c: TestClient):
    return accounts_of(c.app)


def test_password_sign_in_opens_a_server_side_session(client):
    _accounts(client).create("alice@ad.fr", PW, role="advisor", org="AD Grand Est", name="Alice")
    _sign_in(client, "Alice@AD.fr")
    session = _session(client)
    assert set(session) == {"csrf", "sid"}
    page = client.get("/boms")
    assert page.status_code == 200 and "Alice (AD Grand Est)" in page.text and "Se déconnecter partout" in page.text
    with client.app.state.store.engine.connect() as conn:  # the database holds only the token's hash
        ids = [r.id for r in conn.execute(account_sessions.select())]
    assert session["sid"] not in ids and len(ids) == 1


def test_sign_in_form_is_csrf_protected(client):
    _accounts(client).create("alice@ad.fr", PW, role="advisor")
    r = client.post("/signin", data={"csrf": "forged", "email": "alice@ad.fr", "password": PW})
    assert r.status_code == 403


def test_unknown_email_and_wrong_password_get_the_same_answer(client):
    _accounts(client).create("alice@ad.fr", PW, role="advisor")
    unknown = _post_signin(client, "nobody@ad.fr", "wrong password!!")
    wrong = _post_signin(client, "alice@ad.fr", "wrong password!!")
    assert unknown.status_code == wrong.status_code == 401
    assert _alert(unknown.text) == _alert(wrong.text) and "refusé" in _alert(wrong.text)
    assert unknown.text.replace("nobody@ad.fr", "X") == wrong.text.replace("alice@ad.fr", "X")


def test_a_locked_account_is_refused_with_the_right_password_until_an_admin_unlocks(client):
    acc = _accounts(client)
    acc.create("admin@ad.fr", PW, role="admin")
    acc.create("lou@ad.fr", PW, role="advisor", org="AD")
    for _ in range(3):  # lockout_attempts=3
        assert _post_signin(client, "lou@ad.fr", "wrong password!!").status_code == 401
    refused = _post_signin(client, "lou@ad.fr", PW)
    assert refused.status_code == 401 and "verrouillé" in _alert(refused.text)
    assert acc.get("lou@ad.fr").locked
    # the admin unlocks it from the admin page
    _sign_in(client, "admin@ad.fr")
    admin = client.get("/admin").text
    assert re.search(r'data-email="lou@ad.fr">.*?verrouillé', admin, re.S)
    lou = acc.get("lou@ad.fr")
    r = client.post(f"/admin/accounts/{lou.id}/unlock", data={"csrf": _csrf(admin)})
    assert r.status_code == 200 and not acc.get("lou@ad.fr").locked
    client.cookies.clear()
    _sign_in(client, "lou@ad.fr")


def test_an_expired_session_is_refused_and_says_so(client):
    _accounts(client).create("exp@ad.fr", PW, role="advisor", org="AD")
    _sign_in(client, "exp@ad.fr")
    assert client.get("/boms", follow_redirects=False).status_code == 200
    with client.app.state.store._tx() as conn:  # idle for longer than session_idle_minutes (60)
        conn.execute(account_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=61)))
    r = client.get("/boms", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fboms&expired=1"
    assert "Votre session a expiré" in unescape(client.get(r.headers["location"]).text)
    assert client.get("/boms", follow_redirects=False).status_code == 303  # dropped, not only refused once


def test_absolute_expiry_ends_a_session_in_use(client):
    _accounts(client).create("abs@ad.fr", PW, role="advisor")
    _sign_in(client, "abs@ad.fr")
    with client.app.state.store._tx() as conn:
        conn.execute(account_sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/boms", follow_redirects=False).status_code == 303


def test_sign_out_revokes_the_session_on_the_server(client):
    _accounts(client).create("so@ad.fr", PW, role="advisor")
    _sign_in(client, "so@ad.fr")
    stolen = client.cookies.get("relocmatch_session")
    r = client.post("/signout", data={"csrf": _csrf(client.get("/boms").text)}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    client.cookies.set("relocmatch_session", stolen)  # a copy of the cookie taken before signing out
    assert client.get("/boms", follow_redirects=False).status_code == 303


def test_sign_out_everywhere_ends_the_other_browsers_sessions(app):
    with TestClient(app, base_url="http://127.0.0.1") as a, TestClient(app, base_url="http://127.0.0.1") as b:
        accounts_of(app).create("ev@ad.fr", PW, role="advisor")
        _sign_in(a, "ev@ad.fr")
        _sign_in(b, "ev@ad.fr")
        assert b.get("/boms", follow_redirects=False).status_code == 200
        a.post("/signout", data={"csrf": _csrf(a.get("/boms").text), "everywhere": "1"})
        assert b.get("/boms", follow_redirects=False).status_code == 303
        assert a.get("/boms", follow_redirects=False).status_code == 303


def test_roles_see_their_boms_only(client):
    acc = _accounts(client)
    store = client.app.state.store
    acc.create("admin@ad.fr", PW, role="admin")
    adv = acc.create("adv@ad.fr", PW, role="advisor", org="AD").principal()
    other = acc.create("other@x.fr", PW, role="advisor", org="Autre").principal()
    co = acc.create("co@acme.fr", PW, role="company", org="AD").principal()
    co2 = acc.create("co2@beta.fr", PW, role="company", org="AD").principal()
    jobs = {name: store.create_job(p, data=b"x", lines=LINES, filename=f"{name}.csv")
            for name, p in (("adv", adv), ("other", other), ("co", co), ("co2", co2))}
    _, keyp = store.create_key("service", org="AD")
    jobs["key"] = store.create_job(keyp, data=b"x", lines=LINES, filename="key.csv")
    expect = {
        "adv@ad.fr": {"adv", "co", "co2", "key"},  # the organisation's, companies' and services' included
        "co@acme.fr": {"co"},
        "other@x.fr": {"other"},
        "admin@ad.fr": {"adv", "other", "co", "co2", "key"},
    }
    for email, visible in expect.items():
        client.cookies.clear()
        _sign_in(client, email)
        listing = client.get("/boms").text
        assert {n for n in jobs if f">{n}.csv<" in listing} == visible, email
        for name, job in jobs.items():
            want = 200 if name in visible else 404
            assert client.get(f"/boms/{job.id}").status_code == want, (email, name)
            assert client.get(f"/boms/{job.id}/status.json").status_code == want, (email, name)


def test_the_admin_page_is_for_admins_only(client):
    acc = _accounts(client)
    store = client.app.state.store
    acc.create("adv@ad.fr", PW, role="advisor", org="AD")
    acc.create("co@acme.fr", PW, role="company", org="AD")
    token, keyp = store.create_key("advisor-key", org="AD")
    assert client.get("/admin", follow_redirects=False).status_code == 303  # a visitor: sign in first
    for email in ("adv@ad.fr", "co@acme.fr", None):
        client.cookies.clear()
        if email:
            _sign_in(client, email)
        else:
            csrf = _csrf(client.get("/signin").text)
            assert client.post("/signin", data={"csrf": csrf, "key": token, "next": "/boms"},
                               follow_redirects=False).status_code == 303
        page = client.get("/boms").text
        assert 'href="/admin' not in page
        assert client.get("/admin").status_code == 403
        csrf = _csrf(page)
        r = client.post("/admin/accounts", data={"csrf": csrf, "email": "evil@x.fr", "role": "admin",
                                                  "password": PW})
        assert r.status_code == 403 and acc.get("evil@x.fr") is None
        victim = acc.get("adv@ad.fr")
        assert client.post(f"/admin/accounts/{victim.id}/disable", data={"csrf": csrf}).status_code == 403
        assert client.post(f"/admin/keys/{keyp.key_id}/revoke", data={"csrf": csrf}).status_code == 403
    assert not acc.get("adv@ad.fr").disabled and store.get_principal(keyp.key_id) is not None


def test_an_admin_creates_disables_accounts_and_revokes_keys(client):
    acc = _accounts(client)
    store = client.app.state.store
    acc.create("admin@ad.fr", PW, role="admin")
    token, keyp = store.create_key("erp-connector", org="AD")
    _sign_in(client, "admin@ad.fr")
    page = client.get("/admin")
    assert page.status_code == 200 and "erp-connector" in page.text and token.split(".", 1)[1] not in page.text
    row = re.search(rf'<tr data-key="{keyp.key_id}">(.*?)</tr>', page.text, re.S).group(1)
    assert f"rmk_{keyp.key_id}." in row and '<td class="role">service</td>' in row and "AD" in row
    csrf = _csrf(page.text)
    # creation: a weak password is refused with the reason, then the account is made
    r = client.post("/admin/accounts", data={"csrf": csrf, "email": "new@ad.fr", "role": "advisor", "org": "AD",
                                             "password": "short"})
    assert r.status_code == 422 and "at least 12 characters" in unescape(r.text) and acc.get("new@ad.fr") is None
    r = client.post("/admin/accounts", data={"csrf": csrf, "email": "new@ad.fr", "role": "advisor", "org": "AD",
                                             "name": "New", "password": PW})
    assert r.status_code == 200 and "Compte new@ad.fr créé" in unescape(r.text)
    new = acc.get("new@ad.fr")
    assert (new.role, new.org, new.name) == ("advisor", "AD", "New")
    # without the CSRF token nothing happens
    assert client.post(f"/admin/accounts/{new.id}/disable", data={"csrf": "forged"}).status_code == 403
    assert not acc.get("new@ad.fr").disabled
    # disable: the account's open session ends and it cannot sign in
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        _sign_in(other, "new@ad.fr")
        client.post(f"/admin/accounts/{new.id}/disable", data={"csrf": csrf})
        assert acc.get("new@ad.fr").disabled
        assert other.get("/boms", follow_redirects=False).status_code == 303
        assert _post_signin(other, "new@ad.fr", PW).status_code == 401
    # revoke the key: the API refuses it at once in this process
    assert client.get("/v1/boms", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = client.post(f"/admin/keys/{keyp.key_id}/revoke", data={"csrf": csrf})
    assert r.status_code == 200 and re.search(rf'data-key="{keyp.key_id}">.*?révoquée', r.text, re.S)
    assert client.get("/v1/boms", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    actions = [a["action"] for a in store.list_audit()]
    assert {"account.create", "account.disable", "key.revoke"} <= set(actions)


def test_sign_in_attempts_are_rate_limited_per_client(tmp_path):
    with TestClient(_app(tmp_path, signin_per_minute=2), base_url="http://127.0.0.1") as c:
        assert _post_signin(c, "x@ad.fr", "wrong password!!").status_code == 401
        assert _post_signin(c, "x@ad.fr", "wrong password!!").status_code == 401
        r = _post_signin(c, "x@ad.fr", "wrong password!!")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
