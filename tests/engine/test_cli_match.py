"""`relocmatch match / search / evaluate` through the real CLI app on the IREP catalog."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from matching.cli import app

runner = CliRunner()


def test_match_unknown_catalog_is_one_line_error(tmp_path):
    bom = tmp_path / "b.csv"
    bom.write_text("Désignation;Code douanier\nRoulement à billes;8482.10\n", encoding="utf-8")
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(tmp_path / "nope")])
    assert r.exit_code == 1
    assert "error:" in r.output and "Traceback" not in r.output


def test_bad_format_and_region_are_refused(tmp_path, irep_catalog_dir):
    bom = tmp_path / "b.csv"
    bom.write_text("Désignation;Code douanier\nRoulement à billes;8482.10\n", encoding="utf-8")
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--format", "pdf"])
    assert r.exit_code == 1 and "format" in r.output
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--region", "99"])
    assert r.exit_code == 1 and "region" in r.output


@pytest.mark.model
def test_match_writes_json_contract_and_xlsx(tmp_path, irep_catalog_dir):
    bom = tmp_path / "b.csv"
    bom.write_text(
        "Désignation;Code douanier;Quantité\nRoulement à billes;8482.10;10\nVis CHC M6x20 inox A2;;200\n"
        "TOTAL;;\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--buyer", "57463", "--top", "3",
                            "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    matched = [ln for ln in d["lines"] if ln["status"] == "matched"]
    assert len(matched) == 2 and all(len(ln["suppliers"]) == 3 for ln in matched)
    assert d["summary"]["lines"] == len(d["lines"])
    assert "Roulement" in r.output  # the summary table names the lines
    xl = tmp_path / "r.xlsx"
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--out", str(xl), "--quiet"])
    assert r.exit_code == 0 and xl.stat().st_size > 0


@pytest.mark.model
def test_search_json(irep_catalog_dir):
    r = runner.invoke(app, ["search", "roulements à billes", "--catalog", str(irep_catalog_dir), "--json", "--top", "4"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["status"] == "matched" and len(d["suppliers"]) == 4
    assert d["suppliers"][0]["reasons"]


def test_match_cli_reports_service_and_no_producer_statuses(tmp_path, irep_catalog_dir):
    bom = tmp_path / "b.csv"
    bom.write_text(
        "Désignation;Code douanier;Quantité\nRoulement à billes;8482.10;10\nFèves de cacao brutes;1801.00;5\n"
        "Transport routier de bobines acier Anvers - Metz;;12\nPrestation de gardiennage;;1\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--no-semantic",
                            "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 sans producteur français, 2 prestations de service" in " ".join(r.output.split())
    lines = {ln["input"]["description"]: ln for ln in json.loads(out.read_text(encoding="utf-8"))["lines"]}
    assert lines["Roulement à billes"]["status"] == "matched"
    assert lines["Fèves de cacao brutes"]["status"] == "no_producer"
    road = lines["Transport routier de bobines acier Anvers - Metz"]
    assert road["kind"] == "service" and road["status"] == "matched"
    assert road["activities"][0]["naf"].startswith("49.41")
    assert lines["Prestation de gardiennage"]["status"] == "no_producer"
