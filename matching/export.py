"""Writing what relocmatch produces (CSV, XLSX) so that no cell can execute in a spreadsheet.

Text starting with `=`, `+`, `-`, `@`, tab or CR is a formula to Excel/LibreOffice
(CSV injection). Every export goes through `neutralise`, which prefixes such text with
an apostrophe. The BOM reader strips a leading apostrophe *only* when a formula
trigger follows it (`matching.bom.values.unneutralise`), so a written file reads back to the
same text: `'=SUM(A1)` in the file is `=SUM(A1)` in the line.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from matching.bom.values import FORMULA_TRIGGERS, is_escaped_formula
from matching.types import BomLine

LINE_COLUMNS = (
    "row", "description", "code", "code_raw", "origin_country", "annual_value_eur", "quantity", "unit",
    "reference", "supplier", "status", "messages",
)


def neutralise(value: Any) -> Any:
    """Return ``value`` made inert for spreadsheets: formula-like text gets a leading `'`."""
    if isinstance(value, str) and value and (value[0] in FORMULA_TRIGGERS or _is_escaped(value)):
        return "'" + value
    return value


def _is_escaped(s: str) -> bool:
    # text that already looks escaped (' + trigger) is escaped again, or a reader would strip it
    return is_escaped_formula(s)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if not isinstance(value, (str, bytes)) and hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()  # numpy / pandas scalars → Python numbers
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items())
    elif not isinstance(value, (str, int, float, bool, _dt.date, _dt.datetime, _dt.time)):
        value = str(value)  # numpy scalars, Decimals, enums...: written as their text
    return neutralise(value)


def write_csv(rows: Iterable[dict[str, Any]], path_or_buffer: str | Path | IO[str], columns: Sequence[str]) -> None:
    """Write dict rows as UTF-8 CSV (comma, all text neutralised). Numbers keep a '.' decimal."""

    def _write(fh: IO[str]) -> None:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([neutralise(c) for c in columns])
        for r in rows:
            w.writerow([_num_text(_cell(r.get(c))) for c in columns])

    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", encoding="utf-8", newline="") as fh:
            _write(fh)
    else:
        _write(path_or_buffer)


def _num_text(v: Any) -> Any:
    if isinstance(v, float):
        return repr(float(v))
    return v


def write_xlsx(
    rows: Iterable[dict[str, Any]],
    path_or_buffer: str | Path | IO[bytes],
    columns: Sequence[str],
    sheet_name: str = "relocmatch",
    notes: Sequence[Sequence[Any]] | None = None,
) -> None:
    """Write dict rows to an XLSX sheet; formula-like text is stored as a string cell with a `'`.

    ``notes``: (label, value) rows written to a second sheet ``notes``, for what holds for the
    whole file (no buyer commune, catalog, counts) — said once there, not on every row; the
    data stays on the first sheet, where readers of the export look for it.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_name[:31] or "relocmatch")
    ws.append([neutralise(c) for c in columns])
    for r in rows:
        out = []
        for c in columns:
            v = _cell(r.get(c))
            out.append(v)
        ws.append(out)
    if notes:
        ns = wb.create_sheet(title="notes")
        for row in notes:
            ns.append([_cell(v) for v in row])
    # openpyxl writes str starting with '=' as a formula: neutralise() already made them start with "'"
    if isinstance(path_or_buffer, (str, Path)):
        wb.save(str(path_or_buffer))
    else:
        buf = io.BytesIO()
        wb.save(buf)
        path_or_buffer.write(buf.getvalue())


def write_lines_csv(lines: Sequence[BomLine], path_or_buffer: str | Path | IO[str]) -> None:
    """Write BomLines so that `read_bom` reads them back to the same lines (round trip)."""
    rows = []
    for ln in lines:
        d = ln.to_dict()
        d["messages"] = " | ".join(ln.messages)
        rows.append(d)
    write_csv(rows, path_or_buffer, LINE_COLUMNS)
