"""The sites page: a relocation project's form, its ranked sites with reasons, and the sites drawn on
the existing dot map of France beside the suppliers of the project's BOM (one of the advisor's
finished jobs). Same ranking as ``/v1/sites/match`` (``matching.sites.match``); CSV/XLSX exports of
the same query.

The map is ``api.web.charts``' dot map, cropped to the sites and suppliers shown: points are placed
with the projection the base map used (an affine fit of its département anchors in Lambert-93).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup, escape

from api.web import charts
from api.web.routes import _ID, _not_found, _signin_redirect, web

router = APIRouter(include_in_schema=False)

CHECKS = ("industrial_zoning", "not_polluted", "pollution_known", "available_now", "verified_only")
TEXT = {  # (fr, en)
    "title": ("Sites pour une relocalisation", "Sites for a relocation"),
    "intro": ("Décrivez le projet : activité, surface, zone et contraintes. Les sites qui ne respectent pas une "
              "contrainte sont écartés ; les autres sont classés, chaque site dit pourquoi.",
              "Describe the project: activity, surface, area and constraints. Sites failing a constraint are left "
              "out; the others are ranked and each says why."),
    "activity": ("Activité (code NAF ou texte libre)", "Activity (NAF code or free text)"),
    "ha_min": ("Surface minimale (ha)", "Minimum surface (ha)"),
    "ha_max": ("Surface maximale (ha)", "Maximum surface (ha)"),
    "region": ("Région", "Région"),
    "departements": ("Départements (ex. 57,54 ; vide = toute la région)", "Départements (e.g. 57,54; empty = whole région)"),
    "rail_km": ("Voie ferrée à moins de (km)", "Rail within (km)"),
    "job": ("Nomenclature analysée (fournisseurs du projet)", "Matched BOM (the project's suppliers)"),
    "no_job": ("— aucune —", "— none —"),
    "near": ("Commune actuelle (code INSEE, facultatif)", "Current commune (INSEE code, optional)"),
    "industrial_zoning": ("Zone d'activités uniquement", "Business zones only"),
    "not_polluted": ("Pollution absente ou peu probable", "Pollution absent or unlikely"),
    "pollution_known": ("Pollution connue", "Pollution status known"),
    "available_now": ("Disponible maintenant (friche confirmée sans projet)", "Available now (confirmed, no project)"),
    "verified_only": ("Sites vérifiés uniquement", "Verified sites only"),
    "submit": ("Chercher des sites", "Find sites"),
    "results": ("{n} sites classés sur {c} qui respectent les contraintes", "{n} sites ranked of {c} meeting the constraints"),
    "none": ("Aucun site ne respecte toutes les contraintes.", "No site meets every constraint."),
    "excluded": ("Écartés", "Left out"),
    "understood": ("Activité retenue", "Activity understood"),
    "col_rank": ("Rang", "Rank"), "col_site": ("Site", "Site"), "col_where": ("Commune", "Commune"),
    "col_surface": ("Surface", "Surface"), "col_score": ("Score", "Score"), "col_reasons": ("Pourquoi", "Why"),
    "map": ("Carte : sites proposés et fournisseurs du projet", "Map: proposed sites and the project's suppliers"),
    "map_desc": ("{n} sites numérotés par rang ; {s} communes de fournisseurs", "{n} sites numbered by rank; {s} supplier communes"),
    "legend_site": ("site proposé (rang)", "proposed site (rank)"),
    "legend_supplier": ("commune d'un fournisseur de la nomenclature", "commune of a BOM supplier"),
    "export": ("Exporter", "Export"),
    "register_missing": ("Le registre des sites n'est pas chargé : {why}", "The site register is not loaded: {why}"),
    "supply": ("Chaîne d'approvisionnement : {n} lignes importées, {s} fournisseurs français",
               "Supply chain: {n} imported lines, {s} French suppliers"),
}
EXCLUDED_FR = {
    "area": "hors zone demandée", "surface": "surface hors plage", "placeholder_surface": "surface par défaut",
    "has_project": "projet existant", "industrial_zoning": "hors zone d'activités", "rail": "rail trop loin ou inconnu",
    "not_polluted": "pollution non écartée", "pollution_known": "pollution inconnue",
    "available_now": "pas disponible maintenant", "verified_only": "non vérifié",
}


def tx(lang: str, key: str, **kw: Any) -> str:
    fr, en = TEXT[key]
    s = en if lang == "en" else fr
    return s.format(**kw) if kw else s


@lru_cache(maxsize=2)
def _fit(width: float) -> tuple[float, float, float, float] | None:
    """(ax, bx, ay, by): svg x = ax·X + bx, y = ay·Y + by from Lambert-93 X/Y, fitted on the base map's anchors."""
    import numpy as np

    base = charts.load_map_base()
    codes = [c for c in base.anchors if base.departements[c].lat is not None]
    if len(codes) < 3:
        return None
    tr = charts._lambert93()
    xs, ys = tr.transform([base.departements[c].lon for c in codes], [base.departements[c].lat for c in codes])
    ax, bx = np.polyfit(xs, [base.anchors[c][0] for c in codes], 1)
    ay, by = np.polyfit(ys, [base.anchors[c][1] for c in codes], 1)
    return float(ax), float(bx), float(ay), float(by)


def site_map_svg(sites: list[dict[str, Any]], suppliers: list[tuple[float, float, str]], *, lang: str = "fr") -> Markup:
    """The dot map cropped to the sites (numbered circles) and supplier communes (diamonds)."""
    base = charts.load_map_base()
    fit = _fit(base.width)
    if fit is None or not sites:
        return Markup("")
    ax, bx, ay, by = fit
    tr = charts._lambert93()
    pts = [(s["lon"], s["lat"]) for s in sites] + [(lo, la) for la, lo, _ in suppliers]
    X, Y = tr.transform([p[0] for p in pts], [p[1] for p in pts])
    xy = [(ax * x + bx, ay * y + by) for x, y in zip(X, Y, strict=True)]
    sx, sy = [p[0] for p in xy], [p[1] for p in xy]
    span = max(max(sx) - min(sx), max(sy) - min(sy), 60.0)
    cx, cy = (max(sx) + min(sx)) / 2, (max(sy) + min(sy)) / 2
    half = span / 2 + 14
    vb = (cx - half, cy - half, 2 * half, 2 * half)
    k = 2 * half / 460.0  # svg units per pixel at the displayed size
    dot = 4.6
    inside = [(x, y, r) for x, y, r in base.dots if vb[0] - 5 <= x <= vb[0] + vb[2] + 5 and vb[1] - 5 <= y <= vb[1] + vb[3] + 5]
    title, desc = tx(lang, "map"), tx(lang, "map_desc", n=len(sites), s=len(suppliers))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart map sites-map" role="img" '
        f'viewBox="{vb[0]:.1f} {vb[1]:.1f} {vb[2]:.1f} {vb[3]:.1f}" width="460" height="460" '
        'aria-labelledby="smap-title smap-desc">',
        f'<title id="smap-title">{escape(title)}</title><desc id="smap-desc">{escape(desc)}</desc>',
        f'<path class="map-land" d="{charts._square_path([(x, y) for x, y, r in inside if r != "44"], dot)}"/>',
        f'<path class="map-region" d="{charts._square_path([(x, y) for x, y, r in inside if r == "44"], dot)}"/>',
    ]
    n = len(sites)
    for (x, y), (la, lo, name) in zip(xy[n:], suppliers, strict=True):
        r = 4.5 * k
        out.append(f'<path class="map-supplier" d="M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}'
                   f'L{x - r:.1f} {y:.1f}z"><title>{escape(name)}</title></path>')
    for (x, y), s in reversed(list(zip(xy[:n], sites, strict=True))):
        out.append(f'<circle class="map-site" cx="{x:.1f}" cy="{y:.1f}" r="{8 * k:.1f}" data-site="{escape(s["site_id"])}">'
                   f'<title>{s["rank"]}. {escape(s["name"])} ({escape(s["commune"])})</title></circle>'
                   f'<text class="map-site-label" x="{x:.1f}" y="{y + 3.5 * k:.1f}" font-size="{10 * k:.1f}" '
                   f'text-anchor="middle">{s["rank"]}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def supplier_points(result: dict[str, Any] | None) -> list[tuple[float, float, str]]:
    """(lat, lon, label) per distinct supplier commune of a BOM result."""
    if not result:
        return []
    from matching.geo import get_geo

    geo = get_geo()
    seen: dict[str, list[str]] = {}
    for ln in result.get("lines") or []:
        for s in ln.get("suppliers") or []:
            code = str(s.get("commune_code") or "")
            if code:
                seen.setdefault(code, [])
                if s.get("name") and s["name"] not in seen[code]:
                    seen[code].append(str(s["name"]))
    out = []
    for code, names in sorted(seen.items()):
        info = geo.commune(code)
        if info is not None and info.lat is not None and math.isfinite(info.lat):
            label = f"{info.name} : " + ", ".join(names[:4]) + (" …" if len(names) > 4 else "")
            out.append((float(info.lat), float(info.lon), label))
    return out


def _jobs(request: Request, principal: Any) -> list[dict[str, str]]:
    store = request.app.state.store
    org = getattr(principal, "org", None)
    jobs = store.list_jobs(org=org, status="done", limit=100) if org else store.list_jobs(owner=principal, status="done", limit=100)
    return [{"id": j.id, "label": f"{j.filename or j.id} ({j.created_at:%Y-%m-%d})" if j.created_at else (j.filename or j.id)}
            for j in jobs]


def _project_from_query(qp: Any) -> tuple[dict[str, Any], str | None]:
    def num(k: str) -> float | None:
        v = (qp.get(k) or "").strip().replace(",", ".")
        return float(v) if v else None

    deps = [d.strip() for d in (qp.get("departements") or "").split(",") if d.strip()] or None
    project: dict[str, Any] = {
        "activity": (qp.get("activity") or "").strip()[:500],
        "surface_ha_min": num("ha_min"), "surface_ha_max": num("ha_max"),
        "region": (qp.get("region") or "").strip() or None, "departements": deps,
        "constraints": {k: qp.get(k) == "1" for k in CHECKS} | {"rail_within_km": num("rail_km")},
        "wishes": {"near_commune": (qp.get("near") or "").strip() or None},
    }
    return project, (qp.get("job") or "").strip() or None


def _compute(request: Request, w: Any) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None, dict[str, Any]]:
    """(result, error, bom result, form values) for the page's query string (runs in a thread)."""
    from api.routes.sites import register_of
    from api.web.routes import _visible_job
    from fastapi import HTTPException
    from matching.errors import RelocmatchError
    from matching.sites.match import match_sites

    qp = request.query_params
    form: dict[str, Any] = {k: qp.get(k, "") for k in ("activity", "ha_min", "ha_max", "departements", "rail_km", "near", "job")}
    form["region"] = qp.get("region", "44")
    form.update({k: qp.get(k) == "1" for k in CHECKS})
    if not qp.get("activity"):
        return None, None, None, form
    try:
        project, job_id = _project_from_query(qp)
    except ValueError:
        return None, ("surface ou distance : un nombre est attendu" if w.lang == "fr"
                      else "surface or distance: a number is expected"), None, form
    bom = None
    if job_id:
        job = _visible_job(request, w.principal, job_id) if _ID.match(job_id) else None
        bom = request.app.state.store.get_result(job.id) if job is not None else None
        if bom is None:
            return None, ("nomenclature introuvable ou pas terminée" if w.lang == "fr"
                          else "BOM not found or not finished"), None, form
    try:
        reg = register_of(request.app.state.settings)
    except HTTPException as exc:
        return None, tx(w.lang, "register_missing", why=exc.detail), bom, form
    try:
        return match_sites(project, reg, bom_result=bom, top=10), None, bom, form
    except RelocmatchError as exc:
        return None, str(exc), bom, form


@router.get("/sites")
async def sites_page(request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    result, error, bom, form = await run_in_threadpool(_compute, request, w)
    jobs = await run_in_threadpool(_jobs, request, w.principal)
    map_svg = Markup("")
    if result and result["sites"]:
        map_svg = await run_in_threadpool(site_map_svg, result["sites"], supplier_points(bom), lang=w.lang)
    qs = urlencode({k: v for k, v in request.query_params.items() if k != "lang"})
    key = "text_en" if w.lang == "en" else "text"
    return w.page("sites.html", nav="sites", result=result, error=error, form=form, jobs=jobs, map_svg=map_svg,
                  export_qs=qs, tx=lambda k, **kw: tx(w.lang, k, **kw), reason_key=key,
                  excluded_label=lambda k: EXCLUDED_FR.get(k, k) if w.lang == "fr" else k.replace("_", " "),
                  region=form["region"] or "44")


@router.get("/sites/export.{fmt}")
async def sites_export(fmt: str, request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    if fmt not in ("csv", "xlsx"):
        return _not_found(w)
    result, error, _bom, _form = await run_in_threadpool(_compute, request, w)
    if result is None:
        return w.page("error.html", status=422, message=error or "?", detail="")
    import io

    from matching.sites.match import export_sites

    buf: Any = io.StringIO() if fmt == "csv" else io.BytesIO()
    export_sites(result, buf, fmt, lang=w.lang)
    body = buf.getvalue()
    media = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return w.finish(Response(body.encode("utf-8") if isinstance(body, str) else body, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="sites-relocmatch.{fmt}"'}))
