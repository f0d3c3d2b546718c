"""The FastAPI application: ``create_app()`` wires settings, store, matcher, job runner and routes.

Nothing heavy happens at import: settings are read and the matcher is loaded when the
app starts (lifespan), once per worker process. Shared objects live on ``app.state``:
``settings``, ``store`` (api.store.Store), ``matcher`` (None until loaded, or when the
catalog failed to load: see ``matcher_error``), ``runner`` (api.jobs.JobRunner, with
``submit(job_id)``), ``limits`` (rate limits and key revocations, per process or in Redis:
api/limits.py) and ``key_cache``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import engine
from api.batcher import MatchBatcher
from api.deps import KeyCache
from api.engine_pool import EnginePool
from api.jobs import JobRunner
from api.limits import limits_for
from api.middleware import ServiceMiddleware, request_id_of
from api.settings import Settings
from api.store import Store
from matching.errors import BomError, CodeError, ConfigError, RelocmatchError
from matching.memory import freeze_long_lived

log = logging.getLogger("relocmatch.api")
API_DIR = Path(__file__).parent
# POST routes that take a file: they get max_upload_bytes, every other request max_request_bytes
UPLOAD_PATHS = frozenset({"/v1/boms", "/boms/new"})  # the API's and the advisor pages' BOM upload


def create_app(settings: Settings | None = None, *, matcher: Any = None) -> FastAPI:
    """The service. ``settings`` default to the environment (``Settings.from_env()``); pass a
    ``matcher`` to reuse an already loaded one (tests), else it is loaded from ``settings.catalog``."""
    settings = settings or Settings.from_env()
    given_matcher = matcher

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url, schema=settings.database_schema)
        _ensure_schema(store, settings)
        await app.state.limits.open()
        app.state.store = store
        app.state.matcher = given_matcher
        app.state.matcher_error = None
        if given_matcher is None:
            try:
                from matching.config import MatchConfig
                from matching.pipeline import Matcher

                loaded = Matcher.from_catalog(settings.catalog, MatchConfig(semantic=settings.semantic),
                                              ranker_path=settings.ranker)
                _warm_up(loaded, settings)
                app.state.matcher = loaded
            except RelocmatchError as exc:
                app.state.matcher_error = str(exc)
                log.error("catalog not loaded: %s", exc)
        runner = JobRunner(
            store, _job_function(app), threads=settings.job_threads, heartbeat_s=settings.job_heartbeat_s,
            stale_after_s=settings.job_stale_after_s, max_attempts=settings.job_max_attempts, poll_s=settings.job_poll_s,
        )
        app.state.runner = runner
        runner.start()
        from api.retention import start_daily_purge

        app.state.purger = start_daily_purge(store, settings)  # None when purge_interval_hours is 0
        pool = _engine_pool(app, settings)
        app.state.engine_pool = pool
        app.state.batcher = MatchBatcher(pool.match_groups if pool else engine.match_groups,
                                         max_lines=settings.batch_max_lines, engines=pool.processes if pool else 1)
        try:
            yield
        finally:
            app.state.batcher.close()
            if pool is not None:
                pool.close()
            runner.stop()
            if app.state.purger is not None:
                app.state.purger.stop()
            store.dispose()
            await app.state.limits.close()

    app = FastAPI(
        title="relocmatch",
        version="1.0",
        summary="French (and Grand Est) alternative suppliers for imported inputs",
        description="Send BOM lines (text, optional HS/CN code); get ranked, explained French establishments. "
        "Authenticate with `Authorization: Bearer <key>` (`relocmatch keys create --name NAME`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limits = limits_for(settings)
    app.state.key_cache = KeyCache()
    app.state.matcher = given_matcher
    app.state.matcher_error = "starting"

    def limit_for(method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") in UPLOAD_PATHS:
            return settings.max_upload_bytes
        return settings.max_request_bytes

    app.add_middleware(ServiceMiddleware, limit_for=limit_for)
    _install_error_handlers(app)

    from api.routes import boms, feedback, health, match

    app.include_router(health.router)
    app.include_router(match.router)
    app.include_router(boms.router)
    app.include_router(feedback.router)
    from api.routes import admin, retention

    app.include_router(admin.router)
    app.include_router(retention.router)
    if (API_DIR / "routes" / "observatory.py").is_file():
        from api.routes import observatory

        app.include_router(observatory.router)
    if (API_DIR / "routes" / "sites.py").is_file():
        from api.routes import sites

        app.include_router(sites.router)
    if (API_DIR / "web" / "routes.py").is_file():
        from api.web import routes as web_routes

        if hasattr(web_routes, "router"):
            app.include_router(web_routes.router)
    _document_extra_schemas(app)
    return app


def _document_extra_schemas(app: FastAPI) -> None:
    """Put the models routes reference by hand (``api.routes.EXTRA_SCHEMAS``, e.g. the JSON body of
    POST /v1/boms) in the OpenAPI components, so every ``$ref`` of /openapi.json resolves; add the
    links (``api.routes.LINKS``) from a created object to its reads."""
    from pydantic.json_schema import models_json_schema

    from api.routes import EXTRA_SCHEMAS, LINKS

    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = base()
        _, defs = models_json_schema([(m, "validation") for m in EXTRA_SCHEMAS],
                                     ref_template="#/components/schemas/{model}")
        comps = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in defs.get("$defs", {}).items():
            comps.setdefault(name, schema)
        _add_links(spec, LINKS)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _add_links(spec: dict[str, Any], links: dict[Any, dict[str, Any]]) -> None:
    """OpenAPI ``links`` on the responses ``links`` names; a route that is not mounted is skipped."""
    paths = spec.get("paths", {})
    for (path, method, status), named in links.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, (target, target_method, parameters) in named.items():
            op_id = paths.get(target, {}).get(target_method, {}).get("operationId")
            if op_id:
                response.setdefault("links", {})[name] = {"operationId": op_id, "parameters": dict(parameters)}


def _ensure_schema(store: Store, settings: Settings) -> None:
    """Create, upgrade or refuse the store's schema (api.migrate); a refusal stops the start-up."""
    from api.migrate import StoreSchemaError, ensure

    auto = settings.auto_migrate == "always" or (
        settings.auto_migrate == "sqlite" and store.engine.dialect.name == "sqlite")
    try:
        st = ensure(store, auto_upgrade=auto)
    except StoreSchemaError as exc:
        log.error("%s", exc)
        store.dispose()
        raise
    log.info("store schema %s", st.describe())


def _engine_pool(app: FastAPI, settings: Settings) -> EnginePool | None:
    """The engine processes, started and loaded now (None: the engine runs in this process)."""
    if settings.engine_processes <= 0 or app.state.matcher is None:
        return None
    from concurrent.futures.process import BrokenProcessPool

    pool = EnginePool(processes=settings.engine_processes, catalog=settings.catalog, semantic=settings.semantic,
                      ranker=settings.ranker, torch_threads=settings.torch_threads)
    try:
        pool.wait_ready()
    except BrokenProcessPool:
        pool.close()
        app.state.matcher, app.state.matcher_error = None, "the engine processes could not load the catalog"
        log.error("engine processes failed to start: %s", app.state.matcher_error)
        return None
    log.info("%d engine processes ready", settings.engine_processes)
    return pool


def _warm_up(matcher: Any, settings: Settings) -> None:
    """Match one line so lazy parts (model, caches) load now, not on the first request; then cap the
    model's intra-op threads: with concurrent requests on few cores, one thread each is far faster
    (measured 490 ms -> 23 ms per encode on the 2-core machine under load)."""
    from matching.embed import set_threads
    from matching.types import BomLine

    matcher.match([BomLine(row=1, description="roulements à billes", code="84821010")])
    set_threads(settings.torch_threads)
    frozen = freeze_long_lived()  # full GC passes over the catalog stalled every request (matching/memory.py)
    log.info("matcher loaded; %d long-lived objects exempted from garbage collection", frozen)


def _job_function(app: FastAPI) -> Any:
    def run(lines: list[dict[str, Any]], options: dict[str, Any], progress: Any) -> dict[str, Any]:
        matcher = app.state.matcher
        if matcher is None:
            raise RelocmatchError(f"the supplier catalog is not loaded: {app.state.matcher_error}")
        return engine.match_lines(matcher, engine.lines_from_wire(lines), options, progress)

    return run


def _body(request: Request, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "request_id": request_id_of(request.scope), **extra}


def allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the first route whose
    path matched (``Allow: POST`` for /v1/boms, which also has GET); RFC 9110 wants them all.
    Asked of the router itself (a full match per method), whatever wraps the included routes."""
    from starlette.routing import Match

    methods = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in app.router.routes):
            methods.append(method)
    return methods


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
        return JSONResponse(_body(request, exc.detail), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = []
        for e in exc.errors():
            errs.append({"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type"),
                         "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or None})
        return JSONResponse(_body(request, errs), status_code=422)

    @app.exception_handler(BomError)
    async def bom_error(request: Request, exc: BomError) -> JSONResponse:
        problems = [{"row": p.row, "column": p.column, "sheet": p.sheet, "message": p.message} for p in exc.problems]
        return JSONResponse(_body(request, str(exc), problems=problems), status_code=422)

    @app.exception_handler(CodeError)
    async def code_error(request: Request, exc: CodeError) -> JSONResponse:
        return JSONResponse(_body(request, str(exc)), status_code=422)

    @app.exception_handler(ConfigError)
    async def config_error(request: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse(_body(request, str(exc)), status_code=422)

    @app.exception_handler(RelocmatchError)
    async def relocmatch_error(request: Request, exc: RelocmatchError) -> JSONResponse:
        return JSONResponse(_body(request, str(exc)), status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id_of(request.scope)
        log.error("internal error (request %s)", rid, exc_info=exc)
        return JSONResponse(
            _body(request, f"internal error; quote request id {rid} to the service operator"),
            status_code=500, headers={"X-Request-ID": rid or ""},
        )
