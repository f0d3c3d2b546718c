"""The batch's output folder: partitioned datasets, atomic per-company commits, markers, summary.

    OUT/lines/company=<name>/part-*.parquet       one row per input line (LINES_SCHEMA)
    OUT/suppliers/company=<name>/part-*.parquet   one row per (line, ranked supplier)
    OUT/_done/company=<name>.json                 completion marker (counts, fingerprints)
    OUT/summary.csv                               per company, and every file that could not be read

A company is committed by renaming its finished partition folders into place (old ones moved
aside first, then removed) and only then writing its marker: a batch killed at any point
leaves each company either complete (marker) or to be redone; folders starting with ``.`` or
``_`` are temporary and ignored by Parquet readers (pyarrow, Spark, DuckDB).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from matching.batch.rows import LINES_SCHEMA, SUPPLIERS_SCHEMA

# the characters Spark escapes in a partition value (ExternalCatalogUtils.escapePathName)
_ESCAPE = set('"#%\'*/:=?\\\x7f{[]^') | {chr(i) for i in range(1, 32)}

SUMMARY_COLUMNS = (
    "company", "source", "status", "lines", "items", "matched", "low_confidence", "no_candidate", "skipped", "error",
    "with_regional", "regional_share", "no_producer_lines", "value_total_eur", "value_covered_eur",
    "value_share_covered", "value_share_regional", "suppliers", "engine", "finished_at", "reason",
)


def escape(company: str) -> str:
    """A company name as a hive partition folder value, escaped as Spark does (``%XX``)."""
    return "".join(f"%{ord(ch):02X}" if ch in _ESCAPE else ch for ch in company)


def unescape(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def partition_dir(out: Path, dataset: str, company: str) -> Path:
    return Path(out) / dataset / f"company={escape(company)}"


def marker_path(out: Path, company: str) -> Path:
    return Path(out) / "_done" / f"company={escape(company)}.json"


def read_marker(out: Path, company: str) -> dict[str, Any] | None:
    p = marker_path(out, company)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def all_markers(out: Path) -> list[dict[str, Any]]:
    d = Path(out) / "_done"
    out_ = []
    for p in sorted(d.glob("company=*.json")) if d.is_dir() else []:
        try:
            out_.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out_


def is_complete(out: Path, company: str, fingerprint: str, settings_key: str) -> bool:
    """The company's partitions are in place and were made from this input with these settings."""
    m = read_marker(out, company)
    return bool(m and m.get("fingerprint") == fingerprint and m.get("settings") == settings_key
                and partition_dir(out, "lines", company).is_dir())


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _install(staged: Path | None, final: Path) -> None:
    """Put ``staged`` at ``final`` by rename (the old folder, if any, moved aside then removed)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, old)
    if staged is not None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def counts(lines: pa.Table, n_suppliers: int) -> dict[str, Any]:
    """The per-company figures of summary.csv, from its output lines."""
    rows = lines.select(["status", "n_suppliers", "n_regional", "annual_value_eur"]).to_pylist()
    c: dict[str, Any] = {"lines": len(rows), "matched": 0, "low_confidence": 0, "no_candidate": 0, "skipped": 0,
                         "error": 0}
    tot = covered = regional = 0.0
    with_reg = 0
    for r in rows:
        c[r["status"]] = c.get(r["status"], 0) + 1
        has_reg = (r["n_regional"] or 0) > 0
        with_reg += has_reg
        v = r["annual_value_eur"]
        if r["status"] != "skipped" and v is not None and v == v and v > 0:
            tot += v
            covered += v if (r["n_suppliers"] or 0) > 0 else 0.0
            regional += v if has_reg else 0.0
    items = c["lines"] - c["skipped"]
    c.update({
        "items": items, "with_regional": with_reg,
        "regional_share": round(with_reg / items, 4) if items else None,
        "no_producer_lines": c["no_candidate"],
        "value_total_eur": round(tot, 2), "value_covered_eur": round(covered, 2),
        "value_share_covered": round(covered / tot, 4) if tot > 0 else None,
        "value_share_regional": round(regional / tot, 4) if tot > 0 else None,
        "suppliers": n_suppliers,
    })
    return c


def write_partition(root: Path, table: pa.Table) -> Path | None:
    """``table`` (one company) into a new temporary folder under ``root``; None when it has no row."""
    if table.num_rows == 0:
        return None
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    pq.write_table(table.drop_columns(["company"]), tmp / "part-00000.parquet", compression="zstd")
    return tmp


def commit(out: Path, company: str, staged_lines: Path | None, staged_suppliers: Path | None, *,
           marker: dict[str, Any]) -> None:
    """Install a finished company: marker removed, partitions renamed into place, marker written."""
    out = Path(out)
    mp = marker_path(out, company)
    if mp.exists():
        mp.unlink()
    _install(staged_lines, partition_dir(out, "lines", company))
    _install(staged_suppliers, partition_dir(out, "suppliers", company))
    _atomic_json(mp, {"company": company, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      **marker})


def commit_tables(out: Path, company: str, lines: pa.Table, suppliers: pa.Table, *, marker: dict[str, Any]) -> dict:
    """Write and commit one company's tables (the local engine's path); returns its counts."""
    out = Path(out)
    c = counts(lines, suppliers.num_rows)
    sl = write_partition(out / "lines", lines)
    ss = write_partition(out / "suppliers", suppliers)
    commit(out, company, sl, ss, marker={**marker, "counts": c})
    return c


def clean_temporaries(out: Path) -> None:
    """Folders left by a killed run (temporary partitions, old copies, Spark staging)."""
    out = Path(out)
    for ds in ("lines", "suppliers"):
        d = out / ds
        if d.is_dir():
            for p in d.iterdir():
                if p.name.startswith((".tmp-", ".old-")):
                    shutil.rmtree(p, ignore_errors=True)
    st = out / "_staging"
    if st.is_dir():
        shutil.rmtree(st, ignore_errors=True)


def _partitioning() -> Any:
    import pyarrow.dataset as ds

    return ds.partitioning(pa.schema([("company", pa.string())]), flavor="hive")


def read_dataset(out: Path, dataset: str, *, complete_only: bool = True) -> pa.Table:
    """OUT/lines or OUT/suppliers as one table with its ``company`` column (complete companies only)."""
    import pyarrow.dataset as ds

    schema = LINES_SCHEMA if dataset == "lines" else SUPPLIERS_SCHEMA
    root = Path(out) / dataset
    if not root.is_dir():
        return schema.empty_table()
    d = ds.dataset(root, format="parquet", partitioning=_partitioning(), schema=schema)
    t = d.to_table()
    if complete_only:
        done = [m["company"] for m in all_markers(out)]
        import pyarrow.compute as pc

        t = t.filter(pc.is_in(t["company"], pa.array(done, pa.string())))
    return t


def write_summary(out: Path, failures: list[dict[str, Any]]) -> Path:
    """OUT/summary.csv: one row per complete company (all runs) and one per unreadable file (this run)."""
    from matching import export

    rows = []
    failed = {f["company"] for f in failures}
    for m in all_markers(out):
        if m["company"] in failed:
            continue
        rows.append({"company": m["company"], "source": m.get("source"), "status": "done",
                     "engine": m.get("engine"), "finished_at": m.get("finished_at"), **m.get("counts", {})})
    for f in failures:
        rows.append({"company": f["company"], "source": f.get("source"), "status": f.get("status", "unreadable"),
                     "reason": f["reason"]})
    rows.sort(key=lambda r: (r["status"] != "done", r["company"]))
    path = Path(out) / "summary.csv"
    tmp = path.with_name(".summary.csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        export.write_csv(rows, fh, list(SUMMARY_COLUMNS))
    os.replace(tmp, path)
    return path
