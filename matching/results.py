"""The result contract: what a match produces, as data, as JSON and as flat rows.

One shape for the CLI (``--format json``) and the API (``schema_version`` is bumped on any
breaking change). CSV/XLSX flatten it to one row per (line, supplier) — a line without a
supplier still gets one row — and go through ``matching.export`` so that no cell can be
executed by a spreadsheet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from matching.types import LineResult, SupplierMatch

SCHEMA_VERSION = "1.0"

FLAT_COLUMNS = (
    "line", "sheet", "status", "description", "code", "origin_country", "annual_value_eur",
    "product_code", "product_label", "activity_naf", "activity_label",
    "rank", "tier", "siret", "name", "naf", "commune", "postcode", "departement", "region",
    "distance_km", "score", "reasons", "warnings", "errors",
)


@dataclass(frozen=True)
class MatchResult:
    """Everything one ``Matcher.match`` call produced."""

    catalog: dict[str, Any]
    lines: list[LineResult]
    summary: dict[str, Any]
    engine: dict[str, Any] = field(default_factory=dict)


def _num(v: float | None, nd: int = 4) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def summarise(lines: Sequence[LineResult]) -> dict[str, Any]:
    """Counts per status, lines with a regional supplier, and value-weighted shares.

    ``value_share_*``: share of the annual import value (lines that give one) whose line has a
    regional supplier, only national ones, or none; None when no line gives a value.
    """
    s: dict[str, Any] = {"lines": len(lines), "matched": 0, "no_candidate": 0, "skipped": 0, "error": 0}
    with_regional = 0
    tot = reg = nat = none = 0.0
    for lr in lines:
        s[lr.status] = s.get(lr.status, 0) + 1
        has_reg = any(m.tier == "regional" for m in lr.suppliers)
        with_regional += has_reg
        v = lr.line.annual_value_eur
        if lr.status == "skipped" or v is None or (isinstance(v, float) and math.isnan(v)) or v <= 0:
            continue
        tot += v
        if has_reg:
            reg += v
        elif lr.suppliers:
            nat += v
        else:
            none += v
    s["with_regional"] = with_regional
    s["value_total_eur"] = round(tot, 2)
    for key, part in (("regional", reg), ("national_only", nat), ("none", none)):
        s[f"value_share_{key}"] = round(part / tot, 4) if tot > 0 else None
    return s


def supplier_match_to_dict(m: SupplierMatch) -> dict[str, Any]:
    s = m.supplier
    return {
        "rank": m.rank,
        "siret": s.siret,
        "name": s.name,
        "naf": s.naf,
        "commune": s.commune,
        "commune_code": s.commune_code,
        "postcode": s.postcode,
        "departement": s.departement,
        "region": s.region,
        "tier": m.tier,
        "distance_km": _num(m.distance_km, 1),
        "score": _num(m.score),
        "activity": m.activity,
        "size_band": s.size_band,
        "source": s.source,
        "reasons": [
            {"signal": r.signal, "contribution": _num(r.contribution), "text": r.text, "text_en": r.text_en}
            for r in m.reasons
        ],
        "features": {k: _num(v) for k, v in m.features.items()},
    }


def line_result_to_dict(lr: LineResult) -> dict[str, Any]:
    """One line in the result contract shape."""
    line = lr.line
    return {
        "line": line.row,
        "sheet": line.sheet,
        "status": lr.status,
        "input": {
            "description": line.description,
            "code": line.code,
            "code_raw": line.code_raw,
            "origin_country": line.origin_country,
            "annual_value_eur": line.annual_value_eur,
            "quantity": line.quantity,
            "unit": line.unit,
            "reference": line.reference,
            "supplier": line.supplier,
        },
        "errors": list(lr.errors),
        "warnings": list(lr.warnings),
        "products": [
            {"code": p.code, "system": p.system, "label": p.label, "score": _num(p.score), "source": p.source}
            for p in lr.products
        ],
        "activities": [
            {"naf": a.naf, "label": a.label, "score": _num(a.score), "route": a.route, "via": list(a.via),
             "wholesale": a.wholesale}
            for a in lr.activities
        ],
        "suppliers": [supplier_match_to_dict(m) for m in lr.suppliers],
    }


def result_to_dict(result: MatchResult) -> dict[str, Any]:
    """The whole result in the contract shape (JSON-ready)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "catalog": result.catalog,
        "engine": result.engine,
        "lines": [line_result_to_dict(lr) for lr in result.lines],
        "summary": result.summary,
    }


def flatten(result: MatchResult, *, lang: str = "fr") -> list[dict[str, Any]]:
    """One row per (line, supplier); a line without supplier gets one row."""
    rows = []
    for lr in result.lines:
        line = lr.line
        p = lr.products[0] if lr.products else None
        a = lr.activities[0] if lr.activities else None
        base = {
            "line": line.row, "sheet": line.sheet, "status": lr.status, "description": line.description,
            "code": line.code_raw or line.code, "origin_country": line.origin_country,
            "annual_value_eur": line.annual_value_eur,
            "product_code": p.code if p else None, "product_label": p.label if p else None,
            "activity_naf": a.naf if a else None, "activity_label": a.label if a else None,
            "warnings": " | ".join(lr.warnings), "errors": " | ".join(lr.errors),
        }
        if not lr.suppliers:
            rows.append({**base})
        for m in lr.suppliers:
            s = m.supplier
            rows.append({
                **base, "rank": m.rank, "tier": m.tier, "siret": s.siret, "name": s.name, "naf": s.naf,
                "commune": s.commune, "postcode": s.postcode, "departement": s.departement, "region": s.region,
                "distance_km": _num(m.distance_km, 1), "score": _num(m.score),
                "reasons": " ; ".join((r.text_en if lang == "en" and r.text_en else r.text) for r in m.reasons),
            })
    return [{c: r.get(c) for c in FLAT_COLUMNS} for r in rows]


def export_result(result: MatchResult, path_or_buffer: str | Path | IO, fmt: str = "json", *, lang: str = "fr") -> None:
    """Write ``result`` as JSON (the contract), CSV or XLSX (flattened, formula-safe)."""
    from matching.errors import ConfigError

    if fmt == "json":
        text = json.dumps(result_to_dict(result), ensure_ascii=False, indent=2)
        if isinstance(path_or_buffer, str | Path):
            Path(path_or_buffer).write_text(text + "\n", encoding="utf-8")
        else:
            path_or_buffer.write(text + "\n")
        return
    from matching import export

    rows = flatten(result, lang=lang)
    if fmt == "csv":
        export.write_csv(rows, path_or_buffer, list(FLAT_COLUMNS))
    elif fmt == "xlsx":
        export.write_xlsx(rows, path_or_buffer, list(FLAT_COLUMNS), "relocmatch")
    else:
        raise ConfigError(f"format {fmt!r}: expected json, csv or xlsx")
