"""The observatory CLI verbs, run through the real typer app."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from matching.cli import app

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"
runner = CliRunner()


def test_report_writes_a_valid_multi_sheet_xlsx(tmp_path):
    out = tmp_path / "report.xlsx"
    r = runner.invoke(app, ["observatory", "report", "--lines", str(FIX / "lines.csv"),
                            "--events", str(FIX / "events.csv"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "relocations 3/500" in r.stdout
    wb = openpyxl.load_workbook(out)  # reopens: a valid XLSX
    assert wb.sheetnames == ["Summary", "By sector", "By chapter", "By origin", "By company",
                             "By month", "Abandon reasons", "Lines", "Follow-ups"]
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["imported_value_eur"] == 1_000_000
    assert summary["share_regional"] == 0.32 and summary["relocations"] == 3
    months = list(wb["By month"].iter_rows(min_row=2, values_only=True))
    assert [m[0] for m in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_report_for_one_company(tmp_path):
    out = tmp_path / "acme.xlsx"
    r = runner.invoke(app, ["observatory", "report", "--lines", str(FIX / "lines.csv"), "--events",
                            str(FIX / "events.csv"), "--company", "ACME-MECA", "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["scope"] == "ACME-MECA" and summary["imported_value_eur"] == 300_000


def test_report_neutralises_formula_like_text(tmp_path):
    lines = tmp_path / "lines.csv"
    lines.write_text("company,line,description,annual_value_eur,best_tier\n=HYPERLINK(\"x\"),1,+cmd,10,regional\n",
                     encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("company,line,date,stage\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    r = runner.invoke(app, ["observatory", "report", "--lines", str(lines), "--events", str(events), "--out", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out)["Lines"]
    row = next(ws.iter_rows(min_row=2, values_only=True))
    assert row[0] == "'=HYPERLINK(\"x\")" and row[2] == "'+cmd"
    assert ws.cell(row=2, column=1).data_type == "s"  # text, not a formula


def test_report_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no service store here: the default one (var/relocmatch.sqlite3) is absent
    monkeypatch.delenv("RELOCMATCH_DATABASE_URL", raising=False)
    r = runner.invoke(app, ["observatory", "report", "--out", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 1 and "no service store at var/relocmatch.sqlite3" in r.output and "Traceback" not in r.output
    bad = tmp_path / "events.csv"
    bad.write_text("company,line,date,stage,reason\nACME-MECA,1,2026-01-01,abandoned,weather\n", encoding="utf-8")
    r = runner.invoke(app, ["observatory", "report", "--lines", str(FIX / "lines.csv"), "--events", str(bad),
                            "--out", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 1 and "line 2" in r.output and "Traceback" not in r.output


@pytest.mark.slow
def test_potential_on_the_real_irep_catalog(irep_catalog_dir, tmp_path):
    out = tmp_path / "potential.xlsx"
    boms = sorted(str(p) for p in (FIX / "boms").glob("*.csv"))
    r = runner.invoke(app, ["potential", *boms, "--catalog", str(irep_catalog_dir), "--out", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out)["Potential"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, v)) for v in ws.iter_rows(min_row=2, values_only=True)]
    assert {r["hs4"] for r in rows} == {"3901", "8482", "7318", "8480", "4011", "8544", "8501", "4016"}
    # the IREP register holds real Grand Est chemical plants (20.16Z): polyethylene has a regional base
    pe = next(r for r in rows if r["hs4"] == "3901")
    assert pe["establishments_region"] > 0 and pe["rank"] == 1
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
