"""`relocmatch ranker fit` and `ranker show`: fitted ranking weights as a JSON file.

Fitted from labelled lines (true NAF codes, the dev-set CSV) or from the service's stored
feedback (``--feedback``: the store ``relocmatch serve`` uses, or ``--feedback-db URL``); the file is
then given to `match`, `search`, `evaluate` and `serve` with ``--ranker`` (or
``RELOCMATCH_RANKER``). JSON only, never pickle: the file is readable and diffable.
"""

from __future__ import annotations

from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


def _weights_table(ranker) -> str:  # noqa: ANN001
    from matching.rank import PRIOR_SCALE

    prior = ranker._prior() * PRIOR_SCALE
    rows = [f"{'feature':<12} {'prior':>8} {'fitted':>8} {'change':>8}"]
    for j, k in enumerate(ranker.feature_names):
        if ranker.is_fitted:
            c = float(ranker.coef_[j])
            rows.append(f"{k:<12} {prior[j]:>8.3f} {c:>8.3f} {c - prior[j]:>+8.3f}")
        else:
            rows.append(f"{k:<12} {prior[j]:>8.3f} {'—':>8} {'—':>8}")
    if ranker.is_fitted:
        rows.append(f"{'intercept':<12} {-PRIOR_SCALE / 2:>8.3f} {ranker.intercept_:>8.3f} "
                    f"{ranker.intercept_ + PRIOR_SCALE / 2:>+8.3f}")
    return "\n".join(rows)


def _read_feedback(url: str | None, schema: str | None) -> list[tuple[str, str, str]]:
    """Feedback from the service's store (``--feedback-db``, else where ``serve`` keeps it)."""
    import sqlalchemy as sa

    from matching.cli._store import open_store
    from matching.errors import ConfigError

    with open_store(url, schema) as store:
        try:
            return store.feedback_for_training()
        except sa.exc.SQLAlchemyError as exc:
            raise ConfigError(f"service store: cannot read feedback ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0]})") from None


@app.command("fit")
def fit(
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder the pairs are computed on."),
    out: Path = typer.Option(..., "--out", "-o", help="Ranker JSON file to write."),
    labels: Path | None = typer.Option(None, "--labels", help="Labelled lines CSV (id,lang,description,code,...,hs6,naf)."),
    feedback: bool = typer.Option(False, "--feedback", help="Fit from the feedback in the service's store "
                                  "($RELOCMATCH_DATABASE_URL, else sqlite:///var/relocmatch.sqlite3)."),
    feedback_db: str | None = typer.Option(None, "--feedback-db", help="Fit from the feedback in this store URL "
                                           "instead (implies --feedback)."),
    db_schema: str | None = typer.Option(None, "--db-schema", help="PostgreSQL schema of the service tables "
                                         "(default $RELOCMATCH_DATABASE_SCHEMA)."),
    prior_strength: float = typer.Option(200.0, "--prior-strength", min=0.0,
                                         help="How many labelled pairs the prior weights are worth."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="Lexical channels only (no embedding model)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Fit the ranking weights from labelled lines or from stored feedback; write them as JSON."""
    with user_errors():
        from matching.config import MatchConfig
        from matching.errors import ConfigError
        from matching.pipeline import Matcher

        from_store = feedback or feedback_db is not None
        if (labels is None) == (not from_store):
            raise ConfigError("give exactly one of --labels LINES.csv or --feedback (the service's store; "
                              "--feedback-db URL for another)")
        feedback_rows = _read_feedback(feedback_db, db_schema) if from_store else None
        matcher = Matcher.from_catalog(catalog, MatchConfig(semantic=False if no_semantic else None), data_dir=data)
        if labels is not None:
            from matching.evaluate import fit_ranker, load_labels

            rows = load_labels(labels)
            ranker = fit_ranker(matcher, rows, prior_strength=prior_strength)
            info = ranker.fit_info_
            report = {"lines": len(rows), "pairs": info["pairs"], "positives": info["positives"],
                      "negatives": info["negatives"], "skipped": None}
            ranker.fit_info_ = {**info, "file": str(labels)}
        else:
            from matching.feedback import fit_ranker_from_feedback

            ranker, report = fit_ranker_from_feedback(matcher, feedback_rows or [], prior_strength=prior_strength)
        ranker.save(out)
        msg = f"{report['pairs']} pairs ({report['positives']} positive, {report['negatives']} negative)"
        if labels is not None:
            msg += f" from {report['lines']} labelled lines"
        else:
            reasons = ", ".join(f"{k} {v}" for k, v in report["skipped_reasons"].items())
            msg += (f" from {report['judgements']} feedback judgements on {report['lines']} lines; "
                    f"skipped {report['skipped']}" + (f" ({reasons})" if reasons else "")
                    + (f"; superseded {report['superseded']}" if report["superseded"] else ""))
        typer.echo(msg)
        if not ranker.n_samples_seen_:
            typer.echo("both positive and negative pairs are needed to learn: the file keeps the prior weights")
        typer.echo(_weights_table(ranker))
        typer.echo(f"written {out}")


@app.command("show")
def show(path: Path = typer.Argument(..., help="Ranker JSON file.")) -> None:
    """Print a ranker file's weights against the priors and what it was fitted on."""
    with user_errors():
        from matching.rank import LinearRanker

        r = LinearRanker.load(path)
        info = getattr(r, "fit_info_", None) or {}
        if info:
            typer.echo(", ".join(f"{k}: {v}" for k, v in info.items()))
        typer.echo(_weights_table(r))
