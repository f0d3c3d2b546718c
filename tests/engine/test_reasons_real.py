"""Issue 16 on real files: the IREP register, the real classifier (lexical channels) and BOMs of
../shared/data/boms/."""

from __future__ import annotations

import re

import pytest

from matching.config import MatchConfig
from matching.results import flatten

pytestmark = pytest.mark.model

DEMO_BOM = "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx"


@pytest.fixture(scope="module")
def lexical_matcher(irep_catalog_dir, data_dir):
    from matching.pipeline import Matcher

    return Matcher.from_catalog(irep_catalog_dir, MatchConfig(semantic=False, buyer="57463", top_n=10),
                                data_dir=data_dir)


def _cited(text: str) -> set[str]:
    """Customs codes a reason cites, as digits ("(NC 7304 90 00)" → 73049000)."""
    return {re.sub(r"\D", "", m) for m in re.findall(r"\((?:NC|SH) ([\d ]+)\)", text)}


def test_demo_bom_product_column_is_the_code_each_rows_reasons_cite(lexical_matcher, data_dir):
    from matching.bom import read_bom

    bom = read_bom(data_dir / "boms" / DEMO_BOM)
    res = lexical_matcher.match(bom.lines)
    tube = next(lr for lr in res.lines if lr.line.description == "Tube acier D30 L100")
    first = tube.suppliers[0]
    assert _cited(first.reasons[0].text) == {tube.product.code}
    checked = 0
    for row in flatten(res):
        cited = _cited(row["reasons"] or "")
        if cited:
            assert row["product_code"] in cited, (row["line"], row["name"], row["product_code"], row["reasons"])
            checked += 1
    assert checked > 50


def test_bancthermique_afficheur_outside_suppliers_say_what_is_true(lexical_matcher, data_dir):
    from matching.bom import read_bom

    line = next(ln for ln in read_bom(data_dir / "boms" / "bancthermique__Nomenclature.csv").lines
                if ln.description == "Afficheur")
    # the line's producing activity, absent from IREP; not abstaining, as before abstention existed
    m = lexical_matcher.with_config(MatchConfig(semantic=False, buyer="57463", abstain=False))
    lr = m.search(line.description, naf="26.70Z")
    outside = [m for m in lr.suppliers if m.activity is None]
    assert outside
    for m in outside:
        act = next(r for r in m.reasons if r.signal == "activity")
        assert act.text.startswith("hors des activités productrices trouvées (26.70Z) ; retenu sur"), act.text
        assert "aucune activité productrice identifiée" not in act.text
    cristal = [m for m in outside if "cristal" in m.supplier.name.lower()]
    assert cristal
    act = next(r for r in cristal[0].reasons if r.signal == "activity")
    assert act.text.startswith("hors des activités productrices trouvées (26.70Z) ; retenu sur le nom : « cristal »")


def test_bancthermique_in_activity_suppliers_come_before_outside_ones(lexical_matcher, data_dir):
    from matching.bom import read_bom

    lines = read_bom(data_dir / "boms" / "bancthermique__Nomenclature.csv").lines
    m = lexical_matcher.with_config(MatchConfig(semantic=False, buyer="57463", abstain=False))
    res = m.match(lines)
    for lr in res.lines:
        flags = [s.activity is None for s in lr.suppliers]
        if lr.activities or lr.other_activities:
            assert flags == sorted(flags), (lr.line.description, flags)  # all False first, then True
    assert any(lr.suppliers for lr in res.lines)


def test_ball_bearings_show_their_activity_ties_noted_and_bearing_makers_first(lexical_matcher):
    m = lexical_matcher.with_config(MatchConfig(semantic=False, top_n=10))  # no buyer: distance cannot break ties
    lr = m.search("roulement à billes", top=10)
    assert [a.naf for a in lr.activities] == ["28.15Z"]
    others = lr.other_activities  # the weak readings ("billes" of toys, sports goods…) are other leads
    assert others and all(a.naf != "28.15Z" and a.score < lr.activities[0].score for a in others)
    tied = [s for s in lr.suppliers if s.tie_note is not None]
    assert len(tied) >= 5
    for s in tied:
        assert s.tie_note[0].startswith("même score : ") and s.tie_note[1].startswith("same score: ")
    national = [s for s in lr.suppliers if s.tier == "national" and s.tie_note is not None]
    names = [s.supplier.name.lower() for s in national]
    with_word = [i for i, n in enumerate(names) if "bearing" in n or "roulement" in n]
    without = [i for i, n in enumerate(names) if not ("bearing" in n or "roulement" in n)]
    if with_word and without:  # among equal scores, a name saying the product comes first
        assert max(with_word) < min(without)
    assert not any("pas de commune acheteur" in r.text for s in lr.suppliers for r in s.reasons)
