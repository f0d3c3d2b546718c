"""Cost of the semantic channel per model: query encode (one line / batch), cosines, label cosine spread.

    RELOCMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_semantic.py minilm|e5

Lines: examples/devset/lines.csv + holdout2.csv, sent as the classifier sends them
(``ProductClassifier._query_texts``). Needs the model's label embeddings built
(``relocmatch semantic build --model K``). A benchmark, not a test: figures vary with load.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(key: str) -> dict:
    from matching.classify import ProductClassifier
    from matching.products.semantic import encoders

    clf = ProductClassifier(None, semantic_model=key)
    lines: list[str] = []
    for name in ("lines", "holdout2"):
        with (ROOT / "examples" / "devset" / f"{name}.csv").open(encoding="utf-8") as fh:
            lines += [r["description"] for r in csv.DictReader(fh)]
    _, sem, _, _ = clf._query_texts(lines)
    enc = encoders(key).query
    enc(["warm up"])
    ts = []
    for s in sem[:150]:
        a = time.perf_counter()
        enc([s])
        ts.append(1000 * (time.perf_counter() - a))
    ts.sort()
    a = time.perf_counter()
    q = np.asarray(enc(sem), dtype=np.float32)
    out = {"model": key, "one_line_ms_p50": round(ts[len(ts) // 2], 1), "one_line_ms_p90": round(ts[int(len(ts) * 0.9)], 1),
           "batch_ms_per_line": round(1000 * (time.perf_counter() - a) / len(sem), 1), "n_batch": len(sem)}
    labels = clf._label_embeddings()
    if labels is not None:
        for lang, m in labels.by_lang.items():
            c = q[:100] @ m.T
            out[f"cos_{lang}_median"] = round(float(np.median(c)), 3)
            out[f"cos_{lang}_top1_median"] = round(float(np.median(c.max(axis=1))), 3)
        a = time.perf_counter()
        for i in range(50):
            labels.cosines(q[i : i + 1], clf._sem_floor)
        out["cosines_ms_per_line"] = round(1000 * (time.perf_counter() - a) / 50, 2)
    out["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "minilm")))
