import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from matching.config import MatchConfig
from matching.rank import LinearRanker, tier_order


def frame(rows):
    return pd.DataFrame(rows, columns=["activity", "lexical", "text", "products", "proximity", "size", "same_region"])


def test_unfitted_score_is_weighted_mean_of_priors_in_unit_range():
    r = LinearRanker()
    X = frame([[1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0.9, 0, 0, np.nan, np.nan, np.nan, 1]])
    s = r.predict_score(X)
    assert s[0] == pytest.approx(1.0) and s[1] == pytest.approx(0.0)
    assert 0 < s[2] < 1
    assert np.allclose(r.contributions(X).sum(axis=1), s)


def test_missing_evidence_is_neutral_not_zero():
    r = LinearRanker()
    a = frame([[0.8, 0, 0, np.nan, np.nan, np.nan, 1]])
    b = frame([[0.8, 0, 0, 0.0, 0.0, 0.0, 1]])
    assert r.predict_score(a)[0] > r.predict_score(b)[0]


def test_fit_follows_estimator_contract_and_learns_direction():
    rng = np.random.default_rng(0)
    X = frame(rng.random((400, 7)))
    y = (X["text"] > 0.5).astype(int)  # labels that care about text only
    r = LinearRanker()
    assert not hasattr(r, "coef_")
    assert r.fit(X, y) is r
    assert r.coef_.shape == (7,) and r.n_samples_seen_ == 400
    prior = LinearRanker()
    j = list(r.feature_names).index("text")
    assert r.coef_[j] > prior._prior()[j] * 8  # moved toward the labels
    assert clone(r).get_params() == r.get_params()
    s = r.predict_score(X)
    assert ((s >= 0) & (s <= 1)).all()


def test_regional_supplier_within_margin_is_shown_first():
    scores = np.array([0.90, 0.80, 0.60, 0.85])
    regional = np.array([False, True, True, False])
    order = tier_order(scores, regional, MatchConfig(regional_margin=0.15))
    assert order.tolist() == [1, 0, 3, 2]  # 0.80 is within 0.15 of 0.90; 0.60 is not


def test_regional_first_puts_equally_credible_regional_before_national_below_the_front():
    # best national 0.90: no regional within 0.15 of it. Below it, the regional 0.51 goes ahead of
    # the national 0.52 (trails by less than the margin) but not ahead of the national 0.70.
    scores = np.array([0.90, 0.70, 0.52, 0.51, 0.30])
    regional = np.array([False, False, False, True, False])
    order = tier_order(scores, regional, MatchConfig(regional_margin=0.15))
    assert order.tolist() == [0, 1, 3, 2, 4]


def test_policy_none_is_pure_score_order():
    scores = np.array([0.90, 0.80, 0.60, 0.85])
    regional = np.array([False, True, True, False])
    assert tier_order(scores, regional, MatchConfig(tier_policy="none")).tolist() == [0, 3, 1, 2]


def test_boost_policy_adds_boost_to_regional_scores():
    scores = np.array([0.90, 0.82, 0.60])
    regional = np.array([False, True, True])
    assert tier_order(scores, regional, MatchConfig(tier_policy="boost", boost=0.1)).tolist() == [1, 0, 2]


def test_quotas_share_slots_by_squared_score_with_one_minimum():
    from matching.rank import activity_quotas

    q = activity_quotas(np.array([0.8, 0.4, 0.1]), 10, min_ratio=0.4)
    assert q == {0: 8, 1: 2}  # 0.64 : 0.16 → 8 : 2; 0.1 is below 0.4 × 0.8
    assert activity_quotas(np.array([0.9, 0.3]), 10, min_ratio=0.25) == {0: 9, 1: 1}
    assert sum(activity_quotas(np.array([0.5, 0.5, 0.5, 0.5, 0.5]), 3).values()) == 3
    assert activity_quotas(np.array([]), 10) == {}


def test_diversify_keeps_order_and_fills_leftovers():
    from matching.rank import diversify

    order = np.array([0, 1, 2, 3, 4, 5])
    groups = np.array([0, 0, 0, 0, 1, -1])  # -1: no quota (lexical-only)
    assert diversify(order, groups, {0: 2, 1: 1}, 4).tolist() == [0, 1, 4, 5]
    assert diversify(order, groups, {0: 1, 1: 1}, 5).tolist() == [0, 1, 2, 4, 5]  # leftovers by order
    assert diversify(order, groups, {}, 3).tolist() == [0, 1, 2]


def test_pipeline_shows_the_second_plausible_activity(table):
    from matching.pipeline import Matcher
    from matching.types import ActivityGuess, BomLine

    acts = [ActivityGuess("28.15Z", "transmission", 0.8, "cn-cpa"), ActivityGuess("25.62B", "usinage", 0.5, "text")]
    m = Matcher(table, classifier=None, config=MatchConfig(top_n=3))
    lr = m._rank_line(BomLine(row=1, description="pièce"), [], acts, [], m.config, None)
    assert "25.62B" in [s.supplier.naf for s in lr.suppliers]
    m2 = Matcher(table, classifier=None, config=MatchConfig(top_n=3, diversify=False))
    lr2 = m2._rank_line(BomLine(row=1, description="pièce"), [], acts, [], m2.config, None)
    assert [s.supplier.naf for s in lr2.suppliers] == ["28.15Z"] * 3
