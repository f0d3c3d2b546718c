"""`relocmatch products build` and `products info`: the learned product-understanding artifact.

Built once (like the catalog) from the reference data into a folder with a manifest; the engine
loads it at start-up and never refits it.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    out: Path | None = typer.Option(None, "--out", "-o", help="Artifact folder (default $RELOCMATCH_MODELS/products "
                                    "or var/models/products)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
    seed: int = typer.Option(12, "--seed", help="Seed of the synthetic queries and of the training."),
    threads: int = typer.Option(2, "--threads", min=1, help="PyTorch threads for the training."),
) -> None:
    """Build the label lexicon and train the product model on synthetic queries from the labels."""
    with user_errors():
        from matching.products.artifacts import BuildConfig
        from matching.products.artifacts import build as _build

        m = _build(out, data, config=BuildConfig(seed=seed, threads=threads), log=lambda s: typer.echo(s, err=True))
        typer.echo(json.dumps({k: m[k] for k in ("version", "built_at", "build_seconds", "training")}, indent=2))


@app.command("info")
def info(
    folder: Path | None = typer.Argument(None, help="Artifact folder (default as for build)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Print the manifest after checking the artifact is complete and fresh."""
    with user_errors():
        from matching.products.artifacts import check

        typer.echo(json.dumps(check(folder, data), indent=2, sort_keys=True))
