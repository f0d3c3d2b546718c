import math

import pytest

from matching.errors import DataError
from matching.evaluate import (
    activity_hit,
    candidate_recall,
    code_hit,
    load_labels,
    mean,
    naf_hit_at_k,
    ndcg_at_k,
    precision_at_k,
    reciprocal_rank,
)

TRUTH = ["28.15Z", "28.14Z"]
RANKED = ["25.62B", "28.15Z", "46.69B", "28.14Z", "10.71C"]


def test_code_hit_by_depth_and_k():
    pred = ["84829190", "84821010"]
    assert code_hit(pred, "848210", k=1, digits=4) == 1.0
    assert code_hit(pred, "848210", k=1, digits=6) == 0.0
    assert code_hit(pred, "848210", k=5, digits=6) == 1.0
    assert code_hit(["8482"], "848210", k=1, digits=6) == 0.0  # a heading is not a subheading
    assert math.isnan(code_hit(pred, "8482", k=1, digits=6))


def test_activity_hit_at_3():
    assert activity_hit(["25.62B", "46.69B", "28.15Z"], TRUTH, k=3) == 1.0
    assert activity_hit(["25.62B", "46.69B", "22.29A", "28.15Z"], TRUTH, k=3) == 0.0


def test_supplier_ranking_metrics_hand_computed():
    assert naf_hit_at_k(RANKED, TRUTH, 1) == 0.0
    assert naf_hit_at_k(RANKED, TRUTH, 2) == 1.0
    assert precision_at_k(RANKED, TRUTH, 10) == pytest.approx(0.2)
    assert reciprocal_rank(RANKED, TRUTH) == pytest.approx(0.5)
    assert reciprocal_rank(["10.71C"], TRUTH) == 0.0
    # DCG = 1/log2(3) + 1/log2(5); ideal with 2 relevant = 1 + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    assert ndcg_at_k(RANKED, TRUTH, 10, n_relevant=2) == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    # 5 relevant suppliers exist in the catalog: the ideal list has 5
    ideal5 = sum(1 / math.log2(i + 2) for i in range(5))
    assert ndcg_at_k(RANKED, TRUTH, 10, n_relevant=5) == pytest.approx(dcg / ideal5)
    assert ndcg_at_k(["28.15Z"], TRUTH, 10, n_relevant=1) == pytest.approx(1.0)


def test_candidate_recall_and_coverage():
    assert candidate_recall(["28.15Z", "25.62B", "28.15Z"], TRUTH, n_relevant=4) == (1.0, 0.5)
    assert candidate_recall(["25.62B"], TRUTH, n_relevant=4) == (0.0, 0.0)
    assert all(math.isnan(v) for v in candidate_recall([], TRUTH, n_relevant=0))


def test_mean_ignores_missing():
    assert mean([1.0, math.nan, 0.0]) == 0.5
    assert math.isnan(mean([math.nan]))


def test_load_labels_says_which_line_is_wrong(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("id,lang,description,code,hs6,naf\nA,fr,roulement,,848210,28.15Z|28.14Z\nB,fr,vis,,731815,\n")
    with pytest.raises(DataError, match="line 3"):
        load_labels(p)
    p.write_text("id,description\nA,x\n")
    with pytest.raises(DataError, match="naf"):
        load_labels(p)


@pytest.mark.parametrize("kind,with_producers", [("goods", 1), ("service", 1), ("no_producer", 0)])
def test_a_line_labelled_no_producer_has_no_producer_whatever_its_naf_holds(kind, with_producers):
    """Its NAF's establishments are not its producers: no supplier hit, abstaining is never wrong."""
    from matching.config import MatchConfig
    from matching.evaluate import run_evaluation
    from matching.pipeline import Matcher

    from .conftest import FakeClassifier, make_table

    m = Matcher(make_table(), classifier=FakeClassifier(), config=MatchConfig())
    rows = [{"row": 2, "id": "A", "lang": "fr", "description": "roulements à billes", "code": "", "hs6": "848210",
             "naf": ["28.15Z"], "kind": kind, "notes": ""}]
    rep = run_evaluation(m, rows, baseline=False)
    assert rep["lines_with_producers_in_catalog"] == with_producers
    row = rep["relocmatch"]["all"]
    assert math.isnan(row["naf_hit@10"]) == (with_producers == 0)
    assert math.isnan(row["wrongly_abstained"]) == (with_producers == 0)
