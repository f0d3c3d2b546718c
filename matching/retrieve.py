"""Candidate generation: which establishments are worth scoring for one line.

Two channels, each keeping its own score (splink-style blocking): the *activity block*
(establishments whose NAF is among the line's producing activities, with sibling NAFs of
the same class at a discount) and the *lexical* channel (the line's words against the
suppliers' own words). Blocks of tens of thousands of rows (1M catalogs) are pre-ranked
cheaply (région, buyer distance, size) before the union is capped at ``candidate_depth``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.config import MatchConfig
from matching.index import CatalogIndex
from matching.types import ActivityGuess

# INSEE tranche d'effectifs → [0, 1]: larger sites are likelier to take an industrial order.
SIZE_SCORES = {
    "00": 0.05, "01": 0.15, "02": 0.2, "03": 0.3, "11": 0.4, "12": 0.5, "21": 0.6, "22": 0.7,
    "31": 0.8, "32": 0.85, "41": 0.9, "42": 0.95, "51": 1.0, "52": 1.0, "53": 1.0,
}
SIBLING_FACTOR = 0.75  # same NAF class (4 digits), other sous-classe: 25.62A for 25.62B
GROUP_FACTOR = 0.45  # same NAF group (3 digits), used only when the line has few candidates
WHOLESALE_FACTOR = 0.6  # distributors are a second choice


def naf_similarity(a: str | None, b: str | None) -> float:
    """How close two NAF sous-classes are in the hierarchy, in [0, 1]."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a[:5] == b[:5]:
        return SIBLING_FACTOR
    if a[:4] == b[:4]:
        return GROUP_FACTOR
    return 0.0


Take = Callable[[np.ndarray], list[Any]]


def _taker(series: Any) -> Take:  # noqa: ANN401 - a pandas Series
    """How to read some rows of one column as Python values, fastest first: Arrow strings in
    one chunk through pyarrow, plain numpy columns by indexing, anything else through pandas.
    Nothing is copied (``combine_chunks`` would copy a whole column, even a single chunk)."""
    import pyarrow as pa

    data = getattr(series.array, "_pa_array", None)
    if isinstance(data, pa.ChunkedArray) and data.num_chunks == 1:
        data = data.chunk(0)
    if isinstance(data, pa.Array) and (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return lambda rows: data.take(rows).to_pylist()
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiubO":
        values = series.to_numpy(copy=False)
        return lambda rows: values[rows].tolist()
    return lambda rows: series.iloc[rows].tolist()


class TableColumns:
    """Rows of the catalog's columns as Python values without pandas on the hot path.

    Why: ``table[col].iloc[rows].tolist()`` costs ~0.1 ms a column whatever the row count
    (pandas take + Arrow conversion); a line reads several columns of hundreds of candidates.
    Values are those of ``tolist()``, except that a missing one may come as None rather than
    NaN/NA (callers treat all three alike). The table's arrays are shared, not copied.
    """

    def __init__(self, table: Any) -> None:  # noqa: ANN401 - a pandas DataFrame
        self._take = {c: _taker(table[c]) for c in table.columns}

    def __contains__(self, name: str) -> bool:
        return name in self._take

    def values(self, name: str, rows: Sequence[int] | np.ndarray) -> list[Any]:
        """The values of column ``name`` at row positions ``rows`` (non-negative), in order."""
        return self._take[name](np.asarray(rows, dtype=np.int64))

    def strings(self, name: str, rows: Sequence[int] | np.ndarray) -> list[str]:
        """Like ``values``, with "" for anything not a string (missing values included)."""
        return [v if isinstance(v, str) else "" for v in self.values(name, rows)]


@dataclass
class CatalogArrays:
    """Column arrays of the catalog table used on the hot path (no per-row pandas access)."""

    naf: np.ndarray
    region: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    size: np.ndarray  # size score, NaN when unknown
    region_id: np.ndarray  # int16 région code (-1 unknown): integer compares on the hot path
    columns: TableColumns | None = None  # every column, read per row (names, products, supplier records)

    def region_code(self, region: str) -> int:
        return int(region) if region and region.isdigit() else -2

    @classmethod
    def from_table(cls, table) -> CatalogArrays:  # noqa: ANN001 - pandas DataFrame
        import pandas as pd

        n = len(table)

        def strings(col: str) -> np.ndarray:
            if col not in table.columns:
                return np.full(n, "", dtype=object)
            return table[col].astype("string").fillna("").to_numpy(dtype=object)

        def floats(col: str) -> np.ndarray:
            if col not in table.columns:
                return np.full(n, np.nan)
            return pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

        size_band = strings("size_band")
        size = pd.Series(size_band).map(SIZE_SCORES).to_numpy(dtype=float, na_value=np.nan)
        region = strings("region")
        region_id = pd.to_numeric(pd.Series(region), errors="coerce").fillna(-1).to_numpy(dtype=np.int16)
        return cls(naf=strings("naf"), region=region, lat=floats("lat"), lon=floats("lon"), size=size,
                   region_id=region_id, columns=TableColumns(table))


def haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance from one point to many, NaN where coordinates are missing."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def proximity_from_km(km: np.ndarray) -> np.ndarray:
    """Distance → [0, 1]: 1 next door, 0.5 at 150 km, ~0.1 across France; NaN stays NaN."""
    return 1.0 / (1.0 + km / 150.0)


@dataclass(frozen=True)
class Candidates:
    """Candidate rows of one line with each channel's evidence (arrays aligned on ``rows``)."""

    rows: np.ndarray  # int64 catalog row positions
    activity: np.ndarray  # activity fit in [0, 1]; NaN when the line has no activity at all
    activity_idx: np.ndarray  # index into the line's activities of the best-fitting one, -1 when none
    lexical: np.ndarray  # raw BM25 score (0 = shares no word)
    channels: np.ndarray  # bit 1 = activity block, bit 2 = lexical hit
    block_total: int  # establishments in the activity blocks before capping

    def __len__(self) -> int:
        return len(self.rows)


def usable_activities(activities: Sequence[ActivityGuess], config: MatchConfig) -> list[tuple[ActivityGuess, float]]:
    """Activities to block on with their weight: producers first, wholesale only when asked."""
    out: list[tuple[ActivityGuess, float]] = []
    producers = [a for a in activities if not (a.wholesale or a.naf.startswith("46"))]
    wholesale = [a for a in activities if a.wholesale or a.naf.startswith("46")]
    for a in producers[: config.max_activities]:
        out.append((a, float(a.score)))
    if config.include_wholesale:
        for a in wholesale[: config.max_activities]:
            out.append((a, float(a.score) * WHOLESALE_FACTOR))
    return out


def _prerank(rows: np.ndarray, arrays: CatalogArrays, config: MatchConfig, buyer: tuple[float, float] | None) -> np.ndarray:
    """Cheap order inside a big block: région, buyer distance, size (no text work)."""
    score = 0.5 * (arrays.region_id[rows] == arrays.region_code(config.region))
    size = arrays.size[rows]
    score = score + 0.2 * np.where(np.isnan(size), 0.3, size)
    if buyer is not None:
        prox = proximity_from_km(haversine_km(buyer[0], buyer[1], arrays.lat[rows], arrays.lon[rows]))
        score = score + 0.3 * np.where(np.isnan(prox), 0.0, prox)
    return score


def retrieve(
    tokens: list[str],
    activities: Sequence[ActivityGuess],
    index: CatalogIndex,
    arrays: CatalogArrays,
    config: MatchConfig,
    *,
    buyer: tuple[float, float] | None = None,
) -> Candidates:
    """The union of the activity block and the lexical hits of one line, capped at ``candidate_depth``."""
    acts = usable_activities(activities, config)
    block_total = 0
    per_block = max(config.block_depth // max(len(acts), 1), config.top_n * 4)
    parts: list[tuple[np.ndarray, float, int]] = []

    def add_block(rows: np.ndarray, weight: float, ai: int) -> None:
        nonlocal block_total
        block_total += len(rows)
        if len(rows) > per_block:
            pr = _prerank(rows, arrays, config, buyer)
            rows = rows[np.argpartition(-pr, per_block - 1)[:per_block]]
        if len(rows):
            parts.append((np.asarray(rows, dtype=np.int64), weight, ai))

    act_index = {a.naf: i for i, a in enumerate(activities)}
    for a, w in acts:
        add_block(index.rows_for_naf(a.naf), w, act_index[a.naf])
    # Sibling sous-classes of the same NAF class (25.62A for 25.62B): IREP/SIRENE coding is noisy.
    seen = {a.naf for a, _ in acts}
    for a, w in acts:
        for code in index.naf_codes_with_prefix(a.naf[:5]):
            if code not in seen:
                add_block(index.rows_for_naf(code), w * SIBLING_FACTOR, act_index[a.naf])
    if sum(len(p[0]) for p in parts) < config.top_n:  # widen to the NAF group only when the line is starved
        for a, w in acts:
            for code in index.naf_codes_with_prefix(a.naf[:4]):
                if code[:5] != a.naf[:5]:
                    add_block(index.rows_for_naf(code), w * GROUP_FACTOR, act_index[a.naf])
    if parts:  # best weight per row, vectorised
        R = np.concatenate([p[0] for p in parts])
        W = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
        A = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
        o = np.lexsort((-W, R))
        R, W, A = R[o], W[o], A[o]
        first = np.ones(len(R), dtype=bool)
        first[1:] = R[1:] != R[:-1]
        fit_rows, fit_w, fit_a = R[first], W[first], A[first]
    else:
        fit_rows, fit_w, fit_a = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)

    lex_rows, lex_scores = (
        index.search(tokens, config.lexical_depth) if config.lexical_depth and tokens else (np.zeros(0, np.int64), np.zeros(0))
    )
    rows = np.union1d(fit_rows, lex_rows.astype(np.int64))
    n = len(rows)
    activity = np.full(n, np.nan if not acts else 0.0)
    activity_idx = np.full(n, -1, dtype=np.int64)
    lexical = np.zeros(n)
    channels = np.zeros(n, dtype=np.int8)
    pos = np.searchsorted(rows, fit_rows)
    activity[pos], activity_idx[pos] = fit_w, fit_a
    channels[pos] |= 1
    lpos = np.searchsorted(rows, lex_rows)
    lexical[lpos] = lex_scores
    channels[lpos] |= 2
    if acts:  # lexical-only hits: partial credit through the NAF hierarchy
        for i in np.flatnonzero(channels == 2).tolist():
            nf = arrays.naf[rows[i]]
            best, bi = 0.0, -1
            for a, w in acts:
                sc = w * naf_similarity(nf, a.naf)
                if sc > best:
                    best, bi = sc, act_index[a.naf]
            activity[i], activity_idx[i] = best, bi
    if n > config.candidate_depth:
        top_lex = lexical.max() if n else 0.0
        cheap = np.nan_to_num(activity, nan=0.0) * 0.6 + (lexical / top_lex if top_lex > 0 else 0.0) * 0.3
        cheap = cheap + 0.1 * _prerank(rows, arrays, config, buyer)
        keep = np.sort(np.argpartition(-cheap, config.candidate_depth - 1)[: config.candidate_depth])
        rows, activity, activity_idx, lexical, channels = (
            rows[keep], activity[keep], activity_idx[keep], lexical[keep], channels[keep]
        )
    return Candidates(rows, activity, activity_idx, lexical, channels, block_total)
