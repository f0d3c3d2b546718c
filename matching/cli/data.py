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
            }
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            _print_table(root, checks, cov, cov_error)
        if bad or cov_error:
            names = ", ".join(f"{c.path} ({c.status})" for c in bad) or cov_error
            print(f"error: reference data in {root} is incomplete: {names}", file=sys.stderr)
            raise typer.Exit(1)


def _print_table(root: Path, checks: list[Any], cov: dict[str, Any] | None, cov_error: str | None) -> None:
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
