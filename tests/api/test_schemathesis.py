"""Property-based API conformance: schemathesis against /openapi.json, through the real app
with the real Matcher over the IREP catalog. No 5xx, and every response conforms to the
documented status codes, content types, headers and schemas.

Scope: the operations this area owns (/v1 match, boms, search, suppliers, codes, feedback,
/health, /ready); other areas' routes get their own runs. Examples are bounded.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.settings import Settings

MINE = r"^/(health|ready|v1/(match|boms|search|suppliers|codes|feedback))"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def live_app(real_matcher: Any, tmp_path_factory: pytest.TempPathFactory, sqlite_key: Any) -> Any:
    url, key = sqlite_key(tmp_path_factory.mktemp("schemathesis"), "schemathesis")
    app = create_app(Settings(database_url=url, catalog="/nonexistent", rate_limit_per_minute=0, job_poll_s=0.2,
                              sync_timeout_s=60), matcher=real_matcher)
    with TestClient(app):  # runs the lifespan: store, runner, matcher on app.state
        yield app, key


def test_api_conforms_to_its_openapi(live_app: Any) -> None:
    """Every owned operation, a bounded number of generated requests each (with a valid key)."""
    from hypothesis import given

    app, key = live_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=MINE)
    failures: list[str] = []
    ran = 0
    calls: list[int] = []
    for result in schema.get_all_operations():
        op = result.ok()
        ran += 1

        @given(case=op.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case: Any) -> None:
            resp = case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
            calls.append(resp.status_code)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures, report them together
            failures.append(f"{op.method.upper()} {op.path}: {exc!r}\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert ran >= 10
    assert len(calls) >= 5 * ran, f"only {len(calls)} requests were generated"

    # Second pass: path parameters naming things that exist (a finished job, a proposed supplier,
    # a real code), so the success responses are checked against their schemas too.
    from fastapi.testclient import TestClient as _TC

    h = {"Authorization": f"Bearer {key}"}
    c = _TC(app)  # no `with`: the module fixture's lifespan (store, runner) is the one running
    match = c.post("/v1/match", headers=h, json={"lines": [{"description": "roulements à billes", "code": "8482.10"}]})
    siret = match.json()["lines"][0]["suppliers"][0]["siret"]
    job_id = c.post("/v1/boms", headers=h, json={"lines": [{"description": "vis inox"}]}).json()["id"]
    for _ in range(600):
        if c.get(f"/v1/boms/{job_id}", headers=h).json()["status"] == "done":
            break
        time.sleep(0.1)
    known = {"siret": siret, "code": "8482.10", "job_id": job_id}
    ok: list[int] = []
    ops = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: o.method == "delete")
    for op in ops:
        names = [n for n in known if "{" + n + "}" in op.path]
        if not names:
            continue

        @given(case=op.as_strategy(path_parameters={n: known[n] for n in names}))
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run_known(case: Any) -> None:
            resp = case.call_and_validate(headers=h, checks=CHECKS)
            ok.append(resp.status_code)

        try:
            run_known()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{op.method.upper()} {op.path} (existing ids): {exc!r}\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert ok.count(200) >= 4, ok  # codes, supplier, job, export answered with content
    assert not failures, "\n\n".join(failures)
