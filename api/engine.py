"""The one place where the API calls the engine (``matching``): wire dicts in, contract dicts out.

Routes and the job runner call these functions so that an engine signature change is
a one-file change here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matching.types import BomLine

WIRE_LINE_FIELDS = ("description", "code", "origin_country", "annual_value_eur", "quantity", "unit", "reference")


def lines_from_wire(lines: list[dict[str, Any]]) -> list[BomLine]:
    """API lines (or stored job lines) -> BomLine, numbered from 1 when they carry no row."""
    out: list[BomLine] = []
    for i, d in enumerate(lines, start=1):
        code_raw = d.get("code_raw", d.get("code"))
        code = d.get("code")
        if code is not None and "code_raw" not in d:
            from matching.codes import try_parse_code

            parsed = try_parse_code(code)
            code = parsed.digits if parsed is not None else None
        out.append(
            BomLine(
                row=int(d.get("row") or i),
                description=d.get("description") or "",
                code=code,
                code_raw=code_raw,
                origin_country=d.get("origin_country"),
                annual_value_eur=d.get("annual_value_eur"),
                quantity=d.get("quantity"),
                unit=d.get("unit"),
                reference=d.get("reference"),
                supplier=d.get("supplier"),
                sheet=d.get("sheet"),
                status=d.get("status") or "ok",
                messages=tuple(d.get("messages") or ()),
            )
        )
    return out


def line_to_store(line: BomLine) -> dict[str, Any]:
    """A BomLine as a JSON-able dict (what a job keeps so the worker needs no re-parse)."""
    return line.to_dict()


def config_for(matcher: Any, options: dict[str, Any]) -> Any:
    """The matcher's configuration with the request's region / buyer / top applied (validated)."""
    base = matcher.config
    changes: dict[str, Any] = {}
    if options.get("top") is not None:
        changes["top_n"] = int(options["top"])
    if options.get("region"):
        changes["region"] = options["region"]
    if options.get("buyer"):
        changes["buyer"] = options["buyer"]
    return base.with_(**changes) if changes else base


def configured(matcher: Any, options: dict[str, Any]) -> Any:
    """The matcher under the request's options (itself when they change nothing)."""
    config = config_for(matcher, options)
    return matcher if config == matcher.config else matcher.with_config(config)


def match_lines(
    matcher: Any, lines: list[BomLine], options: dict[str, Any], progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Match lines with the request's options; returns the result-contract dict."""
    from matching.results import result_to_dict

    matcher = configured(matcher, options)
    return result_to_dict(matcher.match(lines, progress=progress))


class EngineTimeout(Exception):
    """A synchronous match ran past its deadline (the caller is pointed to the job endpoint)."""


def match_groups(
    matcher: Any, groups: list[list[BomLine]], options: dict[str, Any], deadline: float | None = None
) -> list[dict[str, Any]]:
    """Several requests' lines under the same options, matched in one engine pass; one contract dict each.

    ``deadline`` (``time.time()`` seconds, comparable across processes): the pass stops with
    ``EngineTimeout`` between two lines once it is past."""
    import time

    from matching.results import result_to_dict

    def progress(done: int, total: int) -> None:
        if deadline is not None and time.time() > deadline:
            raise EngineTimeout()

    matcher = configured(matcher, options)
    return [result_to_dict(r) for r in matcher.match_many(groups, progress=progress)]


def search(matcher: Any, q: str, *, code: str | None, region: str | None, naf: str | None,
           buyer: str | None, top: int) -> dict[str, Any]:
    """An advisor's query -> one line-result dict (the ``lines[i]`` shape of the contract)."""
    from matching.results import line_result_to_dict

    lr = matcher.search(q, code=code, region=region, naf=naf, buyer=buyer, top=top)
    return line_result_to_dict(lr)


def supplier(matcher: Any, siret: str) -> dict[str, Any] | None:
    """One establishment of the loaded catalog, or None."""
    from dataclasses import asdict

    rows = _siret_rows(matcher)
    row = rows.get(siret)
    return asdict(matcher.supplier(row)) if row is not None else None


_SIRET_ROWS: dict[int, tuple[Any, dict[str, int]]] = {}


def _siret_rows(matcher: Any) -> dict[str, int]:
    """SIRET -> first table row of the matcher's catalog (IREP lists some sites under one SIRET)."""
    hit = _SIRET_ROWS.get(id(matcher))
    if hit is not None and hit[0] is matcher:
        return hit[1]
    rows: dict[str, int] = {}
    for i, v in enumerate(matcher.table["siret"].astype(str).tolist()):
        rows.setdefault(v, i)
    _SIRET_ROWS[id(matcher)] = (matcher, rows)
    return rows


def explain_code(code: str) -> dict[str, Any]:
    """The crosswalk explanation of a product code (same shape as ``relocmatch codes explain --json``)."""
    from matching.cli.codes import explain_code as _explain

    return _jsonable(_explain(code))


def _jsonable(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_jsonable(v) for v in obj]
    return obj


def catalog_loaded(matcher: Any) -> bool:
    return matcher is not None
