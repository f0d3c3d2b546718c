"""Matching benchmark: one-line latency, a 1,000-line BOM, index build and memory, vs BM25.

Each measurement runs in its own child process so that its peak RSS (``ru_maxrss``) is its
own. One-line queries are the dev-set lines (examples/devset/lines.csv); the 1,000-line BOM is
the first 1,000 item lines of the real BOMs in ``$RELOCMATCH_DATA/boms``; semantic channel on.
Targets (issue 5, 2-core machine): one line p50 ≤ 30 ms, p99 ≤ 150 ms (IREP and 1M);
1,000 lines ≤ 15 s; index build for 1M ≤ 5 min; matching memory for 1M ≤ 4 GiB.

    RELOCMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_match.py
        [--rows 1100000] [--skip-1m] [--workdir var/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "examples" / "devset" / "lines.csv"
CLI = "import sys; from matching.cli import main; sys.argv[0] = 'relocmatch'; main()"


def _run(args: list[str]) -> tuple[float, float, str]:
    """Run a child; (wall seconds, peak RSS MiB, stdout)."""
    import tempfile

    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        proc = subprocess.Popen([sys.executable, *args], stdout=fo, stderr=fe, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_match: child failed: {' '.join(args[:4])}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, q)), 2)


def real_bom_lines(n: int) -> list:
    """The first ``n`` item lines of every real BOM of the reference bundle, in file-name order
    (1,614 items in 25 files; their natural repeats are kept)."""
    from matching.bom import read_bom
    from matching.refdata import data_dir

    out = []
    for p in sorted((data_dir() / "boms").iterdir()):
        if p.suffix.lower() in (".csv", ".tsv", ".xlsx", ".ods", ".json"):
            out.extend(read_bom(p).items)
    return out[:n]


def child(catalog: str, n_bom: int, n_one: int) -> None:
    """Measure inside one process and print JSON."""
    import resource

    from matching.baseline import BM25Baseline
    from matching.config import MatchConfig
    from matching.evaluate import _to_line, load_labels
    from matching.pipeline import Matcher

    out: dict = {}
    t0 = time.perf_counter()
    m = Matcher.from_catalog(catalog, MatchConfig())
    out["load_s"] = round(time.perf_counter() - t0, 2)
    out["rows"] = len(m.table)
    rows = load_labels(DEVSET)
    lines = [_to_line(r) for r in rows][:n_one]
    for ln in lines[:5]:  # warm-up: model, caches
        m.match_one(ln)
    from matching.memory import freeze_long_lived

    freeze_long_lived()  # as `relocmatch match` and the service do after loading
    one, engine = [], []
    for ln in lines:
        t = time.perf_counter()
        m.match_one(ln)
        one.append(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    cls = m._classify_many(lines)
    out["classify_many_ms_per_line"] = round(1000 * (time.perf_counter() - t) / len(lines), 2)
    for ln, c in zip(lines, cls, strict=True):
        t = time.perf_counter()
        m._one(ln, c, m.config, m.buyer)
        engine.append(1000 * (time.perf_counter() - t))
    out["one_line_ms"] = {"p50": _pct(one, 50), "p99": _pct(one, 99), "n": len(one)}
    out["after_classification_ms"] = {"p50": _pct(engine, 50), "p99": _pct(engine, 99)}
    bom = real_bom_lines(n_bom)
    t = time.perf_counter()
    res = m.match(bom)
    out["bom"] = {"lines": len(bom), "distinct": len({(b.description, b.code) for b in bom}), "seconds": round(time.perf_counter() - t, 2), "semantic": res.engine.get("semantic"),
                  "errors": res.summary["error"]}
    t = time.perf_counter()
    bl = BM25Baseline.from_table(m.table)
    out["baseline_build_s"] = round(time.perf_counter() - t, 2)
    times = []
    for ln in lines:
        t = time.perf_counter()
        bl.search(ln.description, 10)
        times.append(1000 * (time.perf_counter() - t))
    out["baseline_one_line_ms"] = {"p50": _pct(times, 50), "p99": _pct(times, 99)}
    out["peak_rss_mib_incl_baseline"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def memory_child(catalog: str) -> None:
    """Peak memory of matching alone (no baseline index in the same process)."""
    import resource

    from matching.config import MatchConfig
    from matching.evaluate import _to_line, load_labels
    from matching.pipeline import Matcher

    m = Matcher.from_catalog(catalog, MatchConfig())
    m.match([_to_line(r) for r in load_labels(DEVSET)])
    print(json.dumps({"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def synthetic_catalog(workdir: Path, rows: int = 1_100_000) -> Path:
    """The synthetic ~1M-supplier catalog of this benchmark (made once into ``workdir``, then reused):
    ``catalog synth`` then ``catalog build`` with every section, as ``main`` does."""
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"synth{rows}.parquet"
    if not src.is_file():
        _run(["-c", CLI, "catalog", "synth", "--rows", str(rows), "--out", str(src), "--quiet"])
    cat = workdir / f"cat{rows}"
    if not (cat / "manifest.json").is_file():
        _run(["-c", CLI, "catalog", "build", "--source", "sirene", str(src), "--out", str(cat),
              "--sections", "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U", "--quiet"])
    return cat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_100_000, help="synthetic rows (≈1M kept after filters)")
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--n-bom", type=int, default=1000)
    ap.add_argument("--n-one", type=int, default=300)
    ap.add_argument("--child", choices=["match", "memory"])
    ap.add_argument("--catalog")
    a = ap.parse_args()
    if a.child == "match":
        child(a.catalog, a.n_bom, a.n_one)
        return 0
    if a.child == "memory":
        memory_child(a.catalog)
        return 0
    data = os.environ.get("RELOCMATCH_DATA")
    if not data:
        print("bench_match: set RELOCMATCH_DATA (e.g. ../shared/data)", file=sys.stderr)
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    a.workdir.mkdir(parents=True, exist_ok=True)
    me = str(Path(__file__).resolve())
    report: dict = {}
    irep = a.workdir / "irep"
    if not (irep / "manifest.json").is_file():
        _run(["-c", CLI, "catalog", "build", "--source", "irep",
              str(Path(data) / "establishments" / "irep_etablissements_industriels.csv"), "--out", str(irep), "--quiet"])
    _, _, out = _run([me, "--child", "match", "--catalog", str(irep), "--n-bom", str(a.n_bom), "--n-one", str(a.n_one)])
    report["irep"] = json.loads(out.strip().splitlines()[-1])
    print("IREP catalog:", json.dumps(report["irep"]), flush=True)
    if not a.skip_1m:
        src = a.workdir / f"synth{a.rows}.parquet"
        if not src.is_file():
            _run(["-c", CLI, "catalog", "synth", "--rows", str(a.rows), "--out", str(src), "--quiet"])
        cat = a.workdir / f"cat{a.rows}"
        wall, peak, _ = _run(["-c", CLI, "catalog", "build", "--source", "sirene", str(src), "--out", str(cat),
                              "--sections", "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U", "--quiet"])
        idx = json.loads((cat / "index" / "index.json").read_text())
        report["synthetic"] = {"catalog_build_s": round(wall, 1), "catalog_build_peak_rss_mib": round(peak, 1),
                               "rows": idx["rows"], "index_build_s": idx["build_seconds"]}
        _, _, out = _run([me, "--child", "match", "--catalog", str(cat), "--n-bom", str(a.n_bom), "--n-one", str(a.n_one)])
        report["synthetic"].update(json.loads(out.strip().splitlines()[-1]))
        _, peak, out = _run([me, "--child", "memory", "--catalog", str(cat)])
        report["synthetic"]["matching_peak_rss_mib"] = json.loads(out.strip().splitlines()[-1])["peak_rss_mib"]
        print("synthetic catalog:", json.dumps(report["synthetic"]), flush=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
