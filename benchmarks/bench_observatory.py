"""Observatory timings: indicators, XLSX report and vulnerability scores at programme scale.

Synthetic records (fixed seed): 200 companies x 50 lines = 10,000 tracked lines, 6,000 of them
followed through the funnel. Prints one figure per line; no assertion (timing is not a test).
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from matching.observatory import FollowUp, FollowUpEvent, TrackedLine, compute_indicators, write_report
from matching.types import BomLine
from matching.vulnerability import score_lines


def records(n_companies: int = 200, per: int = 50, seed: int = 7) -> tuple[list[TrackedLine], list[FollowUp]]:
    rnd = random.Random(seed)
    origins = ["CN", "DE", "IT", "US", "TR", "IN", "PL", "JP", None]
    tiers = ["regional", "national", None]
    lines, fus = [], []
    for c in range(n_companies):
        naf = rnd.choice(["28.15Z", "29.32Z", "22.29A", "25.62B", "27.11Z"])
        for n in range(1, per + 1):
            code = rnd.choice(["84821010", "73181535", "85015100", "39011010", "40111000", "85444290"])
            value = None if rnd.random() < 0.1 else float(rnd.randint(1, 500) * 1000)
            lines.append(TrackedLine(f"C{c:03d}", n, value, rnd.choice(origins), code, naf, rnd.choice(tiers)))
            if rnd.random() < 0.6:
                d = date(2026, 1, 1) + timedelta(days=rnd.randint(0, 200))
                evs = [FollowUpEvent("proposed", d)]
                r = rnd.random()
                if r < 0.3:
                    evs.append(FollowUpEvent("contracted", d + timedelta(days=30), supplier_siret="12345678900011",
                                             supplier_tier=rnd.choice(["regional", "national"]),
                                             value_moved_eur=float(rnd.randint(1, 100) * 1000)))
                elif r < 0.6:
                    evs.append(FollowUpEvent("abandoned", d + timedelta(days=20), reason=rnd.choice(["price", "capacity", "other"])))
                fus.append(FollowUp(f"C{c:03d}", n, tuple(evs)))
    return lines, fus


def main() -> None:
    t0 = time.perf_counter()
    lines, fus = records()
    t1 = time.perf_counter()
    ind = compute_indicators(lines, fus)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_report(ind, Path(d) / "r.xlsx")
    t3 = time.perf_counter()
    bom = [BomLine(row=i, code=ln.code, origin_country=ln.origin_country, annual_value_eur=ln.annual_value_eur)
           for i, ln in enumerate(lines[:1000], start=2)]
    t4 = time.perf_counter()
    score_lines(bom)
    t5 = time.perf_counter()
    print(f"observatory records built (10,000 lines, {len(fus)} follow-ups): {t1 - t0:.2f} s")
    print(f"observatory compute_indicators (programme, 10,000 lines): {t2 - t1:.2f} s")
    print(f"observatory write_report XLSX (10,000 lines): {t3 - t2:.2f} s")
    print(f"vulnerability score_lines (1,000-line BOM): {(t5 - t4) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
