"""Site registers in, one normalised frame out: Cerema Cartofriches, a région's CSV, a GeoJSON.

Why one frame for three layouts: the ranking must not care whether a site came from the
national brownfield inventory or from a région's own list of "clé en main" sites. Every loader
returns ``SITE_COLUMNS`` and fills a ``LoadReport`` (rows read, kept, rejected with a reason and
the first rejected lines), like the supplier catalog's loaders. The caveats of each source are
carried as data (``verified``, ``has_project``, ``surface_is_placeholder``), never hidden.

The simple layout for a région's own list (CSV, or GeoJSON ``properties``) is documented in
``docs/sites.md``: required ``site_id``, ``name``, ``commune`` (INSEE code) and ``surface_m2`` or
``surface_ha``; optional ``site_type``, ``status``, ``zone_type``, ``zone_label``,
``rail_distance_m``, ``pollution``, ``verified``, ``lat``, ``lon``, ``url``, ``owner_category``,
``former_activity``, ``updated``.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from matching.catalog.sources import LoadReport
from matching.errors import RelocmatchError

__all__ = [
    "SITE_COLUMNS", "BOOL_COLUMNS", "FLOAT_COLUMNS", "SOURCE_KINDS", "SiteError", "LoadReport",
    "load_cartofriches", "load_site_csv", "load_site_geojson", "site_type_of", "status_of", "zone_kind_of",
    "pollution_of", "PLACEHOLDER_SURFACES",
]


class SiteError(RelocmatchError):
    """A site register cannot be built or loaded, or a project cannot be matched."""


SITE_COLUMNS = (
    "site_id", "name", "source", "origin", "site_type", "site_type_raw", "status", "commune_code", "commune",
    "departement", "region", "lat", "lon", "coords_source", "surface_m2", "surface_is_placeholder", "zone_type",
    "zone_kind", "zone_label", "rail_m", "pollution", "pollution_register", "verified", "has_project", "available",
    "former_activity", "owner_category", "url", "updated",
)
FLOAT_COLUMNS = frozenset({"lat", "lon", "surface_m2", "rail_m"})
BOOL_COLUMNS = frozenset({"surface_is_placeholder", "pollution_register", "verified", "has_project", "available"})
SOURCE_KINDS = ("cartofriches", "csv", "geojson")

# Fonds Friches rows whose surface is a 10 m / 100 m buffer circle (data README): not a real surface
PLACEHOLDER_SURFACES = (312.14, 31214.45, 624.29)

# canonical site types (Cartofriches spellings and a région's own words both land here)
_TYPE_WORDS = (
    ("agro-industrielle", "agro_industrielle"), ("agro industrielle", "agro_industrielle"),
    ("industri", "industrielle"), ("logisti", "logistique"), ("ferroviaire", "ferroviaire"),
    ("militaire", "militaire"), ("commerc", "commerciale"), ("habitat", "habitat"),
    ("hospital", "hospitaliere"), ("equipement", "equipement_public"), ("loisir", "loisir"),
    ("carriere", "carriere"), ("mine", "carriere"), ("mixte", "mixte"),
    ("parc d'activite", "parc_activites"), ("zone d'activite", "parc_activites"), ("parc_activites", "parc_activites"),
    ("business park", "parc_activites"), ("zae", "parc_activites"), ("za ", "parc_activites"),
    ("autre", "autre"), ("inconnu", "inconnu"), ("unknown", "inconnu"),
)
SITE_TYPES = ("industrielle", "agro_industrielle", "logistique", "ferroviaire", "militaire", "commerciale",
              "habitat", "hospitaliere", "equipement_public", "loisir", "carriere", "mixte", "parc_activites",
              "autre", "inconnu")
STATUSES = ("sans_projet", "potentielle", "avec_projet", "reconvertie", "inconnu")
POLLUTIONS = ("inexistante", "peu_probable", "inconnue", "supposee", "averee")


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.replace("’", "'"))
    return "".join(ch for ch in s if not unicodedata.combining(ch)).lower().strip()


def site_type_of(raw: str | None) -> str:
    """``friche d’habitat`` / ``friche d'habitat`` → ``habitat``; anything unknown → ``autre``."""
    f = _fold(raw or "")
    if not f:
        return "inconnu"
    if f in SITE_TYPES:
        return f
    for word, canon in _TYPE_WORDS:
        if word in f + " ":
            return canon
    return "autre"


def status_of(raw: str | None) -> str:
    """Cartofriches ``site_statut`` (or a région's word) → sans_projet / potentielle / avec_projet / reconvertie."""
    f = _fold(raw or "").replace("_", " ")
    if not f or f == "inconnu":
        return "inconnu"
    if "reconverti" in f or "reconverted" in f:
        return "reconvertie"
    if "avec projet" in f or "with project" in f or "engage" in f:
        return "avec_projet"
    if "potentiel" in f or "potential" in f:
        return "potentielle"
    if "sans projet" in f or "disponible" in f or "available" in f or "no project" in f or "libre" in f:
        return "sans_projet"
    raise ValueError(f"status {raw!r}: expected sans_projet, potentielle, avec_projet or reconvertie")


_ACTIVITY_ZONE = re.compile(r"^\s*(?:\d?AU|U)\s*[XYIZ]", re.IGNORECASE)
_ACTIVITY_WORDS = ("activite", "industri", "economique", "artisan", "zae", "logisti")
_HOUSING_WORDS = ("residentiel", "habitat", "centre", "historique")


def zone_kind_of(zone_type: str | None, zone_label: str | None) -> str:
    """The planning zone read for siting: ``activity`` (UX, UE/UY/UI/UZ, AUX or a label saying
    activités / industrielle / économique), ``urban`` (other U), ``to_urbanise`` (AU),
    ``agricultural`` (A, Ah), ``natural`` (N, Nh), or ``unknown``.

    Why not Cartofriches' ``urba_zone_formdomi``: the data README shows it is unreliable (UX
    zones marked "Habitat"); the zone code and its label are what a planner reads."""
    zt = (zone_type or "").strip().upper()
    lab = _fold(zone_label or "")
    code = lab.split(" - ", 1)[0].strip().upper() if lab else ""
    text = lab.split(" - ", 1)[1] if " - " in lab else lab
    if zt in ("A", "AH"):
        return "agricultural"
    if zt in ("N", "NH"):
        return "natural"
    if zt.startswith("U") or zt.startswith("AU") or (not zt and code[:1] in ("U", "1", "2", "A")):
        activity = bool(_ACTIVITY_ZONE.match(code)) or (
            any(w in text for w in _ACTIVITY_WORDS) and not any(w in text for w in _HOUSING_WORDS))
        if activity and not code.startswith(("N", "A ")):
            return "activity"
        if zt.startswith("AU") or code.startswith(("AU", "1AU", "2AU")):
            return "to_urbanise"
        if zt.startswith("U") or code.startswith("U"):
            return "urban"
    return "unknown"


def pollution_of(raw: str | None) -> str:
    """``sol_pollution_existe`` (or EN words) → inexistante / peu_probable / inconnue / supposee / averee."""
    f = _fold(raw or "").replace("_", " ")
    if not f or f in ("inconnu", "inconnue", "unknown"):
        return "inconnue"
    if "inexist" in f or f in ("none", "no", "non", "absent"):
        return "inexistante"
    if "peu probable" in f or "unlikely" in f:
        return "peu_probable"
    if "suppos" in f or "suspected" in f or "possible" in f:
        return "supposee"
    if "aver" in f or "proven" in f or "confirmed" in f or f in ("oui", "yes", "polluted"):
        return "averee"
    raise ValueError(f"pollution {raw!r}: expected inexistante, peu probable, inconnue, supposée or avérée")


def _float(v: Any) -> float | None:
    if v is None:
        return None
    s = str(v).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not s:
        return None
    s = s.replace(",", ".")
    x = float(s)  # ValueError for the caller, who names the column
    return x if math.isfinite(x) else None


def _bool(v: Any, default: bool) -> bool:
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    if isinstance(v, bool):
        return v
    f = _fold(str(v))
    if f in ("true", "1", "oui", "yes", "vrai", "o", "y"):
        return True
    if f in ("false", "0", "non", "no", "faux", "n"):
        return False
    raise ValueError(f"{v!r}: expected true or false")


def _in_france(lat: float, lon: float) -> bool:
    metro = 41.0 <= lat <= 51.6 and -5.8 <= lon <= 10.0
    drom = (-21.5 <= lat <= 18.2 and -63.2 <= lon <= -50.0) or (-21.5 <= lat <= -12.5 and 44.9 <= lon <= 56.0) \
        or (2.0 <= lat <= 6.0 and -54.7 <= lon <= -51.0)
    return metro or drom


def _finish(rows: list[dict[str, Any]], rep: LoadReport) -> Any:
    """Rows (dicts) → the typed frame; the report's kept count."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(SITE_COLUMNS))
    for c in SITE_COLUMNS:
        if c in FLOAT_COLUMNS:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif c in BOOL_COLUMNS:
            df[c] = df[c].fillna(False).astype(bool)
        else:
            df[c] = df[c].astype("string")
    rep.kept = len(df)
    return df


class _Rows:
    """Shared row checks: commune, coordinates, surface, unique id; rejections counted by reason."""

    def __init__(self, geo: Any, rep: LoadReport) -> None:
        self.geo, self.rep = geo, rep
        self.seen: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        self.coords_far = 0

    def add(self, line: int, rec: dict[str, Any], commune: str, lat: float | None, lon: float | None) -> None:
        sid = (rec.get("site_id") or "").strip()
        if not sid:
            self.rep.reject("missing site_id", [line], 1)
            return
        if sid in self.seen:
            self.rep.reject("duplicate site_id", [line], 1)
            return
        info = self.geo.commune(commune) if commune else None
        if info is None:
            self.rep.reject("unknown commune (INSEE code not in COG 2026)" if commune else "missing commune", [line], 1)
            return
        s = rec.get("surface_m2")
        if s is None or not s > 0:
            self.rep.reject("missing or non-positive surface", [line], 1)
            return
        src = "source"
        if lat is None or lon is None:
            lat, lon, src = info.lat, info.lon, "commune"
        elif not _in_france(lat, lon):
            self.rep.reject("coordinates outside France", [line], 1)
            return
        if lat is None or lon is None:
            self.rep.reject("no coordinates (and no commune point)", [line], 1)
            return
        self.seen.add(sid)
        rec.update(site_id=sid, commune_code=info.code, commune=info.name, departement=info.departement,
                   region=info.region, lat=lat, lon=lon, coords_source=src)
        self.rows.append(rec)


def load_cartofriches(path: Path, *, geo: Any, report: LoadReport) -> Any:
    """Cerema Cartofriches (``sites/friches_cartofriches.csv``, columns in the data README)."""
    need = {"site_id", "site_nom", "site_type", "site_statut", "comm_insee", "site_surface_m2", "urba_zone_type",
            "urba_zone_lib", "desserte_distance_ferroviaire_m", "sol_pollution_existe", "site_numero_basias",
            "nature", "checked", "lon", "lat"}
    rows = _Rows(geo, report)
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = need - set(reader.fieldnames or [])
        if missing:
            raise SiteError(f"{path}: not a Cartofriches file: missing columns {', '.join(sorted(missing))}")
        for i, r in enumerate(reader, start=2):
            report.rows_read += 1
            try:
                surface = _float(r["site_surface_m2"])
                rail = _float(r["desserte_distance_ferroviaire_m"])
                lat, lon = _float(r["lat"]), _float(r["lon"])
            except ValueError:
                report.reject("unreadable number (surface, rail distance or coordinates)", [i], 1)
                continue
            status = status_of(r["site_statut"])
            nature = (r.get("nature") or "").strip()
            placeholder = nature == "fond friche" and surface is not None and round(surface, 2) in PLACEHOLDER_SURFACES
            url = (r.get("site_url") or "").strip()
            basias = (r.get("site_numero_basias") or "").strip()
            rec = {
                "site_id": r["site_id"], "name": (r.get("site_nom") or "").strip() or r["site_id"],
                "source": "cartofriches", "origin": nature or None,
                "site_type": site_type_of(r["site_type"]), "site_type_raw": r["site_type"] or None,
                "status": status, "surface_m2": surface, "surface_is_placeholder": placeholder,
                "zone_type": (r.get("urba_zone_type") or "").strip() or None,
                "zone_kind": zone_kind_of(r.get("urba_zone_type"), r.get("urba_zone_lib")),
                "zone_label": (r.get("urba_zone_lib") or "").strip() or None,
                "rail_m": rail, "pollution": pollution_of(r.get("sol_pollution_existe")),
                "pollution_register": bool(basias) or "basias" in url.lower(),
                "verified": (r.get("checked") or "").strip() == "True",
                "has_project": status in ("avec_projet", "reconvertie"),
                "available": status in ("sans_projet", "potentielle"),
                "former_activity": (r.get("activite_libelle") or "").strip()[:300] or None,
                "owner_category": (r.get("proprio_categorie") or "").strip() or None,
                "url": url or (r.get("source_url") or "").strip() or None,
                "updated": (r.get("site_actu_date") or "").strip() or None,
            }
            rows.add(i, rec, (r.get("comm_insee") or "").strip(), lat, lon)
    return _finish(rows.rows, report)


REGION_REQUIRED = ("site_id", "name", "commune")


def _region_record(props: Mapping[str, Any], where: str, source: str) -> dict[str, Any]:
    """One site of a région's own list from its properties; ValueError naming the field."""
    def txt(k: str) -> str | None:
        v = props.get(k)
        return str(v).strip() or None if v is not None else None

    def num(k: str) -> float | None:
        try:
            return _float(props.get(k))
        except ValueError:
            raise ValueError(f"{where}, column {k}: {props.get(k)!r} is not a number") from None

    m2, ha = num("surface_m2"), num("surface_ha")
    surface = m2 if m2 is not None else (ha * 10_000 if ha is not None else None)
    try:
        status = status_of(txt("status") or "sans_projet")
    except ValueError as exc:
        raise ValueError(f"{where}, column status: {exc}") from None
    try:
        pollution = pollution_of(txt("pollution"))
    except ValueError as exc:
        raise ValueError(f"{where}, column pollution: {exc}") from None
    try:
        verified = _bool(props.get("verified"), True)
    except ValueError as exc:
        raise ValueError(f"{where}, column verified: {exc}") from None
    zt = txt("zone_type")
    return {
        "site_id": txt("site_id") or "", "name": txt("name") or txt("site_id") or "", "source": source,
        "origin": txt("origin") or "liste régionale", "site_type": site_type_of(txt("site_type") or "parc_activites"),
        "site_type_raw": txt("site_type"), "status": status, "surface_m2": surface,
        "surface_is_placeholder": False, "zone_type": zt, "zone_kind": zone_kind_of(zt, txt("zone_label")),
        "zone_label": txt("zone_label"), "rail_m": num("rail_distance_m"), "pollution": pollution,
        "pollution_register": _bool(props.get("pollution_register"), False),
        "verified": verified, "has_project": status in ("avec_projet", "reconvertie"),
        "available": status in ("sans_projet", "potentielle"), "former_activity": txt("former_activity"),
        "owner_category": txt("owner_category"), "url": txt("url"), "updated": txt("updated"),
    }


def _region_rows(items: Iterable[tuple[int, Mapping[str, Any], tuple[float | None, float | None]]], *, geo: Any,
                 report: LoadReport, source: str, unit: str) -> Any:
    rows = _Rows(geo, report)
    for line, props, (lat, lon) in items:
        report.rows_read += 1
        where = f"{unit} {line}"
        try:
            rec = _region_record(props, where, source)
            if lat is None and lon is None:
                la, lo = _float(props.get("lat")), _float(props.get("lon"))
            else:
                la, lo = lat, lon
        except ValueError as exc:
            msg = str(exc)
            col = msg.split("column ", 1)[1].split(":", 1)[0] if "column " in msg else "value"
            report.reject(f"invalid {col}", [line], 1)
            report.notes.setdefault("problems", [])
            if len(report.notes["problems"]) < 20:
                report.notes["problems"].append(msg)
            continue
        rows.add(line, rec, str(props.get("commune") or "").strip(), la, lo)
    return _finish(rows.rows, report)


def load_site_csv(path: Path, *, geo: Any, report: LoadReport) -> Any:
    """A région's own list as CSV (comma or semicolon, UTF-8), the layout in ``docs/sites.md``."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    head = text.split("\n", 1)[0]
    delim = ";" if head.count(";") > head.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delim)
    cols = {c.strip() for c in (reader.fieldnames or [])}
    missing = [c for c in REGION_REQUIRED if c not in cols]
    if not ({"surface_m2", "surface_ha"} & cols):
        missing.append("surface_m2 or surface_ha")
    if missing:
        raise SiteError(f"{path}: line 1: missing columns {', '.join(missing)} (layout: docs/sites.md)")
    items = ((i, {k.strip(): v for k, v in r.items() if k}, (None, None)) for i, r in enumerate(reader, start=2))
    return _region_rows(items, geo=geo, report=report, source="csv", unit="line")


def _centroid(geom: Mapping[str, Any], where: str) -> tuple[float, float]:
    """(lat, lon) of a Point, or the mean vertex of a (Multi)Polygon's outer ring(s)."""
    kind, coords = geom.get("type"), geom.get("coordinates")
    try:
        if kind == "Point":
            return float(coords[1]), float(coords[0])
        rings = [coords[0]] if kind == "Polygon" else [p[0] for p in coords] if kind == "MultiPolygon" else None
        if rings is None:
            raise SiteError(f"{where}: geometry type {kind!r}: expected Point, Polygon or MultiPolygon")
        pts = [pt for ring in rings for pt in ring[:-1] or ring]
        return sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts)
    except (TypeError, IndexError, ValueError, ZeroDivisionError):
        raise SiteError(f"{where}: unreadable {kind} coordinates") from None


def load_site_geojson(path: Path, *, geo: Any, report: LoadReport) -> Any:
    """A région's own list as a GeoJSON FeatureCollection (WGS84), one feature per site with the
    CSV layout's fields as ``properties``; a polygon is placed at its mean vertex."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise SiteError(f"{path}: not readable GeoJSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise SiteError(f"{path}: expected a GeoJSON FeatureCollection with a features list")

    def items() -> Iterable[tuple[int, Mapping[str, Any], tuple[float | None, float | None]]]:
        for i, f in enumerate(doc["features"]):
            props = dict((f or {}).get("properties") or {})
            geom = (f or {}).get("geometry")
            ll: tuple[float | None, float | None] = (None, None)
            if geom:
                try:
                    ll = _centroid(geom, f"{path}: feature {i}")
                except SiteError:
                    ll = (math.nan, math.nan)
            yield i, props, ll

    def checked() -> Iterable[tuple[int, Mapping[str, Any], tuple[float | None, float | None]]]:
        for i, props, ll in items():
            if ll[0] is not None and isinstance(ll[0], float) and math.isnan(ll[0]):
                report.rows_read += 1
                report.reject("invalid geometry", [i], 1)
                continue
            yield i, props, ll

    return _region_rows(checked(), geo=geo, report=report, source="geojson", unit="feature")
