"""The observatory page: indicators with server-drawn SVG charts, and the follow-up editor.

Same store and same indicator functions as ``GET /v1/observatory/indicators``; the page
only draws. Charts are inline SVG built here (no charting library, no external asset:
the service may run on an isolated network), each with a title, a description and a
table alternative on the page. Editing a follow-up is a plain POST form with the
session's CSRF token; the funnel rules are matching.observatory's, refused steps are
shown as a message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup, escape

router = APIRouter(include_in_schema=False)

STAGES_FR = {"proposed": "proposé", "contacted": "contacté", "quote": "devis", "contracted": "contractualisé",
             "abandoned": "abandonné"}
STAGES_EN = {"proposed": "proposed", "contacted": "contacted", "quote": "quote", "contracted": "contracted",
             "abandoned": "abandoned"}
REASONS_FR = {"price": "prix", "capacity": "capacité", "quality": "qualité", "lead_time": "délai",
              "certification": "certification", "other": "autre"}
REASONS_EN = {"price": "price", "capacity": "capacity", "quality": "quality", "lead_time": "lead time",
              "certification": "certification", "other": "other"}


def _svg_open(svg_id: str, width: float, height: float, title: str, desc: str, cls: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" aria-labelledby="{svg_id}-title {svg_id}-desc">'
        f'<title id="{svg_id}-title">{escape(title)}</title><desc id="{svg_id}-desc">{escape(desc)}</desc>'
    )


def progress_svg(done: int, target: int, *, lang: str = "fr", svg_id: str = "progress") -> Markup:
    """One bar: relocations contracted against the plan's target."""
    width, bar_h = 560.0, 26.0
    frac = min(1.0, done / target) if target > 0 else 0.0
    title = "Relocalisations contractualisées / objectif du plan" if lang == "fr" else "Relocations contracted / plan target"
    text = f"{done} / {target} ({done / target:.1%})" if target > 0 else str(done)
    out = [
        _svg_open(svg_id, width, 44, title, text, "progress"),
        f'<rect class="bar-bg" x="0" y="0" width="{width:.0f}" height="{bar_h:.0f}" rx="3"/>',
        f'<rect class="bar-regional" x="0" y="0" width="{max(width * frac, 2 if done else 0):.1f}" height="{bar_h:.0f}" rx="3"/>',
        f'<text class="bar-legend" x="0" y="{bar_h + 15:.0f}">{escape(text)}</text>',
        "</svg>",
    ]
    return Markup("".join(out))


def monthly_svg(months: Sequence[Mapping[str, Any]], *, lang: str = "fr", svg_id: str = "monthly") -> Markup:
    """Columns per month: relocations contracted with a regional / national supplier (stacked),
    and abandons as a thin grey column beside them; integer axis."""
    width, height, left, bottom, top = 560.0, 220.0, 34.0, 34.0, 12.0
    title = "Relocalisations et abandons par mois" if lang == "fr" else "Relocations and abandons by month"
    if not months:
        desc = "aucun événement" if lang == "fr" else "no event"
        return Markup(_svg_open(svg_id, width, 40, title, desc, "monthly") +
                      f'<text class="bar-legend" x="0" y="20">{escape(desc)}</text></svg>')
    peak = max(max(int(m["contracted"]), int(m["abandoned"])) for m in months) or 1
    plot_h = height - bottom - top
    slot = (width - left) / len(months)
    col = min(28.0, slot * 0.38)
    desc = "; ".join(
        f'{m["month"]}: {m["contracted"]} ({m["contracted_regional"]} reg., {m["contracted_national"]} nat.), '
        f'{m["abandoned"]} {"abandons" if lang == "fr" else "abandoned"}' for m in months)
    out = [_svg_open(svg_id, width, height, title, desc, "monthly")]
    step = max(1, -(-peak // 4))
    for v in range(0, peak + 1, step):  # horizontal grid with integer ticks
        y = top + plot_h * (1 - v / peak)
        out.append(f'<line x1="{left:.0f}" x2="{width:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde2e8"/>'
                   f'<text class="bar-legend" x="{left - 6:.0f}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    for i, m in enumerate(months):
        x0 = left + slot * i + slot / 2 - col
        y = top + plot_h
        for key, cls in (("contracted_regional", "bar-regional"), ("contracted_national", "bar-national")):
            h = plot_h * int(m[key]) / peak
            if h > 0:
                y -= h
                out.append(f'<rect class="{cls}" x="{x0:.1f}" y="{y:.1f}" width="{col:.1f}" height="{h:.1f}">'
                           f'<title>{escape(m["month"])}: {m[key]}</title></rect>')
        ha = plot_h * int(m["abandoned"]) / peak
        if ha > 0:
            out.append(f'<rect class="bar-none" x="{x0 + col + 2:.1f}" y="{top + plot_h - ha:.1f}" width="{col * 0.6:.1f}" '
                       f'height="{ha:.1f}"><title>{escape(m["month"])}: {m["abandoned"]}</title></rect>')
        out.append(f'<text class="bar-legend" x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 16:.0f}" '
                   f'text-anchor="middle">{escape(m["month"])}</text>')
    legend = [("bar-regional", "régional" if lang == "fr" else "regional"),
              ("bar-national", "national"), ("bar-none", "abandon" if lang == "fr" else "abandoned")]
    lx = left
    for cls, label in legend:
        out.append(f'<rect class="{cls}" x="{lx:.0f}" y="{height - 12:.0f}" width="10" height="10"/>'
                   f'<text class="bar-legend" x="{lx + 14:.0f}" y="{height - 3:.0f}">{escape(label)}</text>')
        lx += 14 + 7.2 * len(label) + 16
    out.append("</svg>")
    return Markup("".join(out))


def reasons_svg(reasons: Sequence[Mapping[str, Any]], *, lang: str = "fr", svg_id: str = "reasons") -> Markup:
    """Horizontal bars: abandoned follow-ups per reason."""
    labels = REASONS_FR if lang == "fr" else REASONS_EN
    width, row_h, label_w = 560.0, 22.0, 120.0
    height = row_h * len(reasons) + 6
    peak = max((int(r["abandoned"]) for r in reasons), default=0) or 1
    title = "Abandons par motif" if lang == "fr" else "Abandons by reason"
    desc = "; ".join(f'{labels.get(r["reason"], r["reason"])}: {r["abandoned"]}' for r in reasons)
    out = [_svg_open(svg_id, width, height, title, desc, "reasons")]
    for i, r in enumerate(reasons):
        y = i * row_h + 3
        w = (width - label_w - 40) * int(r["abandoned"]) / peak
        out.append(f'<text class="bar-legend" x="{label_w - 8:.0f}" y="{y + 14:.0f}" text-anchor="end">'
                   f'{escape(labels.get(r["reason"], r["reason"]))}</text>'
                   f'<rect class="bar-bg" x="{label_w:.0f}" y="{y:.0f}" width="{width - label_w - 40:.0f}" height="{row_h - 6:.0f}"/>')
        if w > 0:
            out.append(f'<rect class="bar-none" x="{label_w:.0f}" y="{y:.0f}" width="{w:.1f}" height="{row_h - 6:.0f}"/>')
        out.append(f'<text class="bar-legend" x="{label_w + max(w, 0) + 6:.1f}" y="{y + 14:.0f}">{r["abandoned"]}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def tier_bar(summary: Mapping[str, Any], *, region_name: str, lang: str) -> Markup:
    """The shares of imported value with a regional / national / no alternative, drawn by the
    results page's own bar (same colours, same legend)."""
    from api.web import charts

    shares = charts.ValueShares(
        float(summary["value_regional_eur"]), float(summary["value_national_eur"]), float(summary["value_none_eur"]),
        "value", float(summary["imported_value_eur"]),
    )
    return charts.value_bar_svg(shares, region_name=region_name, lang=lang, svg_id="obs-tiers")


def _companies(store: Any, principal: Any) -> list[str]:
    from api.store import obs_records

    lines, _ = obs_records(store, principal)
    return sorted({ln.company for ln in lines})


def _page_data(store: Any, principal: Any, company: str | None) -> dict[str, Any]:
    from api.routes.observatory import indicators_payload
    from api.store import obs_records
    from matching.observatory import FollowUp

    companies = [company] if company else None
    payload = indicators_payload(store, principal, companies, 500)
    lines, fus = obs_records(store, principal, companies=companies)
    by_key = {(f.company, f.line): f for f in fus}
    rows = [(ln, by_key.get((ln.company, ln.line), FollowUp(ln.company, ln.line))) for ln in lines]
    return {"ind": payload, "rows": rows, "companies": _companies(store, principal)}


@router.get("/observatory")
async def observatory_page(request: Request) -> Response:
    from api.web.routes import _signin_redirect, web

    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    company = request.query_params.get("company") or None
    data = await run_in_threadpool(_page_data, request.app.state.store, w.principal, company)
    return _render(w, data, company=company, message=request.query_params.get("msg"),
                   error=request.query_params.get("err"))


def _render(w: Any, data: dict[str, Any], *, company: str | None, message: str | None = None,
            error: str | None = None, status: int = 200) -> Response:
    ctx_lang = w.lang
    s = data["ind"]["summary"]
    region_name = "Grand Est"
    return w.page(
        "observatory.html", nav="observatory", status=status,
        ind=data["ind"], s=s, rows=data["rows"], companies=data["companies"], company=company,
        message=message, error=error,
        tier_svg=tier_bar(s, region_name=region_name, lang=ctx_lang) if s["imported_value_eur"] else None,
        progress_svg=progress_svg(int(s["relocations"]), int(s["target"]), lang=ctx_lang),
        monthly_svg=monthly_svg(data["ind"]["by_month"], lang=ctx_lang),
        reasons_svg=reasons_svg(data["ind"]["reasons"], lang=ctx_lang),
        stage_label=(STAGES_FR if ctx_lang == "fr" else STAGES_EN),
        reason_label=(REASONS_FR if ctx_lang == "fr" else REASONS_EN),
        pct=lambda x: "–" if x is None else f"{x:.0%}",
        eur=lambda x: "–" if x is None else f"{x:,.0f} €".replace(",", "\u202f"),
    )


@router.post("/observatory/followups/{company}/{line}/events")
async def observatory_add_event(company: str, line: int, request: Request) -> Response:
    """The editor's form: one step of a line's follow-up; back to the page with a message."""
    from datetime import date

    from api.store import obs_add_event
    from api.web.routes import posted_form
    from matching.observatory import FollowUpError, FollowUpEvent

    got = await posted_form(request)
    if isinstance(got, Response):
        return got
    w, form = got
    back = str(form.get("scope") or "")
    q: dict[str, str] = {"company": back} if back else {}
    if w.lang == "en":
        q["lang"] = "en"

    def val(k: str) -> str | None:
        v = str(form.get(k) or "").strip()
        return v or None

    try:
        raw_value = val("value_moved_eur")
        event = FollowUpEvent(
            stage=val("stage") or "",  # type: ignore[arg-type]
            on=date.fromisoformat(val("on") or ""),
            reason=val("reason") if val("stage") == "abandoned" else None,  # type: ignore[arg-type]
            supplier_siret=val("supplier_siret") if val("stage") == "contracted" else None,
            supplier_tier=val("supplier_tier") if val("stage") == "contracted" else None,  # type: ignore[arg-type]
            value_moved_eur=float(raw_value.replace(" ", "").replace(",", ".")) if raw_value and val("stage") == "contracted" else None,
            note=str(form.get("note") or "")[:2000],
        )
        fu = await run_in_threadpool(obs_add_event, request.app.state.store, w.principal, company, line, event)
        if fu is None:
            q["err"] = f"{company} #{line}: " + ("ligne non suivie" if w.lang == "fr" else "line not tracked")
        else:
            q["msg"] = f"{company} #{line}: " + (STAGES_FR if w.lang == "fr" else STAGES_EN)[event.stage]
    except (FollowUpError, ValueError) as exc:
        q["err"] = f"{company} #{line}: {exc}"
    return w.redirect("/observatory?" + urlencode(q, quote_via=quote) + f"#line-{quote(company)}-{line}")
