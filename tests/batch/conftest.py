"""Batch fixtures: the real IREP catalog (session fixture of tests/conftest.py), real BOMs and
the dev set as a Parquet lines table; one SparkSession for the whole test session."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "examples" / "devset" / "lines.csv"
REAL_BOM = "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx"
SECOND_BOM = "bancthermique__Nomenclature.csv"


def devset_rows() -> list[dict]:
    with DEVSET.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_lines_table(path: Path, companies: int | None = None, *, by_lang: bool = False) -> Path:
    """The dev set as a Parquet lines table: companies by language, or ``companies`` round-robin."""
    rows = devset_rows()
    recs = []
    for i, r in enumerate(rows):
        company = f"devset-{r['lang']}" if by_lang else f"company-{i % companies:02d}"
        v = r.get("annual_value_eur")
        recs.append({"company": company, "line_id": r["id"], "description": r["description"], "code": r["code"] or None,
                     "origin_country": r["origin_country"] or None, "annual_value_eur": float(v) if v else None})
    pq.write_table(pa.Table.from_pylist(recs), path)
    return path


@pytest.fixture(scope="session")
def settings(irep_catalog_dir: Path, data_dir: Path):
    from matching.batch import EngineSettings

    # lexical channels only: the same for both engines; keeps the Spark tests to a minute or two
    return EngineSettings(catalog=str(irep_catalog_dir), data_dir=str(data_dir), semantic=False, top=5)


@pytest.fixture(scope="session")
def spark():
    """One SparkSession (local[2]) for every Spark test; Java must be there (CI installs it)."""
    import shutil as _sh

    if _sh.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI") == "true":
            pytest.fail("java is missing: .ci/run installs openjdk-17-jre-headless")
        pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless)")
    from matching.batch.spark import make_session

    s = make_session("local[2]", "relocmatch-batch-tests")
    yield s
    s.stop()


@pytest.fixture()
def bom_folder(tmp_path: Path, data_dir: Path) -> Path:
    d = tmp_path / "boms"
    d.mkdir()
    for name in (REAL_BOM, SECOND_BOM):
        shutil.copy(data_dir / "boms" / name, d / name)
    # a corrupt workbook: a real one cut after 3,000 bytes
    (d / "corrupt.xlsx").write_bytes((data_dir / "boms" / "insoleuse__Nomenclature.xlsx").read_bytes()[:3000])
    (d / "README.md").write_text("not a BOM")
    return d
