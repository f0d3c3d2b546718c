"""Issue 16's "no flat ties": equal scores are ordered by what is known (the supplier's own words,
staff size...) and the order is said; when nothing is known the note says so and the order is kept.
End-to-end on a hand-made catalog (scores made equal by weighting the activity alone), then
``break_ties`` / ``tie_notes`` on small arrays: runs never cross groups, ``TIE_TOLERANCE``, NaN last."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

import matching.rank as rank
from matching.config import MatchConfig
from matching.pipeline import Matcher
from matching.rank import TIE_CRITERIA, TIE_TOLERANCE, break_ties, tie_notes
from matching.types import ActivityGuess, BomLine, ProductGuess

BALLS = ProductGuess("84821010", "CN8", "Roulements à billes", 0.6, "text")
BEARINGS = ActivityGuess("28.15Z", "Fabrication d'engrenages et d'organes mécaniques de transmission", 0.76, "cn-cpa",
                         ("CN 84821010", "CPA 28.15.10", "NACE 28.15"))
# only the activity counts: two establishments of 28.15Z score exactly alike, whatever their words or size
ACTIVITY_ONLY = {"activity": 1.0, "lexical": 0.0, "text": 0.0, "products": 0.0, "proximity": 0.0, "size": 0.0,
                 "same_region": 0.0}
NOTHING = ("même score : rien de connu ne les départage", "same score: nothing known sets them apart")


@dataclass
class _Result:
    products: list
    warnings: list = field(default_factory=list)
    channels_used: tuple = ("lexical",)


class Classifier:
    def classify(self, text, code=None, *, top_k=10):
        return _Result([BALLS] if "roulement" in (text or "").lower() else [])

    def classify_many(self, texts, codes):
        return [self.classify(t, c) for t, c in zip(texts, codes, strict=True)]

    def activities_for_line(self, products, text):
        return [BEARINGS] if products else []


class Geo:
    def resolve(self, code, name=None):
        return None

    def region_name(self, code):
        return {"44": "Grand Est"}.get(code)

    def departement_name(self, code):
        return None


def _table(rows) -> pd.DataFrame:
    """Rows of (name, size_band, products): bearing makers (28.15Z) in Metz, région 44."""
    df = pd.DataFrame([(f"3000000000000{i}", name, "28.15Z", "METZ", "57", "44", 49.12, 6.18, size, prods)
                       for i, (name, size, prods) in enumerate(rows, start=1)],
                      columns=["siret", "name", "naf", "commune", "departement", "region", "lat", "lon", "size_band",
                               "products"])
    df["siren"] = df["siret"].str[:9]
    df["commune_code"] = None
    df["postcode"] = None
    df["source"] = "test"
    return df


def _ranked(rows, text="roulement convoyeur"):
    m = Matcher(_table(rows), classifier=Classifier(), config=MatchConfig(weights=ACTIVITY_ONLY), geo=Geo())
    lr = m.match_one(BomLine(row=1, description=text))
    assert len(lr.suppliers) == len(rows)
    assert len({m.score for m in lr.suppliers}) == 1 and len({m.tier for m in lr.suppliers}) == 1  # a flat tie
    assert {m.activity for m in lr.suppliers} == {"28.15Z"}
    return [m.supplier.name for m in lr.suppliers], [m.tie_note for m in lr.suppliers]


def _without(monkeypatch, key):
    monkeypatch.setattr(rank, "TIE_CRITERIA", tuple(c for c in TIE_CRITERIA if c[0] != key))


# -- end to end ------------------------------------------------------------------------------------
# "convoyeur" is in the line and in BETA's declared products, not in the product's label: only the
# supplier's own words (tie_keys: name similarity + declared products) can tell them apart.
OWN_WORDS = [("ALPHA INDUSTRIE", None, ""), ("BETA INDUSTRIE", None, "convoyeurs, convoyeur")]


def test_own_words_break_a_tie_and_say_so():
    names, notes = _ranked(OWN_WORDS)
    assert names == ["BETA INDUSTRIE", "ALPHA INDUSTRIE"]
    assert notes == [("même score : classés par mots du fournisseur", "same score: ordered by supplier's own words")] * 2


def test_without_the_own_words_breaker_the_catalog_order_would_stand(monkeypatch):
    _without(monkeypatch, "own_words")
    names, notes = _ranked(OWN_WORDS)
    assert names == ["ALPHA INDUSTRIE", "BETA INDUSTRIE"]  # so the test above is the breaker's doing
    assert notes == [NOTHING] * 2


# no buyer (distance unknown), names and products alike: staff size decides; the larger comes second
# in the catalog ("12" = 0.5, "42" = 0.95 in SIZE_SCORES)
SIZES = [("ALPHA INDUSTRIE", "12", ""), ("BETA INDUSTRIE", "42", "")]


def test_size_breaks_a_tie_without_a_buyer_and_says_so():
    names, notes = _ranked(SIZES)
    assert names == ["BETA INDUSTRIE", "ALPHA INDUSTRIE"]
    assert notes == [("même score : classés par effectif", "same score: ordered by staff size")] * 2


def test_without_the_size_breaker_the_smaller_would_lead(monkeypatch):
    _without(monkeypatch, "size")
    names, notes = _ranked(SIZES)
    assert names == ["ALPHA INDUSTRIE", "BETA INDUSTRIE"]
    assert notes == [NOTHING] * 2


def test_a_tie_nothing_known_separates_says_so_and_keeps_its_order():
    rows = [("ALPHA INDUSTRIE", None, ""), ("BETA INDUSTRIE", None, ""), ("GAMMA INDUSTRIE", None, "")]
    names, notes = _ranked(rows)
    assert names == ["ALPHA INDUSTRIE", "BETA INDUSTRIE", "GAMMA INDUSTRIE"]
    assert notes == [NOTHING] * 3
    assert _ranked(rows[::-1])[0] == names[::-1]  # the incoming order is kept, not re-sorted by name
    assert _ranked(rows) == (names, notes)  # and the same on every run


# -- break_ties / tie_notes on arrays -----------------------------------------------------------------
def _keys(**kw):
    return {k: np.array(v, dtype=float) for k, v in kw.items()}


def test_ties_never_cross_groups():
    scores = np.array([0.5, 0.5, 0.5])
    keys = _keys(own_words=[0.0, 1.0, 2.0])
    order = np.array([0, 1, 2])
    assert break_ties(order, scores, np.array([0, 0, 0]), keys).tolist() == [2, 1, 0]  # one group: reordered
    groups = np.array([0, 1, 2])  # e.g. regional / national / outside the activities
    assert break_ties(order, scores, groups, keys).tolist() == [0, 1, 2]
    assert tie_notes(order, scores, groups, keys) == [None, None, None]
    # same group but not adjacent in the shown order: not one run either
    assert break_ties(order, scores, np.array([0, 1, 0]), keys).tolist() == [0, 1, 2]
    split = break_ties(np.array([0, 1, 2, 3]), np.full(4, 0.5), np.array([0, 0, 1, 1]), _keys(size=[0.1, 0.2, 0.3, 0.4]))
    assert split.tolist() == [1, 0, 3, 2]  # each group sorted on its own, neither crosses to the other


def test_scores_within_the_tolerance_are_tied_and_beyond_it_are_not():
    keys = _keys(distance=[-50.0, -5.0])
    order, groups = np.array([0, 1]), np.array([0, 0])
    near = np.array([0.5287, 0.5287 - 0.9 * TIE_TOLERANCE])
    assert break_ties(order, near, groups, keys).tolist() == [1, 0]
    assert tie_notes(order, near, groups, keys) == [("même score : classés par distance", "same score: ordered by distance")] * 2
    far = np.array([0.5287, 0.5287 - 1.1 * TIE_TOLERANCE])
    assert break_ties(order, far, groups, keys).tolist() == [0, 1]
    assert tie_notes(order, far, groups, keys) == [None, None]


def test_unknown_keys_rank_last_and_never_separate_two_unknowns():
    scores, groups, order = np.full(3, 0.7), np.zeros(3, dtype=int), np.array([0, 1, 2])
    keys = _keys(distance=[np.nan, -40.0, -10.0])
    assert break_ties(order, scores, groups, keys).tolist() == [2, 1, 0]  # unknown distance last, not first
    # two unknown distances are no difference: the next criterion (size) decides and is named
    keys = _keys(distance=[np.nan, np.nan], size=[0.2, 0.9])
    assert break_ties(order[:2], scores[:2], groups[:2], keys).tolist() == [1, 0]
    assert tie_notes(order[:2], scores[:2], groups[:2], keys) == [("même score : classés par effectif",
                                                                    "same score: ordered by staff size")] * 2
    # all unknown (or absent keys): nothing known, order kept
    keys = _keys(own_words=[np.nan] * 3, size=[np.nan] * 3)
    assert break_ties(order[::-1], scores, groups, keys).tolist() == [2, 1, 0]
    assert tie_notes(order, scores, groups, keys) == [NOTHING] * 3


def test_earlier_criteria_take_precedence():
    keys = _keys(own_words=[0.0, 1.0], size=[1.0, 0.1])
    order, scores, groups = np.array([0, 1]), np.full(2, 0.4), np.zeros(2, dtype=int)
    assert break_ties(order, scores, groups, keys).tolist() == [1, 0]  # own words before size
    assert tie_notes(order, scores, groups, keys)[0][0] == "même score : classés par mots du fournisseur"


@pytest.mark.parametrize("n", [0, 1])
def test_no_run_no_note(n):
    assert tie_notes(np.arange(n), np.full(n, 0.5), np.zeros(n), {}) == [None] * n
    assert break_ties(np.arange(n), np.full(n, 0.5), np.zeros(n), {}).tolist() == list(range(n))
