"""Relocation observatory over HTTP: track lines, record follow-up events, read indicators.

Thin: wire models here, domain rules in ``matching.observatory``, persistence in
``api.store`` (``obs_*`` functions). Indicators are computed on each request from the
stored records (they are cheap at programme scale: hundreds to thousands of lines).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.audit import audited
from api.deps import PrincipalDep, StoreDep
from api import store as st
from api.routes import AUTH_ERRORS, NOT_FOUND
from api.schemas import MAX_LINE, ErrorOut, Money, Text, json_int


router = APIRouter(prefix="/v1/observatory", tags=["observatory"], responses=AUTH_ERRORS)

# identifiers refuse control characters (422 naming the field): they are keys, used in paths, and a
# cleaned key would silently name another company. Free text (description, note) is cleaned (Text).
IDENT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
Company = Annotated[str, Field(min_length=1, max_length=200, pattern=IDENT_PATTERN,
                               description="Company identifier (no control characters)")]
Siret = Annotated[str, Field(pattern=r"^[0-9]{14}$")]
Tier = Literal["regional", "national"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "Transition not allowed by the follow-up funnel"}}
CompanyPath = Annotated[str, Path(min_length=1, max_length=200, pattern=IDENT_PATTERN, description="Company identifier")]
LinePath = Annotated[int, Path(ge=0, le=MAX_LINE, description="BOM line number")]
# a plain array (no "or null"): a query parameter cannot say null, and schemathesis only knows that
# `company=x` is the one-item array for a plain array schema (no list given: every visible company)
CompanyQuery = Annotated[list[Annotated[str, Field(min_length=1, max_length=200, pattern=IDENT_PATTERN)]],
                         Query(description="One company, or repeat for a group (none: every company you see)")]
Target = Annotated[int, Query(ge=1, le=1_000_000, description="Relocations the plan aims at")]


class TrackedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: Company
    line: json_int(0, MAX_LINE)  # type: ignore[valid-type]
    description: Text = Field("", max_length=2000)
    code: str | None = Field(None, pattern=r"^[0-9]{2,10}$")
    origin_country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    annual_value_eur: Money | None = None
    buyer_naf: Text | None = Field(None, max_length=8)
    best_tier: Tier | None = None


class TrackLinesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[TrackedLineIn] = Field(min_length=1, max_length=5000)


class TrackJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    company: Company
    buyer_naf: Text | None = Field(None, max_length=8)


class TrackedOut(BaseModel):
    tracked: int


class _EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date
    supplier_siret: Siret | None = None
    supplier_tier: Tier | None = None
    value_moved_eur: Money | None = None
    note: Text = Field("", max_length=2000)


class OpenEventIn(_EventIn):
    """A step of an open follow-up (no reason: only an abandon has one)."""
    stage: Literal["proposed", "contacted", "quote"]
    reason: None = None


class ContractedEventIn(_EventIn):
    """The line moved: the retained supplier, its tier and the annual value moved are required."""
    stage: Literal["contracted"]
    reason: None = None
    supplier_siret: Siret
    supplier_tier: Tier
    value_moved_eur: Money


class AbandonedEventIn(_EventIn):
    """The follow-up stopped, with its reason."""
    stage: Literal["abandoned"]
    reason: Literal["price", "capacity", "quality", "lead_time", "certification", "other"]


# the funnel's per-stage rules are in the schema (one variant per stage), so a request the schema
# admits is never refused for its shape; what the history forbids is a 409
EventIn = Annotated[OpenEventIn | ContractedEventIn | AbandonedEventIn, Field(discriminator="stage")]


class EventOut(BaseModel):
    stage: str
    on: date
    reason: str | None
    supplier_siret: str | None
    supplier_tier: str | None
    value_moved_eur: float | None
    note: str


class FollowUpOut(BaseModel):
    company: str
    line: int
    description: str
    code: str | None
    origin_country: str | None
    annual_value_eur: float | None
    best_tier: str | None
    stage: str | None
    events: list[EventOut]


class IndicatorsOut(BaseModel):
    """Headline figures for a scope; shares are None when no imported value is known."""

    summary: dict[str, Any]
    reasons: list[dict[str, Any]]
    by_sector: list[dict[str, Any]]
    by_chapter: list[dict[str, Any]]
    by_origin: list[dict[str, Any]]
    by_company: list[dict[str, Any]]
    by_month: list[dict[str, Any]]


def _records(df: Any) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-safe dicts (NaN -> None, numpy scalars -> Python)."""
    import math

    out = []
    for rec in df.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            v = v.item() if hasattr(v, "item") else v
            row[str(k)] = None if isinstance(v, float) and math.isnan(v) else v
        out.append(row)
    return out


def indicators_payload(store: Any, principal: Any, companies: list[str] | None, target: int) -> dict[str, Any]:
    """Everything the page and the JSON endpoint show, for one scope."""
    from matching.observatory import compute_indicators

    lines, fus = st.obs_records(store, principal, companies=companies)
    ind = compute_indicators(lines, fus, companies=companies, target=target)
    s = {k: (v.item() if hasattr(v, "item") else v) for k, v in ind.summary().items()}
    return {
        "summary": s,
        "reasons": _records(ind.reasons),
        "by_sector": _records(ind.by_sector),
        "by_chapter": _records(ind.by_chapter),
        "by_origin": _records(ind.by_origin),
        "by_company": _records(ind.by_company),
        "by_month": _records(ind.by_month),
    }


def _fu_out(ln: Any, fu: Any) -> FollowUpOut:
    return FollowUpOut(
        company=ln.company, line=ln.line, description=ln.description, code=ln.code, origin_country=ln.origin_country,
        annual_value_eur=ln.annual_value_eur, best_tier=ln.best_tier, stage=fu.stage,
        events=[EventOut(stage=e.stage, on=e.on, reason=e.reason, supplier_siret=e.supplier_siret,
                         supplier_tier=e.supplier_tier, value_moved_eur=e.value_moved_eur, note=e.note) for e in fu.events],
    )


@router.post("/lines", status_code=201, response_model=TrackedOut,
             responses={403: {"model": ErrorOut, "description": "Tracked by another organisation"}})
def track_lines(body: TrackLinesIn, principal: PrincipalDep, store: StoreDep) -> TrackedOut:
    """Start (or update) the follow-up of BOM lines: company, line, value, origin, code, best tier found."""
    from matching.observatory import FollowUpError, TrackedLine

    try:
        lines = [TrackedLine(**ln.model_dump()) for ln in body.lines]
        n = st.obs_upsert_lines(store, principal, lines)
    except FollowUpError as exc:
        raise HTTPException(422, str(exc)) from None
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    return TrackedOut(tracked=n)


@router.post("/jobs", status_code=201, response_model=TrackedOut,
             responses={**NOT_FOUND, 403: {"model": ErrorOut, "description": "A line is tracked by another organisation"}})
def track_job(body: TrackJobIn, principal: PrincipalDep, store: StoreDep) -> TrackedOut:
    """Track every line of one of your finished matching jobs (best tier from its result)."""
    try:
        n = st.obs_track_job(store, principal, body.job_id, company=body.company, buyer_naf=body.buyer_naf)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    if n is None:
        raise HTTPException(404, f"no finished job {body.job_id}")
    return TrackedOut(tracked=n)


@router.post("/followups/{company}/{line}/events", status_code=201, response_model=FollowUpOut,
             responses={**NOT_FOUND, **CONFLICT})
def add_event(company: CompanyPath, line: LinePath, body: EventIn, principal: PrincipalDep, store: StoreDep) -> FollowUpOut:
    """Record one dated step (proposed → contacted → quote → contracted | abandoned with a reason)."""
    from matching.observatory import FollowUpError, FollowUpEvent

    try:
        event = FollowUpEvent(**body.model_dump())
    except FollowUpError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        fu = st.obs_add_event(store, principal, company, line, event)
    except FollowUpError as exc:
        raise HTTPException(409, str(exc)) from None
    if fu is None:
        raise HTTPException(404, f"{company} line {line} is not tracked")
    got = st.obs_followup(store, principal, company, line)
    assert got is not None
    return _fu_out(*got)


@router.get("/followups/{company}/{line}", response_model=FollowUpOut, responses=NOT_FOUND,
            dependencies=[audited("read", "{company}#{line}")])
def get_followup(company: CompanyPath, line: LinePath, principal: PrincipalDep, store: StoreDep) -> FollowUpOut:
    """One line's follow-up history."""
    got = st.obs_followup(store, principal, company, line)
    if got is None:
        raise HTTPException(404, f"{company} line {line} is not tracked")
    return _fu_out(*got)


@router.get("/followups", response_model=list[FollowUpOut])
def list_followups(principal: PrincipalDep, store: StoreDep,
                   company: CompanyQuery = []) -> list[FollowUpOut]:
    """Every visible tracked line with its current stage and history."""
    from matching.observatory import FollowUp

    company = company or None
    lines, fus = st.obs_records(store, principal, companies=company)
    by_key = {(f.company, f.line): f for f in fus}
    return [_fu_out(ln, by_key.get((ln.company, ln.line), FollowUp(ln.company, ln.line))) for ln in lines]


@router.get("/indicators", response_model=IndicatorsOut)
async def indicators(principal: PrincipalDep, store: StoreDep,
                     company: CompanyQuery = [],
                     target: Target = 500) -> IndicatorsOut:
    """Shares of imported value with a regional/national/no alternative, relocations by tier vs the
    target, funnel, abandon reasons, breakdowns by sector/chapter/origin/company and by month."""
    return IndicatorsOut(**await run_in_threadpool(indicators_payload, store, principal, company or None, target))


@router.get("/report.xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}, "description": "Multi-sheet XLSX report"}},
            dependencies=[audited("export", "observatory:report")])
def report(principal: PrincipalDep, store: StoreDep,
           company: CompanyQuery = [],
           target: Target = 500) -> StreamingResponse:
    """The same indicators as `relocmatch observatory report`, as an XLSX download."""
    import tempfile
    from pathlib import Path

    from matching.observatory import compute_indicators, write_report

    company = company or None
    lines, fus = st.obs_records(store, principal, companies=company)
    ind = compute_indicators(lines, fus, companies=company, target=target)
    with tempfile.TemporaryDirectory() as d:
        path = write_report(ind, Path(d) / "report.xlsx")
        from api.site_choices import list_choices  # chosen sites by type and département (issue 15)
        from matching.sites.observatory import append_sites_sheet, site_breakdown

        data = append_sites_sheet(path, site_breakdown(list_choices(store, principal))).read_bytes()
    return StreamingResponse(io.BytesIO(data), media_type=XLSX,
                             headers={"Content-Disposition": 'attachment; filename="observatory-report.xlsx"'})
