"""Flat exports of a stored result-contract dict: one row per (line, supplier).

Cells a spreadsheet could execute (starting with = + - @, tab or CR) are prefixed
with an apostrophe, in CSV and XLSX alike (OWASP "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

def _columns() -> tuple[str, ...]:
    from matching.results import FLAT_COLUMNS  # the CLI's export columns: one flat shape everywhere

    return tuple(FLAT_COLUMNS)


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    """A cell value a spreadsheet shows as text, never evaluates."""
    if value is None or isinstance(value, bool | int | float):
        return value
    s = str(value)
    if s and s[0] in _DANGEROUS:
        return "'" + s
    return s


def rows(result: dict[str, Any], *, lang: str = "fr") -> list[list[Any]]:
    """The stored contract dict flattened like ``matching.results.flatten`` (one row per line x supplier)."""
    cols = _columns()
    out: list[dict[str, Any]] = []
    for ln in result.get("lines", []):
        inp = ln.get("input") or {}
        p = (ln.get("products") or [None])[0] or {}
        a = (ln.get("activities") or [None])[0] or {}
        base = {
            "line": ln.get("line"), "sheet": ln.get("sheet"), "status": ln.get("status"),
            "description": inp.get("description"), "code": inp.get("code_raw") or inp.get("code"),
            "origin_country": inp.get("origin_country"), "annual_value_eur": inp.get("annual_value_eur"),
            "product_code": p.get("code"), "product_label": p.get("label"),
            "activity_naf": a.get("naf"), "activity_label": a.get("label"),
            "warnings": " | ".join(map(str, ln.get("warnings") or [])),
            "errors": " | ".join(map(str, ln.get("errors") or [])),
        }
        sups = ln.get("suppliers") or []
        if not sups:
            out.append(base)
        for s in sups:
            out.append({
                **base, "rank": s.get("rank"), "tier": s.get("tier"), "siret": s.get("siret"), "name": s.get("name"),
                "naf": s.get("naf"), "commune": s.get("commune"), "postcode": s.get("postcode"),
                "departement": s.get("departement"), "region": s.get("region"),
                "distance_km": s.get("distance_km"), "score": s.get("score"),
                "reasons": " ; ".join(((r.get("text_en") if lang == "en" and r.get("text_en") else r.get("text")) or "")
                                      for r in s.get("reasons") or []),
            })
    return [[neutralise(r.get(c)) for c in cols] for r in out]


def export(result: dict[str, Any], fmt: str) -> bytes:
    """``result`` as csv (UTF-8 with BOM, for Excel), xlsx or json bytes."""
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False).encode("utf-8")
    table = rows(result)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(_columns())
        w.writerows(table)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = "suppliers"
        ws.append(list(_columns()))
        for r in table:
            ws.append(r)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"unknown export format {fmt!r}: expected csv, xlsx or json")
