"""The label checker of the evaluation sets: the blind sets pass, bad labels are named."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "examples" / "devset"


def _checker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("check_labels", DEVSET / "check_labels.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["blind3", "blind4", "blind5"])
def test_blind_sets_pass(name: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the labels are checked here: the engine never runs on a blind set outside its scoring."""
    rc = _checker().main(["--lines", str(DEVSET / f"{name}.csv")])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "0 problem(s)" in out.out
    summary = out.out.splitlines()[0]
    assert "services" in summary and "no_producer" in summary and "wrong codes" in summary
    with (DEVSET / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 300
    n = len(rows)
    assert 0.03 * n <= sum(r["kind"] == "service" for r in rows) <= 0.07 * n
    assert 0.02 * n <= sum(r["kind"] == "no_producer" for r in rows) <= 0.05 * n


HEADER = ["id", "lang", "description", "code", "origin_country", "annual_value_eur", "hs6", "naf", "kind", "notes"]


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_bad_lines_are_named(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(
        tmp_path / "bad.csv",
        [
            # a service carrying an hs6
            ["T-1", "fr", "location chariot élévateur", "", "FR", "12000", "842720", "77.39Z", "service", ""],
            # a goods line whose naf the crosswalk does not reach from its hs6 (ball bearings ← dairy)
            ["T-2", "en", "deep groove ball bearing 6204", "", "DE", "3000", "848210", "10.51C", "goods", ""],
            # a service provided by a manufacturing sous-classe, and a cpa of another class
            ["T-3", "en", "road freight Genoa-Metz", "", "IT", "8000", "", "28.15Z", "service", "cpa=81.21.12"],
            # a good service line: no problem expected
            ["T-4", "de", "Unterhaltsreinigung Büro", "", "FR", "9000", "", "81.21Z", "service", "cpa=81.21.12"],
        ],
    )
    rc = _checker().main(["--lines", str(bad)])
    out = capsys.readouterr()
    assert rc == 1
    assert "bad.csv:2 (T-1): service line has hs6 '842720'" in out.err
    assert "bad.csv:3 (T-2): naf 10.51C not reachable from hs6 848210" in out.err
    assert "bad.csv:4 (T-3): naf 28.15Z (section C) is not a service activity" in out.err
    assert "bad.csv:4 (T-3): cpa 81.21.12 is produced by NACE 81.21" in out.err
    assert "(T-4)" not in out.err
    assert "4 problem(s)" in out.out
    assert "services 3, no_producer 0" in out.out


def test_missing_kind_column_means_goods(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = [h for h in HEADER if h != "kind"]
    ok = _write(tmp_path / "old.csv", [["T-1", "fr", "roulement à billes 6204", "8482.10", "DE", "3000", "848210", "", ""]], header)
    rc = _checker().main(["--lines", str(ok), "--fill-naf"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "services 0, no_producer 0" in out.out
    with ok.open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["naf"] == "28.15Z"
