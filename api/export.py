"""Flat exports of a stored result-contract dict: one row per (line, supplier).

Cells a spreadsheet could execute (starting with = + - @, tab or CR) are prefixed
with an apostrophe, in CSV and XLSX alike (OWASP "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

COLUMNS = (
    "line", "status", "description", "code", "origin_country", "annual_value_eur",
    "products", "activities", "rank", "siret", "name", "naf", "commune", "departement", "region",
    "tier", "distance_km", "score", "reasons",
)
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


def rows(result: dict[str, Any]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for ln in result.get("lines", []):
        inp = ln.get("input") or {}
        head = [
            ln.get("line"), ln.get("status"), inp.get("description"), inp.get("code_raw") or inp.get("code"),
            inp.get("origin_country"), inp.get("annual_value_eur"),
            "; ".join(f"{p.get('code')} {p.get('label') or ''}".strip() for p in ln.get("products", [])),
            "; ".join(f"{a.get('naf')} {a.get('label') or ''}".strip() for a in ln.get("activities", [])),
        ]
        sups = ln.get("suppliers") or []
        if not sups:
            out.append(head + [None] * (len(COLUMNS) - len(head)))
        for s in sups:
            out.append(head + [
                s.get("rank"), s.get("siret"), s.get("name"), s.get("naf"), s.get("commune"), s.get("departement"),
                s.get("region"), s.get("tier"), s.get("distance_km"), s.get("score"),
                " | ".join(r.get("text") or "" for r in s.get("reasons", [])),
            ])
    return [[neutralise(v) for v in r] for r in out]


def export(result: dict[str, Any], fmt: str) -> bytes:
    """``result`` as csv (UTF-8 with BOM, for Excel), xlsx or json bytes."""
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False).encode("utf-8")
    table = rows(result)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(COLUMNS)
        w.writerows(table)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = "suppliers"
        ws.append(list(COLUMNS))
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
