"""A batch killed half way (SIGKILL of the whole process group) and re-run: no duplicate, no missing line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from matching.batch.output import all_markers, read_dataset

ROOT = Path(__file__).resolve().parents[2]
CLI = "import sys; from matching.cli import main; sys.argv[0] = 'relocmatch'; main()"


def _cmd(table: Path, out: Path, catalog: Path) -> list[str]:
    return [sys.executable, "-c", CLI, "batch", str(table), "--catalog", str(catalog), "--out", str(out),
            "--workers", "1", "--no-semantic", "--top", "5", "--quiet"]


def test_killed_batch_resumes_without_duplicates(tmp_path: Path, irep_catalog_dir: Path) -> None:
    from tests.batch.conftest import write_lines_table

    table = write_lines_table(tmp_path / "lines.parquet", companies=8)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(_cmd(table, out, irep_catalog_dir), env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "_done").glob("*.json"))) >= 2:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool workers, mid-company
        proc.wait()
    done_at_kill = {m["company"]: m["finished_at"] for m in all_markers(out)}
    assert 2 <= len(done_at_kill) < 8, (len(done_at_kill), proc.stdout.read().decode()[-2000:])
    # what a reader sees after the kill: complete companies only, each line once
    partial = read_dataset(out, "lines")
    assert set(partial["company"].to_pylist()) == set(done_at_kill)

    r = subprocess.run(_cmd(table, out, irep_catalog_dir), env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{len(done_at_kill)} already complete" in r.stdout
    after = {m["company"]: m["finished_at"] for m in all_markers(out)}
    assert len(after) == 8
    assert all(after[c] == t for c, t in done_at_kill.items())  # finished companies were not redone
    lines = read_dataset(out, "lines")
    keys = list(zip(lines["company"].to_pylist(), lines["line_id"].to_pylist(), strict=True))
    want = pq.read_table(table)
    want_keys = set(zip(want["company"].to_pylist(), want["line_id"].to_pylist(), strict=True))
    assert len(keys) == len(set(keys)) == 305  # no duplicate
    assert set(keys) == want_keys  # no missing line
    sups = read_dataset(out, "suppliers")
    skeys = list(zip(sups["company"].to_pylist(), sups["line_id"].to_pylist(), sups["rank"].to_pylist(), strict=True))
    assert len(skeys) == len(set(skeys)) == sum(lines["n_suppliers"].to_pylist())
    # nothing temporary left behind, and the summary lists all eight
    assert not [p for p in (out / "lines").iterdir() if p.name.startswith(".")]
    assert (out / "summary.csv").read_text(encoding="utf-8").count("\ncompany-") == 8
    json.loads((out / "_done" / "company=company-00.json").read_text())
