"""Pure page-building helpers: result-contract dicts in, template context and HTML out.

Kept apart from the routes so that every page can be rendered and tested from a fixed dict
(no app, no database, no engine), and so that routes stay thin.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2

from api.web import charts
from api.web.i18n import reason_detail, reason_text, t, tie_text

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/web-static"
TOP_PER_TIER = 5
LINES_PER_PAGE = 50  # the results page shows the summary and pictures for all lines, the lines by pages

ROLES = ("description", "code", "origin", "value", "quantity", "unit", "unit_price", "reference", "supplier")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment: autoescaping on for every template, undefined names fail loudly."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@lru_cache(maxsize=1)
def _static_versions() -> dict[str, str]:
    """A content hash per static file, appended as ?v= so browsers never keep a stale copy."""
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10] for p in STATIC.iterdir() if p.is_file()}


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_static_versions().get(name, '0')}"


@lru_cache(maxsize=2)
def naf_labels(data_dir: str | None = None) -> dict[str, str]:
    """NAF sous-classe → French label, from the reference bundle (empty when absent)."""
    from matching.refdata import data_dir as _data_dir

    try:
        path = _data_dir(data_dir) / "naf" / "naf_rev2_5levels_fr.csv"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return {r["NIV5"]: r["LIB_NIV5"] for r in csv.DictReader(fh)}
    except Exception:  # noqa: BLE001 - labels are a nicety: a page must render without them
        return {}


def shown_products(line: Mapping[str, Any], n: int) -> list[Mapping[str, Any]]:
    """A line's first ``n`` products with the one its suppliers' reasons cite (``product``) first."""
    prods = list(line.get("products") or [])
    shown = line.get("product")
    if shown:
        prods = [shown] + [p for p in prods if p.get("code") != shown.get("code")]
    return prods[:n]


def base_context(
    *,
    lang: str,
    region: str = "44",
    csrf: str = "",
    principal: Any = None,
    local_mode: bool = True,
    nav: str = "",
    current_url: str = "/search",
    current_query: Mapping[str, str] | None = None,
    catalog_note: str = "",
) -> dict[str, Any]:
    """What every page needs: language, translations, région names, CSRF token, who is signed in."""
    base = _map_base()
    region_names = dict(base.region_names) if base else {}
    query = {k: v for k, v in (current_query or {}).items() if k != "lang"}
    other = "en" if lang == "fr" else "fr"
    switch_q = urlencode({**query, "lang": other})
    return {
        "lang": lang,
        "_": lambda key, **kw: t(lang, key, **kw),
        "lang_q": "?lang=en" if lang == "en" else "",
        "lang_switch_url": f"{current_url}?{switch_q}",
        "region": region,
        "region_name": region_names.get(region, region),
        "region_names": region_names,
        "regions": sorted(
            ((c, n) for c, n in region_names.items()), key=lambda cn: (cn[0] != "44", cn[1])
        ),
        "csrf": csrf,
        "principal": principal,
        "local_mode": local_mode,
        "nav": nav,
        "static_url": static_url,
        "naf_label": lambda code: naf_labels().get(code or "", ""),
        "dep_name": lambda code: (base.departements[code].name if base and code in base.departements else ""),
        "reason": lambda r: reason_text(r, lang),
        "reason_detail": lambda r: reason_detail(r, lang),
        "tie_text": lambda s: tie_text(s, lang),
        "shown_products": shown_products,
        "supplier_query": lambda mf: urlencode({k: v for k, v in (mf or {}).items() if v not in (None, "")}),
        "catalog_note": catalog_note,
        "feedback_given": {},
        "has_observatory": (Path(__file__).parent / "observatory.py").is_file(),
    }


def _map_base() -> charts.MapBase | None:
    try:
        return charts.load_map_base()
    except Exception:  # noqa: BLE001 - without reference geography the pages still work, without map
        return None


def render(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def summarize(result: Mapping[str, Any]) -> dict[str, Any]:
    """The summary block: counts per status, lines with a regional candidate, domestic share.

    Counts are recomputed from the lines (the stored summary may predate a field), the value
    share comes from :func:`charts.value_shares` (value-weighted, or line-weighted when the
    BOM gives no values).
    """
    lines = [ln for ln in result.get("lines", []) if ln.get("status") != "skipped"]
    shares = charts.value_shares(result)
    return {
        "lines": len(lines),
        "skipped": sum(1 for ln in result.get("lines", []) if ln.get("status") == "skipped"),
        "matched": sum(1 for ln in lines if ln.get("status") == "matched"),
        "low_confidence": sum(1 for ln in lines if ln.get("status") == "low_confidence"),
        "no_candidate": sum(1 for ln in lines if ln.get("status") == "no_candidate"),
        "no_producer": sum(1 for ln in lines if ln.get("status") == "no_producer"),
        "services": sum(1 for ln in lines if ln.get("kind") == "service"),
        "error": sum(1 for ln in lines if ln.get("status") == "error"),
        "with_regional": sum(1 for ln in lines if charts.line_category(ln) == "regional"),
        "share_domestic": shares.share("regional") + shares.share("national"),
        "shares": shares,
    }


def line_views(result: Mapping[str, Any], *, top: int = TOP_PER_TIER) -> list[dict[str, Any]]:
    """Each line with its top regional and top national suppliers and a CSS class for its state."""
    out = []
    for ln in result.get("lines", []):
        if ln.get("status") == "skipped":
            continue
        sups = ln.get("suppliers") or []
        regional = [s for s in sups if s.get("tier") == "regional"][:top]
        national = [s for s in sups if s.get("tier") != "regional"][:top]
        status = ln.get("status")
        if status == "error":
            css = "error"
        elif not sups:
            css = "no-candidate"
        elif regional:
            css = "has-regional"
        else:
            css = "national-only"
        inp = ln.get("input") or {}
        out.append(
            {
                "line": ln,
                "regional": regional,
                "national": national,
                "css": css,
                "matched_for": {"line": ln.get("line"), "q": inp.get("description") or "", "code": inp.get("code_raw") or inp.get("code") or ""},
            }
        )
    return out


def results_context(
    result: Mapping[str, Any], *, lang: str, region: str, page: int = 1, per_page: int = LINES_PER_PAGE
) -> dict[str, Any]:
    """Summary, pictures (map + bar with their table alternatives) and one page of line views."""
    summary = summarize(result)
    counts = charts.supplier_counts_by_departement(result)
    base = _map_base()
    region_name = base.region_names.get(region, region) if base else region
    map_svg = charts.supplier_map_svg(counts, base, highlight_region=region, lang=lang) if base else ""
    dep_rows = [
        (code, base.departements[code].name if base and code in base.departements else "", n)
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    views_all = line_views(result)
    pages = max(1, -(-len(views_all) // per_page))
    page = min(max(1, page), pages)
    return {
        "page": page,
        "pages": pages,
        "page_first": (page - 1) * per_page + 1,
        "page_last": min(page * per_page, len(views_all)),
        "summary": summary,
        "shares": summary["shares"],
        "map_svg": map_svg,
        "bar_svg": charts.value_bar_svg(summary["shares"], region_name=region_name, lang=lang),
        "dep_rows": dep_rows,
        "line_views": views_all[(page - 1) * per_page : page * per_page],
        "skipped_lines": [ln for ln in result.get("lines", []) if ln.get("status") == "skipped"],
        "buyer_given": bool(((result.get("engine") or {}).get("config") or {}).get("buyer")),
    }
