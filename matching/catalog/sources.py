"""Loaders turning real registers into catalog rows: SIRENE stock, IREP register, generic CSV.

Why: each register has its own schema and quirks (``[ND]`` masks, APE codes without
the dot, pre-2016 régions, CEDEX postcodes); this module is the one place that knows
them. Every loader streams its input in chunks, filters early, enriches geography by
a vectorised merge on the commune code, and counts what it kept, skipped (by a filter)
and rejected (malformed), with reasons, in a ``LoadReport``.

Each loader yields pandas DataFrames with exactly ``CATALOG_COLUMNS``.
"""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.errors import CatalogError

if TYPE_CHECKING:
    import pandas as pd

    from matching.geo import Geo

CATALOG_COLUMNS: tuple[str, ...] = (
    "siret", "siren", "name", "naf", "commune_code", "commune", "departement", "region",
    "lat", "lon", "size_band", "category", "products", "address", "postcode", "source",
    "collectivity",  # overseas collectivity code (977, 978...) when ``region`` is None: not a région
)
FLOAT_COLUMNS = ("lat", "lon")
SOURCE_KINDS = ("sirene", "irep", "csv")
DEFAULT_SIRENE_SECTIONS = ("A", "B", "C", "D", "E")
DEFAULT_SIRENE_DIVISIONS = ("46",)
SYNTHETIC_COLUMN = "relocmatchSynthetic"  # marker column written by `catalog synth`
CHUNK_ROWS = 200_000
ND = "[ND]"

# SIRENE: display-name preference (never the sole trader's personal name fields)
SIRENE_NAME_COLUMNS = (
    "denominationUsuelleEtablissement", "enseigne1Etablissement", "denominationUniteLegale",
    "denominationUsuelle1UniteLegale", "denominationUsuelle2UniteLegale", "denominationUsuelle3UniteLegale",
    "sigleUniteLegale",
)
SIRENE_REQUIRED = ("siret", "activitePrincipaleEtablissement", "codeCommuneEtablissement")
SIRENE_OPTIONAL = (
    "siren", "etatAdministratifEtablissement", "nomenclatureActivitePrincipaleEtablissement",
    "trancheEffectifsEtablissement", "categorieEntreprise", "codePostalEtablissement",
    "numeroVoieEtablissement", "indiceRepetitionEtablissement", "typeVoieEtablissement",
    "libelleVoieEtablissement", "complementAdresseEtablissement", SYNTHETIC_COLUMN, *SIRENE_NAME_COLUMNS,
)
IREP_REQUIRED = ("Numero_SIRET", "Nom_Etablissement", "Code_Postal", "Commune", "Code_APE")
IREP_OPTIONAL = ("Adresse", "Coordonnees_X", "Coordonnees_Y", "Identifiant")
CSV_TARGETS = ("siret", "siren", "name", "naf", "commune", "postcode", "products", "address", "size_band",
               "category")


@dataclass
class LoadReport:
    """What one source gave: rows read, kept, skipped by a filter, rejected as malformed.

    ``examples`` keeps the first few rejections with their file line, so a user can
    look them up.
    """

    kind: str
    path: str
    rows_read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    synthetic: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def reject(self, reason: str, lines: Any, n: int) -> None:
        if n <= 0:
            return
        self.rejected[reason] += int(n)
        for ln in list(lines)[: max(0, 20 - len(self.examples))]:
            self.examples.append(f"line {int(ln)}: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "path": self.path, "rows_read": self.rows_read, "kept": self.kept,
            "skipped": dict(sorted(self.skipped.items())), "rejected": dict(sorted(self.rejected.items())),
            "rejected_examples": list(self.examples), "synthetic": self.synthetic, **self.notes,
        }


@dataclass(frozen=True)
class Filters:
    """Row filters; None means "no filter on that axis"."""

    sections: frozenset[str] | None = None
    divisions: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    departements: frozenset[str] | None = None

    def to_dict(self) -> dict[str, list[str] | None]:
        return {k: (sorted(v) if v is not None else None) for k, v in self.__dict__.items()}


# --- reference helpers --------------------------------------------------------------
@lru_cache(maxsize=4)
def naf_table(data_dir: str) -> dict[str, str]:
    """NAF rév. 2 sous-classe (``23.70Z``) → section letter; the validity set for NAF codes."""
    from matching import refdata

    df = refdata.load_naf(data_dir)
    return dict(zip(df["NIV5"].astype(str), df["NIV1"].astype(str)))


def normalize_naf(series: pd.Series) -> pd.Series:
    """``2370Z``/``23.70Z``/``23.70z`` → ``23.70Z``; anything else is left as written (then rejected)."""
    s = series.fillna("").astype(str).str.strip().str.upper()
    return s.str.replace(r"^(\d{2})\.?(\d{2})([A-Z])$", r"\1.\2\3", regex=True)


def luhn_ok(digits: str) -> bool:
    """Luhn checksum (SIREN/SIRET key); La Poste SIRETs are a known exception."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _blank(s: pd.Series) -> pd.Series:
    """Strings with ``[ND]``/empty/whitespace turned into NA."""
    import pandas as pd

    s = s.astype("string").str.strip()
    return s.mask((s == "") | (s == ND), pd.NA)


def _first_present(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    import pandas as pd

    out = pd.Series(pd.NA, index=df.index, dtype="string")
    for c in cols:
        if c in df.columns:
            out = out.fillna(_blank(df[c]))
    return out


def _join_address(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    import pandas as pd

    parts = [_blank(df[c]).fillna("") for c in cols if c in df.columns]
    if not parts:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    s = parts[0]
    for p in parts[1:]:
        s = s + " " + p
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    return s.mask(s == "", pd.NA)


# --- input opening --------------------------------------------------------------------
def _sniff(path: Path) -> str:
    """File format from magic bytes: parquet, gzip, zip or csv."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:2] == b"PK":
        return "zip"
    return "csv"


def _csv_sep(path: Path, fmt: str) -> str:
    import csv

    opener: Callable[[], Any]
    if fmt == "gzip":
        opener = lambda: gzip.open(path, "rt", encoding="utf-8", errors="replace")  # noqa: E731
    elif fmt == "zip":
        def opener() -> Any:
            import io

            zf = zipfile.ZipFile(path)
            return io.TextIOWrapper(zf.open(_zip_member(zf, path)), encoding="utf-8", errors="replace")
    else:
        opener = lambda: path.open(encoding="utf-8", errors="replace")  # noqa: E731
    try:
        with opener() as fh:
            sample = fh.read(65536)
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise CatalogError(f"{path}: compressed stream is truncated or corrupt ({exc})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({fmt}): {exc}") from None
    first = sample.splitlines()[0] if sample else ""
    if not first:
        raise CatalogError(f"{path}: empty file (expected a header line)")
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _zip_member(zf: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    csvs = [n for n in names if n.lower().endswith((".csv", ".txt"))] or names
    if len(csvs) != 1:
        raise CatalogError(f"{path}: zip must hold exactly one CSV file, found {len(csvs)}")
    return csvs[0]


def _encoding(path: Path, fmt: str) -> str:
    """UTF-8 unless the first bytes say otherwise (regional directories are often cp1252)."""
    if fmt != "csv":
        return "utf-8"
    with path.open("rb") as fh:
        head = fh.read(200_000)
    try:
        head.decode("utf-8")
        return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # cut inside a multi-byte char
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best.encoding if best else "cp1252"


def iter_chunks(path: Path, wanted: set[str], required: tuple[str, ...], *, what: str,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[int, pd.DataFrame]]:
    """Stream ``path`` as string DataFrames of the ``wanted`` columns present.

    Yields ``(first_file_line, chunk)``; raises CatalogError (one line, no traceback)
    when the file is missing, the header lacks ``required`` columns, or the stream is
    corrupt (e.g. a truncated gzip).
    """
    import pandas as pd

    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    fmt = _sniff(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError on corrupt files
            raise CatalogError(f"{path}: not a readable parquet file: {exc}") from None
        cols = [c for c in pf.schema_arrow.names if c in wanted]
        _check_required(path, cols, required, what)
        line = 2
        try:
            for batch in pf.iter_batches(batch_size=chunk_rows, columns=cols):
                df = batch.to_pandas()
                for c in df.columns:
                    df[c] = df[c].astype("string").fillna("")
                yield line, df
                line += len(df)
        except CatalogError:
            raise
        except Exception as exc:
            raise CatalogError(f"{path}: parquet read failed near row {line - 1}: {exc}") from None
        return
    sep = _csv_sep(path, fmt)
    enc = _encoding(path, fmt)
    compression = {"gzip": "gzip", "zip": "zip", "csv": None}[fmt]
    try:
        header = pd.read_csv(path, sep=sep, nrows=0, compression=compression, encoding=enc).columns
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise CatalogError(f"{path}: compressed stream is truncated or corrupt ({exc})") from None
    except Exception as exc:
        raise CatalogError(f"{path}: cannot read the header line: {exc}") from None
    header = [str(c).strip() for c in header]
    _check_required(path, header, required, what)
    cols = [c for c in header if c in wanted]
    line = 2
    try:
        reader = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, na_filter=False, usecols=lambda c: c.strip() in wanted,
            chunksize=chunk_rows, compression=compression, encoding=enc, on_bad_lines="error",
        )
        for df in reader:
            df.columns = [c.strip() for c in df.columns]
            yield line, df[[c for c in cols if c in df.columns]]
            line += len(df)
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise CatalogError(f"{path}: compressed stream is truncated or corrupt after line {line - 1} ({exc})") from None
    except pd.errors.ParserError as exc:
        raise CatalogError(f"{path}: malformed CSV after line {line - 1}: {exc}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise CatalogError(f"{path}: cannot read after line {line - 1}: {exc}") from None


def _check_required(path: Path, present: list[str], required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        shown = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "")
        raise CatalogError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {what} with columns "
            f"{', '.join(required)} (found: {shown or 'none'})"
        )


# --- shared row pipeline ------------------------------------------------------------------
def _finish(df: pd.DataFrame, lines: pd.Series, geo: Geo, naf_sections: dict[str, str], filters: Filters,
            report: LoadReport, *, geo_by_code: bool) -> pd.DataFrame:
    """Validate SIRET/NAF, apply NAF filters, join geography, apply geo filters; count everything.

    ``df`` holds at least siret, naf, and either commune_code (``geo_by_code``) or
    ready-made geography columns.
    """
    import pandas as pd

    from matching.catalog.names import clean_names

    df = df.copy()
    df["name"], n_clean = clean_names(df["name"])  # script fragments, markup, control characters
    report.notes["names_cleaned"] = report.notes.get("names_cleaned", 0) + n_clean
    df["name"] = df["name"].fillna("Établissement (SIRET " + df["siret"].astype("string") + ")")
    siret = df["siret"].astype("string").str.replace(r"\s+", "", regex=True)
    ok = siret.str.fullmatch(r"\d{14}").fillna(False) & (siret != "00000000000000")
    report.reject("invalid SIRET (expected 14 digits)", lines[~ok], int((~ok).sum()))
    df, lines = df[ok].copy(), lines[ok]
    df["siret"] = siret[ok]

    naf = normalize_naf(df["naf"])
    section = naf.map(naf_sections)
    ok = section.notna()
    report.reject("invalid NAF code (not a NAF rév. 2 sous-classe)", lines[~ok], int((~ok).sum()))
    df, lines, section = df[ok].copy(), lines[ok], section[ok]
    df["naf"] = naf[ok]

    keep = pd.Series(True, index=df.index)
    if filters.sections is not None or filters.divisions is not None:
        in_sec = section.isin(filters.sections or ())
        in_div = df["naf"].str[:2].isin(filters.divisions or ())
        keep = in_sec | in_div
    report.skipped["outside the NAF filter"] += int((~keep).sum())
    df, lines = df[keep], lines[keep]

    if geo_by_code:
        code = df["commune_code"].astype("string").str.strip().str.upper()
        missing = code.isna() | (code == "")
        report.reject("missing commune code (foreign or unknown address)", lines[missing], int(missing.sum()))
        df, lines, code = df[~missing].drop(columns=["commune_code"]), lines[~missing], code[~missing]
        g = geo.table
        joined = df.assign(_code=code.values).merge(g.drop(columns=["coords_source"]), how="left",
                                                    left_on="_code", right_on="code", validate="many_to_one")
        joined.index = df.index
        unknown = joined["commune_code"].isna()
        report.reject("unknown commune code", lines[unknown.values], int(unknown.sum()))
        df = joined[~unknown].drop(columns=["_code", "code"])
        lines = lines[~unknown.values]

    keep = pd.Series(True, index=df.index)
    if filters.regions is not None:
        keep &= df["region"].isin(filters.regions)
    if filters.departements is not None:
        keep &= df["departement"].isin(filters.departements)
    report.skipped["outside the geographic filter"] += int((~keep).sum())
    df = df[keep]
    report.kept += len(df)
    return _conform(df)


def _conform(df: pd.DataFrame) -> pd.DataFrame:
    """Exactly CATALOG_COLUMNS with string dtypes (floats for lat/lon)."""
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    for c in CATALOG_COLUMNS:
        if c in FLOAT_COLUMNS:
            out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df.columns else float("nan")
        else:
            s = df[c].astype("string") if c in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
            out[c] = s.str.strip().mask(s.str.strip() == "", pd.NA)
    return out.reset_index(drop=True)


# --- SIRENE ----------------------------------------------------------------------------
def load_sirene(path: Path, *, geo: Geo, data_dir: str, filters: Filters, report: LoadReport,
                on_chunk: Callable[[int], None] | None = None) -> Iterator[pd.DataFrame]:
    """Stream a SIRENE stock file (INSEE ``StockEtablissement`` columns, optionally joined with
    ``StockUniteLegale`` ones) into catalog rows.

    Inactive establishments and non-NAF-rév.-2 codes are skipped. The display name is the
    first of ``SIRENE_NAME_COLUMNS`` that is present and not ``[ND]``; a sole trader's
    personal name (``nomUniteLegale``, ``prenom*``) is never used: without any company
    name the row is labelled ``Entreprise individuelle (SIREN …)``.
    """
    import pandas as pd

    sections = naf_table(data_dir)
    wanted = set(SIRENE_REQUIRED) | set(SIRENE_OPTIONAL)
    what = "an INSEE SIRENE StockEtablissement file"
    for line0, raw in iter_chunks(path, wanted, SIRENE_REQUIRED, what=what):
        n = len(raw)
        report.rows_read += n
        lines = pd.Series(range(line0, line0 + n), index=raw.index)
        if SYNTHETIC_COLUMN in raw.columns and (raw[SYNTHETIC_COLUMN] == "1").any():
            report.synthetic = True
        keep = pd.Series(True, index=raw.index)
        if "etatAdministratifEtablissement" in raw.columns:
            keep = raw["etatAdministratifEtablissement"].str.strip().isin(["A", ""])
            report.skipped["closed establishment (etatAdministratifEtablissement != A)"] += int((~keep).sum())
        if "nomenclatureActivitePrincipaleEtablissement" in raw.columns:
            nomen = raw["nomenclatureActivitePrincipaleEtablissement"].str.strip()
            old = keep & ~nomen.isin(["NAFRev2", ""])
            report.skipped["activity coded in an older nomenclature (not NAFRev2)"] += int(old.sum())
            keep &= ~old
        raw, lines = raw[keep], lines[keep]
        siret = raw["siret"].str.strip()
        siren = raw["siren"].str.strip() if "siren" in raw.columns else siret.str[:9]
        name = _first_present(raw, SIRENE_NAME_COLUMNS)
        name = name.fillna("Entreprise individuelle (SIREN " + siren.astype("string") + ")")
        df = pd.DataFrame({
            "siret": siret, "siren": siren, "name": name,
            "naf": raw["activitePrincipaleEtablissement"],
            "commune_code": raw["codeCommuneEtablissement"],
            "size_band": raw.get("trancheEffectifsEtablissement"),
            "category": raw.get("categorieEntreprise"),
            "address": _join_address(raw, ("numeroVoieEtablissement", "indiceRepetitionEtablissement",
                                            "typeVoieEtablissement", "libelleVoieEtablissement")),
            "postcode": raw.get("codePostalEtablissement"),
            "source": "sirene",
        }, index=raw.index)
        out = _finish(df, lines, geo, sections, filters, report, geo_by_code=True)
        if on_chunk:
            on_chunk(n)
        if len(out):
            yield out


# --- IREP ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _lambert2e() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27572", "EPSG:4326", always_xy=True)


def load_irep(path: Path, *, geo: Geo, data_dir: str, filters: Filters, report: LoadReport,
              on_chunk: Callable[[int], None] | None = None, max_shift_km: float = 20.0) -> Iterator[pd.DataFrame]:
    """Stream the IREP industrial register into catalog rows.

    APE ``2370Z`` becomes NAF ``23.70Z``; the commune is resolved from postcode + name
    (the file's pre-2016 régions are ignored: the current région comes from the
    commune). Coordinates: the Lambert II étendu (EPSG:27572) point converted to WGS84
    when it lies within ``max_shift_km`` of the commune's town hall, else the town hall.
    """
    import numpy as np
    import pandas as pd

    from matching.geo import haversine_km

    sections = naf_table(data_dir)
    wanted = set(IREP_REQUIRED) | set(IREP_OPTIONAL)
    coords_used: Counter = Counter()
    for line0, raw in iter_chunks(path, wanted, IREP_REQUIRED, what="the IREP establishments register",
                                  chunk_rows=5000):
        n = len(raw)
        report.rows_read += n
        lines = pd.Series(range(line0, line0 + n), index=raw.index)
        infos = [geo.resolve(pc.strip(), nm) for pc, nm in zip(raw["Code_Postal"], raw["Commune"])]
        known = pd.Series([i is not None for i in infos], index=raw.index)
        report.reject("unknown commune (postcode + name not found)", lines[~known], int((~known).sum()))
        raw, lines = raw[known], lines[known]
        infos = [i for i in infos if i is not None]
        lat = np.array([i.lat if i.lat is not None else np.nan for i in infos], dtype="float64")
        lon = np.array([i.lon if i.lon is not None else np.nan for i in infos], dtype="float64")
        if "Coordonnees_X" in raw.columns and len(raw):
            x = pd.to_numeric(raw["Coordonnees_X"], errors="coerce").to_numpy(dtype="float64")
            y = pd.to_numeric(raw["Coordonnees_Y"], errors="coerce").to_numpy(dtype="float64")
            plon, plat = _lambert2e().transform(x, y)
            use = np.zeros(len(raw), dtype=bool)
            for k in range(len(raw)):
                if np.isfinite(plat[k]) and np.isfinite(lat[k]) and x[k] > 0:
                    use[k] = haversine_km(plat[k], plon[k], lat[k], lon[k]) <= max_shift_km
            lat = np.where(use, np.round(plat, 6), lat)
            lon = np.where(use, np.round(plon, 6), lon)
            coords_used["lambert2e"] += int(use.sum())
            coords_used["commune"] += int((~use).sum())
        siret = raw["Numero_SIRET"].str.strip()
        df = pd.DataFrame({
            "siret": siret, "siren": siret.str[:9], "name": _blank(raw["Nom_Etablissement"]),
            "naf": raw["Code_APE"],
            "commune_code": [i.code for i in infos], "commune": [i.name for i in infos],
            "departement": [i.departement for i in infos], "region": [i.region for i in infos],
            "collectivity": [i.collectivity for i in infos],
            "lat": lat, "lon": lon,
            "address": _blank(raw["Adresse"]) if "Adresse" in raw.columns else None,
            "postcode": raw["Code_Postal"].str.strip(), "source": "irep",
        }, index=raw.index)
        df["name"] = df["name"].fillna("Établissement (SIRET " + df["siret"].astype("string") + ")")
        out = _finish(df, lines, geo, sections, filters, report, geo_by_code=False)
        if on_chunk:
            on_chunk(n)
        if len(out):
            yield out
    report.notes["coordinates"] = dict(sorted(coords_used.items()))


# --- generic CSV -------------------------------------------------------------------------
def parse_mapping(text: str) -> dict[str, str]:
    """``"siret=SIRET,name=Raison sociale"`` → ``{"siret": "SIRET", "name": "Raison sociale"}``."""
    out: dict[str, str] = {}
    for part in [p for p in text.split(",") if p.strip()]:
        if "=" not in part:
            raise CatalogError(f"--map: {part.strip()!r} is not target=column (e.g. siret=SIRET)")
        k, v = part.split("=", 1)
        k = k.strip().lower()
        if k not in CSV_TARGETS:
            raise CatalogError(f"--map: unknown target {k!r}; expected one of {', '.join(CSV_TARGETS)}")
        out[k] = v.strip()
    return out


def load_csv(path: Path, *, geo: Geo, data_dir: str, filters: Filters, report: LoadReport,
             mapping: dict[str, str] | None, on_chunk: Callable[[int], None] | None = None
             ) -> Iterator[pd.DataFrame]:
    """Stream a regional directory CSV through a column ``mapping`` (target → file column).

    Needs ``siret``, ``name``, ``naf`` and ``commune`` (an INSEE code, or a name with
    ``postcode``). ``products`` (free-text keywords) is kept for the matcher.
    """
    import pandas as pd

    if not mapping:
        raise CatalogError(f"{path}: a generic CSV needs --map (e.g. siret=SIRET,name=Raison sociale,naf=APE,"
                           "commune=Code commune,products=Produits)")
    need = [t for t in ("siret", "name", "naf", "commune") if t not in mapping]
    if need:
        raise CatalogError(f"--map lacks target(s) {', '.join(need)} (needed: siret, name, naf, commune)")
    sections = naf_table(data_dir)
    required = tuple(dict.fromkeys(mapping.values()))
    for line0, raw in iter_chunks(path, set(required), required, what="a CSV matching --map"):
        n = len(raw)
        report.rows_read += n
        lines = pd.Series(range(line0, line0 + n), index=raw.index)
        col = {t: raw[c] for t, c in mapping.items()}
        commune = col["commune"].str.strip()
        postcode = col["postcode"].str.strip() if "postcode" in col else pd.Series("", index=raw.index)
        codes = []
        for cm, pc in zip(commune, postcode):
            info = geo.commune(cm) if re.fullmatch(r"\d[\dAB]\d{3}", cm or "") else None
            if info is None and cm:
                info = geo.resolve(pc, cm) if pc else None
            codes.append(info.code if info is not None else ("" if not cm else "?" + cm))
        siret = col["siret"].str.replace(r"\s+", "", regex=True)
        df = pd.DataFrame({
            "siret": siret, "siren": col["siren"] if "siren" in col else siret.str[:9],
            "name": _blank(col["name"]), "naf": col["naf"], "commune_code": codes,
            "size_band": col.get("size_band"), "category": col.get("category"),
            "products": col.get("products"), "address": col.get("address"),
            "postcode": postcode if "postcode" in col else None, "source": "csv",
        }, index=raw.index)
        noname = df["name"].isna()
        report.reject("missing name", lines[noname], int(noname.sum()))
        df, lines = df[~noname], lines[~noname]
        out = _finish(df, lines, geo, sections, filters, report, geo_by_code=True)
        if on_chunk:
            on_chunk(n)
        if len(out):
            yield out
