"""Schema migrations (api/migrate.py, api/migrations): on SQLite and the real PostgreSQL.

A store created by the pre-migration code (the frozen copy tests/api/legacy_store_0001.py,
its ``create_all`` and its own methods writing keys, jobs, results, feedback and observatory
lines) is recognised, stamped 0001_initial, upgraded to head, and every row reads back.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import migrate
from api.main import create_app
from api.store import Store, metadata
from matching.cli import app as cli


def _dump(engine: sa.Engine, md: sa.MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ``md`` (its columns only), in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for t in md.sorted_tables:
            rows = conn.execute(sa.select(*t.c).order_by(*t.primary_key.columns)).all()
            out[t.name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    return out


def _fill_legacy(legacy: Any, url: str, schema: str | None) -> dict[str, Any]:
    """A store made by the pre-migration code, with one of everything in it."""
    from matching.observatory import FollowUpEvent, TrackedLine

    s = legacy.Store(url, schema=schema)
    s.create_all()
    token, p = s.create_key("acme", "ACME SAS")
    lines = [{"row": 1, "description": "roulements à billes", "code": "84821010"},
             {"row": 2, "description": "vis inox M6", "code": None}]
    done = s.create_job(p, data=b"description;code\nroulements;84821010\n", lines=lines, filename="bom.csv",
                        content_type="text/csv", layout={"format": "csv"}, options={"top": 5, "region": "44"})
    assert s.claim(done.id, "w1")
    result = {"lines": [{"line": {"row": 1}, "suppliers": [{"siret": "12345678900012", "score": 0.9}]}]}
    assert s.finish_job(done.id, "w1", result)
    queued = s.create_job(p, data=b"\x00\xffbinary", lines=lines[:1], filename="nomenclature.xlsx")
    pending = s.create_upload(p, data=b"pending bytes", filename="pending.ods")
    fb = s.record_feedback(p, siret="12345678900012", label="relevant", job_id=done.id, line=1, comment="bon contact")
    legacy.obs_upsert_lines(s, p, [TrackedLine(company="ACME", line=1, annual_value_eur=12000.5, origin_country="CN",
                                               code="84821010", best_tier="regional", description="roulements")],
                            job_id=done.id)
    legacy.obs_add_event(s, p, "ACME", 1, FollowUpEvent(stage="proposed", on=date(2026, 11, 2), note="premier"))
    rows = _dump(s.engine, legacy.metadata)
    s.dispose()
    assert all(rows[t] for t in rows), {t: len(r) for t, r in rows.items()}  # one of everything
    return {"token": token, "principal": p, "done": done.id, "queued": queued.id, "pending": pending,
            "feedback": fb.id, "result": result, "rows": rows}


def _no_drift(store: Store, md: sa.MetaData) -> list[Any]:
    with store.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), md)


def test_legacy_store_with_data_is_stamped_upgraded_and_loses_nothing(empty_db, legacy_store) -> None:  # type: ignore[no-untyped-def]
    before = _fill_legacy(legacy_store, empty_db.url, empty_db.schema)
    store = empty_db.store()
    st = migrate.state(store)
    assert st.legacy and not st.up_to_date and "before migrations" in st.describe()
    was, now = migrate.upgrade(store)
    assert was.legacy and now.up_to_date and now.current == migrate.head()
    # every row of every pre-migration table, every pre-migration column, unchanged
    assert _dump(store.engine, legacy_store.metadata) == before["rows"]
    # and the current code reads them
    p = store.verify_key(before["token"])
    assert p is not None and (p.name, p.org) == ("acme", "ACME SAS")
    job = store.get_job(before["done"], p, with_lines=True)
    assert job is not None and job.status == "done" and job.filename == "bom.csv" and len(job.lines) == 2
    assert store.get_result(before["done"], p) == before["result"]
    assert store.get_upload(before["queued"], p) == ("nomenclature.xlsx", None, b"\x00\xffbinary")
    assert store.pending_upload(before["pending"], p) == ("pending.ods", None, b"pending bytes")
    assert [f.id for f in store.list_feedback(owner=p)] == [before["feedback"]]
    from api.store import obs_records

    tracked, fus = obs_records(store, p)
    assert [(t.company, t.line, t.annual_value_eur) for t in tracked] == [("ACME", 1, 12000.5)]
    assert [e.note for e in fus[0].events] == ["premier"]
    # 0002_audit: who did it, backfilled from the key; admin false for existing keys
    lines = {(a["action"], a["target"]): a for a in store.list_audit()}
    assert (lines[("job.create", before["done"])]["actor"], lines[("job.create", before["done"])]["org"]) == (
        f"key:{p.key_id}", "ACME SAS")
    assert lines[("key.create", p.key_id)]["actor"] == "cli"
    assert lines[("feedback.create", before["feedback"])]["actor"] == f"key:{p.key_id}"
    assert p.admin is False
    # and writes work on the upgraded schema
    assert store.claim(before["queued"], "w2")
    assert _no_drift(store, metadata) == []
    store.dispose()


def test_baseline_revision_is_the_pre_migration_schema(empty_db, legacy_store) -> None:  # type: ignore[no-untyped-def]
    store = empty_db.store()
    store.create_pg_schema()
    with migrate._schema_change(store) as conn:
        command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
    assert migrate.state(store).current == migrate.BASELINE
    assert _no_drift(store, legacy_store.metadata) == []
    store.dispose()


def test_revisions_from_nothing_build_exactly_the_metadata_and_go_back_down(empty_db) -> None:  # type: ignore[no-untyped-def]
    store = empty_db.store()
    store.create_pg_schema()
    with migrate._schema_change(store) as conn:
        command.upgrade(migrate.alembic_config(conn), "head")
    assert _no_drift(store, metadata) == []  # `alembic check`: the metadata needs no new revision
    with migrate._schema_change(store) as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    with store.engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    store.dispose()


def test_a_new_store_is_created_at_head_without_drift(empty_db) -> None:  # type: ignore[no-untyped-def]
    store = empty_db.store()
    assert migrate.state(store).empty
    store.create_all()  # the path keys create, tests and the service take
    assert migrate.state(store).up_to_date
    assert _no_drift(store, metadata) == []
    store.create_all()  # idempotent
    store.dispose()


def test_two_processes_upgrading_at_once_upgrade_once(empty_db, legacy_store) -> None:  # type: ignore[no-untyped-def]
    before = _fill_legacy(legacy_store, empty_db.url, empty_db.schema)
    errors: list[BaseException] = []
    stores = [empty_db.store() for _ in range(2)]

    def run(s: Store) -> None:
        try:
            s.create_all()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert migrate.state(stores[0]).up_to_date
    assert _dump(stores[0].engine, legacy_store.metadata) == before["rows"]
    for s in stores:
        s.dispose()


def test_a_revision_from_a_newer_version_is_refused_untouched(empty_db) -> None:  # type: ignore[no-untyped-def]
    store = empty_db.store()
    store.create_all()
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(migrate.StoreSchemaError, match="does not know"):
        store.create_all()
    with pytest.raises(migrate.StoreSchemaError, match="does not know"):
        migrate.upgrade(store)
    assert migrate.state(store).current == "9999_future"
    store.dispose()


def _legacy_only(legacy: Any, db: Any) -> None:
    s = legacy.Store(db.url, schema=db.schema)
    s.create_all()
    s.create_key("acme")
    s.dispose()


def test_service_start_upgrades_or_refuses_naming_the_command(empty_db, legacy_store, fake_matcher_cls) -> None:  # type: ignore[no-untyped-def]
    _legacy_only(legacy_store, empty_db)
    refused = create_app(empty_db.settings(auto_migrate="never"), matcher=fake_matcher_cls())
    with pytest.raises(migrate.StoreSchemaError, match=r"relocmatch db upgrade"):
        with TestClient(refused):
            pass
    assert migrate.state(empty_db.store()).legacy  # refused: not touched
    # the default: SQLite upgraded at start, PostgreSQL refused (several hosts may share it)
    default = create_app(empty_db.settings(), matcher=fake_matcher_cls())
    if empty_db.kind == "sqlite":
        with TestClient(default) as client:
            assert client.get("/ready").json()["database"] is True
        assert migrate.state(empty_db.store()).up_to_date
    else:
        with pytest.raises(migrate.StoreSchemaError, match=r"relocmatch db upgrade"):
            with TestClient(default):
                pass
        always = create_app(empty_db.settings(auto_migrate="always"), matcher=fake_matcher_cls())
        with TestClient(always):
            pass
        assert migrate.state(empty_db.store()).up_to_date


def test_db_current_and_upgrade_commands(empty_db, legacy_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _legacy_only(legacy_store, empty_db)
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", empty_db.url)  # found the way every command finds it
    if empty_db.schema:
        monkeypatch.setenv("RELOCMATCH_DATABASE_SCHEMA", empty_db.schema)
    r = CliRunner().invoke(cli, ["db", "current"])
    assert r.exit_code == 1 and "before migrations" in r.stdout
    r = CliRunner().invoke(cli, ["db", "upgrade"])
    assert r.exit_code == 0 and f"now at {migrate.head()}" in r.stdout, r.output
    r = CliRunner().invoke(cli, ["db", "current"])
    assert r.exit_code == 0 and r.stdout.startswith(migrate.head()) and "up to date" in r.stdout
    r = CliRunner().invoke(cli, ["db", "upgrade"])
    assert r.exit_code == 0 and "already at" in r.stdout


def test_default_store_location_is_the_services(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from api.store_url import store_location

    monkeypatch.delenv("RELOCMATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("RELOCMATCH_DATABASE_SCHEMA", raising=False)
    assert store_location() == (Settings().database_url, None) == ("sqlite:///var/relocmatch.sqlite3", None)
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert store_location()[0].endswith("x.sqlite3")
    assert store_location("sqlite:///given.sqlite3")[0] == "sqlite:///given.sqlite3"
