"""GET/POST /v1/sites/match and the observatory link, on the real app with keys."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def api(tmp_path_factory, cartofriches_register):
    from api.main import create_app
    from api.settings import Settings

    db = tmp_path_factory.mktemp("sitesdb") / "s.sqlite3"
    settings = Settings(database_url=f"sqlite:///{db}", catalog="unused", auth="keys", rate_limit_per_minute=0,
                        sites=str(cartofriches_register[0]))
    app = create_app(settings, matcher=object())  # the sites endpoints never touch the supplier engine
    with TestClient(app) as client:
        token, _ = app.state.store.create_key("advisor", org="AD Grand Est")
        other, _ = app.state.store.create_key("other", org="Elsewhere")
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, app, other


PROJECT = {"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4, "region": "44",
           "constraints": {"rail_within_km": 5}}


def test_post_and_get_agree(api):
    client, _, _ = api
    r = client.post("/v1/sites/match", json={**PROJECT, "top": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["sites"]) == 5 and all(s["region_code"] == "44" for s in body["sites"])
    g = client.get("/v1/sites/match", params={"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4,
                                                "region": "44", "rail_within_km": 5, "top": 5})
    assert g.status_code == 200
    assert [s["site_id"] for s in g.json()["sites"]] == [s["site_id"] for s in body["sites"]]
    one = client.get(f"/v1/sites/{body['sites'][0]['site_id']}")
    assert one.status_code == 200 and one.json()["region"] == "44"
    assert client.get("/v1/sites/nope_0").status_code == 404


def test_bom_result_inline_or_by_job(api):
    client, app, _ = api
    from api.store import Principal

    bom = {"lines": [{"line": 1, "status": "matched", "input": {"annual_value_eur": 1000, "origin_country": "CN"},
                      "suppliers": [{"siret": "1" * 14, "commune_code": "57463"}]}]}
    r = client.post("/v1/sites/match", json={**PROJECT, "bom_result": bom, "top": 3})
    assert r.status_code == 200 and r.json()["supply_chain"]["imported_lines"] == 1
    assert all(s["supply"] is not None for s in r.json()["sites"])
    # the same result stored as one of the caller's finished jobs
    store = app.state.store
    token = client.headers["Authorization"].split()[1]
    p: Principal = store.verify_key(token)
    job = store.create_job(p, data=b"x", lines=[{"description": "x"}], filename="b.csv")
    assert store.claim(job.id, "w") and store.finish_job(job.id, "w", bom)
    r2 = client.post("/v1/sites/match", json={**PROJECT, "job_id": job.id, "top": 3})
    assert r2.status_code == 200 and r2.json()["sites"] == r.json()["sites"]
    assert client.post("/v1/sites/match", json={**PROJECT, "job_id": "0" * 32}).status_code == 404
    both = client.post("/v1/sites/match", json={**PROJECT, "job_id": job.id, "bom_result": bom})
    assert both.status_code == 422 and both.json()["detail"][0]["field"] == "job_id"


@pytest.mark.parametrize(("body", "field"), [
    ({**PROJECT, "activity": "99.99Z"}, "activity"),
    ({**PROJECT, "surface_ha_min": -1}, "surface_ha_min"),
    ({**PROJECT, "region": "99"}, "region"),
    ({**PROJECT, "departements": ["999"]}, "departements.0"),
    ({**PROJECT, "constraints": {"rail_within_km": "far"}}, "constraints.rail_within_km"),
    ({**PROJECT, "colour": "blue"}, "colour"),
])
def test_wrong_input_is_422_naming_the_field(api, body, field):
    client, _, _ = api
    r = client.post("/v1/sites/match", json=body)
    assert r.status_code == 422
    assert any(d.get("field") == field for d in r.json()["detail"]), r.json()


def test_keys_exports_and_openapi(api):
    client, _, _ = api
    anon = client.post("/v1/sites/match", json=PROJECT, headers={"Authorization": ""})
    assert anon.status_code == 401
    csv_ = client.get("/v1/sites/match", params={"activity": "28.96Z", "surface_ha_min": 1, "region": "44",
                                                  "format": "csv", "top": 3})
    assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
    lines = csv_.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("rank,site_id,name") and len(lines) == 4
    x = client.post("/v1/sites/match?format=xlsx&lang=en", json={**PROJECT, "top": 2})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/sites/match", "/v1/sites/{site_id}", "/v1/observatory/site-choices", "/v1/observatory/sites"} <= set(paths)
    assert {"get", "post"} <= set(paths["/v1/sites/match"])


def test_register_missing_is_503(tmp_path):
    from api.main import create_app
    from api.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", catalog="unused", auth="none",
                        sites=str(tmp_path / "none"))
    with TestClient(create_app(settings, matcher=object())) as c:
        r = c.post("/v1/sites/match", json=PROJECT)
        assert r.status_code == 503 and "relocmatch sites build" in r.json()["detail"]


def test_observatory_counts_relocations_and_hectares_by_type_and_departement(api, register):
    client, app, other = api
    t = register.table
    picks = t[(t["region"] == "44") & (t["site_type"] == "industrielle")].head(2)
    park = t[(t["region"] == "44") & (t["site_type"] == "logistique")].head(1)
    sites = [*picks["site_id"], *park["site_id"]]
    companies = ["ACME", "BETA", "GAMMA"]
    r = client.post("/v1/observatory/lines", json={"lines": [{"company": c, "line": 1, "annual_value_eur": 1000}
                                                             for c in companies]})
    assert r.status_code == 201
    for c, sid in zip(companies, sites, strict=True):
        r = client.post("/v1/observatory/site-choices", json={"company": c, "site_id": sid, "on": "2026-11-30"})
        assert r.status_code == 201, r.text
    # a partial surface is recorded as given
    r = client.post("/v1/observatory/site-choices", json={"company": "GAMMA", "site_id": sites[2], "on": "2026-12-01",
                                                          "surface_m2": 5000})
    assert r.status_code == 201 and r.json()["surface_m2"] == 5000
    assert client.post("/v1/observatory/site-choices", json={"company": "NOBODY", "site_id": sites[0],
                                                             "on": "2026-12-01"}).status_code == 404
    rep = client.get("/v1/observatory/sites").json()
    rows = {(x["site_type"], x["departement"]): x for x in rep["rows"]}
    expected: dict = {}
    for sid, surface in [(sites[0], None), (sites[1], None), (sites[2], 5000.0)]:
        s = register.site(sid)
        key = (s["site_type"], s["departement"])
        n, ha = expected.get(key, (0, 0.0))
        expected[key] = (n + 1, ha + (surface or s["surface_m2"]) / 10_000)
    for key, (n, ha) in expected.items():
        assert rows[key]["relocations"] == n and rows[key]["hectares"] == pytest.approx(ha, abs=0.01)
    assert rows[("total", "")]["relocations"] == 3
    # another organisation sees none of it and cannot overwrite it
    h = {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/observatory/sites", headers=h).json()["rows"] == []
    assert client.post("/v1/observatory/site-choices", headers=h,
                       json={"company": "ACME", "site_id": sites[1], "on": "2026-12-02"}).status_code == 404
    # the XLSX report carries the same breakdown on its "sites" sheet
    x = client.get("/v1/observatory/report.xlsx")
    assert x.status_code == 200
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(x.content))["sites"]
    got = {(r[0], r[1] or ""): r[2] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert got[("total", "")] == 3
    json.dumps(rep)  # JSON-safe
