"""Backup and restore (api/backup.py, `relocmatch db backup|restore`): SQLite through the online
backup API; PostgreSQL through the pg_dump/pg_restore lines the command prints, run for real."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api import backup, migrate
from api.store import Store
from matching.cli import app as cli

LINES = [{"row": 1, "description": "roulements à billes", "code": "84821010"},
         {"row": 2, "description": "vis inox M6", "code": None}]


def _fill(store: Store, n: int = 3) -> list[dict[str, Any]]:
    """Jobs in every state, each with its upload; what each should read back as."""
    _, p = store.create_key("alice", "org-a")
    out = []
    for i in range(n):
        job = store.create_job(p, data=f"bom {i}\x00\xff".encode(), lines=LINES, filename=f"bom{i}.csv",
                               content_type="text/csv", options={"top": 5})
        result = None
        if i % 3 != 2:
            assert store.claim(job.id, "w")
            if i % 3 == 0:
                result = {"lines": [{"line": {"row": 1}, "n": i}]}
                assert store.finish_job(job.id, "w", result)
            else:
                assert store.fail_job(job.id, "w", f"failed {i}")
        out.append({"id": job.id, "p": p, "result": result})
    return out


def _read_back(store: Store, jobs: list[dict[str, Any]], source: Store) -> None:
    assert {j.id for j in store.list_jobs(limit=1000)} == {j["id"] for j in jobs}
    for j in jobs:
        got, want = store.get_job(j["id"], with_lines=True), source.get_job(j["id"], with_lines=True)
        assert got == want and got is not None and got.lines == LINES
        assert store.get_result(j["id"]) == j["result"]
        assert store.get_upload(j["id"]) == source.get_upload(j["id"])
    assert {store.get_principal(j["p"].key_id) for j in jobs} == {jobs[0]["p"]}  # the key came too
    assert [a["action"] for a in store.list_audit()] == [a["action"] for a in source.list_audit()]


def test_sqlite_backup_then_restore_into_a_fresh_store_reads_every_job_back(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    live = tmp_path / "live" / "relocmatch.sqlite3"
    src = Store(f"sqlite:///{live}")
    src.create_all()
    jobs = _fill(src, 7)
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", f"sqlite:///{live}")  # found like every command finds it
    monkeypatch.delenv("RELOCMATCH_DATABASE_SCHEMA", raising=False)
    r = CliRunner().invoke(cli, ["db", "backup", str(tmp_path / "b.sqlite3")])
    assert r.exit_code == 0, r.output
    assert f"revision {migrate.head()}, 7 job(s)" in r.stdout
    assert not (tmp_path / "b.sqlite3-wal").exists()  # one self-contained file
    r = CliRunner().invoke(cli, ["db", "backup", str(tmp_path / "b.sqlite3")])
    assert r.exit_code == 1 and "exists already" in r.output  # never replaced silently

    fresh = tmp_path / "fresh" / "relocmatch.sqlite3"
    r = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "b.sqlite3"), "--database-url", f"sqlite:///{fresh}"])
    assert r.exit_code == 0, r.output
    restored = Store(f"sqlite:///{fresh}")
    assert migrate.state(restored).up_to_date
    _read_back(restored, jobs, src)
    restored.dispose()
    src.dispose()


def test_restore_refuses_a_store_with_data_without_force_and_a_foreign_or_newer_backup(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    sa_, sb = Store(f"sqlite:///{a}"), Store(f"sqlite:///{b}")
    for s in (sa_, sb):
        s.create_all()
    ja, jb = _fill(sa_, 2), _fill(sb, 1)
    bk = backup.backup_sqlite(a, tmp_path / "a.bak")
    assert bk.jobs == 2 and bk.revision == migrate.head()
    r = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "a.bak"), "--database-url", f"sqlite:///{b}"])
    assert r.exit_code == 1 and "holds data" in r.output and "--force" in r.output
    assert {j.id for j in sb.list_jobs()} == {jb[0]["id"]}  # untouched
    r = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "a.bak"), "--database-url", f"sqlite:///{b}", "--force"])
    assert r.exit_code == 0, r.output
    sb.dispose()
    sb = Store(f"sqlite:///{b}")
    _read_back(sb, ja, sa_)
    # a backup from a newer relocmatch (a revision this code does not know): refused
    newer = tmp_path / "newer.bak"
    shutil.copy(tmp_path / "a.bak", newer)
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(backup.BackupError, match="does not know"):
        backup.restore_sqlite(newer, tmp_path / "empty.sqlite3")
    # not a relocmatch store, not SQLite at all
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(backup.BackupError, match="not a relocmatch store"):
        backup.restore_sqlite(other, tmp_path / "empty.sqlite3")
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(backup.BackupError, match="not a SQLite database"):
        backup.restore_sqlite(junk, tmp_path / "empty.sqlite3")
    assert not (tmp_path / "empty.sqlite3").exists() or backup._has_data(tmp_path / "empty.sqlite3") is False
    sa_.dispose()
    sb.dispose()


def test_a_backup_of_an_older_revision_restores_and_says_to_upgrade(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = tmp_path / "old.sqlite3"
    s = Store(f"sqlite:///{old}")
    with migrate._schema_change(s) as conn:
        from alembic import command

        command.upgrade(migrate.alembic_config(conn), "0002_audit")
    s.dispose()
    r = CliRunner().invoke(cli, ["db", "restore", str(old), "--database-url", f"sqlite:///{tmp_path / 'new.sqlite3'}"])
    assert r.exit_code == 0, r.output
    assert "revision 0002_audit" in r.stdout and "relocmatch db upgrade" in r.stdout


def _pg_tools() -> None:
    if shutil.which("pg_dump") and shutil.which("pg_restore"):
        return
    if os.environ.get("CI"):
        pytest.fail("pg_dump/pg_restore not on PATH: install postgresql-client (CI must run this test)")
    pytest.skip("pg_dump/pg_restore not on PATH")


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_backup_prints_the_pg_dump_path_which_restores_every_job(db) -> None:  # type: ignore[no-untyped-def]
    _pg_tools()
    src = db.store()
    jobs = _fill(src, 4)
    dump_file = "/tmp/relocmatch-test-backup.dump"
    r = CliRunner().invoke(cli, ["db", "backup", dump_file, "--database-url", db.url, "--db-schema", db.schema])
    assert r.exit_code == 1  # nothing backed up by relocmatch itself, and it says what to run
    assert "pg_dump --format=custom" in r.stdout and f"--schema={db.schema}" in r.stdout and "pg_restore" in r.stdout
    assert "+psycopg" not in r.stdout  # libpq URLs, usable as printed
    r = CliRunner().invoke(cli, ["db", "restore", dump_file, "--database-url", db.url, "--db-schema", db.schema])
    assert r.exit_code == 1 and "pg_restore" in r.stdout

    # the printed path, run for real: dump the schema, restore it into a new database, read every job
    target_db = f"relocmatch_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(db.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{target_db}"'))
    target_url = sa.engine.make_url(db.url).set(database=target_db).render_as_string(hide_password=False)
    restored = None
    try:
        with tempfile.TemporaryDirectory() as d:
            f = str(Path(d) / "store.dump")
            dump, restore = backup.pg_commands(db.url, db.schema, f, hide_password=False, restore_url=target_url)
            subprocess.run(dump, check=True, capture_output=True, timeout=120)
            subprocess.run(restore, check=True, capture_output=True, timeout=120)
        restored = Store(target_url, schema=db.schema)
        assert migrate.state(restored).up_to_date
        _read_back(restored, jobs, src)
    finally:
        if restored is not None:
            restored.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)'))
        admin.dispose()
        src.dispose()
