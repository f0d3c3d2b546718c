"""Quality floor on a fixed slice of the development set (so quality cannot silently regress).

The floor sits a little below what was measured when it was set (see docs/classify.md).
"""

from __future__ import annotations

from matching.classify import ProductClassifier

SLICE = 60
# Measured on the first 60 lines, lexical only, codes used: see docs/classify.md.
FLOOR_HS4_TOP5 = 0.90  # measured 96.7%
FLOOR_HS6_TOP5 = 0.85  # measured 91.7%
FLOOR_HS4_TOP5_TEXT_ONLY = 0.88  # measured 96.7%
FLOOR_ACT_HIT3 = 0.90  # measured 96.7%


def _rates(clf: ProductClassifier, rows: list[dict[str, str]], use_code: bool) -> tuple[float, float, float]:
    res = clf.classify_many([r["description"] for r in rows], [r["code"] or None if use_code else None for r in rows])
    hs4 = hs6 = act = 0
    for r, x in zip(rows, res):
        codes = [p.code for p in x.products[:5]]
        hs4 += any(c[:4] == r["hs6"][:4] for c in codes)
        hs6 += any(c[:6] == r["hs6"] for c in codes)
        acts = clf.activities_for_line(x.products, r["description"])[:3]
        act += any(a.naf in r["naf"].split("|") for a in acts)
    n = len(rows)
    return hs4 / n, hs6 / n, act / n


def test_quality_floor_on_devset_slice(lexical_classifier: ProductClassifier, devset: list[dict[str, str]]) -> None:
    hs4, hs6, act = _rates(lexical_classifier, devset[:SLICE], use_code=True)
    assert hs4 >= FLOOR_HS4_TOP5, f"HS4 top-5 {hs4:.1%} < floor {FLOOR_HS4_TOP5:.0%}"
    assert hs6 >= FLOOR_HS6_TOP5, f"HS6 top-5 {hs6:.1%} < floor {FLOOR_HS6_TOP5:.0%}"
    assert act >= FLOOR_ACT_HIT3, f"activity hit@3 {act:.1%} < floor {FLOOR_ACT_HIT3:.0%}"


def test_quality_floor_text_only(lexical_classifier: ProductClassifier, devset: list[dict[str, str]]) -> None:
    hs4, _, _ = _rates(lexical_classifier, devset[:SLICE], use_code=False)
    assert hs4 >= FLOOR_HS4_TOP5_TEXT_ONLY, f"text-only HS4 top-5 {hs4:.1%} < floor"
