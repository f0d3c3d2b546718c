"""Issue 14, defect 4: every command that reads the service store finds it the same way as
`serve` and `keys create`: an option, else RELOCMATCH_DATABASE_URL, else var/relocmatch.sqlite3."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.settings import Settings
from api.store import Store, obs_upsert_lines
from matching.cli import app
from matching.cli._store import DEFAULT_DATABASE_URL, store_location
from matching.errors import ConfigError
from matching.observatory import TrackedLine

runner = CliRunner()


def test_one_resolution_option_then_environment_then_default() -> None:
    assert DEFAULT_DATABASE_URL == Settings().database_url == "sqlite:///var/relocmatch.sqlite3"
    env = {"RELOCMATCH_DATABASE_URL": "sqlite:///env.sqlite3", "RELOCMATCH_DATABASE_SCHEMA": "s1"}
    assert store_location("sqlite:///opt.sqlite3", None, env).url == "sqlite:///opt.sqlite3"
    loc = store_location(None, None, env)
    assert (loc.url, loc.schema, loc.source) == ("sqlite:///env.sqlite3", "s1", "RELOCMATCH_DATABASE_URL")
    loc = store_location(None, None, {})
    assert (loc.url, loc.schema, loc.source) == (DEFAULT_DATABASE_URL, None, "default")
    with pytest.raises(ConfigError, match="not a database URL"):
        store_location("var/relocmatch.db", None, {})


def _track_one(url: str) -> None:
    store = Store(url)
    store.create_all()
    owner = store.create_key("advisor", "ad-ge")[1]
    obs_upsert_lines(store, owner, [TrackedLine(company="ACME", line=1, annual_value_eur=1234.0)])
    store.dispose()


def test_report_reads_the_default_store_that_keys_create_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELOCMATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("RELOCMATCH_DATABASE_SCHEMA", raising=False)
    r = runner.invoke(app, ["keys", "create", "--name", "agence"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "var" / "relocmatch.sqlite3").is_file()
    _track_one(DEFAULT_DATABASE_URL)  # relative to the working directory, like serve
    r = runner.invoke(app, ["observatory", "report", "--out", "report.xlsx"])
    assert r.exit_code == 0, r.output
    assert "1 lines, imported value 1,234 EUR" in r.stdout and (tmp_path / "report.xlsx").is_file()


def test_report_reads_relocmatch_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    monkeypatch.setenv("RELOCMATCH_DATABASE_URL", url)
    _track_one(url)
    r = runner.invoke(app, ["observatory", "report", "--out", "r.xlsx"])
    assert r.exit_code == 0, r.output
    assert "1 lines" in r.stdout
    assert not (tmp_path / "var").exists()  # no stray default store created beside it


def test_help_names_the_real_store() -> None:
    for cmd in (["observatory", "report", "--help"], ["serve", "--help"], ["keys", "create", "--help"],
                ["ranker", "fit", "--help"]):
        out = runner.invoke(app, cmd, env={"COLUMNS": "200"}).stdout
        assert "relocmatch.sqlite3" in out and "relocmatch.db" not in out, cmd
