"""`relocmatch users create|list|disable|enable|set-password|unlock`: the service's accounts.

The store is found like `relocmatch keys` finds it (`--database-url`, else
$RELOCMATCH_DATABASE_URL, else `var/relocmatch.sqlite3`). A password is never taken from the
command line (it would stay in the shell history and in `ps`): it is asked twice on a terminal,
or read as the first line of standard input (`printf '%s\\n' "$PW" | relocmatch users create ...`).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from matching.cli._common import user_errors
from matching.errors import ConfigError

app = typer.Typer(no_args_is_help=True)
DbOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default $RELOCMATCH_DATABASE_URL, else var/relocmatch.sqlite3).")]
EmailArg = Annotated[str, typer.Argument(help="The account's email address.")]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users", help="Manage the accounts of the advisor pages (admins, advisors, companies).")


@contextmanager
def _accounts(database_url: str | None) -> Iterator[Any]:
    """The Accounts of the configured store (tables created if missing); AccountError → one-line error."""
    from api.accounts import AccountError, Accounts
    from api.settings import Settings
    from api.store import Store

    settings = Settings.from_env(database_url=database_url)
    store = Store(settings.database_url, schema=settings.database_schema)
    try:
        store.create_all()
        yield Accounts.from_settings(store, settings)
    except AccountError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        store.dispose()


def read_password(prompt: str = "Password") -> str:
    """From a terminal: asked twice, hidden. Otherwise: the first line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != first:
            raise ConfigError("the two passwords differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise ConfigError("no password: type it at the prompt or send it as the first line of standard input")
    return line.rstrip("\r\n")


def _row(a: Any) -> dict[str, Any]:
    state = "disabled" if a.disabled else ("locked" if a.locked else "active")
    return {"id": a.id, "email": a.email, "name": a.name, "role": a.role, "org": a.org, "state": state,
            "locked_until": a.locked_until.isoformat(timespec="seconds") if a.locked_until else None,
            "failed_attempts": a.failed_attempts,
            "last_signin_at": a.last_signin_at.isoformat(timespec="seconds") if a.last_signin_at else None,
            "created_at": a.created_at.isoformat(timespec="seconds")}


@app.command("create")
def create(
    email: Annotated[str, typer.Option("--email", help="Sign-in address (stored lower-cased).")],
    role: Annotated[str, typer.Option("--role", help="admin, advisor or company.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation (advisors see its BOMs; required for company).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    database_url: DbOpt = None,
) -> None:
    """Create an account; the password is asked (terminal) or read from standard input."""
    with user_errors(), _accounts(database_url) as acc:
        from api.accounts import ROLES, normalise_email

        normalise_email(email)
        if role not in ROLES:  # before asking for a password
            raise ConfigError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
        a = acc.create(email, read_password(), role=role, org=org, name=name, by="cli")
        print(f"created {a.role} account {a.email} ({a.id}){f', organisation {a.org}' if a.org else ''}")


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    database_url: DbOpt = None,
) -> None:
    """Every account: email, role, organisation, state (active / locked / disabled), last sign-in."""
    with user_errors(), _accounts(database_url) as acc:
        rows = [_row(a) for a in acc.list()]
        if as_json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        t = Table("email", "role", "org", "state", "last sign-in", "id")
        for r in rows:
            state = r["state"] + (f" until {r['locked_until']}" if r["locked_until"] else "")
            t.add_row(r["email"], r["role"], r["org"] or "", state, r["last_signin_at"] or "", r["id"])
        Console().print(t)


@app.command("disable")
def disable(email: EmailArg, database_url: DbOpt = None) -> None:
    """Disable an account: it cannot sign in and its open sessions end now."""
    with user_errors(), _accounts(database_url) as acc:
        print(f"disabled {acc.set_disabled(email, True, by='cli').email}")


@app.command("enable")
def enable(email: EmailArg, database_url: DbOpt = None) -> None:
    """Re-enable a disabled account."""
    with user_errors(), _accounts(database_url) as acc:
        print(f"enabled {acc.set_disabled(email, False, by='cli').email}")


@app.command("set-password")
def set_password(email: EmailArg, database_url: DbOpt = None) -> None:
    """Set a new password (asked, or read from standard input); ends the account's sessions and lockout."""
    with user_errors(), _accounts(database_url) as acc:
        if acc.get(email) is None:
            raise ConfigError(f"no account {email!r}")
        print(f"password set for {acc.set_password(email, read_password('New password'), by='cli').email}")


@app.command("unlock")
def unlock(email: EmailArg, database_url: DbOpt = None) -> None:
    """Clear a lockout (after too many failed sign-ins) now."""
    with user_errors(), _accounts(database_url) as acc:
        print(f"unlocked {acc.unlock(email, by='cli').email}")
