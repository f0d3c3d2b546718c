"""`relocmatch data ...`: checking the reference-data bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Reference-data directory (default: $RELOCMATCH_DATA).")
]


@app.command("check")
def check(
    data: DataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report instead of a table.")] = False,
    coverage: Annotated[
        bool, typer.Option("--coverage/--no-coverage", help="Also measure crosswalk coverage (CN 2023, HS6).")
    ] = True,
) -> None:
    """Check every reference file (present, columns, row counts, code formats) and crosswalk coverage.

    Exits 1 naming each missing or malformed required file.
    """
    from matching import refdata

    with user_errors():
        root = refdata.data_dir(data)
        checks = refdata.check_bundle(root)
        bad = [c for c in checks if not c.ok]
        cov: dict[str, Any] | None = None
        cov_error = None
        if coverage and not bad:
            from matching.codes import get_crosswalk
            from matching.errors import RelocmatchError

            try:
                cov = get_crosswalk(root).coverage()
            except RelocmatchError as exc:
                cov_error = str(exc)
        repairs = _point_repairs(root) if not bad else None
        if as_json:
            report = {
                "data_dir": str(root),
                "ok": not bad and cov_error is None,
                "files": [
                    {"key": c.key, "path": c.path, "status": c.status, "rows": c.rows, "problem": c.problem,
                     "required": c.required}
                    for c in checks
                ],
                "coverage": cov,
                "coverage_error": cov_error,
                "geo_point_repairs": repairs,
            }
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            _print_table(root, checks, cov, cov_error, repairs)
        if bad or cov_error:
            names = ", ".join(f"{c.path} ({c.status})" for c in bad) or cov_error
            print(f"error: reference data in {root} is incomplete: {names}", file=sys.stderr)
            raise typer.Exit(1)


def _point_repairs(root: Path) -> dict[str, Any] | None:
    """Town-hall points moved back into their département when the geo table was built
    (issue 16, defect 7): count by kind and examples, from the table's manifest."""
    from matching.errors import RelocmatchError
    from matching.geo import get_geo

    try:
        geo = get_geo(root)
    except RelocmatchError:
        return None
    by_source: dict[str, int] = {}
    for r in geo.repairs:
        by_source[r["source"]] = by_source.get(r["source"], 0) + 1
    examples = []
    for r in geo.repairs[:8]:
        info = geo.commune(r["code"])
        examples.append({**r, "name": info.name if info else None})
    return {"count": len(geo.repairs), "by_source": by_source, "examples": examples,
            "method": geo.artifact.get("point_repairs", {}).get("method", "heuristic"),
            "table": geo.artifact.get("version"), "built_at": geo.artifact.get("built_at")}


def _print_table(root: Path, checks: list[Any], cov: dict[str, Any] | None, cov_error: str | None,
                 repairs: dict[str, Any] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Reference data in {root}")
    table.add_column("file")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("problem", overflow="fold")
    colour = {"ok": "green", "optional-missing": "yellow", "missing": "red", "malformed": "red"}
    for c in checks:
        table.add_row(
            c.path, f"[{colour[c.status]}]{c.status}[/]", "" if c.rows is None else f"{c.rows:,}", c.problem
        )
    console.print(table)
    if cov:
        for name, label in (("cn2023", "CN 2023 eight-digit codes"), ("hs2022_hs6", "HS 2022 six-digit codes")):
            v = cov[name]
            routes = ", ".join(f"{k} {n}" for k, n in v["routes"].items())
            console.print(
                f"coverage: {label} reaching ≥1 NAF sous-classe: {v['reached']:,}/{v['codes']:,} "
                f"= {v['share']:.2%} ({routes})"
            )
    if cov_error:
        console.print(f"[red]coverage could not be measured: {cov_error}[/]")
    if repairs is not None:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(repairs["by_source"].items(), key=lambda kv: -kv[1]))
        how = repairs.get("method", "heuristic")
        how = "neighbour heuristic, no polygons" if how == "heuristic" else f"commune polygons, {how}"
        console.print(f"town-hall points displaced, repaired: {repairs['count']:,}"
                      + (f" ({kinds})" if kinds else "") + f" — checked by {how}")
        for r in repairs["examples"]:
            new = "none" if r["repaired"] is None else f"{r['repaired'][0]:.4f}, {r['repaired'][1]:.4f}"
            console.print(f"  {r['code']} {r['name'] or ''} ({r['departement']}): "
                          f"{r['written'][0]:.4f}, {r['written'][1]:.4f} → {new} \\[{r['source']}] {r['reason']}",
                          soft_wrap=True)
