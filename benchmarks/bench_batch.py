"""Batch benchmark: N lines (default 100,000) against the synthetic ~1M-supplier catalog, for
the local engine with 1 and 2 workers and Spark local[1] and local[2].

Lines are resampled from the dev sets (examples/devset/*.csv but the blind sets, with their codes), half of them
given a random purchase reference ("réf. 4711-23") as BOMs do, so that most lines are distinct
and the engine's reuse of repeated lines does not flatter the figure; they are split into
companies of ``--per-company`` lines (a Parquet lines table). Each configuration runs in its own
child process (``run_batch`` with ``--force``), semantic channel on unless ``--no-semantic``.
Reported: wall time, lines/s overall and after the engine load, each worker's engine load time
and peak RSS (local: from the workers; Spark: from its per-partition log lines).

    RELOCMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_batch.py            # 100,000 lines
        [--lines 10000] [--configs local1,local2,spark1,spark2] [--no-semantic] [--workdir var/bench]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

CONFIGS = {"local1": ("local", 1), "local2": ("local", 2), "spark1": ("spark", 1), "spark2": ("spark", 2)}


def make_lines(path: Path, n: int, per_company: int, seed: int = 0) -> dict:
    """Resample the dev sets' lines into a Parquet lines table of ``n`` lines."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pool = []
    for f in sorted((ROOT / "examples" / "devset").glob("*.csv")):
        if f.name.startswith("blind"):
            continue  # blind sets are scored once for quality; they stay out of every other run
        with f.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r.get("description"):
                    pool.append(r)
    rnd = random.Random(seed)
    recs = []
    for i in range(n):
        r = rnd.choice(pool)
        desc = r["description"]
        if rnd.random() < 0.5:
            desc = f"{desc} réf. {rnd.randint(1000, 9999)}-{rnd.randint(10, 99)}"
        v = r.get("annual_value_eur")
        recs.append({"company": f"company-{i // per_company:04d}", "line_id": str(i), "description": desc,
                     "code": r.get("code") or None, "origin_country": r.get("origin_country") or None,
                     "annual_value_eur": float(v) if v else None})
    pq.write_table(pa.Table.from_pylist(recs), path)
    return {"lines": n, "companies": (n + per_company - 1) // per_company, "pool": len(pool),
            "distinct": len({(r["description"], r["code"]) for r in recs})}


def child(engine: str, n: int, lines: str, catalog: str, out: str, semantic: bool) -> None:
    from matching.batch import EngineSettings, make_engine, run_batch

    settings = EngineSettings(catalog=catalog, data_dir=os.environ.get("RELOCMATCH_DATA"),
                              semantic=None if semantic else False)
    eng = make_engine(engine, workers=n, master=f"local[{n}]", progress=False, wave_lines=10 ** 9)
    t0 = time.perf_counter()
    rep = run_batch(lines, out, settings, eng, force=True)
    wall = time.perf_counter() - t0
    res = {"wall_s": round(wall, 1), "lines": rep.lines, "done": len(rep.done), "failed": len(rep.failed)}
    if engine == "local":
        res["workers"] = [{k: round(v, 1) for k, v in s.items() if k != "pid"} for s in eng.worker_stats.values()]
    print("RESULT " + json.dumps(res), flush=True)


_PART = re.compile(r"pid (\d+)\] spark partition \d+ done: .* lines in ([\d.]+) s; engine load (reused|([\d.]+) s) "
                   r"in this worker; peak RSS (\d+) MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--per-company", type=int, default=1000)
    ap.add_argument("--configs", default="local1,local2,spark1,spark2")
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--rows", type=int, default=1_100_000, help="synthetic SIRENE rows (≈1M suppliers kept)")
    ap.add_argument("--child", nargs=5, metavar=("ENGINE", "N", "LINES", "CATALOG", "OUT"))
    a = ap.parse_args()
    if a.child:
        e, n, lines, cat, out = a.child
        child(e, int(n), lines, cat, out, not a.no_semantic)
        return 0
    if not os.environ.get("RELOCMATCH_DATA"):
        print("bench_batch: set RELOCMATCH_DATA (e.g. ../shared/data)", file=sys.stderr)
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bench_match import synthetic_catalog

    cat = synthetic_catalog(a.workdir, a.rows)
    lines = a.workdir / f"batch_lines_{a.lines}.parquet"
    info = make_lines(lines, a.lines, a.per_company)
    report: dict = {"input": info, "catalog": str(cat), "semantic": not a.no_semantic, "runs": {}}
    print("input:", json.dumps(info), flush=True)
    for name in a.configs.split(","):
        engine, n = CONFIGS[name]
        out = a.workdir / f"batch_out_{name}"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", engine, str(n), str(lines), str(cat), str(out)]
        if a.no_semantic:
            cmd.append("--no-semantic")
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        stdout, stderr = proc.stdout.read(), proc.stderr.read()
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            print(f"{name}: failed\n{stderr[-3000:]}", file=sys.stderr)
            return 1
        res = json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))[7:])
        if engine == "spark":
            loads, rss, workers = [], [], {}
            for m in _PART.finditer(stderr):
                pid = m.group(1)
                workers.setdefault(pid, {"load_s": 0.0, "peak_rss_mib": 0})
                if m.group(4):
                    workers[pid]["load_s"] = float(m.group(4))
                workers[pid]["peak_rss_mib"] = max(workers[pid]["peak_rss_mib"], int(m.group(5)))
            res["workers"] = list(workers.values())
            loads = [w["load_s"] for w in workers.values()]
            rss = [w["peak_rss_mib"] for w in workers.values()]
        else:
            loads = [w.get("load_s", 0.0) for w in res["workers"]]
            rss = [w.get("rss_mib", 0.0) for w in res["workers"]]
        res["process_wall_s"] = round(wall, 1)
        res["children_peak_rss_mib"] = round(usage.ru_maxrss / 1024)  # the largest single descendant
        res["lines_per_s"] = round(res["lines"] / res["wall_s"], 1)
        load = max(loads) if loads else 0.0
        res["engine_load_s_max"] = round(load, 1)
        res["lines_per_s_after_load"] = round(res["lines"] / max(res["wall_s"] - load, 1e-9), 1)
        res["worker_peak_rss_mib_max"] = max(rss) if rss else None
        report["runs"][name] = res
        print(f"{name}: {json.dumps(res)}", flush=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
