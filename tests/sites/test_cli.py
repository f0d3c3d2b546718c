"""`relocmatch sites build | info | match` end to end through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from matching.cli import app

runner = CliRunner()


def test_build_info_match(tmp_path, region_csv, region_geojson):
    out = tmp_path / "reg"
    r = runner.invoke(app, ["sites", "build", str(region_csv), "--source", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "4 sites from 10 rows read (6 rejected)" in r.output and "duplicate site_id" in r.output
    r = runner.invoke(app, ["sites", "info", str(out), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["sites"] == 4
    proj = tmp_path / "p.json"
    proj.write_text(json.dumps({"activity": "28.96Z", "surface_ha_min": 2, "surface_ha_max": 15, "region": "44",
                                "constraints": {"industrial_zoning": True}}), encoding="utf-8")
    r = runner.invoke(app, ["sites", "match", str(proj), "--sites", str(out), "--json", "--out", str(tmp_path / "s.xlsx")])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    ids = [s["site_id"] for s in res["sites"]]
    assert ids == ["GE-001", "GE-002"]  # GE-007 has a project, GE-009 is not in an activity zone
    for s in res["sites"]:
        assert {"site_id", "region_code", "surface_m2", "score", "reasons"} <= set(s)
    assert res["excluded"] == {"has_project": 1, "industrial_zoning": 1}
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "s.xlsx").active
    assert ws.cell(1, 2).value == "site_id" and ws.cell(2, 2).value == "GE-001"
    r = runner.invoke(app, ["sites", "match", str(proj), "--sites", str(out), "--top", "1", "--lang", "en"])
    assert r.exit_code == 0 and "GE-001" in r.output and "business park without a project" in r.output


def test_errors_are_one_line(tmp_path, region_csv):
    out = tmp_path / "reg"
    runner.invoke(app, ["sites", "build", str(region_csv), "--source", "csv", "--out", str(out)])
    proj = tmp_path / "p.json"
    proj.write_text(json.dumps({"activity": "12.34X", "surface_m2_min": 1000}), encoding="utf-8")
    r = runner.invoke(app, ["sites", "match", str(proj), "--sites", str(out)])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [f"error: {proj}: activity: unknown NAF code '12.34X': not a NAF rév. 2 sous-classe"]
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["sites", "match", str(proj), "--sites", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "no such site register" in r.output
    r = runner.invoke(app, ["sites", "build", str(region_csv), "--source", "xls", "--out", str(out)])
    assert r.exit_code == 1 and "unknown source kind 'xls'" in r.output
