"""Start-up benchmark: the whole process of `relocmatch match` on a one-line file (issue 12).

Runs `relocmatch match ONE_LINE.csv --catalog DIR --format json` N times with the semantic
channel and N times without (`--no-semantic`), each a fresh process, and prints the median and
maximum wall time, the median CPU time (user + system) and the maximum resident set size of the
process. One unmeasured run first builds what is built once per bundle (geo table, classifier
tables and indexes, crosswalk tables, label embeddings) if missing, so the figures are those of
every later start-up. Goals: <= 2.5 s without the semantic channel, <= 5 s with it.

    .venv/bin/python benchmarks/bench_startup.py [--catalog var/catalogs/irep] [--runs 5] [--line "roulement à billes"]

Not a test: timings depend on the machine and its load (report `uptime` beside the figures).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("relocmatch")
    return [str(exe)] if exe.is_file() else [sys.executable, "-c", "import sys; from matching.cli import main; sys.argv[0] = 'relocmatch'; sys.exit(main())"]


def run_once(argv: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, max RSS KiB) of one child process, from wait4's resource usage."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` exited {proc.returncode}: {err.strip()[-500:]}")
    return wall, ru.ru_utime + ru.ru_stime, int(ru.ru_maxrss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=str(ROOT / "var" / "catalogs" / "irep"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--line", default="roulement à billes")
    ap.add_argument("--modes", default="semantic,no-semantic", help="comma-separated: semantic, no-semantic")
    args = ap.parse_args()
    if not Path(args.catalog, "manifest.json").is_file():
        raise SystemExit(f"no catalog at {args.catalog}; build it with `make catalog`")
    tmp = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        one = tmp / "one_line.csv"
        one.write_text(f"description,quantity\n{args.line},10\n", encoding="utf-8")
        print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
        print(f"{'mode':<12} {'runs':>4} {'wall p50':>9} {'wall max':>9} {'cpu p50':>8} {'max RSS':>9}")
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            argv = [*_command(), "match", str(one), "--catalog", args.catalog, "--format", "json", "--quiet"]
            if mode == "no-semantic":
                argv.append("--no-semantic")
            run_once(argv)  # builds what is built once, if missing; not measured
            runs = [run_once(argv) for _ in range(args.runs)]
            walls = [r[0] for r in runs]
            cpus = [r[1] for r in runs]
            rss = max(r[2] for r in runs)
            print(f"{mode:<12} {len(runs):>4} {statistics.median(walls):>8.2f}s {max(walls):>8.2f}s "
                  f"{statistics.median(cpus):>7.2f}s {rss / 1024 / 1024:>7.2f}GiB")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
