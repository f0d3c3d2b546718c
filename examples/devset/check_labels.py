"""Check the labels of the development set against the official tables.

Every ``hs6`` must exist in HS 2022; every ``naf`` must be a NAF rév. 2 sous-classe
reachable from that hs6 through the crosswalk (CN8 → CPA 2.1 → NACE → NAF), unless
the line's notes say ``naf_exception: <why>``. A written ``code`` must parse; lines
flagged ``wrong_code`` must have a code whose HS4 differs from the true hs6, and the
others a code that agrees with it.

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/check_labels.py
    ... check_labels.py --fill-naf   # write the crosswalk's producers into empty naf cells

``--fill-naf`` takes the crosswalk's producing sous-classes of the hs6 whose
confidence is at least half the best one (e.g. 040690 cheese → 10.51C only, not the
other dairy sous-classes). Exit status 1 when any line fails.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent


def producers(xw, hs6: str) -> list[str]:  # type: ignore[no-untyped-def]
    acts = xw.activities_for(hs6)
    if not acts:
        return []
    top = max(a.score for a in acts)
    return [a.naf for a in acts if a.score >= 0.5 * top]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=Path, default=HERE / "lines.csv")
    ap.add_argument("--fill-naf", action="store_true", help="fill empty naf cells from the crosswalk")
    args = ap.parse_args(argv)

    from matching.codes import code_similarity, get_crosswalk, try_parse_code

    xw = get_crosswalk()
    hs6_known = set(xw.hs6_codes())
    naf_known = set(xw.naf_codes())
    with args.lines.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)

    problems: list[str] = []
    filled = 0
    for n, row in enumerate(rows, start=2):
        where = f"{args.lines.name}:{n} ({row['id']})"
        hs6 = row["hs6"].strip()
        if hs6 not in hs6_known:
            problems.append(f"{where}: hs6 {hs6!r} is not an HS 2022 subheading")
            continue
        reach = set()
        for a in xw.activities_for(hs6):
            reach.add(a.naf)
        if args.fill_naf and not row["naf"].strip():
            row["naf"] = "|".join(producers(xw, hs6))
            filled += 1
        nafs = [x for x in row["naf"].split("|") if x]
        if not nafs:
            problems.append(f"{where}: no naf; expected producing NAF sous-classes separated by '|'")
        for naf in nafs:
            if naf not in naf_known:
                problems.append(f"{where}: naf {naf!r} is not a NAF rév. 2 sous-classe")
            elif naf not in reach and "naf_exception" not in row["notes"]:
                problems.append(f"{where}: naf {naf} not reachable from hs6 {hs6} via the crosswalk ({sorted(reach)})")
        code = row["code"].strip()
        if code:
            p = try_parse_code(code)
            if p is None:
                problems.append(f"{where}: code {code!r} does not parse")
                continue
            sim = code_similarity(p.digits, hs6)
            wrong = "wrong_code" in row["notes"]
            if wrong and sim >= 0.5:
                problems.append(f"{where}: flagged wrong_code but {code} shares HS4 with {hs6}")
            if not wrong and sim < 0.75:
                problems.append(f"{where}: code {code} disagrees with hs6 {hs6} but is not flagged wrong_code")
    if args.fill_naf:
        with args.lines.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        print(f"filled naf on {filled} lines")
    langs = {lg: sum(1 for r in rows if r["lang"] == lg) for lg in ("fr", "en", "de")}
    with_code = sum(1 for r in rows if r["code"].strip())
    wrong = sum(1 for r in rows if "wrong_code" in r["notes"])
    print(f"{len(rows)} lines {langs}; with code {with_code} ({with_code / len(rows):.0%}), wrong codes {wrong}")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
