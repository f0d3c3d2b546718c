"""Catalog-area fixtures: paths to the real registers and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def irep_csv(data_dir: Path) -> Path:
    return data_dir / "establishments" / "irep_etablissements_industriels.csv"


@pytest.fixture(scope="session")
def sirene_sample(data_dir: Path) -> Path:
    return data_dir / "sirene" / "sirene_etablissements_isere_4711_sample.csv"


@pytest.fixture()
def cli():
    """Run `relocmatch ...` in-process; returns (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from matching.cli import app

    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        res = runner.invoke(app, [str(a) for a in args])
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        return res.exit_code, res.stdout, res.stderr

    return run
