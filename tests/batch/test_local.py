"""The embedded engine end to end: every line with a status, a corrupt file reported, re-runs skip."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from matching.batch import make_engine, run_batch
from matching.batch.output import read_dataset
from matching.bom import read_bom

STATUSES = {"matched", "low_confidence", "no_candidate", "no_producer", "skipped", "error"}


def _summary(out: Path) -> dict[str, dict]:
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        return {r["company"]: r for r in csv.DictReader(fh)}


def test_folder_with_a_corrupt_file(bom_folder: Path, tmp_path: Path, settings) -> None:
    out = tmp_path / "out"
    rep = run_batch(bom_folder, out, settings, make_engine("local", workers=1, progress=False))
    assert sorted(rep.done) == sorted(["bancthermique__Nomenclature",
                                       "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO)"])
    assert [f["company"] for f in rep.failed] == ["corrupt"]
    s = _summary(out)
    assert s["corrupt"]["status"] == "unreadable" and "corrupt.xlsx" in s["corrupt"]["reason"]
    lines = read_dataset(out, "lines")
    sups = read_dataset(out, "suppliers")
    for company in rep.done:
        src = next(p for p in bom_folder.iterdir() if p.stem == company)
        want = read_bom(src).lines
        mine = lines.filter(pc.equal(lines["company"], company))
        assert mine.num_rows == len(want) == int(s[company]["lines"])  # every input line, once
        assert sorted(mine["row"].to_pylist()) == sorted(ln.row for ln in want)
        assert set(mine["status"].to_pylist()) <= STATUSES
        n_sup = sups.filter(pc.equal(sups["company"], company)).num_rows
        assert n_sup == pc.sum(mine["n_suppliers"]).as_py() == int(s[company]["suppliers"])
        matched = mine.filter(pc.equal(mine["status"], "matched"))
        assert matched.num_rows == int(s[company]["matched"]) > 0
    regional = sups.filter(pc.equal(sups["tier"], "regional"))
    assert set(regional["region"].to_pylist()) == {"44"}
    # plastic recycler: the demo BOM has matched lines with Grand Est suppliers
    pr = lines.filter(pc.starts_with(lines["company"], "plastic-recycler"))
    assert pc.sum(pc.greater(pr["n_regional"], 0)).as_py() > 10


def test_rerun_skips_complete_companies_and_force_redoes(tmp_path: Path, settings) -> None:
    from tests.batch.conftest import write_lines_table

    table = write_lines_table(tmp_path / "lines.parquet", companies=3)
    out = tmp_path / "out"
    eng = make_engine("local", workers=1, progress=False)
    rep1 = run_batch(table, out, settings, eng)
    assert len(rep1.done) == 3 and not rep1.skipped
    before = read_dataset(out, "lines").sort_by([("company", "ascending"), ("line_id", "ascending")])
    rep2 = run_batch(table, out, settings, eng)
    assert rep2.done == [] and sorted(rep2.skipped) == sorted(rep1.done)
    rep3 = run_batch(table, out, settings, eng, force=True)
    assert len(rep3.done) == 3
    after = read_dataset(out, "lines").sort_by([("company", "ascending"), ("line_id", "ascending")])
    assert after.num_rows == before.num_rows == 305 and after.equals(before)  # replaced, not appended
    # other settings (top 3 instead of 5): the markers no longer match, everything is redone
    from dataclasses import replace

    rep4 = run_batch(table, out, replace(settings, top=3), eng)
    assert len(rep4.done) == 3
    assert pc.max(read_dataset(out, "suppliers")["rank"]).as_py() == 3


def test_unknown_buyer_gives_error_lines(tmp_path: Path, settings, data_dir: Path) -> None:
    import shutil

    from tests.batch.conftest import SECOND_BOM

    shutil.copy(data_dir / "boms" / SECOND_BOM, tmp_path / "a.csv")
    m = tmp_path / "m.csv"
    m.write_text("company,file,buyer\nA,a.csv,99999\n", encoding="utf-8")
    out = tmp_path / "out"
    run_batch(m, out, settings, make_engine("local", workers=1, progress=False))
    lines = read_dataset(out, "lines")
    assert set(lines["status"].to_pylist()) == {"error", "skipped"}
    assert "buyer '99999'" in lines.filter(pc.equal(lines["status"], "error"))["errors"][0].as_py()


def test_cli_errors_are_one_line(tmp_path: Path, irep_catalog_dir: Path) -> None:
    from matching.cli import app

    r = CliRunner().invoke(app, ["batch", str(tmp_path / "nope"), "--catalog", str(irep_catalog_dir),
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "error:" in r.output and "nope: no such file or folder" in r.output
    m = tmp_path / "m.csv"
    m.write_text("company,file\n,a.csv\n")
    r = CliRunner().invoke(app, ["batch", str(m), "--catalog", str(irep_catalog_dir), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "m.csv: bad manifest; line 2, column company: empty company" in r.output
    r = CliRunner().invoke(app, ["batch", str(m), "--catalog", str(tmp_path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "not a catalog folder" in r.output
    r = CliRunner().invoke(app, ["batch", str(m), "--catalog", str(irep_catalog_dir), "--out", str(tmp_path / "o"),
                                 "--engine", "dask"])
    assert r.exit_code == 1 and "expected local or spark" in r.output


@pytest.mark.slow
def test_cli_local_run(bom_folder: Path, tmp_path: Path, irep_catalog_dir: Path) -> None:
    from matching.cli import app

    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["batch", str(bom_folder), "--catalog", str(irep_catalog_dir), "--out", str(out),
                                 "--workers", "2", "--no-semantic", "--top", "3", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "3 companies, 2 matched" in r.output and "unreadable: corrupt" in r.output
    assert (out / "lines").is_dir() and (out / "suppliers").is_dir() and (out / "summary.csv").is_file()
