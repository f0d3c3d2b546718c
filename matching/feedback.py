"""Learning the ranker from users' feedback on proposed suppliers (issue 6 → issue 5's ranker).

A judgement is (line text, SIRET, label). The line goes through the pipeline's own stages
(``evaluate.candidate_features``: classify → activities → retrieval → features), and the
feature row of that SIRET among the line's candidates becomes one labelled pair:
y = 1 for relevant / contacted / contracted, 0 for not_relevant. A supplier that is not
(or no longer) among the candidates has no feature row the ranker would ever score: it is
skipped and counted. The latest judgement of a (line, SIRET) wins (a user correcting
themselves); earlier ones are counted as superseded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

POSITIVE_LABELS = frozenset({"relevant", "contacted", "contracted"})
NEGATIVE_LABELS = frozenset({"not_relevant"})


def feedback_pairs(matcher: Any, feedback: Iterable[tuple[str, str, str]]) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """(X, y, report) from ``(line_text, siret, label)`` judgements (``Store.feedback_for_training()``).

    ``report``: judgements read, used, superseded, pairs, positives, negatives, lines, and
    ``skipped`` with its reasons (``not_in_candidates``, ``no_candidates``, ``unknown_label``,
    ``empty_line``).
    """
    import pandas as pd

    from matching.evaluate import candidate_features
    from matching.features import FEATURE_NAMES
    from matching.types import BomLine

    items = list(feedback)
    skipped: Counter[str] = Counter()
    latest: dict[tuple[str, str], int] = {}
    for text, siret, label in items:
        t, s = (text or "").strip(), str(siret or "").strip()
        if label not in POSITIVE_LABELS and label not in NEGATIVE_LABELS:
            skipped["unknown_label"] += 1
            continue
        if not t:
            skipped["empty_line"] += 1
            continue
        latest[(t, s)] = 1 if label in POSITIVE_LABELS else 0
    n_valid = len(items) - sum(skipped.values())
    texts = list(dict.fromkeys(t for t, _ in latest))
    lines = [BomLine(row=i + 1, description=t) for i, t in enumerate(texts)]
    feats = dict(zip(texts, candidate_features(matcher, lines), strict=True)) if lines else {}
    siret_col = matcher.table["siret"].astype("string").fillna("").to_numpy(dtype=object)
    frames, ys = [], []
    for (t, s), y in latest.items():
        cf = feats.get(t)
        if cf is None:
            skipped["no_candidates"] += 1
            continue
        cands, X = cf
        hit = np.flatnonzero(siret_col[cands.rows] == s)
        if len(hit) == 0:
            skipped["not_in_candidates"] += 1
            continue
        frames.append(X[list(FEATURE_NAMES)].iloc[hit])
        ys.append(np.full(len(hit), y, dtype=int))
    if frames:
        Xall, yall = pd.concat(frames), np.concatenate(ys)
    else:
        Xall, yall = pd.DataFrame(columns=list(FEATURE_NAMES), dtype=float), np.zeros(0, dtype=int)
    report = {
        "judgements": len(items),
        "superseded": n_valid - len(latest),
        "used": len(frames),
        "lines": len(texts),
        "pairs": int(len(yall)),
        "positives": int((yall == 1).sum()),
        "negatives": int((yall == 0).sum()),
        "skipped": int(sum(skipped.values())),
        "skipped_reasons": dict(sorted(skipped.items())),
    }
    return Xall, yall, report


def fit_ranker_from_feedback(
    matcher: Any, feedback: Iterable[tuple[str, str, str]], *, prior_strength: float = 200.0
) -> tuple[Any, dict[str, Any]]:
    """A LinearRanker fitted on feedback pairs, shrunk toward the matcher's prior weights, and
    the report of ``feedback_pairs``. With only one kind of label nothing can be learned:
    the ranker keeps its priors (``n_samples_seen_`` = 0) and the report says so."""
    from matching.rank import LinearRanker

    X, y, report = feedback_pairs(matcher, feedback)
    ranker = LinearRanker(weights=dict(matcher.config.weights), prior_strength=prior_strength).fit(X, y)
    report["learned"] = bool(ranker.n_samples_seen_)
    ranker.fit_info_ = {"source": "feedback", **ranker.fit_info_, "judgements": report["judgements"],
                        "skipped": report["skipped"]}
    return ranker, report


__all__ = ["NEGATIVE_LABELS", "POSITIVE_LABELS", "feedback_pairs", "fit_ranker_from_feedback"]
