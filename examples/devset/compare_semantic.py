"""Side by side: the JSON reports of ``report_all.py`` run with different semantic settings.

    report_all.py --catalog DIR --no-semantic --json none.json
    report_all.py --catalog DIR --semantic-model minilm --json minilm.json
    report_all.py --catalog DIR --semantic-model e5 --json e5.json
    compare_semantic.py none.json minilm.json e5.json

Rows: each set, and all development sets pooled (weighted by the lines each figure counts),
overall, with / without a code and by language: HS4@5, HS6@5, NAF-hit@10, MRR.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

KEYS = ("hs4@5", "hs6@5", "naf_hit@10", "mrr")
GROUPS = ("all", "code=given", "code=none", "lang=fr", "lang=en", "lang=de")


def _pooled(reports: dict, group: str, key: str) -> tuple[float, int]:
    tot, n = 0.0, 0
    for rep in reports.values():
        row = rep["relocmatch"].get(group) or {}
        k = row.get(f"n_{key}", 0)
        v = row.get(key)
        if k and v is not None and not math.isnan(v):
            tot += v * k
            n += k
    return (tot / n if n else math.nan), n


def main(paths: list[str]) -> int:
    runs = {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}
    names = list(runs)
    sets = list(next(iter(runs.values())))
    print("| set | slice (n) | " + " | ".join(f"{n}: HS4@5 / HS6@5 / NAF@10 / MRR" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for s in [*sets, "ALL dev"]:
        for g in GROUPS:
            cells, n_lines = [], None
            for name in names:
                if s == "ALL dev":
                    vals = [_pooled(runs[name], g, k) for k in KEYS]
                    n_lines = vals[0][1]
                    vals = [v for v, _ in vals]
                else:
                    row = runs[name][s]["relocmatch"].get(g)
                    if not row:
                        cells.append("—")
                        continue
                    n_lines = row.get("n")
                    vals = [row.get(k) for k in KEYS]
                cells.append(" / ".join("—" if v is None or math.isnan(v) else f"{100 * v:.1f}" for v in vals))
            if all(c == "—" for c in cells):
                continue
            print(f"| {s} | {g} ({n_lines}) | " + " | ".join(cells) + " |")
    print()
    for name in names:
        ms = {s: runs[name][s].get("timing", {}).get("relocmatch_ms_per_line") for s in sets}
        print(f"{name}: ms/line per set {ms}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
