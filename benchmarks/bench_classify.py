"""Benchmark of product understanding: index build (first run vs cached), throughput, latency.

Run: RELOCMATCH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_classify.py
Writes its figures to stdout. The "first run" build uses a fresh temporary cache folder,
so it also re-embeds the 9,759 EN CN8 labels when the model is installed (minutes on
2 cores); pass --skip-cold to measure only the cached start.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lines() -> list[dict[str, str]]:
    with (ROOT / "examples" / "devset" / "lines.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _latency(clf, texts: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for t in texts:
        t0 = time.perf_counter()
        clf.classify(t)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def _throughput_and_latency(name: str, clf, texts: list[str], codes: list) -> None:  # noqa: ANN001
    """Batched lines/s over the dev lines, then single-line p50/p99 for one classifier setting."""
    t0 = time.perf_counter()
    clf.classify_many(texts, codes)
    dt = time.perf_counter() - t0
    print(f"{name} classify_many: {len(texts) / dt:.0f} lines/s ({len(texts)} dev lines)")
    p50, p99 = _latency(clf, texts)
    print(f"{name} single-line latency: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cold", action="store_true", help="do not measure the first (uncached) build")
    args = ap.parse_args(argv)
    from matching.classify import ProductClassifier
    from matching.embed import model_available

    rows = _lines()
    texts = [r["description"] for r in rows]
    codes = [r["code"] or None for r in rows]

    if not args.skip_cold:
        with tempfile.TemporaryDirectory() as tmp:
            old = os.environ.get("RELOCMATCH_CACHE")
            os.environ["RELOCMATCH_CACHE"] = tmp
            t0 = time.perf_counter()
            ProductClassifier(semantic=False)
            print(f"lexical index build, first run (no cache): {time.perf_counter() - t0:.1f} s")
            if old is None:
                del os.environ["RELOCMATCH_CACHE"]
            else:
                os.environ["RELOCMATCH_CACHE"] = old

    t0 = time.perf_counter()
    lex = ProductClassifier(semantic=False)
    print(f"lexical index build, cached: {time.perf_counter() - t0:.1f} s (cache {'hit' if lex.index_cached else 'miss'})")
    lex.classify_many(texts[:20])  # warm caches (typo table, crosswalk)

    _throughput_and_latency("lexical", lex, texts, codes)
    t0 = time.perf_counter()
    for r in rows[:100]:
        lex.activities_for_line(lex.classify(r["description"]).products, r["description"])
    print(f"classify + activities_for_line: {(time.perf_counter() - t0) / 100 * 1e3:.1f} ms/line")

    if not model_available():
        print("semantic channel: model not installed, skipped")
        return
    t0 = time.perf_counter()
    sem = ProductClassifier()
    sem.classify("warm up")  # loads the model and the (cached) label embeddings
    print(f"semantic classifier start (model load + cached label embeddings): {time.perf_counter() - t0:.1f} s")
    _throughput_and_latency("lexical+semantic", sem, texts, codes)


if __name__ == "__main__":
    main()
