"""What the schemathesis run (tests/api/test_fuzz.py, ``--checks all``) found, one regression test
each, on SQLite and PostgreSQL: the spec and the server now agree.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app


@pytest.fixture
def app_keys(db, fake_matcher_cls, key_for, bearer):  # type: ignore[no-untyped-def]
    store = db.store()
    store.create_all()
    keys = {"a": bearer(key_for(store, "alice", "org-a")), "b": bearer(key_for(store, "bob", "org-b")),
            "admin": bearer(store.create_key("root", None, admin=True)[0])}
    store.dispose()
    app = create_app(db.settings(rate_limit_per_minute=0), matcher=fake_matcher_cls())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, keys


@pytest.fixture
def spec(app_keys) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app_keys[0].get("/openapi.json").json()


# ---- ST202: JSON Schema's integer includes 3.0 --------------------------------------------------

def test_an_integer_written_with_a_zero_fraction_is_an_integer(app_keys) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    r = c.post("/v1/observatory/lines", headers=k["a"], json={"lines": [{"company": "ACME", "line": 3.0}]})
    assert r.status_code == 201, r.text
    assert c.get("/v1/observatory/followups/ACME/3", headers=k["a"]).json()["line"] == 3
    r = c.post("/v1/match", headers=k["a"], json={"lines": [{"description": "vis"}], "top": 2.0})
    assert r.status_code == 200, r.text
    assert len(r.json()["lines"][0]["suppliers"]) == 2


@pytest.mark.parametrize("bad", [3.5, True, "3", 1e300])
def test_what_is_not_a_json_integer_is_still_422(app_keys, bad: Any) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    r = c.post("/v1/observatory/lines", headers=k["a"], json={"lines": [{"company": "ACME", "line": bad}]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "lines.0.line", r.text


def test_integer_bounds_are_in_the_schema_as_minimum_and_maximum(spec: dict[str, Any]) -> None:
    line = spec["components"]["schemas"]["FeedbackIn"]["properties"]["line"]["anyOf"][0]
    assert (line["minimum"], line["maximum"], line["type"]) == (1, 10_000_000, "integer")
    assert "ge" not in line and "le" not in line
    top = spec["components"]["schemas"]["MatchRequest"]["properties"]["top"]
    assert (top["minimum"], top["maximum"]) == (1, 50)


def test_multipart_top_is_read_as_a_number_and_refused_otherwise(app_keys) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    files = {"file": ("bom.csv", b"Description\nvis inox\n", "text/csv")}
    r = c.post("/v1/boms", headers=k["a"], files=files, data={"top": "7", "region": "", "buyer": ""})
    assert r.status_code == 202, r.text
    assert r.json()["options"]["top"] == 7
    for bad in ("-1", "x", "7.5"):
        r = c.post("/v1/boms", headers=k["a"], files=files, data={"top": bad})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "top", (bad, r.text)


# ---- ST205: a 405 names every method of the path ------------------------------------------------

@pytest.mark.parametrize(("path", "allow"), [
    ("/v1/boms", "GET, POST"), ("/v1/boms/" + "0" * 32, "DELETE, GET"), ("/v1/feedback", "GET, POST"),
    ("/v1/sites/match", "GET, POST"), ("/health", "GET"),
])
def test_405_allow_lists_every_method_of_the_path(app_keys, path: str, allow: str) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    r = c.request("OPTIONS", path, headers=k["a"])
    assert r.status_code == 405
    assert r.headers["allow"] == allow


# ---- ST201: what the schema refuses, the server refuses ------------------------------------------

def test_audit_dates_are_iso_not_unix_times(app_keys) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    r = c.get("/v1/audit", headers=k["admin"], params={"until": "0.5"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "until", r.text
    assert c.get("/v1/audit", headers=k["admin"], params={"until": "2030-01-01T00:00:00Z"}).status_code == 200


def test_company_filter_is_a_plain_array(app_keys, spec: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """``anyOf [array, null]`` made schemathesis send a bare string as an invalid value; a query
    parameter cannot say null, and a bare value is the one-item array."""
    for path in ("/v1/observatory/followups", "/v1/observatory/indicators", "/v1/observatory/report.xlsx"):
        (p,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "company"]
        assert p["schema"]["type"] == "array" and "anyOf" not in p["schema"], path
    c, k = app_keys
    c.post("/v1/observatory/lines", headers=k["a"], json={"lines": [{"company": "ACME", "line": 1},
                                                                    {"company": "Bolt", "line": 1}]})
    assert len(c.get("/v1/observatory/followups", headers=k["a"]).json()) == 2
    assert [f["company"] for f in c.get("/v1/observatory/followups?company=Bolt", headers=k["a"]).json()] == ["Bolt"]
    ind = c.get("/v1/observatory/indicators?company=ACME&company=Bolt", headers=k["a"]).json()
    assert ind["summary"]["lines"] == 2, ind["summary"]


# ---- ST103: a documented 403 ---------------------------------------------------------------------

def _done_job(c: TestClient, h: dict[str, str]) -> str:
    job = c.post("/v1/boms", headers=h, json={"lines": [{"description": "vis inox"}]}).json()["id"]
    for _ in range(300):
        if c.get(f"/v1/boms/{job}", headers=h, params={"results": "false"}).json()["status"] == "done":
            return job
        time.sleep(0.05)
    raise AssertionError("job not done")


def test_tracking_a_job_over_another_organisations_lines_is_a_documented_403(app_keys, spec) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    assert c.post("/v1/observatory/lines", headers=k["a"], json={"lines": [{"company": "ACME", "line": 1}]}).status_code == 201
    r = c.post("/v1/observatory/jobs", headers=k["b"], json={"job_id": _done_job(c, k["b"]), "company": "ACME"})
    assert r.status_code == 403, r.text
    assert "403" in spec["paths"]["/v1/observatory/jobs"]["post"]["responses"]


# ---- the spec's statements the fuzzing relies on -------------------------------------------------

def test_links_lead_from_created_objects_to_their_reads(spec: dict[str, Any]) -> None:
    ops = {o["operationId"]: (p, m) for p, v in spec["paths"].items() for m, o in v.items()}
    links = spec["paths"]["/v1/boms"]["post"]["responses"]["202"]["links"]
    assert {ops[ln["operationId"]] for ln in links.values()} == {
        ("/v1/boms/{job_id}", "get"), ("/v1/boms/{job_id}/export", "get"), ("/v1/boms/{job_id}", "delete")}
    assert all(ln["parameters"] == {"job_id": "$response.body#/id"} for ln in links.values())
    tracked = spec["paths"]["/v1/observatory/lines"]["post"]["responses"]["201"]["links"]
    assert ops[tracked["GetFollowUp"]["operationId"]] == ("/v1/observatory/followups/{company}/{line}", "get")
    assert tracked["GetFollowUp"]["parameters"]["company"] == "$request.body#/lines/0/company"


def test_reference_data_values_are_named_formats_and_empty_form_fields_are_allowed(spec: dict[str, Any]) -> None:
    """A buyer code or NAF code of the right shape may still not exist (01000 is neither a commune
    nor a postcode): the schema names the domain as a format instead of promising a pattern."""
    search = {p["name"]: p["schema"] for p in spec["paths"]["/v1/search"]["get"]["parameters"]}
    assert search["buyer"]["anyOf"][0]["format"] == "insee-commune-or-postcode"
    assert search["naf"]["anyOf"][0]["format"] == "naf-rev2-subclass"
    form = spec["paths"]["/v1/boms"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["mapping"]["format"] == "bom-column-mapping" and form["sheet"]["format"] == "bom-sheet-name"
    assert {"type": "string", "maxLength": 0} in form["buyer"]["anyOf"] and form["region"]["pattern"].startswith("^$|")


def test_an_unknown_buyer_or_naf_of_the_right_shape_is_422_naming_it(real_matcher, sqlite_key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api.settings import Settings

    url, key = sqlite_key(tmp_path, "k")
    app = create_app(Settings(database_url=url, catalog="/nonexistent", rate_limit_per_minute=0), matcher=real_matcher)
    with TestClient(app, raise_server_exceptions=False) as c:
        h = {"Authorization": f"Bearer {key}"}
        r = c.get("/v1/search", headers=h, params={"q": "vis", "buyer": "01000"})
        assert r.status_code == 422 and "buyer '01000'" in r.json()["detail"], r.text
        r = c.get("/v1/search", headers=h, params={"q": "vis", "naf": "00.00A"})
        assert r.status_code == 422 and "naf '00.00A'" in r.json()["detail"], r.text
        assert c.get("/v1/search", headers=h, params={"q": "vis", "buyer": "57463", "naf": "2815Z"}).status_code == 200


# ---- ST101 (PostgreSQL): a BOM line's free-text origin no longer overflows the tracked line's column ----

def test_tracking_a_job_whose_lines_name_their_origin_in_words(app_keys) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    lines = [{"description": "vis inox", "origin_country": "Allemagne"},
             {"description": "écrou", "origin_country": "quelque part en Asie du Sud-Est, via Rotterdam"},
             {"description": "rondelle", "origin_country": "cn"}]
    job = c.post("/v1/boms", headers=k["a"], json={"lines": lines}).json()["id"]
    for _ in range(300):
        if c.get(f"/v1/boms/{job}", headers=k["a"], params={"results": "false"}).json()["status"] == "done":
            break
        time.sleep(0.05)
    r = c.post("/v1/observatory/jobs", headers=k["a"], json={"job_id": job, "company": "ACME"})
    assert r.status_code == 201, r.text  # was 500 on PostgreSQL: value too long for character varying(8)
    got = {f["line"]: f["origin_country"] for f in c.get("/v1/observatory/followups", headers=k["a"]).json()}
    assert got == {1: "DE", 2: None, 3: "CN"}


# ---- ST202: a query the input rule would empty is refused by the schema, not after it ----------

def test_a_search_of_only_removed_characters_is_refused_by_the_schema(app_keys, spec) -> None:  # type: ignore[no-untyped-def]
    import re

    (q,) = [p["schema"] for p in spec["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    assert re.search(q["pattern"], "\x01\x02") is None and re.search(q["pattern"], "\x01vis") is not None
    c, k = app_keys
    r = c.get("/v1/search", headers=k["a"], params={"q": "\x01\x02"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "q", r.text
    assert c.get("/v1/search", headers=k["a"], params={"q": "\x01vis"}).status_code == 200


# ---- ST201 (stateful): a form field the schema says is one value, sent twice ---------------------

@pytest.mark.parametrize("field", ["mapping", "region", "top"])
def test_a_multipart_option_given_twice_is_422(app_keys, field: str) -> None:  # type: ignore[no-untyped-def]
    c, k = app_keys
    values = {"mapping": ['{"description": "Description"}', '{"description": "A"}'], "region": ["44", "11"],
              "top": ["3", "4"]}[field]
    r = c.post("/v1/boms", headers=k["a"], files=[("file", ("bom.csv", b"Description\nvis inox\n", "text/csv")),
                                                   *[(field, (None, v)) for v in values]])
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text
    r = c.post("/v1/boms", headers=k["a"], files=[("file", ("bom.csv", b"Description\nvis inox\n", "text/csv")),
                                                   (field, (None, values[0]))])
    assert r.status_code == 202, r.text
