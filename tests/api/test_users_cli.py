"""`relocmatch users ...`: accounts from the command line, the store found like `keys` finds it,
the password from standard input (never from the command line)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.accounts import Accounts
from api.store import Store
from matching.cli import app

PW = "a long enough password"


def _run(args, url, input=None, env=None):  # noqa: A002
    return CliRunner().invoke(app, ["users", *args], input=input, env={"RELOCMATCH_DATABASE_URL": url, **(env or {})})


def test_users_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    fast = {"RELOCMATCH_PASSWORD_TIME_COST": "1", "RELOCMATCH_PASSWORD_MEMORY_KIB": "1024"}
    r = _run(["create", "--email", "Ana@AD.fr", "--role", "advisor", "--org", "AD Grand Est"], url, PW + "\n", fast)
    assert r.exit_code == 0, r.output
    assert "created advisor account ana@ad.fr" in r.stdout and PW not in r.output
    store = Store(url)  # found through RELOCMATCH_DATABASE_URL, like every command

    def stored_hash():
        with store.engine.connect() as conn:
            return conn.exec_driver_sql("select password_hash from accounts").scalar()

    assert stored_hash().startswith("$argon2id$v=19$m=1024,t=1,")  # the configured cost
    acc = Accounts(store)  # default cost: the hash is redone at sign-in
    assert acc.authenticate("ana@ad.fr", PW).reason == "ok"
    assert stored_hash().startswith("$argon2id$v=19$m=65536,t=3,p=4$")

    r = _run(["list", "--json"], url)
    rows = json.loads(r.stdout)
    assert [(x["email"], x["role"], x["org"], x["state"]) for x in rows] == [("ana@ad.fr", "advisor", "AD Grand Est", "active")]

    assert _run(["disable", "ana@ad.fr"], url).exit_code == 0
    assert acc.authenticate("ana@ad.fr", PW).reason == "disabled"
    assert json.loads(_run(["list", "--json"], url).stdout)[0]["state"] == "disabled"
    assert _run(["enable", "ana@ad.fr"], url).exit_code == 0
    for _ in range(5):
        acc.authenticate("ana@ad.fr", "wrong password!!")
    assert json.loads(_run(["list", "--json"], url).stdout)[0]["state"] == "locked"
    assert _run(["unlock", "ana@ad.fr"], url).exit_code == 0
    assert acc.authenticate("ana@ad.fr", PW).reason == "ok"
    r = _run(["set-password", "ana@ad.fr"], url, "another long password\n")
    assert r.exit_code == 0 and "password set" in r.stdout
    assert acc.authenticate("ana@ad.fr", "another long password").reason == "ok"
    assert "ana@ad.fr" in _run(["list"], url).stdout
    store.dispose()


def test_users_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    cases = [
        (["create", "--email", "x@ad.fr", "--role", "root"], PW + "\n", "expected one of admin, advisor, company"),
        (["create", "--email", "nope", "--role", "advisor"], PW + "\n", "expected an address"),
        (["create", "--email", "x@ad.fr", "--role", "advisor"], "short\n", "at least 12 characters"),
        (["create", "--email", "x@ad.fr", "--role", "advisor"], "", "no password"),
        (["disable", "ghost@ad.fr"], None, "no account 'ghost@ad.fr'"),
        (["set-password", "ghost@ad.fr"], PW + "\n", "no account"),
    ]
    for args, stdin, msg in cases:
        r = _run(args, url, stdin)
        assert r.exit_code == 1 and msg in r.output and "Traceback" not in r.output, (args, r.output)
    # there is no option to pass a password on the command line
    r = _run(["create", "--email", "x@ad.fr", "--role", "advisor", "--password", PW], url, PW + "\n")
    assert r.exit_code != 0 and "No such option" in r.output
