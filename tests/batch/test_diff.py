"""The monthly refresh: new catalog → batch → batch-diff (new regional suppliers per company)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from matching.batch.output import commit_tables, read_dataset
from matching.batch.rows import LINES_SCHEMA, SUPPLIERS_SCHEMA


def _line(company: str, lid: str, n_reg: int) -> dict:
    return {f.name: None for f in LINES_SCHEMA} | {"company": company, "line_id": lid, "seq": int(lid), "row": int(lid),
                                                    "status": "matched", "n_suppliers": 2, "n_regional": n_reg,
                                                    "description": f"line {lid}"}


def _sup(company: str, lid: str, rank: int, siret: str, region: str) -> dict:
    return {f.name: None for f in SUPPLIERS_SCHEMA} | {"company": company, "line_id": lid, "rank": rank,
                                                       "siret": siret, "region": region, "name": f"S{siret}",
                                                       "tier": "regional" if region == "44" else "national",
                                                       "score": 0.5}


def _run(out: Path, company: str, lines: list[dict], sups: list[dict]) -> None:
    commit_tables(out, company, pa.Table.from_pylist(lines, LINES_SCHEMA), pa.Table.from_pylist(sups, SUPPLIERS_SCHEMA),
                  marker={"fingerprint": "f", "settings": "s", "source": "x"})


def test_diff_counts(tmp_path: Path) -> None:
    from matching.batch.diff import diff_runs

    old, new = tmp_path / "old", tmp_path / "new"
    _run(old, "A", [_line("A", "1", 1), _line("A", "2", 0)],
         [_sup("A", "1", 1, "111", "44"), _sup("A", "1", 2, "900", "11"), _sup("A", "2", 1, "901", "11")])
    _run(new, "A", [_line("A", "1", 1), _line("A", "2", 1)],
         [_sup("A", "1", 1, "222", "44"), _sup("A", "1", 2, "900", "11"), _sup("A", "2", 1, "222", "44"),
          _sup("A", "2", 2, "333", "44")])
    _run(new, "B", [_line("B", "1", 1)], [_sup("B", "1", 1, "444", "44")])  # new company: nothing to compare
    rep = diff_runs(old, new, tmp_path / "d")
    assert rep == {"companies": 2, "new_pairs": 2, "companies_with_new": 1, "gone_pairs": 1}
    rows = list(csv.DictReader((tmp_path / "d" / "new_regional_suppliers.csv").open(encoding="utf-8")))
    assert [(r["company"], r["siret"], r["lines"], r["line_ids"]) for r in rows] == [("A", "222", "2", "1 2"),
                                                                                     ("A", "333", "1", "2")]
    s = {r["company"]: r for r in csv.DictReader((tmp_path / "d" / "summary.csv").open(encoding="utf-8"))}
    assert s["A"]["lines_gaining_regional"] == "1" and s["A"]["gone_regional"] == "1" and s["B"]["in_old"] == "False"


def test_refresh_path_end_to_end(tmp_path: Path, data_dir: Path, irep_catalog_dir: Path, settings) -> None:
    """Last month's register lacked the Moselle (57) sites; this month's has them: the diff names them."""
    from dataclasses import replace

    from matching.batch import make_engine, run_batch
    from matching.catalog import build_catalog
    from matching.cli import app
    from tests.batch.conftest import write_lines_table

    src = data_dir / "establishments" / "irep_etablissements_industriels.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    pc = rows[0].index("Code_Postal")
    older = tmp_path / "irep_without_57.csv"
    with older.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [r for r in rows[1:] if not r[pc].startswith("57")])
    old_cat = tmp_path / "cat_old"
    build_catalog([("irep", older)], old_cat, progress=False, data_dir=data_dir)
    table = write_lines_table(tmp_path / "lines.parquet", by_lang=True)
    eng = make_engine("local", workers=1, progress=False)
    run_batch(table, tmp_path / "run_old", replace(settings, catalog=str(old_cat)), eng)
    run_batch(table, tmp_path / "run_new", settings, eng)
    r = CliRunner().invoke(app, ["batch-diff", str(tmp_path / "run_old"), str(tmp_path / "run_new"),
                                 "--out", str(tmp_path / "diff")])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "diff" / "new_regional_suppliers.csv").open(encoding="utf-8")))
    assert rows, "the Moselle sites should appear as new regional suppliers"
    assert {r["company"] for r in rows} == {"devset-de", "devset-en", "devset-fr"}
    old_s = read_dataset(tmp_path / "run_old", "suppliers").to_pylist()
    new_s = read_dataset(tmp_path / "run_new", "suppliers").to_pylist()
    for row in rows:  # each one: regional now, never proposed to that company before
        assert any(s["company"] == row["company"] and s["siret"] == row["siret"] and s["region"] == "44" for s in new_s)
        assert not any(s["company"] == row["company"] and s["siret"] == row["siret"] and s["region"] == "44"
                       for s in old_s)
    in_57 = sum(r["departement"] == "57" for r in rows)
    assert in_57 >= 0.9 * len(rows), (in_57, len(rows))
