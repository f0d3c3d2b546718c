"""BOM jobs: upload (file or JSON lines) -> 202 + job; status/progress/results; export; delete."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import engine
from api.audit import audited
from api.deps import PrincipalDep, RunnerDep, SettingsDep, StoreDep
from api.export import MEDIA, export
from api.routes import AUTH_ERRORS, NOT_FOUND
from api.schemas import PLACE_SCHEMA, REGION_PATTERN, BomJsonRequest, ErrorOut, JobList, JobOut, MatchOptions, Progress
from api.settings import Settings
from api.store import Job, Principal, Store
from matching.textclean import clean_text

router = APIRouter(prefix="/v1", tags=["boms"], responses=AUTH_ERRORS)
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Job id returned by POST /v1/boms")]

# what the upload's file part may be (the reader goes by content; these are what clients send)
UPLOAD_MEDIA_TYPES = (
    "text/csv", "text/tab-separated-values", "text/plain", "application/json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel.sheet.macroEnabled.12",
    "application/vnd.ms-excel", "application/vnd.oasis.opendocument.spreadsheet", "application/octet-stream",
)

MAPPING_FORMAT = "bom-column-mapping"  # a JSON object, field name -> column name or index
SHEET_FORMAT = "bom-sheet-name"  # a sheet of the uploaded workbook
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": "CSV/TSV/TXT, XLSX/XLSM/XLS, ODS or JSON file (read by content; "
                                                "a file with no readable line is refused with 422 and its problems)"},
                        # a JSON object in a text field: its format names that (422 when it is not one)
                        "mapping": {"type": "string", "format": MAPPING_FORMAT,
                                    "description": 'Optional JSON object field -> column, e.g. {"description": "Désignation"}'},
                        # which sheets exist depends on the file (a sheet the file lacks: 422)
                        "sheet": {"type": "string", "maxLength": 100, "format": SHEET_FORMAT},
                        # an empty form field is an option left unset, as HTML forms send it
                        "region": {"type": "string", "pattern": "^$|" + REGION_PATTERN},
                        "buyer": {"anyOf": [{"type": "string", "maxLength": 0}, PLACE_SCHEMA]},
                        "top": {"type": "integer", "minimum": 1, "maximum": 50},
                    },
                },
                "encoding": {"file": {"contentType": ", ".join(UPLOAD_MEDIA_TYPES)}},
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/BomJsonRequest"}},
        },
    }
}


def job_out(job: Job, request: Request, result: dict[str, Any] | None = None) -> JobOut:
    url = str(request.url_for("get_bom", job_id=job.id).path)
    links = {"self": url}
    if job.status == "done":
        links["export"] = url + "/export?format=xlsx"
    return JobOut(
        id=job.id, status=job.status, progress=Progress(done=job.done, total=job.total),  # type: ignore[arg-type]
        filename=job.filename, created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
        attempts=job.attempts, error=job.error, layout=job.layout, options=job.options, links=links,
        result=result,  # type: ignore[arg-type]
    )


def _validation(exc: ValidationError, prefix: tuple[str, ...]) -> RequestValidationError:
    errs = []
    for e in exc.errors(include_url=False):
        e = dict(e)
        e["loc"] = (*prefix, *e.get("loc", ()))
        e.pop("ctx", None)
        errs.append(e)
    return RequestValidationError(errs)


def _check_rows(n: int, settings: Settings) -> None:
    if n > settings.max_bom_rows:
        raise HTTPException(413, f"{n} lines is over the limit of {settings.max_bom_rows} lines per BOM; split the file")
    if n == 0:
        raise HTTPException(422, "the BOM has no line to match")


async def _from_json(request: Request) -> tuple[bytes, str | None, list[dict[str, Any]], None, dict[str, Any]]:
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": f"invalid JSON: {exc}",
                                       "input": None}]) from None
    try:
        req = BomJsonRequest.model_validate(payload)
    except ValidationError as exc:
        raise _validation(exc, ("body",)) from None
    lines = [ln.model_dump() for ln in req.lines]
    for i, ln in enumerate(lines, start=1):
        ln["row"] = i
    options = req.model_dump(exclude={"lines", "filename"})
    return raw, req.filename, [engine.line_to_store(b) for b in engine.lines_from_wire(lines)], None, options


async def _from_form(request: Request, settings: Settings) -> tuple[bytes, str | None, list[dict[str, Any]], Any, dict[str, Any]]:
    form = await request.form(max_files=1, max_fields=20)
    repeated = [k for k in ("file", "mapping", "sheet", "region", "buyer", "top") if len(form.getlist(k)) > 1]
    if repeated:  # each is one value in the schema; which of two would be used is not for us to guess
        raise RequestValidationError([{"type": "value_error", "loc": ("body", repeated[0]), "input": None,
                                       "msg": f"{repeated[0]} is given more than once; send it once"}])
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise RequestValidationError([{"type": "missing", "loc": ("body", "file"), "msg": "a file part named 'file' is required",
                                       "input": None}])
    data = await file.read()
    fields = {k: v for k, v in form.items() if k in ("region", "buyer", "top") and isinstance(v, str) and v != ""}
    top = fields.get("top")
    if top is not None and top.isascii() and top.isdigit():  # form fields are text; the rest is checked as JSON
        fields["top"] = int(top)  # type: ignore[assignment]
    try:
        options = MatchOptions.model_validate(fields).model_dump()
    except ValidationError as exc:
        raise _validation(exc, ("body",)) from None
    mapping = None
    raw_map = form.get("mapping")
    if isinstance(raw_map, str) and raw_map.strip():
        try:
            mapping = json.loads(raw_map)
        except json.JSONDecodeError as exc:
            mapping = exc
        if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str | int) for k, v in mapping.items()):
            raise RequestValidationError([{"type": "value_error", "loc": ("body", "mapping"),
                                           "msg": "mapping must be a JSON object field -> column name", "input": None}])
    sheet = form.get("sheet") if isinstance(form.get("sheet"), str) and form.get("sheet") else None
    if mapping:  # the input rule (matching/textclean.py) on every string of the form, as on the JSON body
        mapping = {clean_text(k): clean_text(v) if isinstance(v, str) else v for k, v in mapping.items()}
    sheet = clean_text(sheet)[:100] if sheet else None
    filename = clean_text(file.filename or "")[:300] or "upload"
    from matching.bom import read_bom

    read = await run_in_threadpool(read_bom, data, filename=filename, mapping=mapping, sheet=sheet)
    layout = engine._jsonable(read.layout.to_dict() if hasattr(read.layout, "to_dict") else read.layout)
    layout = layout if isinstance(layout, dict) else {"layout": layout}
    # rows the reader skipped or warned about, so a client can show them next to the layout
    layout["row_reports"] = [
        {"row": r.row, "sheet": r.sheet, "status": r.status, "messages": list(r.messages)}
        for r in read.rows if r.status != "ok"
    ][:500]
    lines = [engine.line_to_store(b) for b in read.lines]
    return data, filename, lines, layout, options


@router.post(
    "/boms",
    status_code=202,
    response_model=JobOut,
    openapi_extra=_UPLOAD_BODY,
    responses={202: {"description": "Job stored and queued; Location points to it"},
               400: {"model": ErrorOut, "description": "Malformed multipart body"},
               415: {"model": ErrorOut, "description": "Neither multipart/form-data nor application/json"}},
)
async def create_bom(request: Request, principal: PrincipalDep, store: StoreDep, runner: RunnerDep,
                     settings: SettingsDep, response: Response) -> JobOut:
    """Upload a BOM (multipart ``file`` with optional ``mapping``) or send JSON lines; the lines are
    matched in the background. Returns the job and the detected layout; poll ``Location``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        data, filename, lines, layout, options = await _from_json(request)
    elif ctype == "multipart/form-data":
        data, filename, lines, layout, options = await _from_form(request, settings)
    else:
        raise HTTPException(415, "send multipart/form-data (a 'file' part) or application/json (lines)")
    _check_rows(len(lines), settings)
    job = await run_in_threadpool(
        store.create_job, principal, data=data, lines=lines, filename=filename, content_type=ctype,
        layout=layout, options=options,
    )
    runner.submit(job.id)
    out = job_out(job, request)
    response.headers["Location"] = out.links["self"]
    return out


@router.get("/boms", response_model=JobList)
def list_boms(request: Request, principal: PrincipalDep, store: StoreDep,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> JobList:
    """Your jobs, newest first (without results)."""
    return JobList(jobs=[job_out(j, request) for j in store.list_jobs(owner=principal, limit=limit)])


def _own_job(store: Store, job_id: str, principal: Principal) -> Job:
    job = store.get_job(job_id, principal)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job


@router.get("/boms/{job_id}", response_model=JobOut, responses=NOT_FOUND, name="get_bom",
            dependencies=[audited("read", "{job_id}")])
def get_bom(job_id: JobId, request: Request, principal: PrincipalDep, store: StoreDep,
            results: Annotated[bool, Query(description="Include the results when done")] = True) -> JobOut:
    """Status and progress (lines done / total); the results once done."""
    job = _own_job(store, job_id, principal)
    result = store.get_result(job_id, principal) if results and job.status == "done" else None
    request.state.audit_skip = result is None  # a status poll is not a read of the results
    return job_out(job, request, result)


@router.get(
    "/boms/{job_id}/export",
    response_class=Response,
    responses={**NOT_FOUND, 409: {"model": ErrorOut, "description": "Job not finished"},
               200: {"content": {"text/csv": {}, MEDIA["xlsx"]: {}, "application/json": {}},
                     "description": "One row per (line, supplier); formula-like cells neutralised"}},
    dependencies=[audited("export", "{job_id}")],
)
def export_bom(job_id: JobId, principal: PrincipalDep, store: StoreDep,
               format: Annotated[str, Query(pattern="^(csv|xlsx|json)$")] = "xlsx") -> Response:
    """The results as CSV, XLSX or JSON, one row per (line, supplier)."""
    job = _own_job(store, job_id, principal)
    result = store.get_result(job_id, principal)
    if result is None:
        raise HTTPException(409, f"job {job_id} is {job.status}, not done: no results to export yet")
    stem = (job.filename or "bom").rsplit(".", 1)[0][:80] or "bom"
    name = f"{stem}-relocmatch.{format}"
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_. ") else "_" for ch in name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(export(result, format), media_type=MEDIA[format], headers={"Content-Disposition": disposition})


@router.delete("/boms/{job_id}", status_code=204, responses=NOT_FOUND)
def delete_bom(job_id: JobId, principal: PrincipalDep, store: StoreDep) -> Response:
    """Delete the job, its results and its upload."""
    if not store.delete_job(job_id, principal):
        raise HTTPException(404, f"no job {job_id}")
    return Response(status_code=204)
