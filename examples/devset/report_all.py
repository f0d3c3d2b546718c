"""Every quality figure of issue #12 on every labelled set, engine next to the plain BM25 baseline.

One table per set with the issue's rows: product HS4@5 / HS6@5 / HS6@1, activity hit@3, supplier
NAF-hit@10 / precision@10 / MRR; goods lines without a code (HS4@5, NAF-hit@10); lines with a
correct code and with a wrong one (NAF-hit@10); services (a right service activity in the top 3);
lines with no French producer said so; lines that do have producers wrongly abstained; and the
figures by language. Development sets by default (blind3-6 among them: their failures have been read);
the blind sets only with ``--blind [blind15 blind14 … blind7]`` (score them once, at the end, aggregates only: once a
set's failures are read it is a development set).

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/report_all.py \
        --catalog var/catalogs/irep [--sets lines holdout2] [--blind [blind8]] [--no-semantic] [--semantic-model e5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
# blind3, blind4, blind5 and blind6 were blind sets; their failures reached the team in sessions 3, 6,
# 9 and 15, so they are development sets now (BLIND*.md).
# services_dev2: 120 service lines written in session 19 from the CPA table (SERVICES_DEV2.md), a development set.
DEV_SETS = ("lines", "holdout", "holdout2", "services_dev", "services_dev2", "crosslang", "blind3", "blind4", "blind5",
            "blind6")
# blind7: written 2026-12-06 (BLIND7.md), scored at the end of sessions 15, 17 and 18 (aggregates only); blind8:
# written 2026-12-07 (BLIND8.md), scored at the end of sessions 17 and 18; blind9: written 2026-12-07 (BLIND9.md),
# scored at the end of session 18 (aggregates only); blind10: written 2026-12-07 (BLIND10.md) before session 19's
# change, scored at its end (aggregates only); blind11: written 2026-12-07 (BLIND11.md) before session 20's change,
# scored at its end; blind12: written 2026-12-07 (BLIND12.md) after it, scored at the end of session 21; blind13:
# written 2026-12-07 (BLIND13.md) during session 21, scored at the end of session 22; blind14: written 2026-12-07
# (BLIND14.md) during session 22, scored at the end of session 23 (aggregates only); blind15: written 2026-12-08
# (BLIND15.md) during session 23 after that scoring, for the next change, not scored yet; blind16: written
# 2026-12-08 (BLIND16.md) at the start of session 24, before its change, not scored yet.
# Session 23 chose its trade-word table variant on blind7-13's aggregates (six variants, no line read): for that
# change they were development sets, blind14 its clean test.
# None is run during development.
BLIND_SETS = ("blind16", "blind15", "blind14", "blind13", "blind12", "blind11", "blind10", "blind9", "blind8", "blind7")


def _pct(v: Any, n: Any = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{100 * v:.1f}%" + (f" (n={n})" if n is not None else "")


def table(name: str, rep: dict[str, Any]) -> str:
    """The issue's rows for one set, Markdown."""
    rm, bl = rep["relocmatch"], rep.get("baseline", {})
    a, b = rm.get("all", {}), bl.get("all", {})

    def g(group: str, key: str, src: dict[str, Any] = rm) -> str:
        row = src.get(group) or {}
        return _pct(row.get(key), row.get(f"n_{key}")) if row else "—"

    rows = [
        ("HS4 top-5 / HS6 top-5 / HS6 top-1", f"{_pct(a.get('hs4@5'))} / {_pct(a.get('hs6@5'))} / {_pct(a.get('hs6@1'))}", "—"),
        ("activity hit@3", _pct(a.get("activity_hit@3")), _pct(b.get("activity_hit@3"))),
        ("supplier NAF-hit@10 / precision@10 / MRR",
         f"{_pct(a.get('naf_hit@10'))} / {_pct(a.get('precision@10'))} / {_pct(a.get('mrr'))}",
         f"{_pct(b.get('naf_hit@10'))} / {_pct(b.get('precision@10'))} / {_pct(b.get('mrr'))}"),
        ("goods without a code: HS4 top-5 / NAF-hit@10", f"{g('goods code=none', 'hs4@5')} / {g('goods code=none', 'naf_hit@10')}",
         g("goods code=none", "naf_hit@10", bl)),
        ("correct code: NAF-hit@10", g("code=correct", "naf_hit@10"), g("code=correct", "naf_hit@10", bl)),
        ("wrong code: NAF-hit@10", g("code=wrong", "naf_hit@10"), g("code=wrong", "naf_hit@10", bl)),
        ("services: a right service activity in the top 3", g("kind=service", "activity_hit@3"), "—"),
        ("no French producer: said so (no_producer / low_confidence)", g("kind=no_producer", "abstained"), "—"),
        ("lines with producers in the catalog wrongly abstained", _pct(a.get("wrongly_abstained"), a.get("n_wrongly_abstained")), "—"),
    ]
    for lang in ("fr", "en", "de"):
        rows.append((f"lang={lang}: HS4 top-5 / activity hit@3 / NAF-hit@10",
                     f"{g(f'lang={lang}', 'hs4@5')} / {g(f'lang={lang}', 'activity_hit@3')} / {g(f'lang={lang}', 'naf_hit@10')}",
                     g(f"lang={lang}", "naf_hit@10", bl)))
    out = [f"### {name} ({rep['lines']} lines; {rep['lines_with_producers_in_catalog']} with producers in the catalog; "
           f"semantic: {rep['engine'].get('semantic')}; {rep['timing'].get('relocmatch_ms_per_line')} ms/line)", "",
           "| metric | relocmatch | BM25 baseline |", "|---|---|---|"]
    out += [f"| {k} | {v} | {w} |" for k, v, w in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--sets", nargs="*", default=list(DEV_SETS))
    ap.add_argument("--blind", nargs="*", choices=BLIND_SETS, default=None,
                    help="also score these blind sets (all when none is named), once, at the end")
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--semantic-model", choices=("minilm", "e5"), help="embedding model (default $RELOCMATCH_SEMANTIC_MODEL, else minilm)")
    ap.add_argument("--ranker", type=Path, help="a ranker JSON (default: the engine's default)")
    ap.add_argument("--json", type=Path, help="write every report here")
    args = ap.parse_args(argv)

    from matching.config import MatchConfig
    from matching.evaluate import load_labels, run_evaluation
    from matching.pipeline import Matcher

    matcher = Matcher.from_catalog(args.catalog, MatchConfig(semantic=False if args.no_semantic else None,
                                                                semantic_model=args.semantic_model),
                                   ranker_path=args.ranker)
    sets = list(args.sets) + (list(args.blind or BLIND_SETS) if args.blind is not None else [])
    reports: dict[str, Any] = {}
    for name in sets:
        rows = load_labels(HERE / f"{name}.csv", require_naf=False)
        rep = run_evaluation(matcher, rows)
        reports[name] = rep
        print(table(name, rep), "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
