"""Issue 14, defect 1: text is cleaned once where it enters, numbers are bounded, the spec says
what the server accepts. Each test reproduces a server error (500) or a spec gap found by fuzzing.

The input rule (matching/textclean.py): tab, LF, CR kept; VT, FF, U+001C-U+001F and NEL become
a space; every other C0/C1 control (NUL included) and DEL are removed; identifiers (company)
refuse control characters with 422 instead of being cleaned.
"""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.main import create_app
from matching.bom import read_bom
from matching.textclean import clean_text, is_clean

ALL_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("vis\tinox\r\nA2", "vis\tinox\r\nA2"),  # tab, CR, LF are text
        ("vis\x0binox", "vis inox"),  # vertical tab: a line break inside an ERP cell
        ("vis\x0cinox\x1c\x1d\x1e\x1fA2\x85", "vis inox    A2 "),  # FF, information separators, NEL
        ("ACME\x00", "ACME"),  # NUL removed
        ("\x01\x02\x07\x08\x1b[0mbell", "[0mbell"),  # other C0 removed
        ("a\x7fb\x80c\x9fd", "abcd"),  # DEL and C1 removed
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("Désignation – ß ø 中文 ", "Désignation – ß ø 中文 "),  # everything else untouched, even spaces
    ],
)
def test_the_input_rule(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert is_clean(clean_text(raw))
    assert clean_text(clean) == clean  # idempotent


def test_no_control_character_survives_the_rule() -> None:
    out = clean_text(ALL_CONTROLS)
    assert set(out) <= {"\t", "\n", "\r", " "}
    assert "\x00" not in out


def test_bom_reading_cleans_every_cell() -> None:
    data = "Désignation;Code\nvis\x0binox A2;7318.15\nroulement\x01 à billes\x00;8482.10\n".encode()
    read = read_bom(data, filename="erp.csv")
    assert [ln.description for ln in read.items] == ["vis inox A2", "roulement à billes"]
    # JSON escapes decode to control characters after the text is decoded: cleaned too
    read = read_bom(b'[{"description": "vis\\u000binox", "code": "7318.15"}]', filename="erp.json")
    assert read.items[0].description == "vis inox"


def _wait_done(c: TestClient, url: str, h: dict[str, str]) -> dict[str, Any]:
    for _ in range(300):
        body = c.get(url, headers=h).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job not finished: {body}")


@pytest.fixture
def client(db, fake_matcher_cls, key_for, bearer):  # type: ignore[no-untyped-def]
    store = db.store()
    store.create_all()
    key = key_for(store, "alice", "org-a")
    store.dispose()
    app = create_app(db.settings(rate_limit_per_minute=0), matcher=fake_matcher_cls())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, bearer(key)


def test_csv_with_a_vertical_tab_exports_as_xlsx(client) -> None:  # type: ignore[no-untyped-def]
    c, h = client
    csv = "\ufeffDescription;Code\nvis\x0binox A2;7318.15\nécrou\x1f M8\x00;7318.16\n".encode()
    r = c.post("/v1/boms", headers=h, files={"file": ("erp\x01.csv", csv, "text/csv")})
    assert r.status_code == 202, r.text
    job = _wait_done(c, r.headers["location"], h)
    assert job["status"] == "done"
    r = c.get(r.headers["location"] + "/export", headers=h)  # xlsx is the default
    assert r.status_code == 200, r.text
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = {str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert "vis inox A2" in cells and "écrou  M8" in cells
    assert all(is_clean(v) for v in cells)


def test_tracked_line_with_a_control_character(client) -> None:  # type: ignore[no-untyped-def]
    c, h = client
    r = c.post("/v1/observatory/lines", headers=h, json={"lines": [{"company": "ACME\u0001", "line": 0}]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "lines.0.company"
    r = c.post("/v1/observatory/lines", headers=h,
               json={"lines": [{"company": "ACME", "line": 0, "description": "vis\u0001 inox\u000b A2\u0000"}]})
    assert r.status_code == 201, r.text
    assert c.get("/v1/observatory/followups/ACME/0", headers=h).json()["description"] == "vis inox  A2"
    r = c.get("/v1/observatory/report.xlsx", headers=h)
    assert r.status_code == 200, r.text
    load_workbook(io.BytesIO(r.content))


def test_nul_anywhere_is_cleaned_or_refused_never_500(client) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL a NUL in text was a psycopg.DataError (500) in every obs_* and feedback write."""
    c, h = client
    r = c.post("/v1/observatory/lines", headers=h, json={"lines": [{"company": "ACME\u0000", "line": 1}]})
    assert r.status_code == 422
    r = c.post("/v1/observatory/lines", headers=h,
               json={"lines": [{"company": "ACME", "line": 1, "description": "a\u0000b", "buyer_naf": "28\u0000"}]})
    assert r.status_code == 201, r.text
    r = c.post("/v1/observatory/followups/ACME/1/events", headers=h,
               json={"stage": "proposed", "on": "2026-01-05", "note": "appel\u0000 du 5"})
    assert r.status_code == 201, r.text
    assert r.json()["events"][0]["note"] == "appel du 5"
    for path in ("/v1/observatory/followups/AC%00ME/1", "/v1/observatory/followups/AC%00ME/1/events"):
        r = c.request("POST" if path.endswith("events") else "GET", path, headers=h,
                      json={"stage": "contacted", "on": "2026-01-06"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "company", r.text
    r = c.get("/v1/observatory/indicators", headers=h, params={"company": "AC\x00ME"})
    assert r.status_code == 422
    r = c.post("/v1/feedback", headers=h, json={"siret": "12345678900000", "label": "relevant",
                                                 "line_text": "vis\u0000", "comment": "bien\u0000\u0007"})
    assert r.status_code == 201, r.text
    assert (r.json()["line_text"], r.json()["comment"]) == ("vis", "bien")
    r = c.get("/v1/search", headers=h, params={"q": "vis\x00 inox"})
    assert r.status_code == 200 and r.json()["input"]["description"] == "vis inox"
    r = c.post("/v1/boms", headers=h, json={"lines": [{"description": "vis\u0000"}], "filename": "a\u0000.csv"})
    assert r.status_code == 202 and r.json()["filename"] == "a.csv"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/observatory/lines", {"lines": [{"company": "A", "line": 2**63}]}, "lines.0.line"),
        ("POST", "/v1/observatory/lines", {"lines": [{"company": "A", "line": 2**31}]}, "lines.0.line"),
        ("POST", "/v1/observatory/lines", {"lines": [{"company": "A", "line": 1, "annual_value_eur": 1.7e308}]},
         "lines.0.annual_value_eur"),
        ("POST", "/v1/observatory/lines", {"lines": [{"company": "A", "line": True}]}, "lines.0.line"),
        ("POST", f"/v1/observatory/followups/A/{2**63}/events", {"stage": "proposed", "on": "2026-01-01"}, "line"),
        ("POST", "/v1/observatory/followups/A/1/events",
         {"stage": "contracted", "on": "2026-01-01", "supplier_siret": "12345678900000", "supplier_tier": "regional",
          "value_moved_eur": 1e300}, "contracted.value_moved_eur"),
        ("POST", "/v1/match", {"lines": [{"description": "vis", "annual_value_eur": False}]}, "lines.0.annual_value_eur"),
        ("POST", "/v1/match", {"lines": [{"description": "vis", "quantity": 1e14}]}, "lines.0.quantity"),
        ("POST", "/v1/match", {"lines": [{"description": "vis"}], "top": True}, "top"),
        ("POST", "/v1/match", {"lines": [{"description": "vis"}], "region": "00"}, "region"),
        ("POST", "/v1/match", {"lines": [{"description": "vis"}], "region": "977"}, "region"),
        ("POST", "/v1/boms", {"lines": [{"description": "vis"}], "region": "00"}, "region"),
        ("GET", "/v1/search?q=vis&region=00", None, "region"),
        ("GET", "/v1/search?q=vis&code=vis", None, "code"),
        ("GET", "/v1/observatory/indicators?target=99999999999", None, "target"),
    ],
)
def test_bounds_and_known_values_are_422_naming_the_field(client, method: str, path: str, body: Any,
                                                          field: str) -> None:  # type: ignore[no-untyped-def]
    c, h = client
    r = c.request(method, path, headers=h, json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["detail"]], r.json()


def test_two_huge_values_no_longer_add_up_to_infinity(client) -> None:  # type: ignore[no-untyped-def]
    c, h = client
    top = 1e13
    lines = [{"company": "A", "line": i, "annual_value_eur": top} for i in (1, 2)]
    assert c.post("/v1/observatory/lines", headers=h, json={"lines": lines}).status_code == 201
    s = c.get("/v1/observatory/indicators", headers=h).json()["summary"]
    assert s["imported_value_eur"] == 2 * top


def test_the_spec_says_what_the_server_accepts(client) -> None:  # type: ignore[no-untyped-def]
    c, h = client
    spec = c.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "BomJsonRequest" in schemas and "LineIn" in schemas  # the JSON body of POST /v1/boms resolves

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for v in node.values() for r in refs(v)]
        return [r for v in node for r in refs(v)] if isinstance(node, list) else []

    for ref in refs(spec):
        assert ref.split("/")[-1] in schemas, ref
    boms = spec["paths"]["/v1/boms"]["post"]
    assert "400" in boms["responses"]  # non-UTF-8 JSON body: 400, documented
    r = c.post("/v1/match", headers={**h, "content-type": "application/json"},
               content=b'{"lines": [{"description": "\xe9"}]}')
    assert r.status_code == 400 and "400" in spec["paths"]["/v1/match"]["post"]["responses"]
    region = schemas["MatchRequest"]["properties"]["region"]["anyOf"][0]["pattern"]
    assert "44" in region and "00" not in region
    form = boms["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["region"]["pattern"] == "^$|" + region  # an empty form field: unset
    assert "text/csv" in form["encoding"]["file"]["contentType"]
    code = spec["paths"]["/v1/codes/{code}"]["get"]["parameters"][0]["schema"]
    assert code["pattern"].startswith("^(0[1-9]")
    assert schemas["LineIn"]["properties"]["annual_value_eur"]["anyOf"][0]["maximum"] == 1e13
