"""POST /v1/match carries each line's calibrated confidence; a gibberish line is low_confidence
with its suppliers kept and the reason, and the summary counts it (real matcher, IREP catalog)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.store import Store


@pytest.fixture(scope="module")
def service(real_matcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = f"sqlite:///{tmp_path_factory.mktemp('api_conf') / 'db.sqlite3'}"
    store = Store(url)
    store.create_all()
    key, _ = store.create_key("advisor", "ADEME Grand Est")
    settings = Settings(database_url=url, catalog="/nonexistent", job_poll_s=0.2)
    with TestClient(create_app(settings, matcher=real_matcher), raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}
    store.dispose()


def test_match_lines_carry_confidence_and_low_confidence_status(service: Any) -> None:
    c, h = service
    r = c.post("/v1/match", headers=h, json={"lines": [
        {"description": "Roulement à billes", "code": "8482.10"},
        {"description": "qxv zzkr brumf"},
        {"description": "Fèves de cacao brutes", "code": "1801.00"},
    ], "top": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    bearing, junk, cocoa = body["lines"]
    assert bearing["status"] == "matched" and bearing["confidence"]["band"] == "high"
    assert 0.8 < bearing["confidence"]["probability"] <= 1.0
    assert junk["status"] == "low_confidence" and junk["confidence"]["band"] == "low"
    assert junk["suppliers"] and any("à vérifier" in w and "check these suppliers" in w for w in junk["warnings"])
    assert cocoa["status"] == "no_producer"  # abstention keeps precedence
    assert body["summary"]["low_confidence"] == 1 and body["summary"]["no_producer"] == 1
    assert body["summary"]["confidence"]["low"] >= 1


def test_openapi_documents_the_confidence(service: Any) -> None:
    c, _ = service
    schemas = c.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ConfidenceOut"]["properties"]) >= {"probability", "band"}
    assert "confidence" in schemas["LineOut"]["properties"]
