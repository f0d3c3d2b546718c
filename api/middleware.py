"""Pure-ASGI middleware: request ids, JSON access logs, and body-size limits.

The size limit acts before any body byte is read: a declared Content-Length over
the limit is refused at once, and a chunked body is counted as it streams and cut
off with 413 as soon as it crosses the limit (never buffered whole).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("relocmatch.access")
_RID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


def request_id_of(scope: Scope) -> str | None:
    return (scope.get("state") or {}).get("request_id")


class ServiceMiddleware:
    """Request id (X-Request-ID echoed or generated), access log line, body limits."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        if not _RID_OK.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = {"code": 500, "sent": False, "bytes": 0}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                message.setdefault("headers", [])
                message["headers"] = [h for h in message["headers"] if h[0].lower() != b"x-request-id"]
                message["headers"].append((b"x-request-id", rid.encode()))
            elif message["type"] == "http.response.body":
                status["bytes"] += len(message.get("body", b""))
            await send(message)

        limit = self.limit_for(scope["method"], scope["path"])
        declared = headers.get("content-length")
        try:
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                code = 413 if declared.isdigit() else 400
                msg = (f"request body of {declared} bytes is larger than the limit of {limit} bytes"
                       if code == 413 else "invalid Content-Length header")
                await _send_json(send_wrapped, code, {"detail": msg, "request_id": rid})
                return
            seen = 0

            async def receive_limited() -> Message:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise BodyTooLarge(limit)
                return message

            try:
                await self.app(scope, receive_limited, send_wrapped)
            except BodyTooLarge as exc:
                if status["sent"]:
                    raise
                await _send_json(send_wrapped, 413, {"detail": exc.detail, "request_id": rid})
        finally:
            access_log.info(
                "access",
                extra={
                    "access": {
                        "request_id": rid,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status["code"],
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "bytes": status["bytes"],
                        "key_id": (scope.get("state") or {}).get("key_id"),
                        "client": (scope.get("client") or [None])[0],
                    }
                },
            )


async def _send_json(send: Send, code: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                        (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: the access fields for access logs, message + level otherwise."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            out.update(access)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn ``log_config``: JSON lines on stderr for our loggers and uvicorn's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.middleware.JsonLogFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "relocmatch": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
