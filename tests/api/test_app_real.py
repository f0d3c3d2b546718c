"""Every endpoint through the real app with the REAL Matcher over the REAL IREP catalog.

The catalog is built once per session (``irep_catalog_dir``), the matcher loaded once
(lexical channels, see conftest). The database is SQLite here (PostgreSQL is exercised
by test_store.py and test_app_mechanics.py).
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.store import Store

BOMS = "boms"


@pytest.fixture(scope="module")
def service(real_matcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = f"sqlite:///{tmp_path_factory.mktemp('api_real') / 'db.sqlite3'}"
    store = Store(url)
    store.create_all()
    key, _ = store.create_key("advisor", "ADEME Grand Est")
    settings = Settings(database_url=url, catalog="/nonexistent", job_poll_s=0.2)
    with TestClient(create_app(settings, matcher=real_matcher), raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}, store
    store.dispose()


def _wait(c: TestClient, url: str, h: dict[str, str], timeout: float = 300) -> dict:
    end = time.monotonic() + timeout
    while True:
        body = c.get(url, headers=h).json()
        if body["status"] in ("done", "failed") or time.monotonic() > end:
            return body
        time.sleep(0.2)


def test_health_ready_openapi_and_docs(service: Any) -> None:
    c, _, _ = service
    assert c.get("/health").json() == {"status": "ok"}
    r = c.get("/ready")
    assert r.status_code == 200 and r.json() == {"ready": True, "catalog": True, "database": True, "limits": "process",
                                             "detail": None}
    spec = c.get("/openapi.json").json()
    for path in ("/v1/match", "/v1/boms", "/v1/boms/{job_id}", "/v1/boms/{job_id}/export", "/v1/search",
                 "/v1/suppliers/{siret}", "/v1/codes/{code}", "/v1/feedback", "/health", "/ready"):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "swagger-ui" in c.get("/docs").text.lower()


def test_match_bearings_finds_bearing_makers(service: Any) -> None:
    c, h, _ = service
    r = c.post("/v1/match", headers=h, json={
        "lines": [{"description": "roulements à billes", "code": "8482.10", "annual_value_eur": 120000}],
        "region": "44", "buyer": "57463", "top": 5,
    })
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["lines"] == 1 and body["catalog"]
    line = body["lines"][0]
    assert line["status"] == "matched" and line["input"]["code"] == "848210"
    assert any(a["naf"] == "28.15Z" for a in line["activities"])  # CN 8482 -> NACE 28.15 (official tables)
    sups = line["suppliers"]
    assert 1 <= len(sups) <= 5 and [s["rank"] for s in sups] == list(range(1, len(sups) + 1))
    assert all(len(s["siret"]) == 14 and s["tier"] in ("regional", "national") for s in sups)
    assert all(0.0 <= s["score"] <= 1.0 for s in sups)
    # supplier lookup of what was proposed
    s0 = sups[0]
    r = c.get(f"/v1/suppliers/{s0['siret']}", headers=h)
    assert r.status_code == 200 and r.json()["siret"] == s0["siret"] and r.json()["name"] == s0["name"]
    assert c.get("/v1/suppliers/00000000000000", headers=h).status_code == 404
    assert c.get("/v1/suppliers/123", headers=h).status_code == 422


def test_match_twenty_lines_and_top_n(service: Any) -> None:
    c, h, _ = service
    texts = ["vis inox M6", "tôle d'acier laminée", "granulés de polyéthylène", "carton ondulé", "moteur électrique"] * 4
    r = c.post("/v1/match", headers=h, json={"lines": [{"description": t} for t in texts], "top": 2})
    assert r.status_code == 200
    lines = r.json()["lines"]
    assert [ln["line"] for ln in lines] == list(range(1, 21))
    assert all(len(ln["suppliers"]) <= 2 for ln in lines)
    assert sum(ln["status"] == "matched" for ln in lines) >= 10


def test_search_and_codes(service: Any) -> None:
    c, h, _ = service
    r = c.get("/v1/search", headers=h, params={"q": "roulements", "naf": "28.15Z", "region": "44", "top": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["activities"][0]["naf"] == "28.15Z"
    assert all(s["naf"] == "28.15Z" for s in body["suppliers"])
    r = c.get("/v1/search", headers=h, params={"q": "emballages carton"})
    assert r.status_code == 200 and r.json()["suppliers"]
    assert c.get("/v1/search", headers=h, params={"q": ""}).status_code == 422
    r = c.get("/v1/codes/8482.10", headers=h)
    assert r.status_code == 200
    ex = r.json()
    assert ex["code"] == "848210" and ex["system"] == "HS6"
    assert "28.15Z" in [n["naf"] for n in ex["naf"]]
    assert c.get("/v1/codes/abc", headers=h).status_code == 422


def test_bom_upload_job_export_feedback_delete(service: Any, data_dir: Path) -> None:
    c, h, store = service
    src = data_dir / BOMS / "bancthermique__Nomenclature.csv"
    r = c.post("/v1/boms", headers=h, files={"file": (src.name, src.read_bytes(), "text/csv")},
               data={"region": "44", "top": "3"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and job["progress"]["total"] > 0
    assert "description" in job["layout"]["columns"]  # the detected layout comes back
    done = _wait(c, r.headers["location"], h)
    assert done["status"] == "done", done
    assert done["progress"]["done"] == done["progress"]["total"]
    res = done["result"]
    assert len(res["lines"]) == done["progress"]["total"]
    matched = [ln for ln in res["lines"] if ln["suppliers"]]
    assert matched and all(len(ln["suppliers"]) <= 3 for ln in matched)

    r = c.get(f"/v1/boms/{job['id']}/export", headers=h, params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) >= len(res["lines"]) and {"siret", "name", "tier", "score"} <= set(rows[0])
    r = c.get(f"/v1/boms/{job['id']}/export", headers=h, params={"format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert c.get(f"/v1/boms/{job['id']}/export", headers=h, params={"format": "pdf"}).status_code == 422

    ln = matched[0]
    r = c.post("/v1/feedback", headers=h, json={
        "job_id": job["id"], "line": ln["line"], "siret": ln["suppliers"][0]["siret"], "label": "contacted",
        "comment": "appel le 12/11",
    })
    assert r.status_code == 201, r.text
    assert r.json()["line_text"] == ln["input"]["description"]
    assert [f["id"] for f in c.get("/v1/feedback", headers=h).json()["feedback"]][0] == r.json()["id"]
    assert (ln["input"]["description"], ln["suppliers"][0]["siret"], "contacted") in store.feedback_for_training()

    assert c.delete(f"/v1/boms/{job['id']}", headers=h).status_code == 204
    assert c.get(f"/v1/boms/{job['id']}", headers=h).status_code == 404


def test_bom_json_lines_and_bom_errors(service: Any) -> None:
    c, h, _ = service
    r = c.post("/v1/boms", headers=h, json={"lines": [{"description": "=HYPERLINK(\"http://x\")", "code": "7318"}]})
    assert r.status_code == 202
    done = _wait(c, f"/v1/boms/{r.json()['id']}", h)
    assert done["status"] == "done"
    r = c.get(f"/v1/boms/{done['id']}/export", headers=h, params={"format": "csv"})
    assert "'=HYPERLINK" in r.content.decode("utf-8-sig")
    r = c.post("/v1/boms", headers=h, files={"file": ("empty.csv", b"")})
    assert r.status_code == 422 and "empty" in r.json()["detail"] and r.json()["problems"] == []
    r = c.post("/v1/boms", headers=h, files={"file": ("m.csv", "désignation;code\nvis;7318\n".encode())},
               data={"mapping": '{"description": "nope"}'})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    r = c.post("/v1/boms", headers=h, files={"file": ("m.csv", b"d\nx\n")}, data={"mapping": "[1]"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "mapping"]


def test_match_service_and_no_producer_lines(service: Any) -> None:
    """A hire is a service (service activities, service providers); cocoa beans and guarding have
    no producer / provider in the IREP catalog and say so instead of listing ten suppliers."""
    c, h, _ = service
    r = c.post("/v1/match", headers=h, json={"lines": [
        {"description": "Location chariot élévateur 2,5 t (mensuel)"},
        {"description": "Fèves de cacao brutes", "code": "1801.00"},
        {"description": "Prestation de gardiennage du site"},
    ], "top": 5})
    assert r.status_code == 200, r.text
    hire, cocoa, guard = r.json()["lines"]
    assert hire["status"] == "matched" and hire["kind"] == "service"
    assert hire["products"][0]["system"] == "CPA"
    assert hire["suppliers"] and all(s["naf"].startswith("77.") for s in hire["suppliers"][:3])
    assert cocoa["status"] == "no_producer" and cocoa["kind"] == "goods" and not cocoa["suppliers"]
    assert any("01.27Z" in w and "aucun producteur" in w for w in cocoa["warnings"])
    assert guard["status"] == "no_producer" and guard["kind"] == "service"
    assert any("aucun prestataire" in w for w in guard["warnings"])
    summary = r.json()["summary"]
    assert summary["no_producer"] == 2 and summary["services"] == 2
