"""Evaluation: metrics as pure functions, and a runner that measures the engine on labelled lines.

Retrieval is measured before ranking (candidate recall of the retrieval stage alone), then
ranking: supplier NAF-hit@k (a top-k supplier carries a true producing NAF), precision@10,
MRR and nDCG@10 with binary relevance = "the supplier's NAF is a true producing NAF".
Supplier metrics only count lines whose true producers exist in the catalog (the number
is reported). The BM25 baseline is measured on the same lines and catalog.
"""

from __future__ import annotations

import csv
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matching.errors import DataError

SUPPLIER_METRICS = ("naf_hit@1", "naf_hit@5", "naf_hit@10", "precision@10", "mrr", "ndcg@10")
PRODUCT_METRICS = ("hs2@1", "hs2@5", "hs4@1", "hs4@5", "hs6@1", "hs6@5")


# -- pure metric functions ---------------------------------------------------------------------
def code_hit(predicted: Sequence[str], truth: str, *, k: int, digits: int) -> float:
    """1 when one of the first ``k`` predicted codes agrees with ``truth`` on ``digits`` digits."""
    t = truth[:digits]
    if len(t) < digits:
        return math.nan
    return float(any(len(c) >= digits and c[:digits] == t for c in predicted[:k]))


def activity_hit(predicted: Sequence[str], truth: Iterable[str], *, k: int = 3) -> float:
    """1 when a true producing NAF is among the first ``k`` predicted activities."""
    t = set(truth)
    return float(any(n in t for n in predicted[:k]))


def naf_hit_at_k(supplier_nafs: Sequence[str], truth: Iterable[str], k: int) -> float:
    """1 when one of the first ``k`` suppliers has a true producing NAF."""
    t = set(truth)
    return float(any(n in t for n in supplier_nafs[:k]))


def precision_at_k(supplier_nafs: Sequence[str], truth: Iterable[str], k: int = 10) -> float:
    """Relevant suppliers among the first ``k``, divided by ``k``."""
    t = set(truth)
    return sum(n in t for n in supplier_nafs[:k]) / k


def reciprocal_rank(supplier_nafs: Sequence[str], truth: Iterable[str], k: int = 10) -> float:
    """1 / rank of the first relevant supplier within ``k`` (0 when none)."""
    t = set(truth)
    for i, n in enumerate(supplier_nafs[:k]):
        if n in t:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(supplier_nafs: Sequence[str], truth: Iterable[str], k: int = 10, *, n_relevant: int | None = None) -> float:
    """Binary-relevance nDCG@k; the ideal list holds ``min(k, n_relevant)`` relevant suppliers
    (``n_relevant`` = relevant suppliers in the catalog; default: those in the list)."""
    t = set(truth)
    rel = [1.0 if n in t else 0.0 for n in supplier_nafs[:k]]
    dcg = sum(r / math.log2(i + 2) for i, r in enumerate(rel))
    m = min(k, n_relevant if n_relevant is not None else int(sum(rel)))
    if m <= 0:
        return math.nan
    idcg = sum(1.0 / math.log2(i + 2) for i in range(m))
    return dcg / idcg


def candidate_recall(candidate_nafs: Sequence[str], truth: Iterable[str], *, n_relevant: int) -> tuple[float, float]:
    """(any relevant candidate retrieved, share of the catalog's relevant suppliers retrieved)."""
    t = set(truth)
    hit = sum(n in t for n in candidate_nafs)
    if n_relevant <= 0:
        return math.nan, math.nan
    return float(hit > 0), hit / n_relevant


def mean(values: Iterable[float]) -> float:
    """Mean ignoring NaN (NaN when nothing is left)."""
    v = [x for x in values if not (isinstance(x, float) and math.isnan(x))]
    return sum(v) / len(v) if v else math.nan


# -- labelled lines ----------------------------------------------------------------------------
def load_labels(path: str | Path, *, require_naf: bool = True) -> list[dict[str, Any]]:
    """Read ``id,lang,description,code,...,hs6,naf[,kind]`` (naf = true NAFs separated by ``|``).

    ``require_naf=False`` accepts product-only sets (``crosslang.csv``): their activity and
    supplier figures are left empty (NaN), not counted as misses."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"description", "naf"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"missing column(s) {', '.join(sorted(missing))}; expected id,lang,description,code,"
                                "origin_country,annual_value_eur,hs6,naf", path=p)
            rows = []
            for i, r in enumerate(reader, start=2):
                nafs = [n.strip() for n in (r.get("naf") or "").split("|") if n.strip()]
                if not nafs and require_naf:
                    raise DataError(f"line {i}: column naf is empty; expected NAF codes like 28.15Z|28.14Z", path=p)
                rows.append({**r, "naf": nafs, "row": i, "hs6": (r.get("hs6") or "").strip(),
                             "kind": (r.get("kind") or "").strip() or "goods",
                             "code": (r.get("code") or "").strip(), "lang": (r.get("lang") or "").strip() or "?"})
    except OSError as exc:
        raise DataError(f"cannot read labels: {exc.strerror}", path=p) from None
    return rows


def _to_line(r: dict[str, Any]):  # noqa: ANN202
    from matching.codes import try_parse_code
    from matching.types import BomLine

    code = r.get("code") or None
    parsed = try_parse_code(code) if code else None
    v = r.get("annual_value_eur")
    try:
        value = float(v) if v not in (None, "") else None
    except ValueError:
        value = None
    return BomLine(row=int(r["row"]), description=r.get("description") or "", code=parsed.digits if parsed else None,
                   code_raw=code, origin_country=r.get("origin_country") or None, annual_value_eur=value)


ABSTAIN_STATUSES = ("no_producer", "low_confidence")


def _groups(r: dict[str, Any]) -> list[str]:
    """The slices every figure is reported on: language, code given or not (and right or wrong),
    the line's kind (goods / service / no_producer), and goods lines without a code."""
    kind = r.get("kind") or "goods"
    gs = ["all", f"lang={r['lang']}", "code=given" if r.get("code") else "code=none", f"kind={kind}"]
    if r.get("code"):
        gs.append("code=wrong" if "wrong_code" in (r.get("notes") or "") else "code=correct")
    elif kind == "goods":
        gs.append("goods code=none")
    return gs


def _aggregate(per_line: list[dict[str, float]], groups: list[list[str]], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    buckets: dict[str, list[dict[str, float]]] = defaultdict(list)
    for m, gs in zip(per_line, groups, strict=True):
        for g in gs:
            buckets[g].append(m)
    for g, ms in sorted(buckets.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        row = {"n": len(ms)}
        for k in keys:
            row[k] = round(mean(m.get(k, math.nan) for m in ms), 4)
            row[f"n_{k}"] = sum(1 for m in ms if not math.isnan(m.get(k, math.nan)))
        out[g] = row
    return out


def _supplier_metrics(nafs: Sequence[str], truth: Sequence[str], n_rel: int, prefix: str = "") -> dict[str, float]:
    if n_rel <= 0:
        return {prefix + k: math.nan for k in SUPPLIER_METRICS}
    return {
        prefix + "naf_hit@1": naf_hit_at_k(nafs, truth, 1),
        prefix + "naf_hit@5": naf_hit_at_k(nafs, truth, 5),
        prefix + "naf_hit@10": naf_hit_at_k(nafs, truth, 10),
        prefix + "precision@10": precision_at_k(nafs, truth, 10),
        prefix + "mrr": reciprocal_rank(nafs, truth, 10),
        prefix + "ndcg@10": ndcg_at_k(nafs, truth, 10, n_relevant=n_rel),
    }


def run_evaluation(matcher: Any, rows: list[dict[str, Any]], *, baseline: bool = True) -> dict[str, Any]:
    """Match labelled lines and compute every metric, overall and by group, plus the baseline."""
    arrays = matcher.arrays
    region = matcher.config.region
    lines = [_to_line(r) for r in rows]
    t0 = time.perf_counter()
    result = matcher.match(lines)
    engine_s = time.perf_counter() - t0
    per_line: list[dict[str, float]] = []
    groups: list[list[str]] = []
    n_absent = 0
    for r, lr in zip(rows, result.lines, strict=True):
        truth = r["naf"]
        # A line labelled no_producer has no producer whatever the catalog holds under its NAF (a
        # farm of the fibre-crops class is not a raw-cotton supplier): no supplier can hit, and
        # abstaining on it is never wrong.
        is_rel = np.isin(arrays.naf, truth) & ((r.get("kind") or "goods") != "no_producer")
        n_rel = int(is_rel.sum())
        n_rel_reg = int((is_rel & (arrays.region == region)).sum())
        n_absent += n_rel == 0
        m: dict[str, float] = {}
        codes = [p.code for p in lr.products]
        hs6 = r.get("hs6") or ""
        for d in (2, 4, 6):
            for k in (1, 5):
                m[f"hs{d}@{k}"] = code_hit(codes, hs6, k=k, digits=d) if hs6 else math.nan
        m["activity_hit@3"] = activity_hit([a.naf for a in lr.activities], truth, k=3) if truth else math.nan
        nafs = [s.supplier.naf for s in lr.suppliers]
        m.update(_supplier_metrics(nafs, truth, n_rel))
        m.update(_supplier_metrics([s.supplier.naf for s in lr.suppliers if s.tier == "regional"], truth, n_rel_reg,
                                   "regional:"))
        m.update(_supplier_metrics([s.supplier.naf for s in lr.suppliers if s.tier == "national"], truth,
                                   n_rel - n_rel_reg, "national:"))
        if lr.status in ("matched", "no_candidate") and n_rel > 0:
            _, cands = matcher.retrieve_for(lr.line, list(lr.products), list(lr.activities) + list(lr.other_activities))
            any_hit, share = candidate_recall(arrays.naf[cands.rows].tolist(), truth, n_relevant=n_rel)
            m["candidate_recall"] = any_hit
            m["candidate_coverage"] = share
        else:
            m["candidate_recall"] = m["candidate_coverage"] = math.nan
        m["error"] = float(lr.status == "error")
        m["abstained"] = float(lr.status in ABSTAIN_STATUSES)
        m["wrongly_abstained"] = m["abstained"] if n_rel > 0 else math.nan
        per_line.append(m)
        groups.append(_groups(r))
    keys = list(PRODUCT_METRICS) + ["activity_hit@3", "candidate_recall", "candidate_coverage"] + list(SUPPLIER_METRICS)
    keys += [f"{t}:{k}" for t in ("regional", "national") for k in ("naf_hit@10", "mrr")]
    keys += ["abstained", "wrongly_abstained"]
    report: dict[str, Any] = {
        "lines": len(rows),
        "lines_with_producers_in_catalog": len(rows) - n_absent,
        "lines_without_producers_in_catalog": n_absent,
        "errors": int(sum(m["error"] for m in per_line)),
        "relocmatch": _aggregate(per_line, groups, keys),
        "timing": {"relocmatch_ms_per_line": round(1000 * engine_s / max(len(rows), 1), 2)},
        "engine": {"semantic": result.engine.get("semantic"), "channels": result.engine.get("channels")},
        "catalog": {"rows": len(matcher.table), "source": result.catalog.get("sources", result.catalog.get("source"))},
    }
    if baseline:
        from matching.baseline import BM25Baseline

        bl = BM25Baseline.from_table(matcher.table)
        b_lines = []
        t0 = time.perf_counter()
        hits = [bl.search(r.get("description") or "", 10)[0] for r in rows]
        base_s = time.perf_counter() - t0
        for r, rws in zip(rows, hits, strict=True):
            truth = r["naf"]
            n_rel = int(np.isin(arrays.naf, truth).sum())
            nafs = arrays.naf[rws].tolist()
            m = _supplier_metrics(nafs, truth, n_rel)
            m["activity_hit@3"] = activity_hit(list(dict.fromkeys(nafs)), truth, k=3) if truth else math.nan
            b_lines.append(m)
        report["baseline"] = _aggregate(b_lines, groups, ["activity_hit@3"] + list(SUPPLIER_METRICS))
        report["timing"]["baseline_ms_per_line"] = round(1000 * base_s / max(len(rows), 1), 2)
    return report


def format_report(report: dict[str, Any]) -> str:
    """A plain-text (Markdown) table: relocmatch vs baseline overall, then by group."""
    rm, bl = report["relocmatch"], report.get("baseline", {})
    out = [
        f"lines: {report['lines']} ({report['lines_with_producers_in_catalog']} with producers in the catalog, "
        f"{report['lines_without_producers_in_catalog']} without; supplier metrics count only the former); "
        f"errors: {report['errors']}; semantic channel: {report['engine'].get('semantic')}",
        "",
        "| metric | relocmatch | BM25 baseline |",
        "|---|---|---|",
    ]
    allr, allb = rm.get("all", {}), bl.get("all", {})

    def f(v: Any) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"

    for k in list(PRODUCT_METRICS) + ["activity_hit@3", "candidate_recall", "candidate_coverage", *SUPPLIER_METRICS,
                                      "regional:naf_hit@10", "regional:mrr", "national:naf_hit@10", "national:mrr",
                                      "abstained", "wrongly_abstained"]:
        out.append(f"| {k} | {f(allr.get(k))} | {f(allb.get(k))} |")
    t = report["timing"]
    if "coef" in report.get("ranker", {}):
        out.insert(1, f"ranker fitted on {report['ranker']['n_samples_seen']} pairs: {report['ranker']['coef']}")
    out.append(f"| ms per line | {t.get('relocmatch_ms_per_line')} | {t.get('baseline_ms_per_line', '—')} |")
    out += ["", "| group | n | hs4@5 | hs6@5 | hs6@1 | activity_hit@3 | naf_hit@10 | precision@10 | mrr | abstained "
            "| baseline naf_hit@10 | baseline precision@10 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for g, row in rm.items():
        b = bl.get(g, {})
        out.append(f"| {g} | {row['n']} | {f(row.get('hs4@5'))} | {f(row.get('hs6@5'))} | {f(row.get('hs6@1'))} "
                   f"| {f(row.get('activity_hit@3'))} | {f(row.get('naf_hit@10'))} | {f(row.get('precision@10'))} "
                   f"| {f(row.get('mrr'))} | {f(row.get('abstained'))} | {f(b.get('naf_hit@10'))} "
                   f"| {f(b.get('precision@10'))} |")
    return "\n".join(out)


# -- learning the ranker from labelled lines ------------------------------------------------------
def candidate_features(matcher: Any, lines: Sequence[Any]) -> list[tuple[Any, Any] | None]:
    """Per line, the pipeline's own stages up to the features: (candidates, feature frame), or
    None when the line cannot be classified or retrieves no candidate. Shared by the labelled
    lines and the feedback (``matching.feedback``) so both learn from what ranking sees."""
    from matching.features import compute_features

    cls = matcher._classify_many(list(lines))
    out: list[tuple[Any, Any] | None] = []
    for ln, c in zip(lines, cls, strict=True):
        if isinstance(c, BaseException):
            out.append(None)
            continue
        products = list(c.products)
        # a service line is ranked among its service activities, as the pipeline does
        svc = matcher._read_service(ln, products)
        if svc is not None and svc.products:
            products, acts = list(svc.products), list(svc.activities)
        else:
            acts = matcher.classifier.activities_for_line(products, ln.description)
        tokens, cands = matcher.retrieve_for(ln, products, list(acts))
        if len(cands) == 0:
            out.append(None)
            continue
        out.append((cands, compute_features(ln.row, tokens, cands, matcher.table, matcher.arrays,
                                            region=matcher.config.region)))
    return out


def labelled_pairs(matcher: Any, rows: list[dict[str, Any]]) -> tuple[Any, np.ndarray]:
    """Features of every retrieved candidate of labelled lines, with y = 1 when the supplier's
    NAF is a true producing NAF of the line (the same relevance as the metrics)."""
    import pandas as pd

    from matching.features import FEATURE_NAMES

    lines = [_to_line(r) for r in rows]
    frames, ys = [], []
    for r, cf in zip(rows, candidate_features(matcher, lines), strict=True):
        if cf is None:
            continue
        cands, X = cf
        frames.append(X[list(FEATURE_NAMES)])
        ys.append(np.isin(matcher.arrays.naf[cands.rows], r["naf"]).astype(int))
    if not frames:
        return pd.DataFrame(columns=list(FEATURE_NAMES)), np.zeros(0, dtype=int)
    return pd.concat(frames), np.concatenate(ys)


def fit_ranker(matcher: Any, rows: list[dict[str, Any]], *, prior_strength: float = 200.0) -> Any:
    """A LinearRanker fitted on labelled lines (shrunk toward the matcher's prior weights)."""
    from matching.rank import LinearRanker

    X, y = labelled_pairs(matcher, rows)
    ranker = LinearRanker(weights=dict(matcher.config.weights), prior_strength=prior_strength).fit(X, y)
    ranker.fit_info_ = {"source": "labelled lines", "lines": len(rows), **ranker.fit_info_}
    return ranker
