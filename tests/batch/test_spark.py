"""Spark (local[2]) against the embedded engine: the same results, row for row, on the same input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from matching.batch import make_engine, run_batch
from matching.batch.output import partition_dir, read_dataset

KEYS = {"lines": ["company", "line_id"], "suppliers": ["company", "line_id", "rank"]}


def _sorted(out: Path, ds: str) -> pa.Table:
    return read_dataset(out, ds).sort_by([(k, "ascending") for k in KEYS[ds]])


def _assert_same(a: Path, b: Path) -> None:
    for ds in ("lines", "suppliers"):
        ta, tb = _sorted(a, ds), _sorted(b, ds)
        assert ta.num_rows == tb.num_rows > 0, ds
        assert ta.schema.equals(tb.schema), ds
        for name in ta.column_names:
            assert ta[name].equals(tb[name]), f"{ds}.{name} differs"
    ca = sorted(p.name for p in (a / "lines").iterdir())
    assert ca == sorted(p.name for p in (b / "lines").iterdir())  # same partition folders


def _both(input_path: Path, tmp_path: Path, settings, spark) -> tuple[Path, Path, object, object]:
    lo, so = tmp_path / "local", tmp_path / "spark"
    rl = run_batch(input_path, lo, settings, make_engine("local", workers=1, progress=False))
    rs = run_batch(input_path, so, settings, make_engine("spark", spark=spark, wave_lines=200))
    return lo, so, rl, rs


@pytest.mark.slow
def test_real_bom_manifest_identical(tmp_path: Path, data_dir: Path, settings, spark) -> None:
    from tests.batch.conftest import REAL_BOM, SECOND_BOM

    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(data_dir / "boms" / REAL_BOM, d / "pr.xlsx")
    shutil.copy(data_dir / "boms" / SECOND_BOM, d / "bt.csv")
    m = d / "manifest.csv"
    # a company name with characters a partition folder must escape; a buyer in Metz; a missing file
    m.write_text("company,file,buyer\nRecycleur/Metz: André,pr.xlsx,57463\nbanc thermique,bt.csv,\n"
                 "absent,missing.xlsx,\n", encoding="utf-8")
    lo, so, rl, rs = _both(m, tmp_path, settings, spark)
    assert sorted(rl.done) == sorted(rs.done) == ["Recycleur/Metz: André", "banc thermique"]
    assert [f["company"] for f in rs.failed] == ["absent"] and "missing.xlsx" in rs.failed[0]["reason"]
    assert partition_dir(so, "lines", "Recycleur/Metz: André").name == "company=Recycleur%2FMetz%3A André"
    assert partition_dir(so, "lines", "Recycleur/Metz: André").is_dir()
    _assert_same(lo, so)
    sup = read_dataset(so, "suppliers")
    assert any(v is not None for v in sup["distance_km"].to_pylist())  # the buyer was applied on the executors
    assert (lo / "summary.csv").read_text().split("\n")[1:3] != []  # both summaries written
    # a Spark re-run into the same OUT skips what is complete (the markers do not depend on the engine)
    again = run_batch(m, so, settings, make_engine("spark", spark=spark))
    assert sorted(again.skipped) == sorted(rs.done) and again.done == []


@pytest.mark.slow
def test_devset_table_identical(tmp_path: Path, settings, spark) -> None:
    from tests.batch.conftest import write_lines_table

    table = write_lines_table(tmp_path / "devset.parquet", by_lang=True)
    lo, so, rl, rs = _both(table, tmp_path, settings, spark)
    assert sorted(rl.done) == sorted(rs.done) == ["devset-de", "devset-en", "devset-fr"]
    assert rs.lines == 305
    _assert_same(lo, so)
    lines = read_dataset(so, "lines")
    assert lines.num_rows == 305 and set(lines["status"].to_pylist()) <= {"matched", "low_confidence", "no_candidate", "no_producer",
                                                                           "error", "skipped"}
    assert sum(s == "matched" for s in lines["status"].to_pylist()) > 280
