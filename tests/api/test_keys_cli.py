"""`relocmatch keys list [--json]` and `relocmatch keys revoke KEY_ID` (issue 16): what an operator
sees of each key (never its secret or hash), and a revocation the store and the audit log keep."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.store import Store
from matching.cli import app


def _store(tmp_path: Path) -> tuple[str, Store]:
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    store = Store(url)
    store.create_all()
    return url, store


def test_keys_list_shows_every_key_without_secrets(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("RELOCMATCH_REDIS_URL", raising=False)
    url, store = _store(tmp_path)
    t1, p1 = store.create_key("erp-connector", "AD")
    t2, p2 = store.create_key("ops", None, admin=True)
    store.audit(p1, "read", "job-1")  # an audited use of the first key
    store.revoke_key(p2.key_id)
    store.dispose()
    r = CliRunner().invoke(app, ["keys", "list", "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    rows = {k["id"]: k for k in json.loads(r.stdout)}
    assert set(rows) == {p1.key_id, p2.key_id}
    a, b = rows[p1.key_id], rows[p2.key_id]
    assert (a["name"], a["org"], a["role"], a["state"], a["prefix"]) == ("erp-connector", "AD", "service", "active",
                                                                        f"rmk_{p1.key_id}.")
    assert a["last_used_at"] is not None and a["revoked_at"] is None and a["created_at"]
    assert (b["role"], b["admin"], b["state"], b["last_used_at"]) == ("admin", True, "revoked", None)
    assert b["revoked_at"] is not None
    table = CliRunner().invoke(app, ["keys", "list", "--database-url", url])
    assert table.exit_code == 0 and p1.key_id in table.stdout and "erp-connector" in table.stdout
    for out in (r.stdout, table.stdout):
        for token in (t1, t2):
            assert token.split(".", 1)[1] not in out  # never the secret


def test_keys_revoke_refuses_the_key_and_writes_an_audit_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("RELOCMATCH_REDIS_URL", raising=False)
    url, store = _store(tmp_path)
    token, p = store.create_key("erp", "AD")
    r = CliRunner().invoke(app, ["keys", "revoke", p.key_id, "--database-url", url])
    assert r.exit_code == 0, r.output
    assert f"revoked key {p.key_id} (erp)" in r.stdout
    assert store.verify_key(token) is None
    lines = [a for a in store.list_audit() if a["action"] == "key.revoke"]
    assert len(lines) == 1 and lines[0]["target"] == p.key_id and lines[0]["actor"].startswith("cli")
    again = CliRunner().invoke(app, ["keys", "revoke", p.key_id, "--database-url", url])
    assert again.exit_code == 0 and "already revoked" in again.stdout
    assert len([a for a in store.list_audit() if a["action"] == "key.revoke"]) == 1
    unknown = CliRunner().invoke(app, ["keys", "revoke", "0" * 16, "--database-url", url])
    assert unknown.exit_code == 1 and "no API key with id" in unknown.output and "keys list" in unknown.output
    store.dispose()
