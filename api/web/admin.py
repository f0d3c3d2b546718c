"""The admin page (``/admin``): accounts (list, create, disable/enable, unlock, end sessions) and
API keys (list, revoke). Admin accounts only: anyone else signed in gets 403, a visitor is sent to
sign in. Every action is a CSRF-checked POST, audited with the admin's account id."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.accounts import ROLES, AccountError, accounts_of, is_admin
from api.keys import list_keys
from api.limits import LimitsUnavailable
from api.web.i18n import t
from api.web.routes import Web, _signin_redirect, posted_form, web

router = APIRouter(include_in_schema=False)
_ACCOUNT_ID = re.compile(r"^acc_[0-9a-f]{16}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
ACTIONS = ("disable", "enable", "unlock", "signout")


def _forbidden(w: Web) -> Response:
    return w.page("error.html", status=403, message=t(w.lang, "forbidden"), detail=t(w.lang, "admin_only"))


def _fmt(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


def _admin_data(request: Request) -> dict[str, Any]:
    acc = accounts_of(request.app)
    rows = []
    for a in acc.list():
        rows.append({"id": a.id, "email": a.email, "name": a.name or "", "role": a.role, "org": a.org or "",
                     "disabled": a.disabled, "locked": a.locked, "locked_until": _fmt(a.locked_until),
                     "last_signin": _fmt(a.last_signin_at), "sessions": acc.live_sessions(a.id)})
    keys = [{"id": k.id, "prefix": k.prefix, "name": k.name, "org": k.org or "", "role": k.role,
             "created": _fmt(k.created_at), "last_used": _fmt(k.last_used_at), "revoked": _fmt(k.revoked_at)}
            for k in list_keys(request.app.state.store)]
    return {"accounts": rows, "keys": keys, "roles": ROLES}


async def _page(w: Web, status: int = 200, *, flash: str | None = None, error: str | None = None,
                form: dict[str, str] | None = None) -> Response:
    data = await run_in_threadpool(_admin_data, w.request)
    return w.page("admin.html", nav="admin", status=status, flash=flash, error=error, form=form or {}, **data)


@router.get("/admin")
async def admin_page(request: Request) -> Response:
    w = web(request)
    if w.principal is None:
        return _signin_redirect(w)
    if not is_admin(w.principal):
        return _forbidden(w)
    return await _page(w)


async def _admin_post(request: Request) -> tuple[Web, Any] | Response:
    got = await posted_form(request)
    if isinstance(got, Response):
        return got
    w, form = got
    if not is_admin(w.principal):
        return _forbidden(w)
    return w, form


@router.post("/admin/accounts")
async def admin_create_account(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    w, form = got
    fields = {k: str(form.get(k) or "").strip()[:254] for k in ("email", "name", "role", "org")}
    password = str(form.get("password") or "")
    acc = accounts_of(request.app)
    try:
        a = await run_in_threadpool(lambda: acc.create(fields["email"], password, role=fields["role"],
                                                       org=fields["org"] or None, name=fields["name"] or None,
                                                       by=w.principal.key_id))
    except AccountError as exc:
        return await _page(w, 422, error=str(exc), form=fields)
    return await _page(w, flash=t(w.lang, "admin_created", email=a.email))


@router.post("/admin/accounts/{account_id}/{action}")
async def admin_account_action(account_id: str, action: str, request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    w, _form = got
    acc = accounts_of(request.app)
    if action not in ACTIONS or not _ACCOUNT_ID.match(account_id) or acc.get(account_id) is None:
        return w.page("error.html", status=404, message=t(w.lang, "not_found"), detail="")
    by = w.principal.key_id
    if action == "disable" and account_id == by:
        return await _page(w, 422, error="an administrator cannot disable their own account")
    run = {
        "disable": lambda: acc.set_disabled(account_id, True, by=by),
        "enable": lambda: acc.set_disabled(account_id, False, by=by),
        "unlock": lambda: acc.unlock(account_id, by=by),
        "signout": lambda: acc.revoke_all(account_id, by=by),
    }[action]
    await run_in_threadpool(run)
    a = acc.get(account_id)
    return await _page(w, flash=t(w.lang, "admin_done", what=f"{t(w.lang, 'admin_' + ('end_sessions' if action == 'signout' else action))} {a.email if a else ''}"))


@router.post("/admin/keys/{key_id}/revoke")
async def admin_revoke_key(key_id: str, request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    w, _form = got
    store = request.app.state.store
    if not _KEY_ID.match(key_id):
        return w.page("error.html", status=404, message=t(w.lang, "not_found"), detail="")
    by = w.principal.key_id
    done = await run_in_threadpool(lambda: store.revoke_key(key_id, by=by))
    if not done:
        return await _page(w, 404, error=f"{key_id}: no such active key")
    state = request.app.state
    state.key_cache.clear()  # this process forgets the tokens it verified
    try:  # every other process refuses the key on its next request (api/limits.py); no-op per process
        await state.limits.publish_revocation(key_id)
    except LimitsUnavailable as exc:
        return await _page(w, 503, error=f"{key_id} revoked in the store, but {exc}: other workers refuse it within 30 s")
    return await _page(w, flash=t(w.lang, "admin_done", what=f"{t(w.lang, 'admin_revoke')} {key_id}"))
