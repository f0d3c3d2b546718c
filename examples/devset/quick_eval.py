"""Quick product/activity quality figures of the classifier on a labelled line set.

Product code accuracy top-1/top-5 at HS4 and HS6 (a top-k product whose code starts
with the true code's first 4/6 digits) and activity hit@3 (a true producing NAF among
the first three activities), overall, by language and with/without a written code.
The project's full metrics live in ``matching.evaluate``; this is the classifier's
own quick check.

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/quick_eval.py [--lexical-only]
    ... quick_eval.py --lines examples/devset/crosslang.csv --no-activities
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent


def evaluate(rows: list[dict[str, str]], clf, *, activities: bool = True, use_code: bool = True) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    texts = [r["description"] for r in rows]
    codes = [(r.get("code") or None) if use_code else None for r in rows]
    results = clf.classify_many(texts, codes, top_k=10)
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for r, res in zip(rows, results):
        hs6 = r["hs6"]
        got = [p.code for p in res.products]
        m = {
            "hs4@1": float(bool(got) and got[0][:4] == hs6[:4]),
            "hs4@5": float(any(c[:4] == hs6[:4] for c in got[:5])),
            "hs6@1": float(bool(got) and got[0][:6] == hs6[:6]),
            "hs6@5": float(any(c[:6] == hs6[:6] for c in got[:5])),
        }
        if activities and r.get("naf"):
            acts = clf.activities_for_line(res.products, r["description"])
            truth = set(r["naf"].split("|"))
            m["act@3"] = float(any(a.naf in truth for a in acts[:3]))
        keys = ["all", f"lang={r.get('lang', '?')}", "code=yes" if r.get("code") and use_code else "code=no"]
        if "wrong_code" in r.get("notes", ""):
            keys.append("wrong_code")
        for k in keys:
            groups[k].append(m)
    out = {}
    for k, ms in groups.items():
        out[k] = {name: sum(m.get(name, 0.0) for m in ms) / len(ms) for name in ms[0]}
        out[k]["n"] = len(ms)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="classifier quick evaluation")
    ap.add_argument("--lines", type=Path, default=HERE / "lines.csv")
    ap.add_argument("--lexical-only", action="store_true")
    ap.add_argument("--no-activities", action="store_true")
    ap.add_argument("--no-code", action="store_true", help="ignore the written codes (text only)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--products", action="store_true", help="the learned stage (matching.products), artifact from "
                    "$RELOCMATCH_MODELS or var/models/products")
    ap.add_argument("--no-model", action="store_true", help="with --products: without the trained model")
    ap.add_argument("--no-heads", action="store_true", help="with --products: without the head-noun query")
    ap.add_argument("--model-share", type=float, default=None)
    ap.add_argument("--core-share", type=float, default=None)
    ap.add_argument("--no-compounds", action="store_true", help="with --products: German compounds left whole at "
                    "query time (the model was trained with them)")
    ap.add_argument("--no-trade-words", action="store_true", help="query-side trade-word/abbreviation table off")
    args = ap.parse_args(argv)
    from matching.classify import get_classifier

    if args.no_trade_words:  # ablation: the hand-written table and part patterns do nothing
        import matching.text as _t

        _t.expand_abbreviations = lambda folded, path=None: (folded, [])
        _t.part_hints = lambda parts: []
        _t.analyze.cache_clear()

    with args.lines.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if args.limit:
        rows = rows[: args.limit]
    t0 = time.perf_counter()
    if args.products:
        from matching.products.artifacts import load
        from matching.products.understand import CORE_SHARE, MODEL_SHARE, ProductUnderstanding

        clf = ProductUnderstanding(artifact=load(), semantic=False if args.lexical_only else None,
                                   use_model=not args.no_model, use_heads=not args.no_heads,
                                   model_share=MODEL_SHARE if args.model_share is None else args.model_share,
                                   core_share=CORE_SHARE if args.core_share is None else args.core_share)
        if args.no_compounds:
            from matching.text import fold

            clf.artifact.lexicon.splitter.split = lambda w: (fold(w).strip(),) if w.strip() else ()
    else:
        clf = get_classifier(semantic=False if args.lexical_only else None)
    t1 = time.perf_counter()
    res = evaluate(rows, clf, activities=not args.no_activities, use_code=not args.no_code)
    t2 = time.perf_counter()
    ch = clf.classify(rows[0]["description"]).channels_used
    print(f"{args.lines.name}: {len(rows)} lines, channels {ch}; build {t1 - t0:.1f}s, eval {t2 - t1:.1f}s")
    names = [n for n in ("hs4@1", "hs4@5", "hs6@1", "hs6@5", "act@3") if n in res["all"]]
    print(f"{'group':<12}{'n':>5} " + " ".join(f"{n:>7}" for n in names))
    for k in sorted(res, key=lambda k: (k != "all", k)):
        print(f"{k:<12}{int(res[k]['n']):>5} " + " ".join(f"{res[k][n]:>7.1%}" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
