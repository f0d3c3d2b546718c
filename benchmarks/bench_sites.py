"""Benchmark of `sites match` on the national Cartofriches register (23,784 sites).

Run: RELOCMATCH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_sites.py [--runs 200]

Measures ``matching.sites.match.match_sites`` in one process, after the one-time loads (register
Parquet, commune tables, NAF labels), which are reported apart. Goals (issue 15): p50 ≤ 50 ms
without a BOM result, ≤ 200 ms with a 1,000-line one. The 1,000-line BOM result is built here
in the result-contract shape: each line gets 10 suppliers drawn from the real IREP register's
establishments (so their communes are real and spread over France) and a log-normal annual value;
it is passed as a dict (its JSON parse is timed separately). The register is built into
var/bench/sites/ when missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _p(times: list[float], q: float) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def _timed(fn, runs: int) -> tuple[float, float]:  # noqa: ANN001
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, _p(times, 0.99)


def _bom(n: int, data_dir: Path, seed: int = 0) -> dict:
    import numpy as np
    import pandas as pd

    from matching.geo import get_geo

    irep = pd.read_csv(data_dir / "establishments" / "irep_etablissements_industriels.csv", dtype=str)
    geo = get_geo(data_dir)
    codes = []
    for pc, name in zip(irep["Code_Postal"].fillna(""), irep["Commune"].fillna(""), strict=True):
        info = geo.resolve(pc, name)
        if info is not None:
            codes.append(info.code)
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        picks = rng.choice(len(codes), size=10, replace=False)
        lines.append({"line": i + 2, "status": "matched",
                      "input": {"description": f"ligne {i}", "annual_value_eur": float(round(rng.lognormal(8, 1.5), 2)),
                                "origin_country": "CN"},
                      "suppliers": [{"siret": f"{int(p):014d}", "commune_code": codes[int(p)]} for p in picks]})
    return {"schema_version": "1.0", "lines": lines}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    from matching.refdata import data_dir as _dd

    data_dir = _dd(None)
    out = ROOT / "var" / "bench" / "sites"
    t0 = time.perf_counter()
    if not (out / "manifest.json").is_file():
        from matching.sites import build_register

        build_register([("cartofriches", data_dir / "sites" / "friches_cartofriches.csv")], out, data_dir=data_dir)
        print(f"register build (national Cartofriches): {time.perf_counter() - t0:.1f} s")
    from matching.geo import get_geo
    from matching.sites import SiteRegister
    from matching.sites.match import match_sites

    t0 = time.perf_counter()
    reg = SiteRegister.load(out)
    get_geo(data_dir)
    from matching.codes import get_crosswalk

    get_crosswalk(data_dir).naf_label("28.96Z")
    print(f"one-time loads (register {len(reg)} sites, communes, NAF): {time.perf_counter() - t0:.2f} s")

    ge = {"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4, "region": "44",
          "constraints": {"rail_within_km": 5}}
    france = {"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4}
    bom = _bom(1000, data_dir)
    raw = json.dumps(bom)
    for name, proj, b in [("Grand Est project, no BOM result", ge, None),
                          ("whole-France project, no BOM result", france, None),
                          ("Grand Est project, 1,000-line BOM result", ge, bom),
                          ("whole-France project, 1,000-line BOM result", france, bom)]:
        p50, p99 = _timed(lambda proj=proj, b=b: match_sites(proj, reg, bom_result=b, top=10, data_dir=data_dir),
                          args.runs if b is None else max(20, args.runs // 4))
        res = match_sites(proj, reg, bom_result=b, top=10, data_dir=data_dir)
        print(f"sites match, {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({res['candidates']} candidate sites)")
    p50, _ = _timed(lambda: json.loads(raw), 20)
    print(f"JSON parse of the 1,000-line BOM result ({len(raw) / 1e6:.1f} MB): p50 {p50:.1f} ms")


if __name__ == "__main__":
    main()
