"""`relocmatch purge` and `relocmatch erase`: the store's retention and erasure (api/retention.py).

The store is found like every command finds it (``matching.cli._store``): ``--database-url``,
else ``RELOCMATCH_DATABASE_URL``, else ``var/relocmatch.sqlite3``; the retention periods from
the ``RELOCMATCH_RETENTION_*`` variables the service reads.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from matching.cli._common import cli_actor, user_errors
from matching.cli._store import SCHEMA_HELP, STORE_HELP, open_store

DbUrl = Annotated[str | None, typer.Option("--database-url", help=STORE_HELP)]
DbSchema = Annotated[str | None, typer.Option("--db-schema", help=SCHEMA_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _print(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    verb = "would remove" if report.dry_run else "removed"
    head = report.action + (f" {report.target}" if report.target else "") + (" (dry run)" if report.dry_run else "")
    print(f"{head}: {verb} {report.total} row(s)")
    for kind, n in report.counts.items():
        print(f"  {kind:<24}{n}")
    for kind, rule in report.policy.items():
        print(f"  kept: {kind:<18}{rule}")


def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be removed; remove nothing.")] = False,
    as_json: AsJson = False, database_url: DbUrl = None, db_schema: DbSchema = None,
) -> None:
    """Remove what the retention policy no longer keeps (finished jobs with their results and
    uploads, unconfirmed uploads, feedback, audit lines, dead sessions) and print what, per kind.
    The service does the same every day (RELOCMATCH_PURGE_INTERVAL_HOURS)."""
    from api.retention import RetentionPolicy
    from api.retention import purge as run_purge

    with user_errors():
        try:
            policy = RetentionPolicy.from_env()
        except ValueError as exc:
            raise typer.BadParameter(f"RELOCMATCH_RETENTION_*: {exc}") from None
        with open_store(database_url, db_schema) as store:
            _ensure_current(store)
            report = run_purge(store, policy, dry_run=dry_run, by=cli_actor())
        _print(report, as_json)


def erase(
    organisation: Annotated[str | None, typer.Option("--organisation", "--org", help="Erase this organisation's data.")] = None,
    company: Annotated[str | None, typer.Option("--company", help="Erase this company's data (observatory name, "
                                                "or a company account's name/email).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do it without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be erased; erase nothing.")] = False,
    as_json: AsJson = False, database_url: DbUrl = None, db_schema: DbSchema = None,
) -> None:
    """Erase one organisation's or one company's uploads, jobs, results, feedback, observatory lines
    and events, on request; the audit log records who erased what and when, without the data."""
    from api.retention import erase as run_erase

    if (organisation is None) == (company is None):
        raise typer.BadParameter("give exactly one of --organisation ORG or --company NAME")
    with user_errors():
        with open_store(database_url, db_schema) as store:
            _ensure_current(store)
            kw = {"org": organisation} if organisation is not None else {"company": company}
            preview = run_erase(store, by=cli_actor(), dry_run=True, **kw)  # type: ignore[arg-type]
            if dry_run:
                _print(preview, as_json)
                return
            if not yes:
                _print(preview, False)
                if not typer.confirm(f"erase {preview.target} for good?", default=False):
                    print("nothing erased")
                    raise typer.Exit(1)
            report = run_erase(store, by=cli_actor(), **kw)  # type: ignore[arg-type]
        _print(report, as_json)


def _ensure_current(store: Any) -> None:
    """Refuse a store whose schema is behind or newer (its tables may not be the ones purged)."""
    from api.migrate import ensure

    ensure(store, auto_upgrade=False)


def register(app: typer.Typer) -> None:
    app.command("purge")(purge)
    app.command("erase")(erase)
