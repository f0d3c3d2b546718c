"""The observatory endpoints through the real app and a real database (SQLite file, and
PostgreSQL when RELOCMATCH_TEST_POSTGRES_URL is set): the hand-computed fixture of
test_observatory.py, entered event by event over HTTP, gives the same indicators."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


def _db_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=_db_params())
def make_client(request, tmp_path):
    from api.main import create_app
    from api.settings import Settings

    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.sqlite3'}"
    else:
        # CI starts this server (.ci/run); a missing server is a failure, not a skip
        url = os.environ.get("RELOCMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"obs_{uuid.uuid4().hex[:10]}"
    clients = []

    def make(auth: str = "none") -> TestClient:
        app = create_app(Settings(database_url=url, database_schema=schema, auth=auth, catalog=str(tmp_path / "none")),
                         matcher=object())
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        if schema:
            c.app.state.store.drop_schema()
        c.__exit__(None, None, None)


def test_indicators_over_http_match_the_hand_computed_fixture(make_client, load_fixture):
    client = make_client()
    load_fixture(client)
    r = client.get("/v1/observatory/indicators")
    assert r.status_code == 200, r.text
    body = r.json()
    s = body["summary"]
    # same hand computation as test_observatory.py
    assert s["imported_value_eur"] == 1_000_000.0
    assert (s["share_regional"], s["share_national"], s["share_none"]) == (0.32, 0.43, 0.25)
    assert (s["relocations"], s["relocations_regional"], s["relocations_national"]) == (3, 2, 1)
    assert s["share_relocated"] == 0.295 and s["progress"] == 0.006
    assert [m["contracted"] for m in body["by_month"]] == [0, 1, 1, 1]
    assert [c["hs2"] for c in body["by_chapter"]] == ["85", "39", "84", "40", "73"]
    it = next(o for o in body["by_origin"] if o["origin_country"] == "IT")
    assert it["share_regional"] is None  # unknown value: no share, and valid JSON (no NaN)

    one = client.get("/v1/observatory/indicators", params={"company": "ACME-MECA"}).json()["summary"]
    assert one["scope"] == "ACME-MECA" and one["imported_value_eur"] == 300_000.0

    fu = client.get("/v1/observatory/followups/BETA-AUTO/3").json()
    assert fu["stage"] == "contracted" and fu["events"][-1]["supplier_tier"] == "national"
    assert len(client.get("/v1/observatory/followups").json()) == 9


def test_transitions_are_enforced_by_the_api(make_client, load_fixture):
    client = make_client()
    load_fixture(client)
    # ACME-MECA 1 is contracted: closed
    r = client.post("/v1/observatory/followups/ACME-MECA/1/events", json={"stage": "contacted", "on": "2026-05-01"})
    assert r.status_code == 409 and "cannot go from contracted to contacted" in r.json()["detail"]
    # GAMMA-PLAST 1 is at quote: dated before the quote -> refused
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events",
                    json={"stage": "abandoned", "on": "2026-03-01", "reason": "price"})
    assert r.status_code == 409 and "before the previous one" in r.json()["detail"]
    # abandoned without a reason / reason outside the list
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events", json={"stage": "abandoned", "on": "2026-04-01"})
    assert r.status_code == 422
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events",
                    json={"stage": "abandoned", "on": "2026-04-01", "reason": "weather"})
    assert r.status_code == 422
    # contracted without a supplier
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events", json={"stage": "contracted", "on": "2026-04-01"})
    assert r.status_code == 422
    r = client.post("/v1/observatory/followups/NOBODY/1/events", json={"stage": "proposed", "on": "2026-04-01"})
    assert r.status_code == 404
    # a valid close
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events",
                    json={"stage": "contracted", "on": "2026-04-02", "supplier_siret": "90000000000128",
                          "supplier_tier": "regional", "value_moved_eur": 300000})
    assert r.status_code == 201 and r.json()["stage"] == "contracted"
    s = client.get("/v1/observatory/indicators").json()["summary"]
    assert s["relocations"] == 4 and s["value_moved_eur"] == 595_000.0


def test_report_download_is_a_valid_xlsx(make_client, load_fixture):
    client = make_client()
    load_fixture(client)
    r = client.get("/v1/observatory/report.xlsx")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert "Summary" in wb.sheetnames and "By month" in wb.sheetnames
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["relocations"] == 3


def test_organisations_see_only_their_own_lines(make_client, load_fixture):
    client = make_client(auth="keys")
    store = client.app.state.store
    tok_a, _ = store.create_key("advisor A", org="CCI Moselle")
    tok_b, _ = store.create_key("advisor B", org="AD Grand Est")
    ha, hb = {"Authorization": f"Bearer {tok_a}"}, {"Authorization": f"Bearer {tok_b}"}
    assert client.get("/v1/observatory/indicators").status_code == 401
    load_fixture(client, ha)
    assert client.get("/v1/observatory/indicators", headers=hb).json()["summary"]["lines"] == 0
    assert client.get("/v1/observatory/followups/ACME-MECA/1", headers=hb).status_code == 404
    r = client.post("/v1/observatory/followups/GAMMA-PLAST/1/events", headers=hb,
                    json={"stage": "abandoned", "on": "2026-04-01", "reason": "price"})
    assert r.status_code == 404
    r = client.post("/v1/observatory/lines", headers=hb, json={"lines": [{"company": "ACME-MECA", "line": 1}]})
    assert r.status_code == 403
    assert client.get("/v1/observatory/indicators", headers=ha).json()["summary"]["lines"] == 9
