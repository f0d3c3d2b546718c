"""Supply-chain proximity: how close a site is to the French suppliers a BOM result found.

Why here and not in the engine: the supplier ranking already knows each line's suppliers; the
siting question is the reverse one, "which site puts the project next to the suppliers of most of
its imported value". Inputs are the result contract JSON (``matching.results``): per line its
status, annual value, origin and proposed suppliers with their commune. A supplier is placed at
its commune's point (the contract carries the commune, not the establishment's coordinates).

* ``share``: the imported value whose line has at least one proposed French supplier within the
  radius of the site, over all the imported value (a line with no supplier counts against);
* ``weighted_km``: the value-weighted mean distance from the site to each line's nearest supplier,
  over lines with a supplier.

Imported = every line whose origin is not France (no origin given counts as imported: the BOM
lists what is bought). When no line gives a value each line counts 1 (``basis = "lines"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

EARTH_KM = 6371.0088
_FRANCE = {"FR", "FRA", "FRANCE"}


@dataclass(frozen=True)
class SupplyChain:
    """Imported lines with at least one placed supplier, as groups of supplier-commune indices
    (``flat`` sliced at ``offsets``), with their weights; communes as 3-D unit vectors."""

    lat: np.ndarray  # radians, one per distinct supplier commune (NaN when the commune has no point)
    lon: np.ndarray
    flat: np.ndarray  # commune indices of every group, concatenated
    offsets: np.ndarray  # start of each group in ``flat``
    weights: np.ndarray  # value (or line count) per group
    total: float  # all imported value, with or without a supplier
    basis: str  # "value" or "lines"
    lines: int  # imported lines considered
    lines_with_suppliers: int
    suppliers: int  # distinct (siret, commune) pairs
    communes: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"basis": self.basis, "imported_lines": self.lines, "lines_with_suppliers": self.lines_with_suppliers,
                "imported_value_eur": round(self.total, 2) if self.basis == "value" else None,
                "suppliers": self.suppliers, "supplier_communes": len(self.communes)}


def _value(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=1)


def supply_chain(result: dict[str, Any], *, geo: Any) -> SupplyChain | None:
    """The project's imported lines and their suppliers' points; None when nothing is usable."""
    imported = []
    for ln in result.get("lines") or []:
        if not isinstance(ln, dict) or ln.get("status") in ("skipped", "error"):
            continue
        origin = str(((ln.get("input") or {}).get("origin_country")) or "").strip().upper()
        if origin not in _FRANCE:
            imported.append(ln)
    if not imported:
        return None
    values = [_value((ln.get("input") or {}).get("annual_value_eur")) for ln in imported]
    basis = "value" if any(v is not None for v in values) else "lines"
    w = np.asarray([(v or 0.0) if basis == "value" else 1.0 for v in values], dtype="float64")
    total = float(w.sum())
    if total <= 0:
        return None
    index: dict[str, int] = {}
    inv: list[int] = []
    counts: list[int] = []
    sirets: list[str] = []
    for ln in imported:
        sups = ln.get("suppliers") or []
        counts.append(len(sups))
        for sup in sups:
            code = str(sup.get("commune_code") or "")
            inv.append(index.setdefault(code, len(index)))
            sirets.append(str(sup.get("siret")))
    codes = tuple(index)
    lat = np.full(len(codes), np.nan)
    lon = np.full(len(codes), np.nan)
    for j, code in enumerate(codes):
        info = geo.commune(code) if code else None
        if info is not None and info.lat is not None and info.lon is not None:
            lat[j], lon[j] = math.radians(info.lat), math.radians(info.lon)
    inv_a = np.asarray(inv, dtype=np.int64)
    line_of = np.repeat(np.arange(len(imported)), counts)
    placed = ~np.isnan(lat[inv_a]) if len(inv_a) else np.zeros(0, dtype=bool)
    with_sup = int(len(np.unique(line_of[placed])))
    keep = placed & (w[line_of] > 0)
    flat, grp = inv_a[keep], line_of[keep]
    offsets = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]]) if len(grp) else np.zeros(0, dtype=np.int64)
    pairs = len({(si, codes[c]) for si, c, ok in zip(sirets, inv, placed, strict=True) if ok})
    return SupplyChain(lat=lat, lon=lon, flat=flat, offsets=offsets.astype(np.int64),
                       weights=w[grp[offsets]] if len(grp) else np.zeros(0), total=total, basis=basis,
                       lines=len(imported), lines_with_suppliers=with_sup, suppliers=pairs, communes=codes)


def proximity(chain: SupplyChain, lat_rad: np.ndarray, lon_rad: np.ndarray, radius_km: float,
              *, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(share within ``radius_km``, value-weighted nearest-supplier km) for each site (radians in).

    The nearest supplier of a line is the one with the largest dot product of unit vectors
    (one matrix product, then a max over each line's communes); only those maxima go through
    arccos. Sites are taken ``chunk`` at a time so memory stays bounded."""
    n = len(lat_rad)
    if n == 0 or len(chain.weights) == 0:
        return np.zeros(n), np.full(n, np.nan)
    # one unit vector per (line, supplier commune) entry: the product with the sites' vectors is
    # contiguous along the entries, so the per-line max (reduceat on axis 0) streams through memory
    entries = _unit(np.nan_to_num(chain.lat), np.nan_to_num(chain.lon))[chain.flat]
    sites = _unit(lat_rad, lon_rad)
    cos_r = math.cos(radius_km / EARTH_KM)
    share = np.empty(n)
    weighted = np.empty(n)
    wsum = chain.weights.sum()
    for a in range(0, n, chunk):
        best = np.maximum.reduceat(entries @ sites[a:a + chunk].T, chain.offsets, axis=0)  # lines × sites
        share[a:a + chunk] = chain.weights @ (best >= cos_r) / chain.total
        weighted[a:a + chunk] = chain.weights @ (EARTH_KM * np.arccos(np.clip(best, -1.0, 1.0))) / wsum
    return share, weighted
