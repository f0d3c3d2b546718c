"""Observatory test helpers: loading the hand-made fixture through the HTTP API."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


def load_fixture_over_http(client: Any, headers: dict | None = None) -> None:
    """POST the fixture's 9 lines, then its 21 events in order (each must be accepted)."""
    with open(FIX / "lines.csv", encoding="utf-8") as fh:
        lines = [
            {"company": r["company"], "line": int(r["line"]), "description": r["description"], "code": r["code"],
             "origin_country": r["origin_country"],
             "annual_value_eur": float(r["annual_value_eur"]) if r["annual_value_eur"] else None,
             "buyer_naf": r["buyer_naf"], "best_tier": None if r["best_tier"] == "none" else r["best_tier"]}
            for r in csv.DictReader(fh)
        ]
    r = client.post("/v1/observatory/lines", json={"lines": lines}, headers=headers or {})
    assert r.status_code == 201, r.text
    assert r.json() == {"tracked": 9}
    with open(FIX / "events.csv", encoding="utf-8") as fh:
        for e in csv.DictReader(fh):
            body = {"stage": e["stage"], "on": e["date"], "note": e["note"]}
            for k in ("reason", "supplier_siret", "supplier_tier"):
                if e[k]:
                    body[k] = e[k]
            if e["value_moved_eur"]:
                body["value_moved_eur"] = float(e["value_moved_eur"])
            r = client.post(f"/v1/observatory/followups/{e['company']}/{e['line']}/events", json=body, headers=headers or {})
            assert r.status_code == 201, r.text


@pytest.fixture
def load_fixture():
    return load_fixture_over_http
