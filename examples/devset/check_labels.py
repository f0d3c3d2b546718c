"""Check the labels of the development set against the official tables.

Every ``hs6`` must exist in HS 2022; every ``naf`` must be a NAF rév. 2 sous-classe
reachable from that hs6 through the crosswalk (CN8 → CPA 2.1 → NACE → NAF), unless
the line's notes say ``naf_exception: <why>``. A written ``code`` must parse; lines
flagged ``wrong_code`` must have a code whose HS4 differs from the true hs6, and the
others a code that agrees with it.

An optional ``kind`` column (missing or empty = ``goods``) marks what the line buys:

- ``goods``: as above;
- ``no_producer``: a good France does not produce; checked like goods (hs6 and the
  producing naf are still the truth, the activity is simply absent in France);
- ``service``: ``hs6`` must be empty and every ``naf`` a sous-classe of a service
  section (H–S, or division 38/39 for waste services, 33 for repair and
  maintenance); a ``cpa=<code>`` note must name a CPA 2.1 code whose producing NACE
  class is the class of at least one listed naf.

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
KINDS = ("goods", "service", "no_producer")
SERVICE_SECTIONS = set("HIJKLMNOPQRS")
SERVICE_DIVISIONS = {"33", "38", "39"}  # repair/maintenance of machinery, waste services


def notes_value(notes: str, key: str) -> str | None:
    """Value of a ``key=value`` tag among the ``;``-separated notes (None when absent)."""
    for tag in notes.split(";"):
        k, sep, v = tag.strip().partition("=")
        if sep and k.strip() == key:
            return v.strip()
    return None


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

    from matching import refdata

    naf_df = refdata.load_naf(xw.root)
    naf_section = dict(zip(naf_df["NIV5"], naf_df["NIV1"], strict=True))
    cpa_known = {str(c).strip() for c in refdata.load_cpa(xw.root)["CPA 2.1"]}
    cpa_nace = xw._cpa_nace

    problems: list[str] = []
    filled = 0
    for n, row in enumerate(rows, start=2):
        where = f"{args.lines.name}:{n} ({row['id']})"
        notes = row.get("notes") or ""
        kind = (row.get("kind") or "").strip() or "goods"
        if kind not in KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
            continue
        hs6 = row["hs6"].strip()
        nafs = [x.strip() for x in row["naf"].split("|") if x.strip()]
        if kind == "service":
            if hs6:
                problems.append(f"{where}: service line has hs6 {hs6!r}; a service has no HS code, leave hs6 empty")
            if not nafs:
                problems.append(f"{where}: no naf; expected the NAF sous-classes providing the service")
            for naf in nafs:
                if naf not in naf_known:
                    problems.append(f"{where}: naf {naf!r} is not a NAF rév. 2 sous-classe")
                elif naf_section.get(naf) not in SERVICE_SECTIONS and naf[:2] not in SERVICE_DIVISIONS:
                    problems.append(
                        f"{where}: naf {naf} (section {naf_section.get(naf)}) is not a service activity; "
                        "expected sections H-S, divisions 38/39 (waste) or 33 (repair)"
                    )
            cpa = notes_value(notes, "cpa")
            if cpa is not None:
                if cpa not in cpa_known:
                    problems.append(f"{where}: cpa {cpa!r} is not a CPA 2.1 code")
                else:
                    nace = cpa_nace.get(cpa)
                    if nace is None or not any(naf[:5] == nace[:5] for naf in nafs):
                        problems.append(f"{where}: cpa {cpa} is produced by NACE {nace}, not by any of {nafs}")
            continue
        if hs6 not in hs6_known:
            problems.append(f"{where}: hs6 {hs6!r} is not an HS 2022 subheading")
            continue
        reach = set()
        for a in xw.activities_for(hs6):
            reach.add(a.naf)
        if args.fill_naf and not row["naf"].strip():
            row["naf"] = "|".join(producers(xw, hs6))
            nafs = [x for x in row["naf"].split("|") if x]
            filled += 1
        if not nafs:
            problems.append(f"{where}: no naf; expected producing NAF sous-classes separated by '|'")
        for naf in nafs:
            if naf not in naf_known:
                problems.append(f"{where}: naf {naf!r} is not a NAF rév. 2 sous-classe")
            elif naf not in reach and "naf_exception" not in notes:
                problems.append(f"{where}: naf {naf} not reachable from hs6 {hs6} via the crosswalk ({sorted(reach)})")
        code = row["code"].strip()
        if code:
            p = try_parse_code(code)
            if p is None:
                problems.append(f"{where}: code {code!r} does not parse")
                continue
            sim = code_similarity(p.digits, hs6)
            wrong = "wrong_code" in notes
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
    wrong = sum(1 for r in rows if "wrong_code" in (r.get("notes") or ""))
    kinds = {k: sum(1 for r in rows if ((r.get("kind") or "").strip() or "goods") == k) for k in KINDS}
    total = max(len(rows), 1)
    print(
        f"{len(rows)} lines {langs}; with code {with_code} ({with_code / total:.0%}), "
        f"without code {len(rows) - with_code} ({(len(rows) - with_code) / total:.0%}), wrong codes {wrong}, "
        f"services {kinds['service']}, no_producer {kinds['no_producer']}"
    )
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
