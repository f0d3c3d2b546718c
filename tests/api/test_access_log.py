"""Structured access logs: one JSON object per request with its request id (FakeMatcher: mechanics)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.middleware import JsonLogFormatter


def test_access_log_is_json_with_request_id_and_key(db, fake_matcher_cls, key_for, bearer, caplog) -> None:  # type: ignore[no-untyped-def]
    if db.kind != "sqlite":
        pytest.skip("logging does not depend on the database")
    store = db.store()
    store.create_all()
    key = key_for(store, "alice")
    kid = store.verify_key(key).key_id
    with TestClient(create_app(db.settings(), matcher=fake_matcher_cls())) as c, \
            caplog.at_level(logging.INFO, logger="relocmatch.access"):
        r = c.post("/v1/match", json={"lines": [{"description": "vis"}]},
                   headers={**bearer(key), "X-Request-ID": "abc-123"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
        c.get("/v1/boms/" + "0" * 32, headers=bearer(key))
    recs = [rec for rec in caplog.records if rec.name == "relocmatch.access"]
    lines = [json.loads(JsonLogFormatter().format(rec)) for rec in recs]
    first = next(x for x in lines if x["path"] == "/v1/match")
    assert first["request_id"] == "abc-123" and first["status"] == 200 and first["method"] == "POST"
    assert first["key_id"] == kid and first["ms"] >= 0 and first["level"] == "info"
    miss = next(x for x in lines if x["path"].startswith("/v1/boms/"))
    assert miss["status"] == 404 and len(miss["request_id"]) == 32
    store.dispose()
