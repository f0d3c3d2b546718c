"""`relocmatch semantic build` and `semantic info`: the label embeddings of the semantic channel.

Built once per model (like the catalog and the products model) into a folder with a manifest;
the engine loads them at start-up and never re-encodes the labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    model: str | None = typer.Option(None, "--model", "-m", help="minilm (English) or e5 (multilingual); default "
                                     "$RELOCMATCH_SEMANTIC_MODEL, else minilm."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Artifact folder (default $RELOCMATCH_MODELS/semantic-<model> "
                                    "or var/models/semantic-<model>)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Embed the CN8 labels (EN for minilm; FR, EN and DE for e5) with the model, once."""
    with user_errors():
        from matching.products.semantic import build as _build

        m = _build(model, out, data, log=lambda s: typer.echo(s, err=True))
        typer.echo(json.dumps({k: m[k] for k in ("model", "model_name", "package_version", "langs", "rows",
                                                 "build_seconds")}, indent=2))


@app.command("info")
def info(
    model: str | None = typer.Option(None, "--model", "-m", help="minilm or e5 (default as for build)."),
    folder: Path | None = typer.Argument(None, help="Artifact folder (default as for build)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Print the manifest after checking the embeddings are complete and match today's labels."""
    with user_errors():
        from matching.products import semantic as sem

        key = sem.model_key(model)
        spec = sem.MODELS[key]
        codes, texts = sem.label_texts(data, spec.max_chars)
        emb = sem.load(key, folder, codes=codes, texts=texts)
        typer.echo(json.dumps(emb.manifest, indent=2, sort_keys=True))
