"""`relocmatch batch INPUT --catalog DIR --out OUT` and `relocmatch batch-diff OLD NEW --out DIFF`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from matching.cli._common import user_errors

def batch(
    input_: Path = typer.Argument(..., metavar="INPUT",
                                         help="Folder of BOM files, manifest CSV (company,file,buyer) or Parquet "
                                              "table of lines (company,line_id,description,code,...)."),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder (`relocmatch catalog build`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (lines/, suppliers/, summary.csv)."),
    engine: str = typer.Option("local", "--engine", help="local (process pool, default) or spark."),
    workers: int | None = typer.Option(None, "--workers", "-w", help="Local engine: processes (default: cores)."),
    master: str = typer.Option("local[2]", "--master", help="Spark engine: master URL (local[N], spark://host:7077…)."),
    wave_lines: int = typer.Option(20_000, "--wave-lines",
                                   help="Spark engine: lines per Spark job (a kill loses at most one wave)."),
    force: bool = typer.Option(False, "--force", help="Redo companies that are already complete in OUT."),
    region: str = typer.Option("44", "--region", help="Région shown first (INSEE code; 44 = Grand Est)."),
    top: int = typer.Option(10, "--top", help="Suppliers per line."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="Lexical channels only (no embedding model)."),
    ranker: Path | None = typer.Option(None, "--ranker", envvar="RELOCMATCH_RANKER",
                                       help="Ranker JSON from `relocmatch ranker fit` (default: prior weights)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Match every company's purchase list against a catalog into partitioned Parquet (resumable)."""
    with user_errors():
        from rich.console import Console

        from matching.batch import EngineSettings, make_engine, run_batch
        from matching.errors import ConfigError

        if not (catalog / "manifest.json").is_file():
            raise ConfigError(f"--catalog {catalog}: not a catalog folder (no manifest.json)")
        if top < 1:
            raise ConfigError(f"--top {top}: expected at least 1")
        err = Console(stderr=True)
        data_dir = str(data) if data else None
        if data_dir is None:
            import os

            data_dir = os.environ.get("RELOCMATCH_DATA")
        settings = EngineSettings(catalog=str(catalog.resolve()), data_dir=str(Path(data_dir).resolve()) if data_dir else None,
                                  region=region, top=top, semantic=False if no_semantic else None,
                                  ranker=str(ranker.resolve()) if ranker else None)
        eng = make_engine(engine, workers=workers, master=master, progress=not quiet, wave_lines=wave_lines)
        rep = run_batch(input_, out, settings, eng, force=force, log=lambda m: err.print(m, style="dim", highlight=False))
        for n in rep.notes:
            err.print(n, style="dim", highlight=False)
        print(f"batch {out}: {rep.companies} companies, {len(rep.done)} matched ({rep.lines} lines) with the "
              f"{rep.engine} engine in {rep.seconds:.1f} s, {len(rep.skipped)} already complete, "
              f"{len(rep.failed)} not done; summary in {rep.summary}")
        for f in rep.failed:
            print(f"  {f['status']}: {f['company']}: {f['reason']}")


def diff(
    old: Path = typer.Argument(..., help="OUT folder of the previous run (previous catalog)."),
    new: Path = typer.Argument(..., help="OUT folder of the new run (refreshed catalog)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the diff report (summary.csv, new_regional_suppliers.csv)."),
    region: str = typer.Option("44", "--region", help="Région whose suppliers count (44 = Grand Est)."),
) -> None:
    """Per company: regional suppliers proposed now that the previous run did not propose."""
    with user_errors():
        from matching.batch.diff import diff_runs

        rep = diff_runs(old, new, out, region=region)
        print(f"diff {old} → {new}: {rep['companies']} companies, {rep['new_pairs']} new regional supplier(s) "
              f"for {rep['companies_with_new']} companies, {rep['gone_pairs']} no longer proposed; "
              f"written to {out}", file=sys.stdout)


def register(app: typer.Typer) -> None:
    """Attach `batch` and `batch-diff` to the root app."""
    app.command("batch")(batch)
    app.command("batch-diff")(diff)
