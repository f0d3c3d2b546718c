"""Territorial strengths: where imported value meets an existing regional supply base.

Why: the regional plan says "partir de ses atouts propres" -- start from the
territory's own strengths. From a set of BOMs we sum the imported value per product
class (HS4 heading), find the activities that produce it (the crosswalk CN/HS → CPA →
NACE/NAF, producers only) and count the establishments of those activities in a
supplier catalog, nationally and in the region (Grand Est = "44" by default), with
their size bands. Products with high imported value AND a regional base come first:
that is where a relocation has the best odds.

Pure over its inputs: BomLines, a catalog table (DataFrame with ``siret, naf, region,
size_band``) and a crosswalk object with ``activities_for(code)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from matching.errors import CatalogError, CodeError
from matching.types import ActivityGuess, BomLine

if TYPE_CHECKING:
    import pandas as pd

GRAND_EST = "44"

# INSEE "tranche d'effectifs" codes grouped into four readable bands.
SIZE_BANDS: dict[str, str] = {
    "00": "0-9", "01": "0-9", "02": "0-9", "03": "0-9",
    "11": "10-49", "12": "10-49",
    "21": "50-249", "22": "50-249", "31": "50-249",
    "32": "250+", "41": "250+", "42": "250+", "51": "250+", "52": "250+", "53": "250+",
}
BAND_ORDER = ("0-9", "10-49", "50-249", "250+", "unknown")


class _Crosswalk(Protocol):
    def activities_for(self, code: str) -> list[ActivityGuess]: ...


def size_band_group(code: Any) -> str:
    """INSEE tranche code ("12") → readable band ("10-49"); "NN"/missing → "unknown"."""
    if code is None or (isinstance(code, float) and code != code):
        return "unknown"
    return SIZE_BANDS.get(str(code).strip().zfill(2), "unknown")


def _flatten(boms_lines: Iterable[BomLine] | Iterable[Sequence[BomLine]]) -> list[BomLine]:
    out: list[BomLine] = []
    for item in boms_lines:
        if isinstance(item, BomLine):
            out.append(item)
        else:
            out.extend(item)
    return out


def _table(catalog: Any) -> pd.DataFrame:
    import pandas as pd

    table = catalog if isinstance(catalog, pd.DataFrame) else getattr(catalog, "table", None)
    if table is None:
        raise CatalogError("potential(): expected a catalog with a .table DataFrame, or the DataFrame itself")
    missing = [c for c in ("siret", "naf", "region") if c not in table.columns]
    if missing:
        raise CatalogError(f"catalog table lacks column(s) {', '.join(missing)}; expected siret, naf, region[, size_band]")
    return table


def potential(
    boms_lines: Iterable[BomLine] | Iterable[Sequence[BomLine]],
    catalog: Any,
    crosswalk: _Crosswalk | None = None,
    *,
    region: str = GRAND_EST,
    min_activity_score: float = 0.0,
) -> pd.DataFrame:
    """Ranked table of product classes (HS4): imported value, producing activities, and
    establishments producing them in France and in ``region``, by size band.

    ``boms_lines`` is one BOM (a list of BomLine) or several. Lines of French origin are
    not imports and are left out; lines without a usable code cannot be placed and are
    counted in ``df.attrs["unclassified_lines"/"unclassified_value_eur"]``. Rank key:
    ``imported value × (regional base exists)``, then imported value, then regional count.
    """
    import pandas as pd

    from matching.config import KNOWN_REGIONS

    if str(region) not in KNOWN_REGIONS:
        raise CatalogError(f"region {region!r}: not an INSEE région code (01-06, 11-94; Grand Est = 44); "
                           "overseas collectivities such as 977 or 978 are in no région")
    if crosswalk is None:
        from matching.codes import get_crosswalk

        crosswalk = get_crosswalk()
    table = _table(catalog)
    lines = [ln for ln in _flatten(boms_lines) if (ln.origin_country or "").strip().upper() != "FR"]

    value: dict[str, float] = defaultdict(float)
    n_lines: dict[str, int] = defaultdict(int)
    n_valued: dict[str, int] = defaultdict(int)
    origins: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    acts: dict[str, dict[str, float]] = defaultdict(dict)
    unclassified = 0
    unclassified_value = 0.0
    for ln in lines:
        code = (ln.code or "").strip()
        guesses: list[ActivityGuess] = []
        if len(code) >= 4 and code[:4].isdigit():
            for attempt in (code, code[:4]):  # an unknown CN8 still names its HS4 heading
                try:
                    found = crosswalk.activities_for(attempt)
                except CodeError:
                    continue
                guesses = [a for a in found if not a.wholesale and a.score >= min_activity_score]
                break
        if len(code) < 4 or not code[:4].isdigit():
            unclassified += 1
            unclassified_value += ln.annual_value_eur or 0.0
            continue
        h = code[:4]
        n_lines[h] += 1
        if ln.annual_value_eur is not None:
            value[h] += ln.annual_value_eur
            n_valued[h] += 1
            origins[h][(ln.origin_country or "?").upper()] += ln.annual_value_eur
        for a in guesses:
            acts[h][a.naf] = max(acts[h].get(a.naf, 0.0), a.score)

    t = table.assign(
        _band=table["size_band"].map(size_band_group) if "size_band" in table.columns else "unknown",
        _regional=table["region"].astype("string").fillna("") == region,
    )
    by_naf = {naf: g for naf, g in t.groupby("naf", sort=False)}
    rows = []
    for h in n_lines:
        nafs = sorted(acts[h], key=lambda n: (-acts[h][n], n))
        sub = pd.concat([by_naf[n] for n in nafs if n in by_naf]) if any(n in by_naf for n in nafs) else t.iloc[0:0]
        sub = sub.drop_duplicates("siret")
        reg = sub[sub["_regional"]]
        bands = reg["_band"].value_counts()
        top_origin = max(origins[h].items(), key=lambda kv: kv[1])[0] if origins[h] else None
        val = value[h] if n_valued[h] else float("nan")
        rows.append(
            {
                "hs4": h,
                "lines": n_lines[h],
                "imported_value_eur": val,
                "top_origin": top_origin,
                "activities": ", ".join(nafs),
                "establishments_fr": int(len(sub)),
                "establishments_region": int(len(reg)),
                **{f"region_{b}": int(bands.get(b, 0)) for b in BAND_ORDER},
                "regional_base": bool(len(reg) > 0),
            }
        )
    cols = [
        "hs4", "lines", "imported_value_eur", "top_origin", "activities", "establishments_fr",
        "establishments_region", *[f"region_{b}" for b in BAND_ORDER], "regional_base",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["potential_eur"] = df["imported_value_eur"].where(df["regional_base"], 0.0)
    df = df.sort_values(
        ["potential_eur", "imported_value_eur", "establishments_region", "hs4"],
        ascending=[False, False, False, True], na_position="last", kind="stable",
    ).reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    df.attrs["region"] = region
    df.attrs["unclassified_lines"] = unclassified
    df.attrs["unclassified_value_eur"] = unclassified_value
    df.attrs["french_origin_lines_left_out"] = len(_flatten(boms_lines)) - len(lines)
    return df


def add_labels(df: pd.DataFrame, crosswalk: Any, *, lang: str = "fr") -> pd.DataFrame:
    """Add a ``label`` column with the HS4 heading's label when the crosswalk knows it."""
    def lab(h: str) -> str | None:
        for lg in (lang, "en"):
            try:
                got = crosswalk.labels(h, lg)
            except (CodeError, ValueError):
                got = None
            if got:
                return got
        return None

    out = df.copy()
    out.insert(2, "label", out["hs4"].map(lab))
    return out
