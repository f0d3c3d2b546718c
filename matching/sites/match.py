"""Ranking sites for a relocation project: hard constraints filter, a score orders, reasons explain.

Score = weighted mean of components in [0, 1] (weights below, renormalised over the components
that apply: supply-chain proximity only with a BOM result, closeness only with
``wishes.near_commune``):

=================  ======  ==========================================================================
component          weight  value
=================  ======  ==========================================================================
surface            0.20    1 inside [min, max]; ``max / surface`` above (smaller sites are filtered out)
zoning             0.20    0.6 × zone fit for the activity (activity zone, urban, AU, A/N) + 0.4 × site-type fit
availability       0.20    status (sans projet 1, potentielle 0.5, inconnu 0.4, avec projet 0.1) × 0.6 if unverified
rail               0.10    1 up to 500 m, 0 from 15 km, 0.2 unknown (0.20 weight with ``wishes.rail``)
pollution          0.10    inexistante 1, peu probable 0.8, inconnue 0.45 (0.35 on a BASIAS site), supposée 0.25, avérée 0.1
supply_chain       0.25    0.7 × share of imported value with a supplier within the radius + 0.3 × exp(−weighted km / 100)
closeness          0.10    exp(−km / 50) to ``wishes.near_commune``
=================  ======  ==========================================================================
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, Any

import numpy as np

from matching.sites.project import Project, ResolvedProject, parse_project, resolve_project
from matching.sites.register import SiteRegister
from matching.sites.sources import SiteError
from matching.sites.supply import SupplyChain, proximity, supply_chain

RESULT_SCHEMA = "sites-1.0"
WEIGHTS = {"surface": 0.20, "zoning": 0.20, "availability": 0.20, "rail": 0.10, "pollution": 0.10,
           "supply_chain": 0.25, "closeness": 0.10}
_ZONE_FIT = {  # activity class → zone kind → fit
    "industrial": {"activity": 1.0, "urban": 0.5, "to_urbanise": 0.5, "unknown": 0.35, "agricultural": 0.0, "natural": 0.0},
    "logistics": {"activity": 1.0, "urban": 0.5, "to_urbanise": 0.5, "unknown": 0.35, "agricultural": 0.0, "natural": 0.0},
    "other": {"activity": 0.8, "urban": 1.0, "to_urbanise": 0.5, "unknown": 0.35, "agricultural": 0.0, "natural": 0.0},
}
_TYPE_FIT_INDUSTRIAL = {"industrielle": 1.0, "agro_industrielle": 1.0, "logistique": 1.0, "ferroviaire": 0.9,
                        "parc_activites": 1.0, "carriere": 0.7, "militaire": 0.6, "mixte": 0.6, "commerciale": 0.5,
                        "autre": 0.5, "inconnu": 0.4, "habitat": 0.15, "hospitaliere": 0.2,
                        "equipement_public": 0.3, "loisir": 0.2}
_TYPE_FIT_OTHER = {**_TYPE_FIT_INDUSTRIAL, "commerciale": 0.9, "mixte": 0.8, "equipement_public": 0.6,
                   "hospitaliere": 0.5, "habitat": 0.4, "industrielle": 0.8}
_STATUS_FIT = {"sans_projet": 1.0, "potentielle": 0.5, "inconnu": 0.4, "avec_projet": 0.1, "reconvertie": 0.0}
_POLLUTION_FIT = {"inexistante": 1.0, "peu_probable": 0.8, "inconnue": 0.45, "supposee": 0.25, "averee": 0.1}

TYPE_LABELS = {  # (fr, en)
    "industrielle": ("friche industrielle", "industrial brownfield"),
    "agro_industrielle": ("friche agro-industrielle", "agro-industrial brownfield"),
    "logistique": ("friche logistique", "logistics brownfield"),
    "ferroviaire": ("friche ferroviaire", "railway brownfield"),
    "militaire": ("friche militaire", "military brownfield"),
    "commerciale": ("friche commerciale", "commercial brownfield"),
    "habitat": ("friche d'habitat", "housing brownfield"),
    "hospitaliere": ("friche hospitalière", "hospital brownfield"),
    "equipement_public": ("friche d'équipement public", "public-facility brownfield"),
    "loisir": ("friche de loisirs ou tourisme", "leisure or tourism brownfield"),
    "carriere": ("ancienne carrière ou mine", "former quarry or mine"),
    "mixte": ("friche mixte", "mixed brownfield"),
    "parc_activites": ("parc d'activités", "business park"),
    "autre": ("friche (autre type)", "brownfield (other type)"),
    "inconnu": ("friche (type non renseigné)", "brownfield (type not stated)"),
}
STATUS_LABELS = {
    "sans_projet": ("sans projet", "without a project"),
    "potentielle": ("potentielle (à confirmer)", "potential (to be confirmed)"),
    "avec_projet": ("avec projet", "with a project"),
    "reconvertie": ("reconvertie", "already reconverted"),
    "inconnu": ("statut inconnu", "status unknown"),
}
ZONE_WORDS = {"activity": ("activités", "business"), "urban": ("urbaine", "urban"),
              "to_urbanise": ("à urbaniser", "to be urbanised"), "agricultural": ("agricole", "agricultural"),
              "natural": ("naturelle", "natural")}
POLLUTION_LABELS = {"inexistante": ("inexistante", "none"), "peu_probable": ("peu probable", "unlikely"),
                    "inconnue": ("inconnue", "unknown"), "supposee": ("supposée", "suspected"),
                    "averee": ("avérée", "proven")}
EXCLUSIONS = {
    "area": "outside the région / départements asked",
    "surface": "surface outside the range asked",
    "placeholder_surface": "surface is a placeholder (Fonds Friches buffer)",
    "has_project": "already has a project or is reconverted",
    "industrial_zoning": "not in an activity zone",
    "rail": "rail network farther than asked or unknown",
    "not_polluted": "pollution not known to be absent or unlikely",
    "pollution_known": "pollution status unknown",
    "available_now": "not a confirmed brownfield without a project",
    "verified_only": "not verified",
}


# ----------------------------------------------------------------------------- formatting
def _fr(x: float, nd: int = 1) -> str:
    s = f"{x:,.{nd}f}".replace(",", " ").replace(".", ",")
    return s[:-2] if nd and s.endswith(",0") else s


def _en(x: float, nd: int = 1) -> str:
    s = f"{x:,.{nd}f}"
    return s[:-2] if nd and s.endswith(".0") else s


def surface_text(m2: float, lang: str = "fr") -> str:
    f = _fr if lang == "fr" else _en
    return f"{f(m2 / 10_000, 1)} ha" if m2 >= 10_000 else f"{f(m2, 0)} m²"


def range_text(lo: float, hi: float, lang: str = "fr") -> str:
    f = _fr if lang == "fr" else _en
    if lo >= 10_000 or hi >= 20_000:
        a, b, unit = lo / 10_000, hi / 10_000, "ha"
        return f"{f(a, 1)}–{f(b, 1)} {unit}" if lo > 0 else f"≤ {f(b, 1)} {unit}"
    return f"{f(lo, 0)}–{f(hi, 0)} m²" if lo > 0 else f"≤ {f(hi, 0)} m²"


def distance_text(m: float, lang: str = "fr") -> str:
    f = _fr if lang == "fr" else _en
    if m < 1000:
        return f"{int(round(m, -1)) if m >= 10 else int(round(m))} m"
    return f"{f(m / 1000, 1)} km"


# ----------------------------------------------------------------------------- inputs
def read_bom_result(path: Path | str) -> dict[str, Any]:
    """A result JSON of ``relocmatch match --format json`` (the contract in ``matching.results``)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SiteError(f"{p}: cannot read the BOM result: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SiteError(f"{p}: not valid JSON: {exc}") from None
    check_bom_result(data, where=str(p))
    return data


def check_bom_result(data: Any, *, where: str = "bom_result") -> None:
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise SiteError(f"{where}: not a relocmatch result (expected the JSON of `relocmatch match --format json`, "
                        "with a 'lines' list)")
    for i, ln in enumerate(data["lines"]):
        if not isinstance(ln, dict) or not isinstance(ln.get("suppliers", []), list):
            raise SiteError(f"{where}: lines.{i}: expected an object with a 'suppliers' list")


# ----------------------------------------------------------------------------- matching
def _mask_counts(reg: SiteRegister, rp: ResolvedProject) -> tuple[np.ndarray, dict[str, int]]:
    """Hard constraints, in a fixed order; each exclusion counted once, under its first reason."""
    c, k = reg.cols, rp.project.constraints
    keep = np.ones(len(reg), dtype=bool)
    counts: dict[str, int] = {}

    def apply(name: str, ok: np.ndarray) -> None:
        nonlocal keep
        dropped = keep & ~ok
        if dropped.any():
            counts[name] = int(dropped.sum())
        keep = keep & ok

    if rp.departements is not None:
        apply("area", np.isin(c["departement"], list(rp.departements)))
    s = c["surface_m2"]
    if not k.allow_placeholder_surface:
        apply("placeholder_surface", ~c["surface_is_placeholder"])
    apply("surface", (s >= rp.surface_min) & (s <= rp.surface_max * (1.0 + k.max_oversize)))
    if k.exclude_with_project:
        apply("has_project", ~c["has_project"])
    if k.industrial_zoning:
        apply("industrial_zoning", c["zone_kind"] == "activity")
    if k.rail_within_km is not None:
        r = c["rail_m"]
        apply("rail", ~np.isnan(r) & (r <= k.rail_within_km * 1000.0))
    if k.not_polluted:
        apply("not_polluted", np.isin(c["pollution"], ["inexistante", "peu_probable"]))
    if k.pollution_known:
        apply("pollution_known", c["pollution"] != "inconnue")
    if k.available_now:
        apply("available_now", c["status"] == "sans_projet")
    if k.verified_only:
        apply("verified_only", c["verified"])
    return keep, counts


def _lookup(values: np.ndarray, table: dict[str, float], default: float) -> np.ndarray:
    return np.fromiter((table.get(v, default) for v in values), dtype="float64", count=len(values))


def _components(reg: SiteRegister, idx: np.ndarray, rp: ResolvedProject, chain: SupplyChain | None) -> dict[str, np.ndarray]:
    c, w = reg.cols, rp.project.wishes
    s = c["surface_m2"][idx]
    comp: dict[str, np.ndarray] = {"surface": np.where(s <= rp.surface_max, 1.0, rp.surface_max / s)}
    zone = _lookup(c["zone_kind"][idx], _ZONE_FIT[rp.activity_class], 0.35)
    tfit = dict(_TYPE_FIT_OTHER if rp.activity_class == "other" else _TYPE_FIT_INDUSTRIAL)
    if w.site_types:
        from matching.sites.sources import site_type_of

        for t in w.site_types:
            tfit[site_type_of(t)] = 1.0
    comp["zoning"] = 0.6 * zone + 0.4 * _lookup(c["site_type"][idx], tfit, 0.4)
    comp["availability"] = _lookup(c["status"][idx], _STATUS_FIT, 0.4) * np.where(c["verified"][idx], 1.0, 0.6)
    r = c["rail_m"][idx]
    comp["rail"] = np.where(np.isnan(r), 0.2, np.clip(1.0 - (np.nan_to_num(r) - 500.0) / 14_500.0, 0.0, 1.0))
    pol = _lookup(c["pollution"][idx], _POLLUTION_FIT, 0.45)
    comp["pollution"] = np.where((c["pollution"][idx] == "inconnue") & c["pollution_register"][idx], 0.35, pol)
    if rp.near is not None:
        lat0, lon0 = math.radians(rp.near[2]), math.radians(rp.near[3])
        la, lo = reg.lat_rad[idx], reg.lon_rad[idx]
        a = np.sin((la - lat0) / 2) ** 2 + np.cos(la) * math.cos(lat0) * np.sin((lo - lon0) / 2) ** 2
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        comp["closeness"] = np.exp(-km / 50.0)
        comp["_near_km"] = km
    return comp


def _supply_component(share: np.ndarray, wkm: np.ndarray) -> np.ndarray:
    return 0.7 * share + 0.3 * np.exp(-np.nan_to_num(wkm, nan=1e6) / 100.0)


def _supply_pruned(reg: SiteRegister, idx: np.ndarray, base: np.ndarray, w_supply: float, chain: SupplyChain,
                   radius_km: float, top: int, block: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Supply-chain proximity for the sites that can still reach the top ``top``, exact for them.

    Why: proximity costs sites × (line, supplier) entries (6,000 sites × 10,000 entries for a
    whole-France project with a 1,000-line BOM). The supply component is at most 1, so a site
    whose ``base + w_supply`` is below the current ``top``-th full score cannot enter the list:
    sites are taken in decreasing order of that bound, a block at a time, until the bound falls
    below the ``top``-th score. Uncomputed sites get NaN (they are never returned)."""
    n = len(idx)
    share, wkm = np.full(n, np.nan), np.full(n, np.nan)
    comp = np.full(n, np.nan)
    bound = base + w_supply
    order = np.argsort(-bound, kind="stable")
    done: list[np.ndarray] = []
    for a in range(0, n, block):
        part = order[a:a + block]
        if done and a >= top:
            scores = np.concatenate([base[d] + w_supply * comp[d] for d in done])
            kth = np.partition(-scores, top - 1)[top - 1] * -1 if len(scores) >= top else -np.inf
            if bound[part[0]] + 1e-4 < kth:
                break
        sh, wk = proximity(chain, reg.lat_rad[idx[part]], reg.lon_rad[idx[part]], radius_km)
        share[part], wkm[part] = sh, wk
        comp[part] = _supply_component(sh, wk)
        done.append(part)
    return comp, share, wkm


def _weights(rp: ResolvedProject, comp: dict[str, np.ndarray], supply: bool = False) -> dict[str, float]:
    w = {k: v for k, v in WEIGHTS.items() if k in comp or (supply and k == "supply_chain")}
    if rp.project.wishes.rail:
        w["rail"] = 0.20
    tot = sum(w.values())
    return {k: v / tot for k, v in w.items()}


def _reasons(site: dict[str, Any], contrib: dict[str, float], extra: dict[str, float], rp: ResolvedProject,
             chain: SupplyChain | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(signal: str, fr: str, en: str) -> None:
        out.append({"signal": signal, "contribution": round(contrib.get(signal, 0.0), 4), "text": fr, "text_en": en})

    t_fr, t_en = TYPE_LABELS.get(site["site_type"], TYPE_LABELS["autre"])
    s_fr, s_en = STATUS_LABELS.get(site["status"], STATUS_LABELS["inconnu"])
    lo, hi = rp.surface_min, rp.surface_max
    add("surface", f"{t_fr} {s_fr}, {surface_text(site['surface_m2'])} pour {range_text(lo, hi)} demandés",
        f"{t_en} {s_en}, {surface_text(site['surface_m2'], 'en')} for {range_text(lo, hi, 'en')} requested")
    ranked: list[tuple[float, str, str, str]] = []
    kind, label = site["zone_kind"], site["zone_label"]
    if kind in ZONE_WORDS:
        code = (label or site["zone_type"] or "").split(" - ", 1)[0].strip() or site["zone_type"] or "?"
        zf, ze = ZONE_WORDS[kind]
        ranked.append((contrib["zoning"], "zoning", f"zone {code} ({zf})", f"zone {code} ({ze})"))
    else:
        ranked.append((contrib["zoning"], "zoning", "zonage non renseigné", "zoning not given"))
    if site["rail_m"] is not None:
        ranked.append((contrib["rail"], "rail", f"voie ferrée à {distance_text(site['rail_m'])}",
                       f"rail at {distance_text(site['rail_m'], 'en')}"))
    else:
        ranked.append((contrib["rail"], "rail", "distance au rail inconnue", "distance to rail unknown"))
    p_fr, p_en = POLLUTION_LABELS[site["pollution"]]
    ranked.append((contrib["pollution"], "pollution", f"pollution des sols {p_fr}", f"soil pollution {p_en}"))
    if site["verified"]:
        ranked.append((contrib["availability"], "availability", f"site vérifié ({site['origin'] or site['source']})",
                       f"verified site ({site['origin'] or site['source']})"))
    else:
        ranked.append((contrib["availability"], "availability",
                       "site non vérifié : friche potentielle de l'inventaire BASIAS/BASOL, à confirmer",
                       "unverified: potential brownfield from the BASIAS/BASOL inventory, to be confirmed"))
    if chain is not None:
        share, wkm, r = extra["_share"], extra["_wkm"], rp.project.wishes.supplier_radius_km
        what_fr = "de la valeur importée" if chain.basis == "value" else "des lignes importées"
        what_en = "of the imported value" if chain.basis == "value" else "of the imported lines"
        dist_fr = f" (distance pondérée {_fr(wkm, 0)} km)" if not math.isnan(wkm) else ""
        dist_en = f" (weighted distance {_en(wkm, 0)} km)" if not math.isnan(wkm) else ""
        ranked.append((contrib["supply_chain"], "supply_chain",
                       f"fournisseurs de {round(100 * share)} % {what_fr} à moins de {_fr(r, 0)} km{dist_fr}",
                       f"suppliers of {round(100 * share)}% {what_en} within {_en(r, 0)} km{dist_en}"))
    if rp.near is not None:
        ranked.append((contrib["closeness"], "closeness", f"à {_fr(extra['_near_km'], 0)} km de {rp.near[1]}",
                       f"{_en(extra['_near_km'], 0)} km from {rp.near[1]}"))
    for _, sig, fr, en in sorted(ranked, key=lambda x: -x[0]):
        add(sig, fr, en)
    # caveats, as data and as words
    if site["surface_is_placeholder"]:
        add("caveat", "surface indicative (valeur par défaut des Fonds Friches)",
            "indicative surface (Fonds Friches placeholder)")
    if site["has_project"]:
        add("caveat", "un projet existe déjà sur ce site", "a project already exists on this site")
    if site["pollution_register"]:
        add("caveat", "ancien site BASIAS : activité potentiellement polluante, diagnostic à prévoir",
            "former BASIAS site: possibly polluting activity, survey needed")
    return out


def match_sites(project: Project | dict[str, Any], register: SiteRegister, *, bom_result: dict[str, Any] | None = None,
                top: int = 10, data_dir: Any = None) -> dict[str, Any]:
    """Ranked sites for a project, as a JSON-ready dict (``sites`` each with ``site_id``,
    ``region_code``, ``surface_m2``, ``score``, ``components`` and ``reasons`` FR/EN)."""
    from matching.geo import get_geo

    if isinstance(project, dict):
        project = parse_project(project)
    geo = get_geo(data_dir)
    rp = resolve_project(project, data_dir=data_dir, geo=geo)
    chain = None
    if bom_result is not None:
        check_bom_result(bom_result)
        chain = supply_chain(bom_result, geo=geo)
    keep, excluded = _mask_counts(register, rp)
    idx = np.flatnonzero(keep)
    comp = _components(register, idx, rp, chain)
    weights = _weights(rp, comp, supply=chain is not None)
    base = sum((weights[k] * comp[k] for k in weights if k != "supply_chain"), np.zeros(len(idx)))
    if chain is not None:
        comp["supply_chain"], comp["_share"], comp["_wkm"] = _supply_pruned(
            register, idx, base, weights["supply_chain"], chain, project.wishes.supplier_radius_km, top)
        score = base + weights["supply_chain"] * np.nan_to_num(comp["supply_chain"], nan=-10.0)
    else:
        score = base
    score = np.round(score, 4)  # the score shown is the score sorted on: equal shown scores tie
    # ties broken by the site id (stable, reproducible)
    order = np.lexsort((register.cols["site_id"][idx].astype(str), -score))[:top]
    sites = []
    for rank, j in enumerate(order, start=1):
        i = int(idx[j])
        site = register.row(i)
        contrib = {k: float(weights[k] * comp[k][j]) for k in weights}
        extra = {k: float(comp[k][j]) for k in ("_share", "_wkm", "_near_km") if k in comp}
        sites.append({
            "rank": rank, "site_id": site["site_id"], "name": site["name"], "source": site["source"],
            "site_type": site["site_type"], "status": site["status"], "commune": site["commune"],
            "commune_code": site["commune_code"], "departement": site["departement"], "region_code": site["region"],
            "lat": site["lat"], "lon": site["lon"], "surface_m2": round(site["surface_m2"], 2),
            "surface_ha": round(site["surface_m2"] / 10_000, 2), "zone_type": site["zone_type"],
            "zone_kind": site["zone_kind"], "zone_label": site["zone_label"], "rail_m": site["rail_m"],
            "pollution": site["pollution"], "url": site["url"], "updated": site["updated"],
            "caveats": {"verified": site["verified"], "has_project": site["has_project"],
                        "surface_is_placeholder": site["surface_is_placeholder"],
                        "pollution_register": site["pollution_register"]},
            "score": round(float(score[j]), 4),
            "components": {k: round(float(comp[k][j]), 4) for k in weights},
            "supply": ({"share": round(extra["_share"], 4), "weighted_km": None if math.isnan(extra["_wkm"])
                        else round(extra["_wkm"], 1), "radius_km": project.wishes.supplier_radius_km}
                       if chain is not None else None),
            "reasons": _reasons(site, contrib, extra, rp, chain),
        })
    reg_name = geo.region_name(project.region) if project.region else None
    area = (", ".join(sorted(rp.departements)) if project.departements else
            f"{reg_name} ({project.region})" if project.region else "France")
    return {
        "schema_version": RESULT_SCHEMA,
        "project": {
            "name": project.name, "activity": project.activity, "activity_naf": rp.activity_naf,
            "activity_label": rp.activity_label, "activity_route": rp.activity_route,
            "activity_alternatives": [{"naf": n, "label": lab, "score": round(s, 4)} for n, lab, s in rp.activity_alternatives],
            "activity_class": rp.activity_class, "surface_m2_min": rp.surface_min, "surface_m2_max": rp.surface_max,
            "surface_text": range_text(rp.surface_min, rp.surface_max), "region": project.region,
            "departements": sorted(rp.departements) if rp.departements is not None else None, "area_text": area,
            "constraints": project.constraints.model_dump(), "wishes": project.wishes.model_dump(),
        },
        "register": {"dir": str(register.dir), "sites": len(register), "built_at": register.manifest.get("built_at"),
                     "sources": [s.get("name") for s in register.manifest.get("sources", [])]},
        "weights": {k: round(v, 4) for k, v in weights.items()},
        "candidates": int(len(idx)),
        "excluded": excluded,
        "excluded_reasons": {k: EXCLUSIONS[k] for k in excluded},
        "supply_chain": chain.summary() if chain is not None else None,
        "sites": sites,
    }


# ----------------------------------------------------------------------------- exports
FLAT_COLUMNS = ("rank", "site_id", "name", "site_type", "status", "commune", "commune_code", "departement",
                "region_code", "surface_ha", "surface_m2", "score", "zone_label", "rail_m", "pollution", "verified",
                "has_project", "surface_is_placeholder", "supply_share", "supply_weighted_km", "lat", "lon", "url",
                "reasons")


def flatten_sites(result: dict[str, Any], *, lang: str = "fr") -> list[dict[str, Any]]:
    key = "text_en" if lang == "en" else "text"
    rows = []
    for s in result.get("sites", []):
        sup = s.get("supply") or {}
        rows.append({**{c: s.get(c) for c in FLAT_COLUMNS}, **s.get("caveats", {}),
                     "supply_share": sup.get("share"), "supply_weighted_km": sup.get("weighted_km"),
                     "reasons": " ; ".join(r[key] for r in s.get("reasons", []))})
    return [{c: r.get(c) for c in FLAT_COLUMNS} for r in rows]


def export_sites(result: dict[str, Any], out: Path | str | IO, fmt: str | None = None, *, lang: str = "fr") -> None:
    """The ranked sites as JSON, CSV (UTF-8 with BOM) or XLSX, through ``matching.export`` (formula-safe)."""
    import io

    from matching import export

    if fmt is None:
        fmt = Path(str(out)).suffix.lstrip(".").lower()
    if fmt == "json":
        data: str | bytes = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        export.write_csv(flatten_sites(result, lang=lang), buf, list(FLAT_COLUMNS))
        data = "\ufeff" + buf.getvalue()
    elif fmt == "xlsx":
        bbuf = io.BytesIO()
        export.write_xlsx(flatten_sites(result, lang=lang), bbuf, list(FLAT_COLUMNS), "sites")
        data = bbuf.getvalue()
    else:
        raise SiteError(f"format {fmt!r}: expected json, csv or xlsx")
    if isinstance(out, (str, Path)):
        if isinstance(data, str):
            Path(out).write_text(data, encoding="utf-8", newline="")
        else:
            Path(out).write_bytes(data)
    else:
        out.write(data)
