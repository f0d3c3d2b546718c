"""`relocmatch services build` and `services info`: the service reader's multilingual embeddings.

Built once (~2.5 min) into a folder with a manifest, like the label embeddings; the service reader
loads them and never encodes the nomenclature's texts at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    out: Path | None = typer.Option(None, "--out", "-o", help="Artifact folder (default $RELOCMATCH_MODELS/services-e5 "
                                    "or var/models/services-e5)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Embed the service classes' texts (NACE/CPA names and note items, FR and EN) with multilingual-e5-small,
    and train the service/goods detector into the cache (else the first line without a service cue pays it)."""
    with user_errors():
        from matching.products import service_vectors as sv
        from matching.products.service_detector import get_detector
        from matching.products.services import ServiceClassifier

        classes, idx, texts = ServiceClassifier(data).short_texts()
        m = sv.build(classes, idx, texts, out, log=lambda s: typer.echo(s, err=True))
        typer.echo("services: the service/goods detector (trained once from the nomenclature, cached)", err=True)
        get_detector(data)
        typer.echo(json.dumps({k: m[k] for k in ("model", "model_name", "package_version", "rows", "build_seconds")},
                              indent=2))


@app.command("info")
def info(
    folder: Path | None = typer.Argument(None, help="Artifact folder (default as for build)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Print the manifest after checking the embeddings match today's nomenclature texts."""
    with user_errors():
        from matching.products import service_vectors as sv
        from matching.products.services import ServiceClassifier

        classes, idx, texts = ServiceClassifier(data).short_texts()
        typer.echo(json.dumps(sv.load(classes, idx, texts, folder).manifest, indent=2, sort_keys=True))
