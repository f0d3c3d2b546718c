"""`relocmatch bom ...` verbs: inspect what the reader understood of a BOM file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)

_LINE_KEYS = ("row", "status", "description", "code", "quantity", "unit", "origin_country", "annual_value_eur", "messages")


def _parse_map(text: str | None) -> dict[str, str] | None:
    from matching.errors import BomError

    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise BomError(f"--map {part!r}: expected role=column, e.g. description=B,code=C")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@app.command("inspect")
def inspect(
    file: Path = typer.Argument(..., help="BOM file: CSV/TSV/TXT, XLSX/XLSM, ODS or JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print layout and lines as JSON."),
    map_: str | None = typer.Option(None, "--map", help="Override columns: description=B,code=C (letter, index or header); unit_price= for none."),
    sheet: str | None = typer.Option(None, "--sheet", help="Sheet name (default: the one that looks like a BOM)."),
    rows: int = typer.Option(20, "--rows", help="How many lines to show (0 = all)."),
) -> None:
    """Show the detected layout, the column mapping with its evidence and the first lines as understood."""
    with user_errors():
        from matching.bom import read_bom

        res = read_bom(file, mapping=_parse_map(map_), sheet=sheet)
        lines = res.lines if rows <= 0 else res.lines[:rows]
        n_items = len(res.items)
        if as_json:
            out = {
                "file": str(file),
                "layout": res.layout.to_dict(),
                "summary": {
                    "rows": len(res.lines),
                    "items": n_items,
                    "warnings": sum(1 for ln in res.lines if ln.status == "warning"),
                    "skipped": sum(1 for ln in res.lines if ln.status == "skipped"),
                },
                "lines": [{k: (list(v) if k == "messages" else v) for k, v in ln.to_dict().items() if k in _LINE_KEYS} for ln in lines],
            }
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        _print_rich(file, res, lines, n_items)


def _print_rich(file: Path, res, lines, n_items: int) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    from matching.export import neutralise

    con = Console(width=None if Console().is_terminal else 160)
    lay = res.layout
    con.print(f"[bold]{file}[/bold]")
    bits = [f"format={lay.format}"]
    if lay.encoding:
        bits.append(f"encoding={lay.encoding}")
    if lay.delimiter:
        bits.append(f"delimiter={lay.delimiter!r}")
    if lay.sheet:
        bits.append(f"sheet={lay.sheet!r}")
    bits.append(f"header_row={lay.header_row}")
    con.print("  " + "  ".join(bits))
    con.print(
        f"  {len(res.lines)} rows: {n_items} items "
        f"({sum(1 for ln in res.lines if ln.status == 'warning')} with warnings), "
        f"{sum(1 for ln in res.lines if ln.status == 'skipped')} skipped"
    )
    t = Table(title="Columns", show_lines=False)
    t.add_column("role")
    t.add_column("col")
    t.add_column("header as written")
    t.add_column("evidence")
    for role, header in lay.columns.items():
        t.add_row(role, lay.column_letters.get(role, ""), header, lay.evidence.get(role, ""))
    con.print(t)
    for n in lay.notes:
        con.print(f"  [yellow]note:[/yellow] {n}", markup=True, highlight=False)
    lt = Table(title=f"Lines (first {len(lines)})")
    for c in ("row", "status", "description", "code", "qty", "unit", "origin", "value €", "messages"):
        lt.add_column(c, overflow="fold")
    for ln in lines:
        lt.add_row(
            str(ln.row),
            ln.status,
            str(neutralise(ln.description))[:60],
            ln.code or (ln.code_raw or ""),
            "" if ln.quantity is None else f"{ln.quantity:g}",
            ln.unit or "",
            ln.origin_country or "",
            "" if ln.annual_value_eur is None else f"{ln.annual_value_eur:,.2f}",
            "; ".join(ln.messages)[:80],
        )
    con.print(lt)
