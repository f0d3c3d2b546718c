"""Fit the per-line confidence (``matching/confidence.py``) on the development sets, cross-validated.

Target: NAF-hit@10, "the line's top-10 suppliers contain a true producing NAF", on lines whose
true producers exist in the catalog and that the engine did not abstain on (a ``no_producer``
line shows wholesalers, not producers). A line labelled ``no_producer`` (a good France does not
make) that the engine did not abstain on has target 0: no supplier list is right for it, and
it is what the low band must catch. Sets: the development sets only (``report_all.DEV_SETS``;
crosslang is a product-only set: its true NAFs are derived from its true CN8 through the
official crosswalk, ``derived_nafs``). The blind sets (``report_all.BLIND_SETS``) are never read here.

Cross-validation is grouped by folded description, so a line (or its copy in another set) never
scores itself; a leave-one-set-out run says how it carries to a set it was not fitted on.
Prints the reliability tables (Markdown, for docs/confidence.md) and, with ``--write``, ships
the coefficients fitted on all dev lines to ``matching/resources/confidence.json``.

    RELOCMATCH_DATA=../shared/data PYTHONPATH=$PWD .venv/bin/python examples/devset/fit_confidence.py \
        --catalog var/catalogs/irep --no-semantic [--features var/confidence_features.csv] [--write]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from report_all import BLIND_SETS, DEV_SETS  # noqa: E402

FIT_SETS = (*DEV_SETS, "nonsense")
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


def collect(catalog: Path, sets: list[str], semantic: bool | None) -> list[dict[str, Any]]:
    """One row per labelled line: set, id, description, status, target (or None) and features."""
    from matching.config import MatchConfig
    from matching.confidence import line_features
    from matching.evaluate import _to_line, load_labels
    from matching.pipeline import Matcher

    from matching.confidence import ConfidenceModel, use_model

    # Collect with a neutral model (no line in the low band): the statuses are the rules' alone,
    # and the shipped model, fitted on other features, need not load.
    use_model(ConfidenceModel.neutral())
    matcher = Matcher.from_catalog(catalog, MatchConfig(semantic=semantic))
    out = []
    for name in sets:
        if name in BLIND_SETS:
            raise SystemExit(f"{name}: the blind sets are never used to fit the confidence")
        rows = nonsense_rows() if name == "nonsense" else load_labels(HERE / f"{name}.csv", require_naf=False)
        lines = [_to_line(r) for r in rows]
        result = matcher.match(lines)
        cls = matcher._classify_many(lines)
        for r, lr, c in zip(rows, result.lines, cls, strict=True):
            if not r["naf"] and name != "nonsense":
                r["naf"] = derived_nafs(matcher, r)
            n_rel = int(np.isin(matcher.arrays.naf, r["naf"]).sum()) if r["naf"] else 0
            ev = None if isinstance(c, BaseException) else getattr(c, "evidence", None)
            feats = line_features(lr, ev if lr.kind == "goods" else None, matcher.confidence_context(lr))
            y: int | None = None
            if (name == "nonsense" or r.get("kind") == "no_producer") and lr.status in ("matched", "low_confidence"):
                y = 0
            elif n_rel > 0 and lr.status in ("matched", "low_confidence"):
                y = int(any(m.supplier.naf in set(r["naf"]) for m in lr.suppliers[:10]))
            out.append({"set": name, "id": r.get("id"), "description": r.get("description") or "",
                        "status": lr.status, "kind": lr.kind, "label_kind": r.get("kind") or "goods",
                        "n_rel": n_rel, "y": y, **feats})
        print(f"{name}: {len(rows)} lines", flush=True)
    return out


def nonsense_rows(n: int = 40, seed: int = 7) -> list[dict[str, Any]]:
    """Made-up words (seeded pseudo-words, keyboard runs): lines no supplier can be right for.

    Why: the development lines are real purchases, so none shows the engine what "nothing
    recognised" looks like; without these, a line of gibberish would get the confidence of a
    real but vague line. Their target is 0 by construction (there is no right NAF)."""
    import random

    rnd = random.Random(seed)
    cons, vow = "bcdfghjklmnpqrstvwxz", "aeiouy"
    runs = ["asdf", "qwerty", "azerty", "xxx", "zzz", "hjkl", "test test", "n/a", "divers", "lorem ipsum dolor"]
    out = []
    for i in range(n):
        if i < len(runs):
            text = runs[i]
        else:
            words = ["".join(rnd.choice(cons) + rnd.choice(vow) for _ in range(rnd.randint(2, 4)))
                     for _ in range(rnd.randint(1, 3))]
            text = " ".join(words)
        out.append({"id": f"N{i + 1:03d}", "description": text, "code": "", "naf": [], "row": i + 2})
    return out


def derived_nafs(matcher: Any, r: dict[str, Any]) -> list[str]:
    """A product-only line's true producing NAFs, from its true CN8 through the official
    crosswalk (crosslang gives ``cn8=`` in its notes): the credible producers, at ≥ half the best."""
    from matching.types import ProductGuess

    notes = r.get("notes") or ""
    cn8 = notes.split("cn8=", 1)[1][:8] if "cn8=" in notes else ""
    if not cn8.isdigit():
        return []
    acts = matcher.classifier.activities_for_line([ProductGuess(cn8, "CN8", "", 1.0, "given")], "")
    prod = [a for a in acts if not (a.wholesale or a.naf.startswith("46")) and a.route != "text"]
    best = max((a.score for a in prod), default=0.0)
    return [a.naf for a in prod if best > 0 and a.score >= 0.5 * best]


def _fold(text: str) -> str:
    from matching.text import fold

    return " ".join(fold(text).split())


def fit(X: np.ndarray, y: np.ndarray, C: float) -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=2000).fit(sc.transform(X), y)
    return sc, lr


def fit_predict(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, C: float) -> np.ndarray:
    sc, lr = fit(X, y, C)
    return lr.predict_proba(sc.transform(X_new))[:, 1]


def out_of_fold(X: np.ndarray, y: np.ndarray, groups: np.ndarray, C: float, k: int = 5) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=k).split(X, y, groups):
        sc, lr = fit(X[tr], y[tr], C)
        p[te] = lr.predict_proba(sc.transform(X[te]))[:, 1]
    return p


def reliability(p: np.ndarray, y: np.ndarray) -> tuple[list[dict[str, Any]], float, float]:
    """Per-bin (n, mean predicted, observed hit rate), Brier score and expected calibration error."""
    rows, ece = [], 0.0
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        m = (p >= lo) & (p < hi)
        n = int(m.sum())
        if n:
            ece += n / len(p) * abs(p[m].mean() - y[m].mean())
        rows.append({"bin": f"[{lo:.1f}, {min(hi, 1.0):.1f}{']' if hi > 1 else ')'}", "n": n,
                     "predicted": float(p[m].mean()) if n else math.nan, "observed": float(y[m].mean()) if n else math.nan})
    return rows, float(np.mean((p - y) ** 2)), float(ece)


def bands(p: np.ndarray, y: np.ndarray, high: float, low: float) -> list[dict[str, Any]]:
    out = []
    for name, m in (("high", p >= high), ("medium", (p >= low) & (p < high)), ("low", p < low)):
        n = int(m.sum())
        out.append({"band": name, "n": n, "share": n / len(p), "observed": float(y[m].mean()) if n else math.nan})
    return out


def abstention_sweep(data: list[dict[str, Any]], used: list[dict[str, Any]], p: np.ndarray) -> list[dict[str, Any]]:
    """What each low-band threshold would abstain on, out of fold: lines that do have producers
    in the catalog wrongly abstained (target ≤ 3 %) against lines labelled no_producer said.
    A line the rules already abstained on (``no_producer``) stays abstained; ``rules only`` is
    the engine without a low band."""
    p_of = {id(r): float(v) for r, v in zip(used, p, strict=True)}
    rows = [r for r in data if r["set"] not in ("nonsense", "crosslang")]
    has = [r for r in rows if r["label_kind"] != "no_producer" and int(r["n_rel"] or 0) > 0]
    nop = [r for r in rows if r["label_kind"] == "no_producer"]

    def abst(r: dict[str, Any], low: float | None) -> bool:
        if r["status"] == "no_producer":
            return True
        if low is None:
            return r["status"] == "low_confidence"
        return r["status"] in ("matched", "low_confidence") and p_of.get(id(r), 1.0) < low

    out = []
    for low in (None, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        w = sum(abst(r, low) for r in has)
        n = sum(abst(r, low) for r in nop)
        out.append({"low": "rules only" if low is None else f"{low:.2f}", "wrongly abstained": f"{w}/{len(has)} ({w / max(1, len(has)):.1%})",
                    "no_producer said": f"{n}/{len(nop)} ({n / max(1, len(nop)):.1%})"})
    return out


def _md(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    f = lambda v: f"{v:.3f}" if isinstance(v, float) and not math.isnan(v) else ("—" if isinstance(v, float) else str(v))  # noqa: E731
    return "\n".join(["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
                     + ["| " + " | ".join(f(r[k]) for k in keys) + " |" for r in rows])


def main(argv: list[str] | None = None) -> int:
    from matching.confidence import CONFIDENCE_VERSION, FEATURES, RESOURCE

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--sets", nargs="*", default=list(FIT_SETS))
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--features", type=Path, help="cache of the collected features (read if present, else written)")
    ap.add_argument("--C", type=float, default=0.2, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--high", type=float, default=0.9)
    ap.add_argument("--low", type=float, default=0.35)
    ap.add_argument("--read-min", type=float, default=0.7,
                    help="a goods line the gate reads as real below this is low whatever its probability")
    ap.add_argument("--write", action="store_true", help=f"write the fitted model to {RESOURCE}")
    args = ap.parse_args(argv)

    if args.features and args.features.exists():
        with args.features.open(encoding="utf-8") as fh:
            data = [{k: (None if v == "" else v) for k, v in r.items()} for r in csv.DictReader(fh)]
    else:
        data = collect(args.catalog, args.sets, False if args.no_semantic else None)
        if args.features:
            args.features.parent.mkdir(parents=True, exist_ok=True)
            with args.features.open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(data[0]))
                w.writeheader()
                w.writerows(data)
    used = [r for r in data if r["y"] is not None and r["set"] in args.sets]
    X = np.array([[float(r[f]) for f in FEATURES] for r in used])
    y = np.array([int(r["y"]) for r in used])
    sets = np.array([r["set"] for r in used])
    groups = np.array([_fold(r["description"]) for r in used])
    print(f"\n{len(used)} lines with a target ({len(data) - len(used)} without: no producer in the catalog, "
          f"abstained, no candidate, or no NAF label); base NAF-hit@10 rate {y.mean():.3f}\n")

    real = sets != "nonsense"  # reliability is reported on real lines; made-up ones only train the gate
    yr, Xr = y[real], X[real]
    read_y = real.astype(int)  # the gate's target: a real line (1) or a made-up one (0)
    p_hit = np.zeros(len(y))
    p_hit[real] = out_of_fold(Xr, yr, groups[real], args.C)
    p_hit[~real] = fit_predict(Xr, yr, X[~real], args.C)
    goods = np.array([r["kind"] != "service" for r in used])  # a service line was recognised by its cue: no gate
    p_read = np.ones(len(y))
    p_read[goods] = out_of_fold(X[goods], read_y[goods], groups[goods], args.C)
    p = p_hit * p_read
    # the band the engine gives: a goods line the gate does not read as real is low whatever p
    p_band = np.where(goods & (p_read < args.read_min), 0.0, p)
    rel, brier, ece = reliability(p[real], yr)
    base_brier = float(np.mean((yr.mean() - yr) ** 2))
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(yr, p[real]))
    print(f"grouped 5-fold out-of-fold, {int(real.sum())} real lines (base rate {yr.mean():.3f}): Brier {brier:.4f} "
          f"(constant base rate: {base_brier:.4f}), ECE {ece:.4f}, AUC {auc:.3f}; made-up lines: mean "
          f"probability {p[~real].mean() if (~real).any() else float('nan'):.3f}, "
          f"{int((p_band[~real] < args.low).sum())}/{int((~real).sum())} in the low band; gate on real lines: "
          f"min {p_read[real].min():.3f}, mean {p_read[real].mean():.3f}, "
          f"{int((p_read[real & goods] < args.read_min).sum())} under read_min {args.read_min}\n")
    print(_md(rel), "\n")
    print(_md(bands(p_band[real], yr, args.high, args.low)), "\n")

    lo_p = np.zeros(len(y))
    for s in sorted(set(sets[real])):
        tr, te = real & (sets != s), sets == s
        g = goods & (sets != s)
        lo_p[te] = fit_predict(X[tr], y[tr], X[te], args.C) * np.where(
            goods[te], fit_predict(X[g], read_y[g], X[te], args.C), 1.0)
    rel2, brier2, ece2 = reliability(lo_p[real], yr)
    print(f"leave-one-set-out (real lines): Brier {brier2:.4f}, ECE {ece2:.4f}\n")
    print(_md(rel2), "\n")
    per_set = []
    for s in sorted(set(sets)):
        m = sets == s
        per_set.append({"set": s, "n": int(m.sum()), "observed": float(y[m].mean()), "predicted (out-of-fold)": float(p[m].mean()),
                        "low band": int((p_band[m] < args.low).sum()), "low band hits": int(y[m][p_band[m] < args.low].sum())})
    print(_md(per_set), "\n")
    print(_md(abstention_sweep(data, used, p_band)), "\n")

    sc, model = fit(Xr, yr, args.C)
    rsc, rmodel = fit(X[goods], read_y[goods], args.C)
    coef = model.coef_[0]
    print(_md([{"feature": f, "hit coef": float(c), "readable coef": float(rc), "mean": float(mu), "scale": float(sd)}
               for f, c, rc, mu, sd in zip(FEATURES, coef, rmodel.coef_[0], sc.mean_, sc.scale_, strict=True)]), "\n")

    def lin(scaler: Any, m: Any) -> dict[str, Any]:
        return {"mean": [round(float(v), 6) for v in scaler.mean_], "scale": [round(float(v), 6) for v in scaler.scale_],
                "coef": [round(float(v), 6) for v in m.coef_[0]], "intercept": round(float(m.intercept_[0]), 6)}

    if args.write:
        import sklearn

        doc = {
            "version": CONFIDENCE_VERSION, "features": list(FEATURES),
            "hit": lin(sc, model), "readable": lin(rsc, rmodel),
            "bands": {"high": args.high, "low": args.low, "read_min": args.read_min},
            "fit": {"target": "naf_hit@10", "sets": sorted(set(sets.tolist())), "lines": int(real.sum()), "made_up_lines": int((~real).sum()),
                    "base_rate": round(float(y.mean()), 4), "C": args.C,
                    "semantic": not args.no_semantic, "cv": "GroupKFold(5) by folded description",
                    "cv_brier": round(brier, 4), "cv_auc": round(auc, 4), "base_brier": round(base_brier, 4), "cv_ece": round(ece, 4), "loso_brier": round(brier2, 4),
                    "loso_ece": round(ece2, 4), "sklearn": sklearn.__version__,
                    "date": dt.date.today().isoformat(), "script": "examples/devset/fit_confidence.py"},
        }
        RESOURCE.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESOURCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
