"""Synchronous matching and lookups: /v1/match, /v1/search, /v1/suppliers/{siret}, /v1/codes/{code}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import AfterValidator, Field
from fastapi.responses import JSONResponse, Response

try:  # a tenth of json's time on a 20 kB one-line result (same JSON)
    import orjson as _orjson
except ImportError:  # pragma: no cover - pinned in pyproject
    _orjson = None

from api import engine
from api.batcher import MatchBatcher
from api.engine_pool import EngineUnavailable
from api.deps import MatcherDep, PrincipalDep, SettingsDep
from api.routes import AUTH_ERRORS, NOT_FOUND
from api.schemas import CODE_PATTERN, REGION_PATTERN, SOME_TEXT, BuyerCode, NafCode, ErrorOut, LineOut, MatchRequest, MatchResponse, SupplierOut
from matching.errors import CodeError
from matching.textclean import clean_text

router = APIRouter(prefix="/v1", tags=["match"], responses=AUTH_ERRORS)


@router.post(
    "/match",
    response_model=None,
    responses={200: {"model": MatchResponse, "description": "The result contract"},
               503: {"model": ErrorOut, "description": "An engine process stopped; retry after Retry-After seconds"},
               504: {"model": ErrorOut, "description": "Too slow for a synchronous call: use POST /v1/boms"}},
)
async def match(req: MatchRequest, request: Request, _p: PrincipalDep, settings: SettingsDep,
                matcher: MatcherDep) -> Response:
    """Match a few lines now. Bigger lists (over the line limit, or too slow) go to POST /v1/boms.

    Concurrent requests with the same options are matched together in one engine call
    (api/batcher.py); each still gets exactly its own result."""
    if len(req.lines) > settings.max_sync_lines:
        raise HTTPException(413, f"{len(req.lines)} lines is over the synchronous limit of {settings.max_sync_lines} "
                                 "lines: upload them as a job with POST /v1/boms")
    lines = engine.lines_from_wire([ln.model_dump() for ln in req.lines])
    options = req.model_dump(exclude={"lines"})
    batcher: MatchBatcher = request.app.state.batcher
    try:
        result = await batcher.match(matcher, lines, options, settings.sync_timeout_s)
    except EngineUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    except (TimeoutError, engine.EngineTimeout):
        raise HTTPException(504, f"matching took longer than {settings.sync_timeout_s:g} s: "
                                 "send these lines as a job with POST /v1/boms and poll GET /v1/boms/{id}") from None
    return JSONResponse(result) if _orjson is None else Response(_orjson.dumps(result), media_type="application/json")


@router.get("/search", response_model=LineOut)
def search(
    _p: PrincipalDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    q: Annotated[Annotated[str, Field(min_length=1, max_length=500, pattern=SOME_TEXT), AfterValidator(clean_text)],
                 Query(description="What is sought, free text (some character the input rule keeps)")],
    code: Annotated[str | None, Query(max_length=40, pattern=CODE_PATTERN, description="HS/CN code, e.g. 8482.10")] = None,
    region: Annotated[str | None, Query(pattern=REGION_PATTERN, description="INSEE région code, e.g. 44")] = None,
    naf: Annotated[NafCode, Query(description="NAF rév. 2 sous-classe, e.g. 28.15Z (unknown: 422)")] = None,
    buyer: Annotated[BuyerCode, Query(description="INSEE commune code or postcode that exists (else 422)")] = None,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Any:
    """Suppliers for an advisor's query (text, optionally narrowed by code, région or NAF)."""
    if naf and "." not in naf:
        naf = f"{naf[:2]}.{naf[2:]}"
    return engine.search(matcher, q, code=code, region=region, naf=naf, buyer=buyer, top=min(top, settings.max_top))


@router.get("/suppliers/{siret}", response_model=SupplierOut, responses=NOT_FOUND)
def get_supplier(
    siret: Annotated[str, Path(pattern=r"^[0-9]{14}$")], _p: PrincipalDep, matcher: MatcherDep
) -> Any:
    """One establishment of the catalog."""
    s = engine.supplier(matcher, siret)
    if s is None:
        raise HTTPException(404, f"no establishment with SIRET {siret} in the loaded catalog")
    return s


@router.get("/codes/{code}", response_model=dict[str, Any], responses=NOT_FOUND)
def explain_code(code: Annotated[str, Path(min_length=2, max_length=14, pattern=CODE_PATTERN,
                                           description="HS2/HS4/HS6/CN8/TARIC10, e.g. 8482.10")],
                 _p: PrincipalDep) -> Any:
    """What a product code means and which activities (NAF) produce it: the crosswalk explanation."""
    try:
        return engine.explain_code(code)
    except CodeError as exc:
        from matching.codes import try_parse_code

        if try_parse_code(code) is not None:
            raise HTTPException(404, str(exc)) from None
        raise HTTPException(422, str(exc)) from None
