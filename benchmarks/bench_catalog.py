"""Catalog build benchmark: a synthetic 1,000,000-row SIRENE file → catalog table + geography.

Each step runs as its own child process; wall time and that child's peak RSS come
from ``os.wait4`` (Linux ``ru_maxrss`` in KiB). Target (issue 3, 2-core machine):
build under 3 minutes and under 4 GiB peak for the table and geography; the matching
indexes are measured separately (``--with-indexes`` adds that figure).

    RELOCMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_catalog.py [--rows N]
        [--format gz|parquet] [--with-indexes] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; from matching.cli import main; sys.argv[0] = 'relocmatch'; main()"


def _popen_wait4(args: list[str]) -> tuple[int, float, float, str, str]:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        proc = subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=fo, stderr=fe, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        return proc.returncode, wall, usage.ru_maxrss / 1024, fo.read().strip(), fe.read().strip()


def step(name: str, args: list[str]) -> dict:
    rc, wall, peak, out, err = _popen_wait4(args)
    if rc != 0:
        print(f"{name}: failed (exit {rc}): {err.splitlines()[-1] if err else ''}", file=sys.stderr)
        sys.exit(1)
    return {"step": name, "seconds": round(wall, 1), "peak_rss_mib": round(peak, 1), "stdout": out}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["gz", "parquet"], default="gz")
    ap.add_argument("--with-indexes", action="store_true", help="also time a build that writes the indexes")
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    if not os.environ.get("RELOCMATCH_DATA"):
        print("bench_catalog: set RELOCMATCH_DATA (e.g. ../shared/data)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        src = Path(tmp) / ("synth.csv.gz" if a.format == "gz" else "synth.parquet")
        results = [step("synth", ["catalog", "synth", "--rows", str(a.rows), "--out", str(src), "--quiet"])]
        results.append(step("build (table + geography)", ["catalog", "build", "--source", "sirene", str(src),
                                                          "--out", str(Path(tmp) / "cat"), "--quiet",
                                                          "--no-indexes"]))
        if a.with_indexes:
            results.append(step("build (table + geography + indexes)",
                                ["catalog", "build", "--source", "sirene", str(src), "--out",
                                 str(Path(tmp) / "cat2"), "--quiet"]))
        manifest = json.loads((Path(tmp) / "cat" / "manifest.json").read_text())
        size = src.stat().st_size
    print(f"catalog benchmark: {a.rows:,} synthetic SIRENE rows ({a.format}, {size / 2**20:.0f} MiB), "
          f"{manifest['suppliers']:,} suppliers kept, {os.cpu_count()} CPUs")
    for r in results:
        ok = ""
        if r["step"].startswith("build (table + geography)"):
            ok = "  [target <180 s, <4096 MiB: " + (
                "met]" if r["seconds"] < 180 and r["peak_rss_mib"] < 4096 else "MISSED]")
        print(f"  {r['step']:<40} {r['seconds']:>7.1f} s   peak RSS {r['peak_rss_mib']:>8.1f} MiB{ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
