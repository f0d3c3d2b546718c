"""The batch's tables: input lines, output lines and ranked suppliers, as Arrow schemas.

Both engines turn a company's input rows into ``BomLine``s with ``lines_from_table`` and its
``MatchResult`` into output rows with ``result_tables``: one code path, so the local pool and
Spark write the same values for the same input.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from matching.types import BomLine

# one row per input line, as read (a company's lines in ``seq`` order)
INPUT_SCHEMA = pa.schema([
    ("company", pa.string()), ("line_id", pa.string()), ("seq", pa.int64()), ("source", pa.string()),
    ("buyer", pa.string()), ("row", pa.int64()), ("sheet", pa.string()), ("description", pa.string()),
    ("code", pa.string()), ("code_raw", pa.string()), ("origin_country", pa.string()),
    ("annual_value_eur", pa.float64()), ("quantity", pa.float64()), ("unit", pa.string()),
    ("reference", pa.string()), ("supplier", pa.string()), ("status", pa.string()), ("messages", pa.string()),
])

# OUT/lines/company=…/: one row per input line (``company`` is the partition, not a file column)
LINES_SCHEMA = pa.schema([
    ("company", pa.string()), ("line_id", pa.string()), ("seq", pa.int64()), ("source", pa.string()),
    ("row", pa.int64()), ("sheet", pa.string()), ("status", pa.string()),
    ("confidence", pa.string()), ("confidence_probability", pa.float64()),  # band, calibrated probability
    ("description", pa.string()), ("code", pa.string()), ("code_raw", pa.string()),
    ("origin_country", pa.string()), ("annual_value_eur", pa.float64()),
    ("product_code", pa.string()), ("product_label", pa.string()), ("product_score", pa.float64()),
    ("activity_naf", pa.string()), ("activity_label", pa.string()), ("activity_score", pa.float64()),
    ("products", pa.string()), ("activities", pa.string()),  # JSON lists, the contract's shape
    ("n_suppliers", pa.int32()), ("n_regional", pa.int32()),
    ("best_regional_siret", pa.string()), ("best_regional_score", pa.float64()),
    ("best_national_siret", pa.string()), ("best_national_score", pa.float64()),
    ("priority", pa.float64()), ("warnings", pa.string()), ("errors", pa.string()),
])

# OUT/suppliers/company=…/: one row per (line, ranked supplier)
SUPPLIERS_SCHEMA = pa.schema([
    ("company", pa.string()), ("line_id", pa.string()), ("rank", pa.int32()), ("siret", pa.string()),
    ("name", pa.string()), ("naf", pa.string()), ("tier", pa.string()), ("score", pa.float64()),
    ("distance_km", pa.float64()), ("activity", pa.string()), ("commune", pa.string()),
    ("commune_code", pa.string()), ("postcode", pa.string()), ("departement", pa.string()),
    ("region", pa.string()), ("size_band", pa.string()), ("reasons", pa.string()), ("features", pa.string()),
])

# what Spark's mapInArrow yields: both kinds of rows in one flat table, told apart by ``kind``
UNION_SCHEMA = pa.schema(
    [("kind", pa.string())]
    + list(LINES_SCHEMA)
    + [f for f in SUPPLIERS_SCHEMA if f.name not in LINES_SCHEMA.names]
)

STATUSES = ("matched", "low_confidence", "no_producer", "no_candidate", "skipped", "error")


def _none(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def lines_from_table(table: pa.Table) -> list[BomLine]:
    """The ``BomLine``s of input rows (``INPUT_SCHEMA``), in row order."""
    out = []
    for r in table.to_pylist():
        msgs = json.loads(r["messages"]) if r.get("messages") else []
        out.append(BomLine(
            row=int(r["row"]), description=r["description"] or "", code=r["code"], code_raw=r["code_raw"],
            origin_country=r["origin_country"], annual_value_eur=_none(r["annual_value_eur"]),
            quantity=_none(r["quantity"]), unit=r["unit"], reference=r["reference"], supplier=r["supplier"],
            sheet=r["sheet"], status=r["status"] or "ok", messages=tuple(msgs),
        ))
    return out


def input_row(company: str, line_id: str, seq: int, source: str, buyer: str | None, line: BomLine) -> dict[str, Any]:
    """One ``INPUT_SCHEMA`` row from a read ``BomLine``."""
    return {
        "company": company, "line_id": line_id, "seq": seq, "source": source, "buyer": buyer,
        "row": line.row, "sheet": line.sheet, "description": line.description, "code": line.code,
        "code_raw": line.code_raw, "origin_country": line.origin_country,
        "annual_value_eur": _none(line.annual_value_eur), "quantity": _none(line.quantity), "unit": line.unit,
        "reference": line.reference, "supplier": line.supplier, "status": line.status,
        "messages": json.dumps(list(line.messages), ensure_ascii=False),
    }


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def result_rows(company: str, inputs: list[dict[str, Any]], result_dict: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Output rows (lines, suppliers) of one company from its input rows and its contract dict."""
    lines, sups = [], []
    for inp, ln in zip(inputs, result_dict["lines"], strict=True):
        p = ln.get("product") or (ln.get("products") or [{}])[0]  # the product shown, as the reasons cite it
        a = (ln.get("activities") or [{}])[0]
        s = ln.get("suppliers") or []
        reg = [m for m in s if m["tier"] == "regional"]
        nat = [m for m in s if m["tier"] == "national"]
        pr = ln.get("priority") or {}
        conf = ln.get("confidence") or {}
        lines.append({
            "company": company, "line_id": inp["line_id"], "seq": inp["seq"], "source": inp["source"],
            "row": inp["row"], "sheet": inp["sheet"], "status": ln["status"],
            "confidence": conf.get("band"), "confidence_probability": conf.get("probability"),
            "description": inp["description"], "code": inp["code"], "code_raw": inp["code_raw"],
            "origin_country": inp["origin_country"], "annual_value_eur": inp["annual_value_eur"],
            "product_code": p.get("code"), "product_label": p.get("label"), "product_score": p.get("score"),
            "activity_naf": a.get("naf"), "activity_label": a.get("label"), "activity_score": a.get("score"),
            "products": _dumps(ln.get("products") or []), "activities": _dumps(ln.get("activities") or []),
            "n_suppliers": len(s), "n_regional": len(reg),
            "best_regional_siret": reg[0]["siret"] if reg else None,
            "best_regional_score": reg[0]["score"] if reg else None,
            "best_national_siret": nat[0]["siret"] if nat else None,
            "best_national_score": nat[0]["score"] if nat else None,
            "priority": pr.get("score"),
            "warnings": " | ".join(map(str, ln.get("warnings") or [])),
            "errors": " | ".join(map(str, ln.get("errors") or [])),
        })
        for m in s:
            sups.append({
                "company": company, "line_id": inp["line_id"], "rank": m["rank"], "siret": m["siret"],
                "name": m["name"], "naf": m["naf"], "tier": m["tier"], "score": m["score"],
                "distance_km": m["distance_km"], "activity": m["activity"], "commune": m["commune"],
                "commune_code": m["commune_code"], "postcode": m["postcode"], "departement": m["departement"],
                "region": m["region"], "size_band": m["size_band"],
                "reasons": " ; ".join(str(r.get("text") or "") for r in m.get("reasons") or []),
                "features": _dumps(m.get("features") or {}),
            })
    return lines, sups


def error_rows(company: str, inputs: list[dict[str, Any]], message: str) -> tuple[list[dict], list[dict]]:
    """Every line of a company that could not be matched at all (e.g. an unknown buyer), status ``error``."""
    rows = []
    for inp in inputs:
        rows.append({f.name: None for f in LINES_SCHEMA} | {
            "company": company, "line_id": inp["line_id"], "seq": inp["seq"], "source": inp["source"],
            "row": inp["row"], "sheet": inp["sheet"], "status": "skipped" if inp["status"] == "skipped" else "error",
            "description": inp["description"], "code": inp["code"], "code_raw": inp["code_raw"],
            "origin_country": inp["origin_country"], "annual_value_eur": inp["annual_value_eur"],
            "products": "[]", "activities": "[]", "n_suppliers": 0, "n_regional": 0,
            "warnings": " | ".join(json.loads(inp["messages"] or "[]")), "errors": message,
        })
    return rows, []


def to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def to_union(lines: pa.Table, suppliers: pa.Table) -> pa.Table:
    """Both output tables as one ``UNION_SCHEMA`` table (what Spark's mapInArrow yields)."""

    def pad(t: pa.Table, kind: str) -> pa.Table:
        cols = []
        for f in UNION_SCHEMA:
            if f.name == "kind":
                cols.append(pa.array([kind] * t.num_rows, pa.string()))
            elif f.name in t.column_names:
                cols.append(t[f.name])
            else:
                cols.append(pa.nulls(t.num_rows, f.type))
        return pa.Table.from_arrays(cols, schema=UNION_SCHEMA)

    return pa.concat_tables([pad(lines, "line"), pad(suppliers, "supplier")])
