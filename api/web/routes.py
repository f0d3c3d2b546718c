"""The advisor pages: server-rendered HTML over the same store, engine and job runner as the API.

Thin routes: parse the form or query, call the store / engine (``api.engine``), render a template
(``api.web.views``). No JSON API is duplicated here: the pages reuse ``api.store.Store``,
``api.export.export`` and ``matching.bom.read_bom``.

Access: in key-less local mode (``settings.auth == "none"``, only allowed on loopback) every page
is open. Otherwise a person signs in with an account (email + password, ``api.accounts``: the signed
cookie carries a server-side session token, checked for idle/absolute expiry and revocation on every
request) or with an API key; a signed session cookie (itsdangerous,
HttpOnly, SameSite=Lax, Secure over https) carries the key's id (never its secret), re-checked
against the store on every request (a revoked key loses its session at once). Every POST carries a CSRF token that
must equal the one in the signed session (synchronizer token). Who sees which BOM:
``api.accounts.can_see`` (admins all, a company account its own uploads, an advisor or a key their
organisation's, or their own without one). ``/admin`` (api/web/admin.py) is for admins only.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.accounts import accounts_of, can_see, is_admin, visible_jobs
from api.web import views
from api.web.i18n import normalize_lang, t

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "relocmatch_session"
LANG_COOKIE = "relocmatch_lang"
SESSION_MAX_AGE_S = 12 * 3600
FEEDBACK_VERDICTS = {  # page button → store label
    "pertinent": "relevant",
    "non_pertinent": "not_relevant",
    "contacte": "contacted",
    "retenu": "contracted",
}
LABEL_TO_VERDICT = {v: k for k, v in FEEDBACK_VERDICTS.items()}
_ID = re.compile(r"^[0-9a-f]{32}$")
_SIRET = re.compile(r"^[0-9]{14}$")
_LETTER = re.compile(r"^[A-Z]{1,3}$")


# -- session, language, principal ------------------------------------------------------------


def _secret(request: Request) -> str:
    """The signing key: $RELOCMATCH_SECRET_KEY (set it when several workers serve the pages),
    else a random key per process (sessions then end when the service restarts)."""
    state = request.app.state
    key = getattr(state, "web_secret", None)
    if key is None:
        key = os.environ.get("RELOCMATCH_SECRET_KEY") or secrets.token_urlsafe(32)
        state.web_secret = key
    return key


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(request), salt="relocmatch-web-session")


def _local_mode(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "auth", "keys") == "none"


@dataclass
class Web:
    """One page request: language, session (with its CSRF token) and the signed-in principal."""

    request: Request
    lang: str
    session: dict[str, Any]
    principal: Any
    local: bool
    dirty: bool = False
    set_lang: str | None = None
    extra_cookies: dict[str, str] = field(default_factory=dict)
    expired: bool = False  # an account session was presented and is no longer valid

    @property
    def csrf(self) -> str:
        return str(self.session["csrf"])

    def check_csrf(self, token: Any) -> bool:
        return isinstance(token, str) and bool(token) and secrets.compare_digest(token, self.csrf)

    def context(self, nav: str = "", **extra: Any) -> dict[str, Any]:
        ctx = views.base_context(
            lang=self.lang,
            region=str(extra.pop("region", None) or "44"),
            csrf=self.csrf,
            principal=_principal_view(self.principal),
            local_mode=self.local,
            nav=nav,
            current_url=self.request.url.path,
            current_query=dict(self.request.query_params),
            catalog_note=_catalog_note(self.request),
        )
        ctx.update(extra)
        return ctx

    def page(self, template: str, nav: str = "", status: int = 200, **extra: Any) -> HTMLResponse:
        html = views.render(template, self.context(nav, **extra))
        return self.finish(HTMLResponse(html, status_code=status))

    def finish(self, response: Response) -> Response:
        """Attach the session and language cookies when they changed."""
        secure = self.request.url.scheme == "https"
        if self.dirty:
            response.set_cookie(
                SESSION_COOKIE, _serializer(self.request).dumps(self.session), max_age=SESSION_MAX_AGE_S,
                httponly=True, samesite="lax", secure=secure, path="/",
            )
        if self.set_lang:
            response.set_cookie(LANG_COOKIE, self.set_lang, max_age=365 * 86400, samesite="lax", secure=secure, path="/")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # pages only ever load their own assets; inline SVG needs no source; the one script is a file
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        return response

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))


def _principal_view(p: Any) -> Any:
    if p is None:
        return None
    role = getattr(p, "role", None)
    org = getattr(p, "org", None)
    shown = (f"{p.name} ({org})" if org else p.name) if role else (org or getattr(p, "name", ""))
    return {"org": shown, "name": getattr(p, "name", ""), "role": role, "account": role is not None,
            "admin": is_admin(p)}


def _catalog_note(request: Request) -> str:
    """Footer line naming the catalog the answers come from (sources, size, build date)."""
    m = getattr(request.app.state, "matcher", None)
    manifest = getattr(m, "manifest", None) or getattr(getattr(m, "catalog", None), "manifest", None)
    if not isinstance(manifest, dict):
        return ""
    names = ", ".join(str(s.get("kind") or s.get("name")) for s in manifest.get("sources") or [] if isinstance(s, dict))
    n = manifest.get("suppliers")
    built = str(manifest.get("built_at") or "")[:10]
    synthetic = " — SYNTHÉTIQUE" if manifest.get("synthetic") else ""
    return f"catalogue {names or '?'}{f' · {n} établissements' if n else ''}{f' · {built}' if built else ''}{synthetic}"


def _verify(request: Request, token: str) -> Any:
    """A key typed at sign-in, checked against the store itself (never a process's key cache, which
    may still hold a key another process revoked a moment ago)."""
    return request.app.state.store.verify_key(token)


def web(request: Request) -> Web:
    """Read the session cookie (a bad or old signature is an empty session), the language, the principal."""
    raw = request.cookies.get(SESSION_COOKIE)
    session: dict[str, Any] = {}
    if raw:
        try:
            loaded = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE_S)
            session = loaded if isinstance(loaded, dict) else {}
        except BadSignature:
            session = {}
    dirty = False
    if not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(24)
        dirty = True
    q_lang = request.query_params.get("lang")
    lang = normalize_lang(q_lang or request.cookies.get(LANG_COOKIE))
    set_lang = lang if q_lang and request.cookies.get(LANG_COOKIE) != lang else None
    local = _local_mode(request)
    principal = None
    if local:
        from api.store import LOCAL_PRINCIPAL

        principal = LOCAL_PRINCIPAL
    elif session.get("sid"):  # an account's server-side session (api/accounts.py)
        principal = accounts_of(request.app).session_principal(str(session["sid"]))
        if principal is None:  # expired, revoked or account disabled: drop it
            session.pop("sid", None)
            dirty = True
            return Web(request, lang, session, None, local, dirty=dirty, set_lang=set_lang, expired=True)
    elif session.get("kid"):
        principal = request.app.state.store.get_principal(str(session["kid"]))
        if principal is None:  # revoked since: drop it from the session
            session.pop("kid", None)
            dirty = True
    return Web(request, lang, session, principal, local, dirty=dirty, set_lang=set_lang)


def _signin_redirect(w: Web) -> Response:
    nxt = w.request.url.path + (f"?{w.request.url.query}" if w.request.url.query else "")
    return w.redirect(f"/signin?next={quote(nxt, safe='')}" + ("&expired=1" if w.expired else ""))


def _safe_next(raw: Any) -> str:
    """Only same-site relative paths (no //host, no scheme): an open redirect otherwise."""
    s = str(raw or "")
    if not s.startswith("/") or s.startswith("//") or "\\" in s:
        return "/search"
    return s


async def _form(request: Request) -> Any:
    return await request.form(max_files=1, max_fields=40)


def _csrf_failed(w: Web) -> Response:
    return w.page("error.html", status=403, message=t(w.lang, "forbidden"), detail=t(w.lang, "csrf_bad"))


async def posted_form(request: Request, *, signed_in: bool = True, as_json: bool = False) -> tuple[Web, Any] | Response:
    """The preamble of every page POST: the session, the form, and its CSRF token checked.

    Returns ``(web, form)``, or the response to send instead (sign-in redirect or 401 when the
    advisor must be signed in, 403 on a bad token; JSON bodies for ``fetch`` callers).
    """
    w = web(request)
    if signed_in and w.principal is None:
        return JSONResponse({"detail": "sign in"}, status_code=401) if as_json else _signin_redirect(w)
    form = await _form(request)
    if not w.check_csrf(form.get("csrf")):
        return JSONResponse({"detail": t(w.lang, "csrf_bad")}, status_code=403) if as_json else _csrf_failed(w)
    return w, form


def _not_found(w: Web) -> Response:
    return w.page("error.html", status=404, message=t(w.lang, "not_found"), detail="")


async def audit_page(request: Request, principal: Any, action: str, target: str, **detail: Any) -> None:
    """One audit line for what a page showed or sent (a BOM's results, an export, an upload's
    preview), as the API writes for the same reads (api/audit.py); ``via: page`` tells them apart."""
    store = request.app.state.store
    await run_in_threadpool(store.audit, principal, action, target[:300], {"via": "page", **detail})


# -- static, home, sign-in ---------------------------------------------------------------------


@router.api_route("/web-static/{name}", methods=["GET", "HEAD"])
def static_file(name: str) -> Response:
    """The pages' own CSS and JS (no CDN: the service may run on an isolated network)."""
    allowed = {p.name: p for p in views.STATIC.iterdir() if p.is_file()}
    if name not in allowed:
        return Response(status_code=404)
    return FileResponse(allowed[name], headers={"Cache-Control": "public, max-age=86400"})


@router.get("/")
def home(request: Request) -> Response:
    qs = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/search{qs}", status_code=303)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    w = web(request)
    if w.principal is not None:
        return w.redirect(_safe_next(request.query_params.get("next")))
    notice = t(w.lang, "session_expired") if request.query_params.get("expired") == "1" else None
    return w.page("signin.html", next_url=_safe_next(request.query_params.get("next")), error=None, notice=notice,
                  email="")


async def _signin_limited(request: Request) -> float | None:
    """One sign-in attempt from this client address; None when allowed, else seconds to wait.
    Bounds the argon2 work (and password spraying) one address can cause. Shared by every
    process when the limits are in Redis (api/limits.py)."""
    state = request.app.state
    per_min = float(getattr(state.settings, "signin_per_minute", 30.0))
    if per_min <= 0:
        return None
    from api.limits import LimitsUnavailable

    try:
        return await state.limits.take("signin:" + (request.client.host if request.client else "?"), per_min,
                                       max(1, int(per_min)))
    except LimitsUnavailable:
        return 5.0  # cannot count the attempts: refuse for now rather than allow unlimited guessing


@router.post("/signin")
async def signin(request: Request) -> Response:
    got = await posted_form(request, signed_in=False)
    if isinstance(got, Response):
        return got
    w, form = got
    wait = await _signin_limited(request)
    if wait is not None:
        import math

        resp = w.page("error.html", status=429, message=t(w.lang, "signin_slow_down", s=math.ceil(wait)), detail="")
        resp.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return resp
    if form.get("email") is not None:  # email + password: an account
        email = str(form.get("email") or "")[:254]
        password = str(form.get("password") or "")
        accounts = accounts_of(request.app)
        res = await run_in_threadpool(accounts.authenticate, email, password)
        if res.token is None:  # one answer whatever the reason (no user enumeration)
            return w.page("signin.html", status=401, next_url=_safe_next(form.get("next")), notice=None,
                          error=t(w.lang, "signin_bad_password", n=accounts.policy.max_failed), email=email)
        w.session = {"csrf": secrets.token_urlsafe(24), "sid": res.token}
        w.dirty = True
        return w.redirect(_safe_next(form.get("next")))
    token = str(form.get("key") or "").strip()
    principal = await run_in_threadpool(_verify, request, token) if token else None
    if principal is None:
        return w.page("signin.html", status=401, next_url=_safe_next(form.get("next")), error=t(w.lang, "signin_bad"),
                      notice=None, email="")
    # a new session (and CSRF token) at sign-in: a token planted before cannot be reused
    w.session = {"csrf": secrets.token_urlsafe(24), "kid": principal.key_id}
    w.dirty = True
    return w.redirect(_safe_next(form.get("next")))


@router.post("/signout")
async def signout(request: Request) -> Response:
    got = await posted_form(request, signed_in=False)
    if isinstance(got, Response):
        return got
    w, form = got
    sid = w.session.get("sid")
    if sid:  # an account session: revoke it server-side (and every other one on request)
        accounts = accounts_of(request.app)
        if form.get("everywhere") and w.principal is not None:
            await run_in_threadpool(accounts.revoke_all, w.principal.key_id)
        else:
            await run_in_threadpool(accounts.revoke_session, str(sid))
    w.session = {"csrf": secrets.token_urlsafe(24)}
    w.dirty = True
    return w.redirect("/signin")


# -- search and supplier pages -----------------------------------------------------------------


def _matcher_or_error(request: Request, lang: str) -> tuple[Any, str | None]:
    m = getattr(request.app.state, "matcher", None)
    if m is None:
        why = str(getattr(request.app.state, "matcher_error", "") or "?")
        return None, t(lang, "catalog_missing", why=why)
    return m, None


@router.get("/search")
async def search_page(request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    qp = request.query_params
    q = (qp.get("q") or "").strip()[:500]
    code = (qp.get("code") or "").strip()[:40]
    region = (qp.get("region") or "44").strip()[:3]
    buyer = (qp.get("buyer") or "").strip()[:80]
    searched = "q" in qp or "code" in qp
    result = None
    error = None
    if q or code:
        matcher, error = _matcher_or_error(request, w.lang)
        if matcher is not None:
            from api import engine
            from matching.errors import RelocmatchError

            try:
                result = await run_in_threadpool(
                    engine.search, matcher, q, code=code or None, region=region or None, naf=None,
                    buyer=buyer or None, top=10,
                )
            except RelocmatchError as exc:
                error = str(exc)
    return w.page(
        "search.html", nav="search", region=region, q=q, code=code, buyer=buyer, result=result,
        searched=searched, error=error, matched_for={"q": q, "code": code},
    )


@router.get("/suppliers/{siret}")
async def supplier_page(siret: str, request: Request) -> Response:
    """One establishment: the register's fields, each with its source (api/web/supplier_facts.py),
    and a link to the public Annuaire des Entreprises. 404 for a SIRET the catalog does not hold."""
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    if not _SIRET.match(siret):
        return _not_found(w)
    matcher, error = _matcher_or_error(request, w.lang)
    if matcher is None:
        return w.page("error.html", status=503, message=error or "", detail="")
    from api import engine
    from api.web.supplier_facts import annuaire_url, same_siret_entries, supplier_facts

    supplier = await run_in_threadpool(engine.supplier, matcher, siret)
    facts, entries = None, []
    if supplier is not None:
        entries = await run_in_threadpool(same_siret_entries, getattr(matcher, "table", None), siret)
        labels = await run_in_threadpool(views.naf_labels)
        base = views._map_base()
        regions = dict(base.region_names) if base else {}
        facts = supplier_facts(
            supplier, getattr(matcher, "manifest", None), lang=w.lang, naf_label=lambda c: labels.get(c, ""),
            dep_name=lambda c: base.departements[c].name if base and c in base.departements else "",
            region_name=lambda c: regions.get(c, c))
    qp = request.query_params
    matched_for = {k: (qp.get(k) or "")[:300] for k in ("q", "code", "line", "naf", "job")}
    if matched_for["job"] and _ID.match(matched_for["job"]):
        back = f"/boms/{matched_for['job']}#line-{matched_for['line']}"
    else:
        back = "/search?" + urlencode({k: v for k, v in (("q", matched_for["q"]), ("code", matched_for["code"])) if v})
    return w.page(
        "supplier.html", status=200 if supplier else 404, siret=siret, supplier=supplier, facts=facts,
        entries=entries if len(entries) > 1 else [], annuaire=annuaire_url(siret), matched_for=matched_for, back_url=back,
        region=(supplier or {}).get("region") or "44",
    )


# -- BOMs: list, upload, mapping, confirm --------------------------------------------------------


def _visible_job(request: Request, principal: Any, job_id: str) -> Any:
    """A job the principal may see (``api.accounts.can_see``: admins all, a company account its own,
    others their organisation's), else None."""
    if not _ID.match(job_id):
        return None
    job = request.app.state.store.get_job(job_id)
    if job is None:
        return None
    return job if can_see(principal, job.owner_key_id, job.org) else None


@router.get("/boms")
async def boms_page(request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    store = request.app.state.store
    p = w.principal
    jobs = await run_in_threadpool(lambda: visible_jobs(store, p, limit=200))
    rows = [
        {"id": j.id, "filename": j.filename or j.id, "state": j.status,
         "created": j.created_at.strftime("%Y-%m-%d %H:%M") if j.created_at else ""}
        for j in jobs
    ]
    return w.page("boms.html", nav="boms", jobs=rows)


@router.get("/boms/new")
async def bom_new_page(request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    return w.page("bom_new.html", nav="bom_new", error=None, problems=[], buyer="")


def _load_pending(request: Request, pid: str, principal: Any) -> tuple[dict[str, Any], bytes] | None:
    """An upload of ``principal`` waiting for its mapping to be confirmed (stored in the database,
    so any worker can serve the confirmation). The région/buyer chosen at upload travel with the form."""
    if not _ID.match(pid):
        return None
    got = request.app.state.store.pending_upload(pid, principal)
    if got is None:
        return None
    filename, content_type, data = got
    return {"filename": filename or "upload", "content_type": content_type}, data


def _headers_of(data: bytes, filename: str, sheet: str | None) -> list[tuple[str, str]]:
    """(letter, "B — header") for every column of the sheet read_bom chose, for the mapping selects."""
    from matching.bom.layout import column_letter, detect_layout
    from matching.bom.source import BomLimits, load_source

    src = load_source(data, filename, BomLimits())
    raw = next((s for s in src.sheets if s.name == sheet), src.sheets[0])
    lay = detect_layout(raw.rows, fixed_header=raw.fixed_header)
    width = max([len(lay.headers)] + [len(r) for r in raw.rows[:200]])
    out = []
    for j in range(width):
        h = lay.headers[j].strip() if j < len(lay.headers) and lay.headers[j] else ""
        letter = column_letter(j)
        out.append((letter, f"{letter} — {h}" if h else letter))
    return out


def _mapping_context(read: Any, data: bytes, filename: str) -> dict[str, Any]:
    layout = read.layout
    delim = layout.delimiter
    shown = {"\t": "tab", ",": ",", ";": ";", "|": "|"}.get(delim or "", delim or "")
    items = read.items
    def num(v: float | None, fmt: str) -> str:
        return "" if v is None else format(v, fmt)

    preview = [
        [ln.row, ln.description, ln.code_raw or "", num(ln.quantity, "g"), ln.unit or "",
         num(ln.annual_value_eur, ",.2f").replace(",", "\u202f"), ln.origin_country or ""]
        for ln in items[:8]
    ]
    return {
        "layout": {**layout.to_dict(), "delimiter_shown": shown},
        "headers": _headers_of(data, filename, layout.sheet),
        "columns": dict(layout.column_letters),
        "evidence": dict(layout.evidence),
        "notes": list(layout.notes),
        "n_lines": len(items),
        "preview_cols": ["col_row", "role_description", "role_code", "role_quantity", "role_unit", "role_value",
                         "role_origin"],
        "preview": preview,
        "roles": views.ROLES,
    }


@router.post("/boms/new")
async def bom_upload(request: Request) -> Response:
    got = await posted_form(request)
    if isinstance(got, Response):
        return got
    w, form = got
    from pydantic import ValidationError
    from starlette.datastructures import UploadFile

    from api.schemas import MatchOptions
    from matching.bom import read_bom
    from matching.errors import BomError

    region = str(form.get("region") or "44")
    buyer = str(form.get("buyer") or "").strip()
    file = form.get("file")

    def again(msg: str, problems: list[str] | None = None, status: int = 422) -> Response:
        return w.page("bom_new.html", nav="bom_new", status=status, error=msg, problems=problems or [],
                      region=region, buyer=buyer)

    if not isinstance(file, UploadFile) or not file.filename:
        return again(t(w.lang, "bom_file"))
    data = await file.read()
    settings = request.app.state.settings
    if len(data) > settings.max_upload_bytes:
        return again(f"{len(data) / 2**20:.1f} MiB > {settings.max_upload_bytes / 2**20:.0f} MiB", status=413)
    try:
        options = MatchOptions.model_validate({"region": region, **({"buyer": buyer} if buyer else {})}).model_dump()
    except ValidationError as exc:
        return again("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    try:
        await run_in_threadpool(read_bom, data, filename=file.filename)
    except BomError as exc:
        problems = [str(p) for p in getattr(exc, "problems", []) or []][:20]
        return again(str(exc), problems)
    pid = await run_in_threadpool(
        lambda: request.app.state.store.create_upload(w.principal, data=data, filename=file.filename,
                                                      content_type=file.content_type or None)
    )
    query = {"region": options.get("region") or "", "buyer": options.get("buyer") or ""}
    if w.lang == "en":
        query["lang"] = "en"
    return w.redirect(f"/boms/uploads/{pid}?" + urlencode({k: v for k, v in query.items() if v}))


@router.get("/boms/uploads/{pid}")
async def bom_mapping_page(pid: str, request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    pending = await run_in_threadpool(_load_pending, request, pid, w.principal)
    if pending is None:
        return w.page("error.html", status=404, message=t(w.lang, "upload_expired"), detail="")
    meta, data = pending
    from matching.bom import read_bom

    read = await run_in_threadpool(read_bom, data, filename=meta["filename"])
    ctx = await run_in_threadpool(_mapping_context, read, data, meta["filename"])
    await audit_page(request, w.principal, "read", pid, upload="preview")
    qp = request.query_params
    return w.page("bom_mapping.html", nav="bom_new", upload_id=pid, filename=meta["filename"],
                  region=(qp.get("region") or "44")[:3], buyer=(qp.get("buyer") or "")[:80], **ctx)


@router.post("/boms/uploads/{pid}/confirm")
async def bom_confirm(pid: str, request: Request) -> Response:
    got = await posted_form(request)
    if isinstance(got, Response):
        return got
    w, form = got
    pending = await run_in_threadpool(_load_pending, request, pid, w.principal)
    if pending is None:
        return w.page("error.html", status=404, message=t(w.lang, "upload_expired"), detail="")
    meta, data = pending
    from pydantic import ValidationError

    from api import engine
    from api.schemas import MatchOptions

    region = str(form.get("region") or "44")
    buyer = str(form.get("buyer") or "").strip()
    try:
        options = MatchOptions.model_validate({"region": region, **({"buyer": buyer} if buyer else {})}).model_dump()
    except ValidationError as exc:
        msg = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return w.page("error.html", status=422, message=t(w.lang, "bom_read_error"), detail=msg)
    from matching.bom import read_bom
    from matching.errors import BomError

    mapping: dict[str, str] = {}
    for role in views.ROLES:
        v = str(form.get(f"col_{role}") or "").strip().upper()
        if v and _LETTER.match(v):
            mapping[role] = v
        elif f"col_{role}" in form and role != "description":
            mapping[role] = ""  # "(none)": read_bom reads and derives nothing from that column
    try:
        read = await run_in_threadpool(read_bom, data, filename=meta["filename"], mapping=mapping or None)
    except BomError as exc:
        read0 = await run_in_threadpool(read_bom, data, filename=meta["filename"])
        ctx = await run_in_threadpool(_mapping_context, read0, data, meta["filename"])
        ctx["notes"] = [str(exc), *ctx["notes"]]
        return w.page("bom_mapping.html", nav="bom_new", status=422, upload_id=pid, filename=meta["filename"],
                      region=region, buyer=buyer, **ctx)
    read_lines, layout_d = read.lines, read.layout.to_dict()
    settings = request.app.state.settings
    lines = [engine.line_to_store(b) for b in read_lines]
    if sum(1 for ln in read_lines if ln.status != "skipped") > settings.max_bom_rows:
        return w.page("error.html", status=413, message=t(w.lang, "bom_read_error"),
                      detail=f"> {settings.max_bom_rows} lines")
    layout = engine._jsonable(layout_d)
    store = request.app.state.store
    job = await run_in_threadpool(
        lambda: store.create_job_from_upload(w.principal, pid, lines=lines, layout=layout, options=options)
    )
    if job is None:  # confirmed twice (double click): the first confirmation made the job
        return w.page("error.html", status=404, message=t(w.lang, "upload_expired"), detail="")
    request.app.state.runner.submit(job.id)
    return w.redirect(f"/boms/{job.id}" + ("?lang=en" if w.lang == "en" else ""))


# -- BOMs: progress, results, export, feedback ---------------------------------------------------


def _status_text(lang: str, job: Any) -> str:
    if job.status == "queued":
        return t(lang, "progress_queued")
    return t(lang, "progress_lines", done=job.done, total=job.total)


@router.get("/boms/{job_id}/status.json")
async def bom_status(job_id: str, request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return JSONResponse({"detail": "sign in"}, status_code=401)
    job = await run_in_threadpool(_visible_job, request, w.principal, job_id)
    if job is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(
        {"state": job.status, "done": job.done, "total": job.total, "text": _status_text(w.lang, job),
         "error": job.error},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/boms/{job_id}")
async def bom_page(job_id: str, request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    job = await run_in_threadpool(_visible_job, request, w.principal, job_id)
    if job is None:
        return _not_found(w)
    region = (job.options or {}).get("region") or "44"
    if job.status != "done":
        return w.page(
            "bom_progress.html", nav="boms", job_id=job.id, filename=job.filename or job.id, state=job.status,
            done=job.done, total=job.total, status_text=_status_text(w.lang, job), error=job.error, region=region,
        )
    store = request.app.state.store
    result = await run_in_threadpool(store.get_result, job.id)
    if result is None:
        return _not_found(w)
    try:
        page_no = int(request.query_params.get("page") or 1)
    except ValueError:
        page_no = 1
    ctx = await run_in_threadpool(views.results_context, result, lang=w.lang, region=region, page=page_no)
    for v in ctx["line_views"]:
        v["matched_for"]["job"] = job.id
    fbs = await run_in_threadpool(store.list_feedback, job_id=job.id, limit=5000)
    given: dict[tuple[str, str], str] = {}
    for f in fbs:  # newest first: keep the latest judgement per (line, siret)
        given.setdefault((str(f.line), f.siret), LABEL_TO_VERDICT.get(f.label, ""))
    flash = None
    if request.query_params.get("fb") in FEEDBACK_VERDICTS:
        flash = t(w.lang, "fb_saved", label=t(w.lang, "fb_" + request.query_params["fb"]))
    await audit_page(request, w.principal, "read", job.id, page=ctx.get("page", page_no))
    return w.page("bom_results.html", nav="boms", job_id=job.id, filename=job.filename or job.id, region=region,
                  flash=flash, feedback_given=given, **ctx)


@router.get("/boms/{job_id}/export.{fmt}")
async def bom_export(job_id: str, fmt: str, request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    if fmt not in ("xlsx", "csv"):
        return _not_found(w)
    job = await run_in_threadpool(_visible_job, request, w.principal, job_id)
    if job is None:
        return _not_found(w)
    result = await run_in_threadpool(request.app.state.store.get_result, job.id)
    if result is None:
        return w.page("error.html", status=409, message=t(w.lang, "job_not_done"), detail="")
    from api.export import MEDIA, export

    body = await run_in_threadpool(export, result, fmt)
    await audit_page(request, w.principal, "export", job.id, format=fmt)
    stem = re.sub(r"[^\w.-]+", "_", (job.filename or "bom").rsplit(".", 1)[0])[:80] or "bom"
    return w.finish(Response(body, media_type=MEDIA[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{stem}-relocmatch.{fmt}"'}))


@router.post("/boms/{job_id}/feedback")
async def bom_feedback(job_id: str, request: Request) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    got = await posted_form(request, as_json=wants_json)
    if isinstance(got, Response):
        return got
    w, form = got
    job = await run_in_threadpool(_visible_job, request, w.principal, job_id)
    verdict = str(form.get("verdict") or "")
    siret = str(form.get("siret") or "")
    try:
        line = int(str(form.get("line") or ""))
    except ValueError:
        line = None
    if job is None or verdict not in FEEDBACK_VERDICTS or not _SIRET.match(siret) or line is None:
        msg = "bad feedback (job, line, siret or verdict)"
        return JSONResponse({"detail": msg}, status_code=422) if wants_json else _not_found(w)
    comment = str(form.get("comment") or "").strip()[:1000] or None
    store = request.app.state.store
    own = job.owner_key_id == w.principal.key_id
    line_text = None
    if not own:  # a colleague's job (same organisation): the store links feedback to own jobs only
        full = await run_in_threadpool(store.get_job, job.id, None, with_lines=True)
        line_text = next((ln.get("description") for ln in (full.lines if full else []) if ln.get("row") == line), None)
    fb = await run_in_threadpool(
        lambda: store.record_feedback(
            w.principal, siret=siret, label=FEEDBACK_VERDICTS[verdict], job_id=job.id if own else None,
            line=line, line_text=line_text, comment=comment,
        )
    )
    if fb is None:
        return JSONResponse({"detail": "not found"}, status_code=404) if wants_json else _not_found(w)
    label = t(w.lang, "fb_" + verdict)
    if wants_json:
        return w.finish(JSONResponse({"id": fb.id, "label": fb.label, "message": t(w.lang, "fb_saved", label=label)}))
    lang_q = "&lang=en" if w.lang == "en" else ""
    return w.redirect(f"/boms/{job.id}?fb={verdict}{lang_q}#line-{line}")


@router.post("/feedback")
async def search_feedback(request: Request) -> Response:
    """Feedback on a supplier proposed by the search page: no job, the query is the line text."""
    wants_json = "application/json" in request.headers.get("accept", "")
    got = await posted_form(request, as_json=wants_json)
    if isinstance(got, Response):
        return got
    w, form = got
    verdict = str(form.get("verdict") or "")
    siret = str(form.get("siret") or "")
    q = str(form.get("q") or "").strip()[:500]
    if verdict not in FEEDBACK_VERDICTS or not _SIRET.match(siret) or not q:
        msg = "bad feedback (query, siret or verdict)"
        return JSONResponse({"detail": msg}, status_code=422) if wants_json else _not_found(w)
    comment = str(form.get("comment") or "").strip()[:1000] or None
    store = request.app.state.store
    fb = await run_in_threadpool(
        lambda: store.record_feedback(w.principal, siret=siret, label=FEEDBACK_VERDICTS[verdict], line_text=q,
                                      comment=comment)
    )
    label = t(w.lang, "fb_" + verdict)
    if wants_json:
        return w.finish(JSONResponse({"id": fb.id, "label": fb.label, "message": t(w.lang, "fb_saved", label=label)}))
    return w.redirect("/search?" + urlencode({"q": q, **({"lang": "en"} if w.lang == "en" else {})}))


# The observatory page (api/web/observatory.py, written by the observatory work) shares this
# session, CSRF and page chrome; it is served with the other advisor pages.
from api.web.admin import router as _admin_router  # noqa: E402  (accounts and keys, admins only)

router.include_router(_admin_router)

if (Path(__file__).parent / "observatory.py").is_file():
    from api.web.observatory import router as _observatory_router

    router.include_router(_observatory_router)


# The sites page (api/web/sites.py, issue 15) shares this router the same way.
if (Path(__file__).parent / "sites.py").is_file():
    from api.web.sites import router as _sites_router

    router.include_router(_sites_router)
