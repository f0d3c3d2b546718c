"""HTTP routes: thin (parse -> engine -> convert). Shared error documentation lives here."""

from __future__ import annotations

from typing import Any

from api.schemas import BomErrorOut, BomJsonRequest, ErrorOut

_E = {"model": ErrorOut}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Body that cannot be decoded (JSON not in UTF-8, malformed multipart, bad Content-Length)"},
    401: {**_E, "description": "Missing or invalid API key"},
    413: {**_E, "description": "Request body too large"},
    422: {"model": BomErrorOut, "description": "Invalid request (field path in detail) or unreadable BOM"},
    429: {**_E, "description": "Rate limit exceeded (see Retry-After)"},
    500: {**_E, "description": "Internal error (quote the request id)"},
    503: {**_E, "description": "Catalog not loaded"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_E, "description": "Not found (or not yours)"}}

# models that routes reference by hand (openapi_extra "$ref") rather than through a signature:
# api.main puts them in the OpenAPI components so the references resolve
EXTRA_SCHEMAS: tuple[type, ...] = (BomJsonRequest,)
