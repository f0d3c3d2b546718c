"""`relocmatch bom inspect`: layout, mapping with evidence, first lines; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from matching.cli import app

runner = CliRunner()


def test_inspect_json_shape(fixtures_dir: Path) -> None:
    res = runner.invoke(app, ["bom", "inspect", str(fixtures_dir / "bom" / "achats_fr_cp1252.csv"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    lay = out["layout"]
    assert {"format", "encoding", "delimiter", "sheet", "header_row", "columns", "evidence"} <= set(lay)
    assert (lay["format"], lay["encoding"], lay["delimiter"], lay["header_row"]) == ("csv", "cp1252", ";", 4)
    assert lay["columns"]["description"] == "Désignation"
    assert lay["evidence"]["code"].startswith("header word")
    line = next(ln for ln in out["lines"] if ln["row"] == 5)
    assert set(line) == {"row", "status", "description", "code", "quantity", "unit", "origin_country", "annual_value_eur", "messages"}
    assert (line["code"], line["quantity"], line["unit"], line["origin_country"], line["annual_value_eur"]) == (
        "84821010", 12000.0, "pièces", "CN", 18450.5,
    )


def test_inspect_map_and_rows(data_dir: Path) -> None:
    f = data_dir / "boms" / "voron2__BOM.csv"
    res = runner.invoke(app, ["bom", "inspect", str(f), "--json", "--map", "description=A,quantity=B", "--rows", "3"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["layout"]["evidence"]["description"] == "explicit mapping description=A"
    assert len(out["lines"]) == 3 and out["lines"][1]["description"] == "0"


def test_inspect_table_output(data_dir: Path) -> None:
    res = runner.invoke(app, ["bom", "inspect", str(data_dir / "boms" / "trenntrafo__Stückliste.xlsx"), "--rows", "5"])
    assert res.exit_code == 0, res.output
    assert "Bauteil" in res.stdout and "header word" in res.stdout and "Trenntrafo" in res.stdout


def test_inspect_unreadable_file_exits_1_with_one_line(fixtures_dir: Path, tmp_path: Path) -> None:
    for f in [fixtures_dir / "bom" / "garbage.xlsx", fixtures_dir / "bom" / "empty.csv", tmp_path / "missing.csv"]:
        res = runner.invoke(app, ["bom", "inspect", str(f)])
        assert res.exit_code == 1
        err = res.stderr.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in res.output


def test_inspect_bad_map(fixtures_dir: Path) -> None:
    res = runner.invoke(app, ["bom", "inspect", str(fixtures_dir / "bom" / "achats_fr_cp1252.csv"), "--map", "description=ZZ"])
    assert res.exit_code == 1 and "no such column" in res.stderr
