"""Benchmark of the foundation: bundle check, crosswalk warm-up, per-code lookups, coverage.

Run: RELOCMATCH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_codes.py
Writes its figures to stdout.
"""

from __future__ import annotations

import time


def main() -> None:
    from matching import refdata
    from matching.codes import get_crosswalk, parse_code

    t0 = time.perf_counter()
    checks = refdata.check_bundle()
    t_check = time.perf_counter() - t0

    t0 = time.perf_counter()
    cw = get_crosswalk()
    cw.activities_for("84821010")
    cw.labels("848210", "fr")
    cw.labels("848210", "de")
    t_warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    cov = cw.coverage()
    t_cov = time.perf_counter() - t0

    codes = cw.cn8_table("fr")["code"].tolist()
    t0 = time.perf_counter()
    for c in codes:
        cw.activities_for(c)  # cached after coverage: the steady-state cost
    t_hot = (time.perf_counter() - t0) / len(codes)

    written = ["8482.10", "8482 10 10", "HS 848210", "CN 8482 10 10", "4011010", "7318.15.95"] * 2000
    t0 = time.perf_counter()
    for w in written:
        parse_code(w)
    t_parse = (time.perf_counter() - t0) / len(written)

    print(f"data check (read + validate {len(checks)} files): {t_check:.2f} s")
    print(f"crosswalk warm-up (indexes + TARIC FR/DE trees): {t_warm:.2f} s")
    print(f"coverage over {cov['cn2023']['codes']} CN8 + {cov['hs2022_hs6']['codes']} HS6 codes: {t_cov:.2f} s")
    print(f"coverage CN 2023: {cov['cn2023']['share']:.2%}  HS 2022 HS6: {cov['hs2022_hs6']['share']:.2%}")
    print(f"activities_for, cached: {t_hot * 1e6:.1f} µs/code")
    print(f"parse_code: {t_parse * 1e6:.1f} µs/code")


if __name__ == "__main__":
    main()
