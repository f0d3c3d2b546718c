"""Sites for a relocation project over HTTP: GET/POST /v1/sites/match, GET /v1/sites/{site_id},
and the observatory link (a tracked relocation records its chosen site; counts by type and département).

Thin: the project model and ranking live in ``matching.sites``; the register is loaded once per
process from ``settings.sites`` (503 until one is built); the optional BOM result is sent inline
(``bom_result``) or named as one of the caller's finished jobs (``job_id``).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PrincipalDep, SettingsDep, StoreDep
from api.routes import AUTH_ERRORS, NOT_FOUND
from matching.sites.project import Constraints, Project, ProjectError, Wishes

router = APIRouter(tags=["sites"], responses=AUTH_ERRORS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


class SiteMatchRequest(Project):
    """A relocation project, optionally with its BOM result (inline, or a finished job of yours)."""

    model_config = ConfigDict(extra="forbid")

    bom_result: dict[str, Any] | None = Field(None, description="Result JSON of POST /v1/match or a finished job")
    job_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="A finished BOM job of yours")
    top: int = Field(10, ge=1, le=200)


class ReasonOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    signal: str
    contribution: float | None = None
    text: str
    text_en: str


class SiteOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    rank: int
    site_id: str
    name: str
    region_code: str
    departement: str
    surface_m2: float
    score: float
    caveats: dict[str, bool]
    reasons: list[ReasonOut]


class SiteMatchResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    schema_version: str
    project: dict[str, Any]
    candidates: int
    excluded: dict[str, int]
    sites: list[SiteOut]


class SiteChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str = Field(min_length=1, max_length=200)
    site_id: str = Field(min_length=1, max_length=200)
    on: date
    surface_m2: float | None = Field(None, gt=0, le=1e8, description="Surface actually taken, if not the whole site")
    note: str = Field("", max_length=2000)


class SiteChoiceOut(BaseModel):
    company: str
    site_id: str
    site_name: str | None
    site_type: str
    departement: str
    region: str
    surface_m2: float
    source: str
    chosen_on: date
    note: str


class SiteBreakdownOut(BaseModel):
    rows: list[dict[str, Any]]
    choices: list[SiteChoiceOut]


def register_of(settings: Any) -> Any:
    """The loaded site register (cached per process), or 503 with how to build one."""
    from matching.sites import SiteError, SiteRegister

    try:
        return SiteRegister.load(settings.sites)
    except SiteError as exc:
        raise HTTPException(503, f"the site register is not loaded: {exc}") from None


def _bom(store: Any, principal: Any, job_id: str | None, inline: dict[str, Any] | None) -> dict[str, Any] | None:
    if job_id and inline is not None:
        raise HTTPException(422, [{"loc": ["body", "job_id"], "msg": "give bom_result or job_id, not both",
                                   "type": "value_error", "field": "job_id"}])
    if job_id:
        result = store.get_result(job_id, principal) if principal.key_id != "local" else store.get_result(job_id)
        if result is None:
            raise HTTPException(404, f"no finished job {job_id} of yours")
        return result
    return inline


def _run(settings: Any, store: Any, principal: Any, project: Project, job_id: str | None,
         inline: dict[str, Any] | None, top: int, loc: str = "body") -> dict[str, Any]:
    from matching.sites.match import match_sites

    bom = _bom(store, principal, job_id, inline)
    reg = register_of(settings)
    try:
        return match_sites(project, reg, bom_result=bom, top=min(top, 200))
    except ProjectError as exc:
        raise HTTPException(422, [{"loc": [loc, *exc.field.split(".")], "msg": str(exc), "type": "value_error",
                                   "field": exc.field}]) from None


def _respond(result: dict[str, Any], fmt: str, lang: str) -> Any:
    if fmt == "json":
        return result
    from matching.sites.match import export_sites

    buf = io.StringIO() if fmt == "csv" else io.BytesIO()
    export_sites(result, buf, fmt, lang=lang)
    body = buf.getvalue()
    return Response(body.encode("utf-8") if isinstance(body, str) else body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="sites-relocmatch.{fmt}"'})


_EXPORTS = {200: {"model": SiteMatchResponse, "description": "Ranked sites (JSON), or CSV/XLSX with format=",
                  "content": {"text/csv": {}, XLSX: {}}}, **NOT_FOUND}


@router.post("/v1/sites/match", response_model=None, responses=_EXPORTS)
async def match_post(body: SiteMatchRequest, principal: PrincipalDep, settings: SettingsDep, store: StoreDep,
                     format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
                     lang: Annotated[Literal["fr", "en"], Query()] = "fr") -> Any:
    """Rank the register's sites for a project: hard constraints filter, the score (surface, zoning,
    availability and verification, rail, pollution, supply-chain proximity) orders, reasons FR/EN."""
    project = Project.model_validate(body.model_dump(exclude={"bom_result", "job_id", "top"}))
    result = await run_in_threadpool(_run, settings, store, principal, project, body.job_id, body.bom_result, body.top)
    return _respond(result, format, lang)


@router.get("/v1/sites/match", response_model=None, responses=_EXPORTS)
async def match_get(
    principal: PrincipalDep, settings: SettingsDep, store: StoreDep,
    activity: Annotated[str, Query(min_length=1, max_length=500, description="NAF code or free text")],
    surface_m2_min: Annotated[float | None, Query()] = None, surface_m2_max: Annotated[float | None, Query()] = None,
    surface_ha_min: Annotated[float | None, Query()] = None, surface_ha_max: Annotated[float | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=3)] = None,
    departements: Annotated[list[str] | None, Query(description="Repeat, or comma-separated")] = None,
    industrial_zoning: bool = False, rail_within_km: Annotated[float | None, Query(gt=0, le=200)] = None,
    not_polluted: bool = False, pollution_known: bool = False, available_now: bool = False,
    verified_only: bool = False, rail: bool = False,
    supplier_radius_km: Annotated[float, Query(gt=0, le=500)] = 50.0,
    near_commune: Annotated[str | None, Query(max_length=5)] = None,
    job_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    top: Annotated[int, Query(ge=1, le=200)] = 10,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    lang: Annotated[Literal["fr", "en"], Query()] = "fr",
) -> Any:
    """The same ranking from query parameters (constraints flattened), e.g. for a link or an export."""
    deps = [d.strip() for item in departements or [] for d in item.split(",") if d.strip()] or None
    try:
        project = Project(activity=activity, surface_m2_min=surface_m2_min, surface_m2_max=surface_m2_max,
                          surface_ha_min=surface_ha_min, surface_ha_max=surface_ha_max, region=region or None,
                          departements=deps,
                          constraints=Constraints(industrial_zoning=industrial_zoning, rail_within_km=rail_within_km,
                                                  not_polluted=not_polluted, pollution_known=pollution_known,
                                                  available_now=available_now, verified_only=verified_only),
                          wishes=Wishes(rail=rail, supplier_radius_km=supplier_radius_km, near_commune=near_commune))
    except ValueError as exc:  # pydantic's ValidationError
        raise HTTPException(422, str(exc)) from None
    result = await run_in_threadpool(_run, settings, store, principal, project, job_id, None, top, "query")
    return _respond(result, format, lang)


@router.get("/v1/sites/{site_id}", response_model=dict[str, Any], responses=NOT_FOUND)
def get_site(site_id: str, _p: PrincipalDep, settings: SettingsDep) -> Any:
    """One site of the register, with its caveats."""
    site = register_of(settings).site(site_id)
    if site is None:
        raise HTTPException(404, f"no site {site_id} in the loaded register")
    return site


@router.post("/v1/observatory/site-choices", status_code=201, response_model=SiteChoiceOut,
             responses={**NOT_FOUND, 403: {"description": "Tracked by another organisation"}}, tags=["observatory"])
def record_site_choice(body: SiteChoiceIn, principal: PrincipalDep, settings: SettingsDep, store: StoreDep) -> Any:
    """Record the site a tracked relocation chose (the company must have tracked lines you can see)."""
    from api import site_choices
    from api import store as st

    lines, _ = st.obs_records(store, principal, companies=[body.company])
    if not lines:
        raise HTTPException(404, f"{body.company} is not a tracked relocation (track its lines first)")
    site = register_of(settings).site(body.site_id)
    if site is None:
        raise HTTPException(404, f"no site {body.site_id} in the loaded register")
    try:
        return site_choices.record_choice(store, principal, body.company, site, on=body.on, note=body.note,
                                          surface_m2=body.surface_m2)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None


@router.get("/v1/observatory/sites", response_model=SiteBreakdownOut, tags=["observatory"])
def site_report(principal: PrincipalDep, store: StoreDep) -> Any:
    """Relocations and hectares by site type and département (plus a total row), and the choices."""
    from api import site_choices
    from api.routes.observatory import _records
    from matching.sites.observatory import site_breakdown

    choices = site_choices.list_choices(store, principal)
    return {"rows": _records(site_breakdown(choices)), "choices": choices}


