"""Fit the ranking weights on the development labels, cross-validated so that no line scores itself.

The development lines (every labelled development set of ``report_all.DEV_SETS`` by default; never a
blind set) are split into K folds by line (a line and its repeats stay together), or with ``--group set``
one fold per set, so that every set is ranked by weights fitted on the others (sets are written by
different people for different plants: the nearest thing to "by company"); for each fold a
``LinearRanker`` is fitted on the other folds' (line, candidate) pairs and the held-out lines are
ranked with it. The cross-validated figures of the fitted weights are printed next to the prior
weights' on the same lines; with ``--out`` the ranker fitted on every development line is written
(``matching/resources/ranker.json`` is what the engine loads by default).

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/fit_ranker_cv.py \
        --catalog var/catalogs/irep [--group line|set] [--folds 5] [--semantic] [--out matching/resources/ranker.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def _metrics(matcher, rows):  # type: ignore[no-untyped-def]
    from matching.evaluate import run_evaluation

    rep = run_evaluation(matcher, rows, baseline=False)["relocmatch"]["all"]
    return {k: rep[k] for k in ("naf_hit@1", "naf_hit@10", "precision@10", "mrr", "ndcg@10")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--sets", nargs="*", help="development sets (default: report_all.DEV_SETS with NAF labels)")
    ap.add_argument("--group", choices=("line", "set"), default="line",
                    help="folds by line (K folds) or one fold per set")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--prior-strength", type=float, default=200.0)
    ap.add_argument("--semantic", action="store_true", help="use the semantic channel (slower)")
    ap.add_argument("--out", type=Path, help="write the ranker fitted on every development line here")
    args = ap.parse_args(argv)

    from sklearn.model_selection import GroupKFold

    from matching.config import MatchConfig
    from matching.evaluate import fit_ranker, load_labels
    from matching.pipeline import Matcher
    from matching.rank import LinearRanker

    import sys

    sys.path.insert(0, str(HERE))
    from report_all import BLIND_SETS, DEV_SETS

    names = list(args.sets or DEV_SETS)
    if blind := sorted(set(names) & set(BLIND_SETS)):
        ap.error(f"blind sets are never fitted on: {', '.join(blind)}")
    rows = [{**r, "set": name} for name in names for r in load_labels(HERE / f"{name}.csv", require_naf=False) if r["naf"]]
    if args.group == "set":
        _, gid = np.unique([r["set"] for r in rows], return_inverse=True)
        args.folds = len(set(gid.tolist()))
    else:
        groups = np.array([(r["description"].strip().lower(), r.get("code") or "") for r in rows], dtype=object)
        _, gid = np.unique([f"{a}\x00{b}" for a, b in groups], return_inverse=True)
    base = Matcher.from_catalog(args.catalog, MatchConfig(semantic=args.semantic or False))
    base.ranker = LinearRanker(weights=dict(base.config.weights))  # the priors, not the shipped fit
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
        held = ", ".join(sorted({r["set"] for r in test})) if args.group == "set" else f"{len(test)} lines"
        print(f"fold {k + 1}/{args.folds} ({held}): prior MRR {p['mrr']:.3f} P@10 {p['precision@10']:.3f} "
              f"NAF-hit@10 {p['naf_hit@10']:.3f} | fitted MRR {f['mrr']:.3f} P@10 {f['precision@10']:.3f} "
              f"NAF-hit@10 {f['naf_hit@10']:.3f}", flush=True)

    def avg(rs):  # type: ignore[no-untyped-def]
        n = sum(w for w, _ in rs)
        return {key: round(sum(w * m[key] for w, m in rs) / n, 4) for key in rs[0][1]}

    report = {"lines": len(rows), "sets": names, "group": args.group, "folds": args.folds,
              "semantic": bool(args.semantic), "prior": avg(prior_rows), "fitted_cv": avg(fitted_rows)}
    print(json.dumps(report, indent=2))
    if args.out:
        ranker = fit_ranker(base, rows, prior_strength=args.prior_strength)
        ranker.fit_info_ = {**ranker.fit_info_, "source": "development labels " + ", ".join(names),
                            "cross_validation": report}
        ranker.save(args.out)
        print(f"ranker fitted on {len(rows)} lines written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
