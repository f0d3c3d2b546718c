"""The observatory's land figures: relocations and hectares by site type and département.

A pure function of the recorded site choices (``api.site_choices`` rows, or any dicts with
``site_type``, ``departement`` and ``surface_m2``), so the API, the CLI report and a notebook
share one implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

BREAKDOWN_COLUMNS = ("site_type", "departement", "relocations", "hectares")


def site_breakdown(choices: Iterable[Mapping[str, Any]]) -> Any:
    """One row per (site type, département): relocations counted, hectares summed; then a total row."""
    import pandas as pd

    df = pd.DataFrame(list(choices), columns=["company", "site_type", "departement", "surface_m2"])
    if df.empty:
        return pd.DataFrame(columns=list(BREAKDOWN_COLUMNS))
    g = (df.groupby(["site_type", "departement"], sort=True)
         .agg(relocations=("company", "nunique"), hectares=("surface_m2", "sum")).reset_index())
    g["hectares"] = (g["hectares"] / 10_000).round(2)
    total = pd.DataFrame([{"site_type": "total", "departement": "", "relocations": int(df["company"].nunique()),
                           "hectares": round(float(df["surface_m2"].sum()) / 10_000, 2)}])
    return pd.concat([g, total], ignore_index=True)[list(BREAKDOWN_COLUMNS)]


def append_sites_sheet(xlsx: Path | str, breakdown: Any, *, sheet: str = "sites") -> Path:
    """Add the breakdown as one more sheet of an observatory XLSX report (written by write_report)."""
    from openpyxl import load_workbook

    from matching.export import neutralise

    path = Path(xlsx)
    wb = load_workbook(path)
    ws = wb.create_sheet(sheet)
    ws.append(list(BREAKDOWN_COLUMNS))
    for rec in breakdown.to_dict(orient="records"):
        ws.append([neutralise(rec[c].item() if hasattr(rec[c], "item") else rec[c]) for c in BREAKDOWN_COLUMNS])
    wb.save(path)
    return path
