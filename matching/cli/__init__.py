"""The `relocmatch` command: one root app, one sub-module per verb group.

Each sub-module owns its verbs; this file only wires them together so that
`relocmatch --help` lists everything. Heavy imports happen inside commands.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="relocmatch",
    help="Find French (and Grand Est) alternative suppliers for imported inputs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from matching.cli import batch, bom, catalog, codes, data, match, observatory, ranker, serve
    from matching.cli import db
    from matching.cli import users
    from matching.cli import products
    from matching.cli import semantic
    from matching.cli import services

    app.add_typer(data.app, name="data", help="Check the reference-data bundle.")
    app.add_typer(codes.app, name="codes", help="Explain product codes (HS/CN/TARIC) and their producing activities.")
    app.add_typer(catalog.app, name="catalog", help="Build and inspect supplier catalogs.")
    app.add_typer(bom.app, name="bom", help="Read and inspect BOM / purchase-list files.")
    app.add_typer(ranker.app, name="ranker", help="Fit ranking weights from labelled lines or feedback.")
    app.add_typer(db.app, name="db", help="The service store: schema revision and upgrades, backup and restore.")
    app.add_typer(products.app, name="products", help="Build and check the learned product-understanding artifact.")
    app.add_typer(semantic.app, name="semantic", help="Build and check the label embeddings of the semantic channel.")
    app.add_typer(services.app, name="services", help="Build and check the service reader's multilingual embeddings.")
    match.register(app)
    serve.register(app)
    observatory.register(app)
    from matching.cli import sites

    app.add_typer(sites.app, name="sites", help="Site registers (brownfields, business parks) and relocation projects ranked against them.")
    batch.register(app)
    users.register(app)
    from matching.cli import retention

    retention.register(app)


_register()


def main() -> None:  # console-script entry point
    app()
