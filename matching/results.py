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
    "line", "sheet", "status", "confidence", "confidence_probability", "description", "code", "origin_country", "annual_value_eur",
    "product_code", "product_label", "activity_naf", "activity_label",
    "rank", "tier", "siret", "name", "naf", "commune", "postcode", "departement", "region",
    "distance_km", "score", "reasons", "tie_note", "priority", "priority_reason", "warnings", "errors",
)


@dataclass(frozen=True)
class MatchResult:
    """Everything one ``Matcher.match`` call produced."""

    catalog: dict[str, Any]
    lines: list[LineResult]
    summary: dict[str, Any]
    engine: dict[str, Any] = field(default_factory=dict)
    # one ``matching.vulnerability.Vulnerability`` per line (same order), or empty
    priorities: list[Any] = field(default_factory=list)


def _num(v: float | None, nd: int = 4) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def summarise(lines: Sequence[LineResult]) -> dict[str, Any]:
    """Counts per status (``low_confidence``: suppliers shown but to be checked), lines per
    confidence band, lines with a regional supplier, and value-weighted shares.

    ``value_share_*``: share of the annual import value (lines that give one) whose line has a
    regional supplier, only national ones, or none; None when no line gives a value.
    """
    s: dict[str, Any] = {"lines": len(lines), "matched": 0, "low_confidence": 0, "no_candidate": 0, "no_producer": 0,
                        "skipped": 0, "error": 0, "services": sum(1 for lr in lines if lr.kind == "service")}
    # lines per confidence band (skipped and failed lines carry none)
    s["confidence"] = {b: sum(1 for lr in lines if lr.confidence is not None and lr.confidence.band == b)
                       for b in ("high", "medium", "low")}
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
            {"signal": r.signal, "contribution": _num(r.contribution), "text": r.text, "text_en": r.text_en,
             **({"detail": r.detail, "detail_en": r.detail_en} if r.detail else {})}
            for r in m.reasons
        ],
        "features": {k: _num(v) for k, v in m.features.items()},
        "tie": {"text": m.tie_note[0], "text_en": m.tie_note[1]} if m.tie_note else None,
    }


def _priority_to_dict(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    return {"score": _num(v.score), "text": v.text, "text_en": v.text_en,
            "non_eu": _num(v.non_eu), "value_share": _num(v.value_share), "concentration": _num(v.concentration)}


def _product_to_dict(p: Any) -> dict[str, Any]:
    return {"code": p.code, "system": p.system, "label": p.label, "score": _num(p.score), "source": p.source}


def _activity_to_dict(a: Any) -> dict[str, Any]:
    return {"naf": a.naf, "label": a.label, "score": _num(a.score), "route": a.route, "via": list(a.via),
            "wholesale": a.wholesale}


def line_result_to_dict(lr: LineResult, priority: Any = None) -> dict[str, Any]:
    """One line in the result contract shape (``priority``: its vulnerability, when scored)."""
    line = lr.line
    return {
        "line": line.row,
        "sheet": line.sheet,
        "status": lr.status,
        "kind": lr.kind,
        "confidence": lr.confidence.to_dict() if lr.confidence is not None else None,
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
        "products": [_product_to_dict(p) for p in lr.products],
        "product": _product_to_dict(lr.product) if lr.product is not None else None,
        "activities": [_activity_to_dict(a) for a in lr.activities],
        "other_activities": [_activity_to_dict(a) for a in lr.other_activities],
        "suppliers": [supplier_match_to_dict(m) for m in lr.suppliers],
        "priority": _priority_to_dict(priority),
    }


def result_notes(result: MatchResult) -> list[dict[str, str]]:
    """What holds for every supplier of the result, said once here rather than on each one's
    reasons: today, that no buyer commune was given, so no distance is known."""
    from matching.explain import NO_BUYER_NOTE

    config = result.engine.get("config") or {}
    notes: list[dict[str, str]] = []
    if "buyer" in config and not config["buyer"] and any(lr.suppliers for lr in result.lines):
        notes.append({"code": "no_buyer", "text": NO_BUYER_NOTE[0], "text_en": NO_BUYER_NOTE[1]})
    return notes


def result_to_dict(result: MatchResult) -> dict[str, Any]:
    """The whole result in the contract shape (JSON-ready)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "catalog": result.catalog,
        "engine": result.engine,
        "notes": result_notes(result),
        "lines": [line_result_to_dict(lr, pr) for lr, pr in zip(result.lines, _aligned(result), strict=True)],
        "summary": result.summary,
    }


def _aligned(result: MatchResult) -> list[Any]:
    return list(result.priorities) if len(result.priorities) == len(result.lines) else [None] * len(result.lines)


def flatten(result: MatchResult, *, lang: str = "fr") -> list[dict[str, Any]]:
    """One row per (line, supplier); a line without supplier gets one row."""
    return flatten_dict(result_to_dict(result), lang=lang)


def flatten_dict(result: dict[str, Any], *, lang: str = "fr") -> list[dict[str, Any]]:
    """The contract dict (as returned, or as stored by the API) flattened to one row per
    (line, supplier); the single flattener behind every CSV/XLSX export."""

    def text(item: dict[str, Any]) -> str:
        return str((item.get("text_en") if lang == "en" and item.get("text_en") else item.get("text")) or "")

    rows = []
    for ln in result.get("lines", []):
        inp = ln.get("input") or {}
        p = ln.get("product") or (ln.get("products") or [{}])[0]  # the product shown, as the reasons cite it
        a = (ln.get("activities") or [{}])[0]
        pr = ln.get("priority") or {}
        conf = ln.get("confidence") or {}
        base = {
            "line": ln.get("line"), "sheet": ln.get("sheet"), "status": ln.get("status"),
            "confidence": conf.get("band"), "confidence_probability": conf.get("probability"),
            "description": inp.get("description"), "code": inp.get("code_raw") or inp.get("code"),
            "origin_country": inp.get("origin_country"), "annual_value_eur": inp.get("annual_value_eur"),
            "product_code": p.get("code"), "product_label": p.get("label"),
            "activity_naf": a.get("naf"), "activity_label": a.get("label"),
            "priority": pr.get("score"), "priority_reason": text(pr) if pr else None,
            "warnings": " | ".join(map(str, ln.get("warnings") or [])),
            "errors": " | ".join(map(str, ln.get("errors") or [])),
        }
        sups = ln.get("suppliers") or []
        if not sups:
            rows.append(base)
        for m in sups:
            tie = m.get("tie") or {}
            rows.append({
                **base, **_row_product(ln, m.get("activity")),
                **{k: m.get(k) for k in ("rank", "tier", "siret", "name", "naf", "commune", "postcode",
                                         "departement", "region", "distance_km", "score")},
                "reasons": " ; ".join(text(r) for r in m.get("reasons") or []),
                "tie_note": text(tie) if tie else None,
            })
    return [{c: r.get(c) for c in FLAT_COLUMNS} for r in rows]


def _row_product(ln: dict[str, Any], naf: str | None) -> dict[str, Any]:
    """Product and activity columns of a supplier's row: the product its activity was reached
    from (what its reasons cite), else the line's; an activity among ``other_activities`` too."""
    from matching.explain import cited_product
    from matching.types import ActivityGuess, ProductGuess

    acts = list(ln.get("activities") or []) + list(ln.get("other_activities") or [])
    a = next((x for x in acts if naf and x.get("naf") == naf), None)
    if a is None:
        return {}
    out = {"activity_naf": a.get("naf"), "activity_label": a.get("label")}
    guess = ActivityGuess(naf=str(a.get("naf")), label=str(a.get("label") or ""), score=0.0, route=str(a.get("route") or ""),
                          via=tuple(a.get("via") or ()))
    prods = [ProductGuess(str(p.get("code")), str(p.get("system") or ""), str(p.get("label") or ""), 0.0, "")
             for p in ln.get("products") or [] if p.get("code")]
    p = cited_product(guess, prods)
    if p is not None:
        out.update(product_code=p.code, product_label=p.label)
    return out


_NOTE_LABELS = {
    "note": ("à lire", "note"), "catalog": ("catalogue", "catalog"), "engine": ("moteur", "engine"),
    "lines": ("lignes", "lines"), "status": ("statut", "status"), "confidence": ("confiance", "confidence"),
}


def export_notes(result: dict[str, Any], *, lang: str = "fr") -> list[tuple[str, Any]]:
    """The ``notes`` sheet of an XLSX export: the result's notes (no buyer commune, …) said
    once, then the catalog, engine version and the line counts per status and confidence band."""
    en = lang == "en"

    def label(key: str) -> str:
        return _NOTE_LABELS[key][1 if en else 0]

    rows: list[tuple[str, Any]] = []
    for n in result.get("notes") or []:
        rows.append((label("note"), str((n.get("text_en") if en and n.get("text_en") else n.get("text")) or "")))
    cat = result.get("catalog") or {}
    if cat:
        names = ", ".join(str(src.get("name")) for src in cat.get("sources") or [] if src.get("name"))
        parts = [names, f"{cat['suppliers']} {'establishments' if en else 'établissements'}" if cat.get("suppliers") is not None else "",
                 str(cat.get("built_at") or "")[:10]]
        rows.append((label("catalog"), ", ".join(p for p in parts if p)))
    eng = result.get("engine") or {}
    if eng.get("version"):
        rows.append((label("engine"), f"relocmatch {eng['version']}"))
    summ = result.get("summary") or {}
    if "lines" in summ:
        rows.append((label("lines"), summ["lines"]))
    for st in ("matched", "low_confidence", "no_producer", "no_candidate", "skipped", "error"):
        if summ.get(st):
            rows.append((f"{label('status')} {st}", summ[st]))
    for band, count in (summ.get("confidence") or {}).items():
        rows.append((f"{label('confidence')} {band}", count))
    return rows


def export_dict(result: dict[str, Any], path_or_buffer: str | Path | IO, fmt: str = "json", *, lang: str = "fr") -> None:
    """Write a contract dict as JSON, CSV (UTF-8 with BOM, so Excel reads accents) or XLSX;
    CSV/XLSX cells go through ``matching.export`` so that no cell can execute."""
    import io

    from matching import export
    from matching.errors import ConfigError

    if fmt == "json":
        data: str | bytes = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        export.write_csv(flatten_dict(result, lang=lang), buf, list(FLAT_COLUMNS))
        data = "\ufeff" + buf.getvalue()
    elif fmt == "xlsx":
        bbuf = io.BytesIO()
        export.write_xlsx(flatten_dict(result, lang=lang), bbuf, list(FLAT_COLUMNS), "relocmatch",
                          notes=export_notes(result, lang=lang))
        data = bbuf.getvalue()
    else:
        raise ConfigError(f"format {fmt!r}: expected json, csv or xlsx")
    if isinstance(path_or_buffer, str | Path):
        if isinstance(data, str):
            Path(path_or_buffer).write_text(data, encoding="utf-8", newline="")
        else:
            Path(path_or_buffer).write_bytes(data)
    else:
        path_or_buffer.write(data)


def export_result(result: MatchResult, path_or_buffer: str | Path | IO, fmt: str = "json", *, lang: str = "fr") -> None:
    """Write ``result`` as JSON (the contract), CSV or XLSX (flattened, formula-safe)."""
    export_dict(result_to_dict(result), path_or_buffer, fmt, lang=lang)