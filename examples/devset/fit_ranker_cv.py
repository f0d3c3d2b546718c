"""Fit the ranking weights on the development labels, cross-validated so that no line scores itself.

The development lines (``lines.csv``, ``holdout.csv``, ``holdout2.csv``, ``services_dev.csv``; never
``blind3.csv``) are split into K folds by line (a line and its repeats stay together); for each fold
a ``LinearRanker`` is fitted on the other folds' (line, candidate) pairs and the held-out lines are
ranked with it. The cross-validated figures of the fitted weights are printed next to the prior
weights' on the same lines; with ``--out`` the ranker fitted on every development line is written
(``matching/resources/ranker.json`` is what the engine loads by default).

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/fit_ranker_cv.py \
        --catalog var/catalogs/irep [--folds 5] [--out matching/resources/ranker.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DEV_SETS = ("lines.csv", "holdout.csv", "holdout2.csv", "services_dev.csv")


def _metrics(matcher, rows):  # type: ignore[no-untyped-def]
    from matching.evaluate import run_evaluation

    rep = run_evaluation(matcher, rows, baseline=False)["relocmatch"]["all"]
    return {k: rep[k] for k in ("naf_hit@1", "naf_hit@10", "precision@10", "mrr", "ndcg@10")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--prior-strength", type=float, default=200.0)
    ap.add_argument("--semantic", action="store_true", help="use the semantic channel (slower)")
    ap.add_argument("--out", type=Path, help="write the ranker fitted on every development line here")
    args = ap.parse_args(argv)

    from sklearn.model_selection import GroupKFold

    from matching.config import MatchConfig
    from matching.evaluate import fit_ranker, load_labels
    from matching.pipeline import Matcher

    rows = [r for name in DEV_SETS for r in load_labels(HERE / name)]
    groups = np.array([(r["description"].strip().lower(), r.get("code") or "") for r in rows], dtype=object)
    _, gid = np.unique([f"{a}\x00{b}" for a, b in groups], return_inverse=True)
    base = Matcher.from_catalog(args.catalog, MatchConfig(semantic=args.semantic or False))
    prior_rows, fitted_rows = [], []
    for k, (tr, te) in enumerate(GroupKFold(n_splits=args.folds).split(rows, groups=gid)):
        train = [rows[i] for i in tr]
        test = [rows[i] for i in te]
        ranker = fit_ranker(base, train, prior_strength=args.prior_strength)
        fitted = base.with_config(base.config)
        fitted.ranker = ranker
        p, f = _metrics(base, test), _metrics(fitted, test)
        prior_rows.append((len(test), p))
        fitted_rows.append((len(test), f))
        print(f"fold {k + 1}/{args.folds}: {len(test)} lines  prior MRR {p['mrr']:.3f}  fitted MRR {f['mrr']:.3f}", flush=True)

    def avg(rs):  # type: ignore[no-untyped-def]
        n = sum(w for w, _ in rs)
        return {key: round(sum(w * m[key] for w, m in rs) / n, 4) for key in rs[0][1]}

    report = {"lines": len(rows), "folds": args.folds, "prior": avg(prior_rows), "fitted_cv": avg(fitted_rows)}
    print(json.dumps(report, indent=2))
    if args.out:
        ranker = fit_ranker(base, rows, prior_strength=args.prior_strength)
        ranker.fit_info_ = {**ranker.fit_info_, "source": "development labels " + ", ".join(DEV_SETS),
                            "cross_validation": report}
        ranker.save(args.out)
        print(f"ranker fitted on {len(rows)} lines written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
