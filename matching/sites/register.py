"""The on-disk site register: built atomically from site lists, loaded once, read fast.

A register is a folder, the supplier catalog's pattern (``matching.catalog``)::

    sites.parquet   one row per site, SITE_COLUMNS, sorted by site_id
    manifest.json   schema version, sources (sha256, rows read / kept, rejections with reasons and
                    their first lines), reference-data checksums, counts by région / département /
                    type / status, and the caveat counts (unverified, with a project, placeholder surface)

Built in ``.NAME.building-*`` next to the target and swapped in by two renames (the catalog's
``matching.folders.swap_in``): a failed or interrupted build leaves the previous register usable.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from matching.catalog.store import REFERENCE_FILES, _remove_stale_builds, sha256_file
from matching.folders import swap_in
from matching.errors import RelocmatchError
from matching.sites.sources import (
    BOOL_COLUMNS, FLOAT_COLUMNS, SITE_COLUMNS, SOURCE_KINDS, LoadReport, SiteError, load_cartofriches,
    load_site_csv, load_site_geojson,
)

SCHEMA_VERSION = 1
TABLE_FILE = "sites.parquet"
MANIFEST_FILE = "manifest.json"
_LOADERS = {"cartofriches": load_cartofriches, "csv": load_site_csv, "geojson": load_site_geojson}


@dataclass
class SiteBuildReport:
    out_dir: Path
    sites: int
    sources: list[LoadReport]
    manifest: dict[str, Any]


def register_summary(table: Any) -> dict[str, Any]:
    """Counts the manifest and ``sites info`` show; the caveats are counted, not hidden."""
    def counts(col: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in sorted(table[col].fillna("?").value_counts().items())}

    big = table["surface_m2"] >= 10_000
    return {
        "sites": int(len(table)),
        "by_region": counts("region"),
        "by_departement": counts("departement"),
        "by_type": counts("site_type"),
        "by_status": counts("status"),
        "by_source": counts("source"),
        "at_least_1ha": int(big.sum()),
        "at_least_1ha_by_region": {str(k): int(v) for k, v in sorted(table.loc[big, "region"].value_counts().items())},
        "caveats": {
            "unverified": int((~table["verified"]).sum()),
            "has_project": int(table["has_project"].sum()),
            "surface_is_placeholder": int(table["surface_is_placeholder"].sum()),
            "pollution_register": int(table["pollution_register"].sum()),
            "coords_from_commune": int((table["coords_source"] == "commune").sum()),
        },
    }


def build_register(sources: list[tuple[str, Path]], out_dir: Path, *, data_dir: Path | str | None = None) -> SiteBuildReport:
    """Build a site register at ``out_dir`` from ``(kind, path)`` sources (cartofriches, csv, geojson).

    Rows are rejected with a counted reason (unknown commune, no surface, duplicate id, bad cell),
    never silently. Raises SiteError, leaving any previous register untouched, when a file is
    unusable or no site is kept."""
    import pandas as pd

    from matching.geo import get_geo
    from matching.refdata import data_dir as _data_dir

    out_dir = Path(out_dir)
    if not sources:
        raise SiteError("no source given (expected --source cartofriches|csv|geojson FILE)")
    for kind, path in sources:
        if kind not in SOURCE_KINDS:
            raise SiteError(f"unknown source kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
        if not Path(path).is_file():
            raise SiteError(f"{path}: no such file")
    if out_dir.exists() and not (out_dir / MANIFEST_FILE).is_file() and any(out_dir.iterdir()):
        raise SiteError(f"{out_dir}: exists and is not a site register; refusing to replace it")
    ddir = _data_dir(data_dir)
    geo = get_geo(ddir)
    reports, parts = [], []
    for kind, path in sources:
        rep = LoadReport(kind=kind, path=str(path))
        parts.append(_LOADERS[kind](Path(path), geo=geo, report=rep))
        rep.notes["sha256"] = sha256_file(Path(path))
        rep.notes["bytes"] = Path(path).stat().st_size
        reports.append(rep)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SITE_COLUMNS))
    if len(table) == 0:
        why = "; ".join(f"{r.path}: read {r.rows_read}, rejected {dict(r.rejected)}" for r in reports)
        raise SiteError(f"no site kept, nothing to build ({why})")
    dup = table.duplicated("site_id", keep="first")
    n_dup = int(dup.sum())
    if n_dup:  # the same id in two sources: the first source wins, the others are counted
        table = table[~dup]
    table = table.sort_values("site_id", kind="mergesort", ignore_index=True)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "built_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "columns": list(SITE_COLUMNS),
        "sources": [{"kind": r.kind, "path": str(Path(r.path).resolve()), "name": Path(r.path).name,
                     **{k: v for k, v in r.to_dict().items() if k not in ("kind", "path", "synthetic")}}
                    for r in reports],
        "reference_data": {k: {"path": rel, "edition": ed,
                               "sha256": sha256_file(ddir / rel) if (ddir / rel).is_file() else None}
                           for k, (rel, ed) in REFERENCE_FILES.items() if k != "naf"},
        "duplicates_across_sources": n_dup,
        **register_summary(table),
        "rejected": dict(sorted(sum((r.rejected for r in reports), Counter()).items())),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_table(table, tmp / TABLE_FILE)
        manifest["table_sha256"] = sha256_file(tmp / TABLE_FILE)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_in(tmp, out_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise SiteError(f"{out_dir}: cannot write the register: {exc}") from None
        raise
    _cached_load.cache_clear()
    return SiteBuildReport(out_dir=out_dir, sites=len(table), sources=reports, manifest=manifest)


def _write_table(table: Any, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def typ(c: str) -> Any:
        return pa.float64() if c in FLOAT_COLUMNS else pa.bool_() if c in BOOL_COLUMNS else pa.string()

    schema = pa.schema([(c, typ(c)) for c in SITE_COLUMNS])
    tbl = pa.Table.from_pandas(table[list(SITE_COLUMNS)], schema=schema, preserve_index=False)
    pq.write_table(tbl.replace_schema_metadata(None), path, compression="zstd", write_statistics=True)


class SiteRegister:
    """A loaded register: ``dir``, ``manifest``, ``table`` (pandas) and ``cols``, the columns as
    numpy arrays (what the matcher filters and scores without pandas on the request path)."""

    def __init__(self, dir: Path, manifest: dict[str, Any], table: Any) -> None:
        import numpy as np

        self.dir, self.manifest, self.table = dir, manifest, table
        self.cols: dict[str, Any] = {}
        for c in SITE_COLUMNS:
            if c in FLOAT_COLUMNS:
                self.cols[c] = table[c].to_numpy(dtype="float64", na_value=np.nan)
            elif c in BOOL_COLUMNS:
                self.cols[c] = table[c].to_numpy(dtype=bool)
            else:
                self.cols[c] = table[c].astype(object).where(table[c].notna(), None).to_numpy(dtype=object)
        self.lat_rad = np.radians(self.cols["lat"])
        self.lon_rad = np.radians(self.cols["lon"])
        self._by_id = {sid: i for i, sid in enumerate(self.cols["site_id"])}

    def __len__(self) -> int:
        return len(self.table)

    def position(self, site_id: str) -> int | None:
        return self._by_id.get(site_id)

    def site(self, site_id: str) -> dict[str, Any] | None:
        """One site as a JSON-ready dict, None when unknown."""
        i = self._by_id.get(site_id)
        return None if i is None else self.row(i)

    def row(self, i: int) -> dict[str, Any]:
        import math

        out: dict[str, Any] = {}
        for c in SITE_COLUMNS:
            v = self.cols[c][i]
            if c in FLOAT_COLUMNS:
                v = None if math.isnan(v) else float(v)
            elif c in BOOL_COLUMNS:
                v = bool(v)
            out[c] = v
        return out

    @classmethod
    def load(cls, dir: Path | str) -> SiteRegister:
        """Open a register folder (cached per process by path and table checksum); SiteError when
        it is not one or its schema is another version."""
        d = Path(dir)
        mpath = d / MANIFEST_FILE
        if not d.is_dir():
            raise SiteError(f"{d}: no such site register (build one with `relocmatch sites build`)")
        if not mpath.is_file() or not (d / TABLE_FILE).is_file():
            raise SiteError(f"{d}: not a site register (expected {MANIFEST_FILE} and {TABLE_FILE}; "
                            "build one with `relocmatch sites build`)")
        try:
            sha = json.loads(mpath.read_text(encoding="utf-8")).get("table_sha256")
        except (OSError, ValueError, AttributeError) as exc:
            raise SiteError(f"{mpath}: unreadable manifest: {exc}") from None
        return _cached_load(str(d.resolve()), str(sha))


@lru_cache(maxsize=4)
def _cached_load(path: str, _sha: str) -> SiteRegister:
    import pandas as pd

    d = Path(path)
    manifest = json.loads((d / MANIFEST_FILE).read_text(encoding="utf-8"))
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SiteError(f"{d}: site register schema version {manifest.get('schema_version')!r}, this relocmatch "
                        f"reads version {SCHEMA_VERSION}; rebuild it with `relocmatch sites build`")
    try:
        table = pd.read_parquet(d / TABLE_FILE, engine="pyarrow")
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors are not one family
        raise SiteError(f"{d / TABLE_FILE}: unreadable site table: {exc}") from None
    return SiteRegister(d, manifest, table)


__all__ = ["SCHEMA_VERSION", "SiteBuildReport", "SiteRegister", "build_register", "register_summary",
           "RelocmatchError"]
