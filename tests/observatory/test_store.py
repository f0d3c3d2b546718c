"""Observatory records in the API store (SQLite here; the HTTP tests also run on PostgreSQL):
tracking a finished job's lines, and `relocmatch observatory report --db` reading them back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from api.store import LOCAL_PRINCIPAL, Store, obs_add_event, obs_records, obs_track_job, obs_upsert_lines
from matching.cli import app
from matching.observatory import FollowUpError, read_followups, read_tracked_lines

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'obs.sqlite3'}")
    s.create_all()
    yield s
    s.dispose()


def _fill(store: Store) -> None:
    obs_upsert_lines(store, LOCAL_PRINCIPAL, read_tracked_lines(FIX / "lines.csv"))
    for fu in read_followups(FIX / "events.csv"):
        for ev in fu.events:
            assert obs_add_event(store, LOCAL_PRINCIPAL, fu.company, fu.line, ev) is not None


def test_records_round_trip_through_the_store(store):
    _fill(store)
    lines, fus = obs_records(store, LOCAL_PRINCIPAL)
    assert lines == sorted(read_tracked_lines(FIX / "lines.csv"), key=lambda t: (t.company, t.line))
    want = {(f.company, f.line): f for f in read_followups(FIX / "events.csv")}
    assert {(f.company, f.line): f for f in fus} == want
    # the stored history is the reference for the next step
    with pytest.raises(FollowUpError, match="cannot go from abandoned"):
        obs_add_event(store, LOCAL_PRINCIPAL, "ACME-MECA", 2, want[("ACME-MECA", 1)].events[0])


def test_report_from_the_database(store, tmp_path):
    _fill(store)
    out = tmp_path / "db-report.xlsx"
    r = CliRunner().invoke(app, ["observatory", "report", "--db", store.url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["imported_value_eur"] == 1_000_000 and summary["share_none"] == 0.25
    assert summary["relocations"] == 3 and summary["value_moved_eur"] == 295_000


def test_tracking_a_finished_job_takes_the_best_tier_from_its_result(store):
    job = store.create_job(LOCAL_PRINCIPAL, data=b"x", lines=[{"row": 2}, {"row": 3}], filename="bom.csv")
    assert obs_track_job(store, LOCAL_PRINCIPAL, job.id, company="DELTA") is None  # no result yet
    assert store.claim(job.id, "w1")
    result = {"lines": [
        {"line": 2, "status": "matched", "input": {"row": 2, "code": "84821010", "origin_country": "CN", "annual_value_eur": 5000},
         "suppliers": [{"tier": "national"}, {"tier": "regional"}]},
        {"line": 3, "status": "no_candidate", "input": {"row": 3, "origin_country": "US", "annual_value_eur": 1000}, "suppliers": []},
    ], "summary": {}}
    assert store.finish_job(job.id, "w1", result)
    assert obs_track_job(store, LOCAL_PRINCIPAL, job.id, company="DELTA", buyer_naf="28.15Z") == 2
    lines, _ = obs_records(store, LOCAL_PRINCIPAL, companies=["DELTA"])
    assert [(ln.line, ln.best_tier, ln.buyer_naf) for ln in lines] == [(2, "regional", "28.15Z"), (3, None, "28.15Z")]
