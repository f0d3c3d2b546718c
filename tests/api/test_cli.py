"""`relocmatch keys create` prints the key alone; `relocmatch serve` refuses key-less mode beyond loopback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.store import Store
from matching.cli import app


def test_keys_create_prints_only_a_working_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    r = CliRunner().invoke(app, ["keys", "create", "--name", "acme", "--org", "Région", "--database-url", url])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert r.stdout == token + "\n" and token.startswith("rmk_")
    store = Store(url)
    p = store.verify_key(token)
    assert p is not None and (p.name, p.org) == ("acme", "Région")
    store.dispose()
    r = CliRunner().invoke(app, ["keys", "create", "--name", " ", "--database-url", url])
    assert r.exit_code == 1 and "--name" in r.output


def test_serve_refuses_keyless_mode_beyond_loopback(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # serve passes its options to workers through the environment: restore it afterwards
    # (setenv then delenv: monkeypatch only restores a variable it saw, and serve sets these)
    for var in ("RELOCMATCH_AUTH", "RELOCMATCH_HOST", "RELOCMATCH_CATALOG", "RELOCMATCH_DATABASE_URL",
                "RELOCMATCH_ENGINE_PROCESSES", "RELOCMATCH_RANKER", "RELOCMATCH_REDIS_URL",
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--no-auth", "--catalog", str(tmp_path)])
    assert r.exit_code == 1 and "loopback" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["serve", "--catalog", str(tmp_path / "missing")])
    assert r.exit_code == 1 and "no catalog folder" in r.output
