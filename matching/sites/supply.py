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
    """Lines grouped by their supplier-commune sets (``offsets`` into ``flat``), with weights."""

    lat: np.ndarray  # radians, one per distinct supplier commune
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


def supply_chain(result: dict[str, Any], *, geo: Any) -> SupplyChain | None:
    """The project's imported lines and their suppliers' points; None when nothing is usable."""
    lines = [ln for ln in result.get("lines") or [] if isinstance(ln, dict) and ln.get("status") != "skipped"
             and ln.get("status") != "error"]
    imported = []
    for ln in lines:
        origin = str(((ln.get("input") or {}).get("origin_country")) or "").strip().upper()
        if origin in _FRANCE:
            continue
        imported.append(ln)
    if not imported:
        return None
    values = [_value((ln.get("input") or {}).get("annual_value_eur")) for ln in imported]
    basis = "value" if any(v is not None for v in values) else "lines"
    index: dict[str, int] = {}
    lat: list[float] = []
    lon: list[float] = []
    groups: dict[tuple[int, ...], float] = {}
    total, with_sup = 0.0, 0
    pairs: set[tuple[str, str]] = set()
    for ln, v in zip(imported, values, strict=True):
        w = (v or 0.0) if basis == "value" else 1.0
        total += w
        idx = set()
        for s in ln.get("suppliers") or []:
            code = str(s.get("commune_code") or "")
            if code not in index:
                info = geo.commune(code) if code else None
                if info is None or info.lat is None:
                    continue
                index[code] = len(lat)
                lat.append(math.radians(info.lat))
                lon.append(math.radians(info.lon))
            idx.add(index[code])
            pairs.add((str(s.get("siret")), code))
        if idx and w > 0:
            with_sup += 1
            key = tuple(sorted(idx))
            groups[key] = groups.get(key, 0.0) + w
        elif idx:
            with_sup += 1
    if total <= 0:
        return None
    keys = list(groups)
    flat = np.fromiter((i for k in keys for i in k), dtype=np.int64)
    offsets = np.cumsum([0] + [len(k) for k in keys[:-1]]).astype(np.int64) if keys else np.zeros(0, np.int64)
    return SupplyChain(lat=np.asarray(lat), lon=np.asarray(lon), flat=flat, offsets=offsets,
                       weights=np.asarray([groups[k] for k in keys], dtype="float64"), total=total, basis=basis,
                       lines=len(imported), lines_with_suppliers=with_sup, suppliers=len(pairs),
                       communes=tuple(index))


def proximity(chain: SupplyChain, lat_rad: np.ndarray, lon_rad: np.ndarray, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
    """(share within ``radius_km``, value-weighted nearest-supplier km) for each site (radians in)."""
    n = len(lat_rad)
    if n == 0 or len(chain.weights) == 0:
        return np.zeros(n), np.full(n, np.nan)
    # haversine, sites × supplier communes
    dlat = lat_rad[:, None] - chain.lat[None, :]
    dlon = lon_rad[:, None] - chain.lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat_rad)[:, None] * np.cos(chain.lat)[None, :] * np.sin(dlon / 2) ** 2
    dist = 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    nearest = np.minimum.reduceat(dist[:, chain.flat], chain.offsets, axis=1)  # sites × line groups
    share = (nearest <= radius_km) @ chain.weights / chain.total
    weighted = nearest @ chain.weights / chain.weights.sum()
    return share, weighted
