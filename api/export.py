"""Export downloads of a stored result-contract dict: the engine's one flattener and writers.

Cells a spreadsheet could execute (starting with = + - @, tab or CR) are neutralised by
``matching.export`` in CSV and XLSX alike (OWASP "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import io
from typing import Any

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def export(result: dict[str, Any], fmt: str, *, lang: str = "fr") -> bytes:
    """``result`` as csv (UTF-8 with BOM, for Excel), xlsx or json bytes."""
    from matching.results import export_dict

    if fmt not in MEDIA:
        raise ValueError(f"unknown export format {fmt!r}: expected csv, xlsx or json")
    if fmt == "xlsx":
        buf: io.BytesIO | io.StringIO = io.BytesIO()
        export_dict(result, buf, fmt, lang=lang)
        return buf.getvalue()  # type: ignore[return-value]
    sbuf = io.StringIO()
    export_dict(result, sbuf, fmt, lang=lang)
    return sbuf.getvalue().encode("utf-8")
