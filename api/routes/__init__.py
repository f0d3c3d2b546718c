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

# OpenAPI links (what a response lets a client do next, with the values to use): generated clients
# and the stateful fuzzing (schemathesis) follow them from a created object to its reads.
# (path, method, status) -> {link name: (target path, target method, {parameter: runtime expression})}
_JOB = {"job_id": "$response.body#/id"}
_TRACKED = {"company": "$request.body#/lines/0/company", "line": "$request.body#/lines/0/line"}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("/v1/boms", "post", "202"): {
        "GetBom": ("/v1/boms/{job_id}", "get", _JOB),
        "ExportBom": ("/v1/boms/{job_id}/export", "get", _JOB),
        "DeleteBom": ("/v1/boms/{job_id}", "delete", _JOB),
    },
    ("/v1/observatory/lines", "post", "201"): {
        "GetFollowUp": ("/v1/observatory/followups/{company}/{line}", "get", _TRACKED),
        "AddEvent": ("/v1/observatory/followups/{company}/{line}/events", "post", _TRACKED),
    },
    ("/v1/observatory/followups/{company}/{line}/events", "post", "201"): {
        "GetFollowUp": ("/v1/observatory/followups/{company}/{line}", "get",
                        {"company": "$response.body#/company", "line": "$response.body#/line"}),
    },
    ("/v1/search", "get", "200"): {
        "GetSupplier": ("/v1/suppliers/{siret}", "get", {"siret": "$response.body#/suppliers/0/siret"}),
    },
    ("/v1/match", "post", "200"): {
        "GetSupplier": ("/v1/suppliers/{siret}", "get", {"siret": "$response.body#/lines/0/suppliers/0/siret"}),
    },
    ("/v1/sites/match", "post", "200"): {
        "GetSite": ("/v1/sites/{site_id}", "get", {"site_id": "$response.body#/sites/0/site_id"}),
    },
}
