"""A primary commodity (NACE section A/B product) with no French producer in the catalog abstains.

The rule reads the nomenclature (the crosswalk's producing activities of the best product's
code), not a word list: the cases below are codes and made-up activity readings.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from matching import pipeline
from matching.config import MatchConfig
from matching.pipeline import Matcher
from matching.types import ActivityGuess, BomLine, ProductGuess

from .conftest import KEYWORDS, FakeClassifier, make_table


def act(naf: str, score: float, wholesale: bool = False) -> ActivityGuess:
    return ActivityGuess(naf, f"activité {naf}", score, "cn-cpa", (), wholesale)


# (case, best product code, line activities, establishments per NAF, absent NAFs or None)
CASES = [
    ("cocoa beans: processor credible by score, grower absent", "18010000",
     [act("01.27Z", 0.52), act("10.82Z", 0.36)], {"10.82Z": 21}, ["01.27Z"]),
    ("cocoa beans: the grower is in the catalog", "18010000",
     [act("01.27Z", 0.52), act("10.82Z", 0.36)], {"01.27Z": 5, "10.82Z": 21}, None),
    ("iron ore: one establishment is not a supply base", "26011100",
     [act("07.10Z", 0.66), act("24.10Z", 0.2)], {"07.10Z": 1, "24.10Z": 30}, ["07.10Z"]),
    ("bearings: a manufactured product never takes this rule", "84821010",
     [act("28.15Z", 0.9)], {}, None),
    ("cocoa code but the line reads as a processor first", "18010000",
     [act("10.82Z", 0.8), act("01.27Z", 0.45)], {"10.82Z": 21}, None),
    ("cocoa code, a modest but primary reading (raw beans read at 0.38)", "18010000",
     [act("01.27Z", 0.38), act("10.82Z", 0.02)], {"10.82Z": 21}, ["01.27Z"]),
    ("cocoa code, unsure reading", "18010000",
     [act("01.27Z", 0.15), act("10.82Z", 0.1)], {"10.82Z": 21}, None),
    ("wholesalers do not count as producers", "18010000",
     [act("46.37Z", 0.9, wholesale=True), act("01.27Z", 0.5)], {"46.37Z": 12}, ["01.27Z"]),
]


@pytest.mark.parametrize("case,code,activities,counts,expected", CASES, ids=[c[0] for c in CASES])
def test_primary_commodity_absent(data_dir, case, code, activities, counts, expected) -> None:
    stub = SimpleNamespace(_data_dir=data_dir, _naf_count=counts)
    products = [ProductGuess(code, "CN8", "produit", 0.5, "text")]
    got = Matcher.primary_commodity_absent(stub, products, activities)
    assert (None if got is None else [a.naf for a in got]) == expected, case


def test_the_threshold_is_read_not_copied(data_dir, monkeypatch) -> None:
    """With the threshold at 0, the single iron-ore establishment is a producer again."""
    monkeypatch.setattr(pipeline, "PRIMARY_MAX_ESTABLISHMENTS", 0)
    stub = SimpleNamespace(_data_dir=data_dir, _naf_count={"07.10Z": 1, "24.10Z": 30})
    products = [ProductGuess("26011100", "CN8", "minerais de fer", 0.5, "text")]
    assert Matcher.primary_commodity_absent(stub, products, [act("07.10Z", 0.66), act("24.10Z", 0.2)]) is None


def test_end_to_end_no_producer_with_reason(data_dir, monkeypatch) -> None:
    """A raw-commodity line whose processor has establishments comes out no_producer, with the reason."""
    table = make_table()  # holds 10.71C (a bakery), no cocoa grower (01.27Z)
    monkeypatch.setitem(KEYWORDS, "cacao", (ProductGuess("18010000", "CN8", "Cacao en fèves", 0.6, "text"),
                                            [act("01.27Z", 0.55), act("10.71C", 0.35)]))
    m = Matcher(table, classifier=FakeClassifier(), config=MatchConfig(), data_dir=data_dir)
    res = m.match([BomLine(row=2, description="fèves de cacao crues"),
                   BomLine(row=3, description="roulements à billes")])
    raw, bearings = res.lines
    assert raw.status == "no_producer"
    assert not raw.suppliers
    assert any("produit primaire" in w and "01.27Z" in w for w in raw.warnings)
    assert bearings.status in ("matched", "low_confidence") and bearings.suppliers


# (case, code, line text, line activities, establishments per NAF, words of those sites, absent NAFs or None)
CATCHALL = [
    ("natural graphite: 26 quarries of a catch-all class, none names graphite", "25041000",
     "graphite naturel en paillettes", [act("08.99Z", 0.8)], {"08.99Z": 26},
     {"08.99Z": {"carriere", "granulat", "talc", "luzenac"}}, ["08.99Z"]),
    ("talc: one of the class's sites names it", "25262000",
     "talc en poudre", [act("08.99Z", 0.8)], {"08.99Z": 26},
     {"08.99Z": {"carriere", "granulat", "talc", "luzenac"}}, None),
    ("natural barytes: five sites of 08.91Z, none names it", "25111000",
     "baryte naturelle", [act("08.91Z", 0.7)], {"08.91Z": 5},
     {"08.91Z": {"compost", "terreau", "environnement"}}, ["08.91Z"]),
    ("a catch-all class with many sites per subheading keeps its producers", "25041000",
     "graphite naturel", [act("08.99Z", 0.8)], {"08.99Z": 500}, {"08.99Z": set()}, None),
    ("coal: a narrow class (3 subheadings) keeps its producers", "27011100",
     "anthracite en vrac", [act("05.10Z", 0.8)], {"05.10Z": 3}, {"05.10Z": set()}, None),
    ("wheat: farming is not mining, the rule does not apply", "10019900",
     "blé tendre", [act("01.11Z", 0.8)], {"01.11Z": 22}, {"01.11Z": set()}, None),
    ("an unsure reading (below the general abstention bar) keeps its producers", "25041000",
     "graphite naturel", [act("08.99Z", 0.3)], {"08.99Z": 26}, {"08.99Z": set()}, None),
]


@pytest.mark.parametrize("case,code,text,activities,counts,sites,expected", CATCHALL, ids=[c[0] for c in CATCHALL])
def test_catchall_mining_class_whose_sites_do_not_name_the_product(
        data_dir, case, code, text, activities, counts, sites, expected) -> None:
    stub = SimpleNamespace(_data_dir=data_dir, _naf_count=counts, site_words=lambda naf: frozenset(sites.get(naf, ())))
    products = [ProductGuess(code, "CN8", "produit", 0.5, "text")]
    got = Matcher.primary_commodity_absent(stub, products, activities, text)
    assert (None if got is None else [a.naf for a in got]) == expected, case
    # without the line's text the old rule alone decides: more than one site is a producer
    assert Matcher.primary_commodity_absent(stub, products, activities) is None


def test_catchall_end_to_end_reason_and_site_words(data_dir, monkeypatch) -> None:
    """On a real table: the sites' names are read, the line abstains with the reason; a line naming
    one site's mineral keeps that site."""
    table = make_table()
    extra = table.iloc[:3].copy()
    extra["naf"] = "08.99Z"
    extra["name"] = ["CARRIERE DU MOULIN", "GRANULATS DE L'EST", "TALC DE LUZENAC"]
    extra["siret"] = ["99999999900011", "99999999900029", "99999999900037"]
    import pandas as pd

    table = pd.concat([table, extra], ignore_index=True)
    monkeypatch.setitem(KEYWORDS, "graphite", (ProductGuess("25041000", "CN8", "Graphite naturel en poudre", 0.6, "text"),
                                               [act("08.99Z", 0.8)]))
    monkeypatch.setitem(KEYWORDS, "talc", (ProductGuess("25262000", "CN8", "Talc broyé", 0.6, "text"),
                                           [act("08.99Z", 0.8)]))
    m = Matcher(table, classifier=FakeClassifier(), config=MatchConfig(), data_dir=data_dir)
    assert "luzenac" in m.site_words("08.99Z")
    graphite, talc = m.match([BomLine(row=2, description="graphite naturel paillettes"),
                              BomLine(row=3, description="talc poudre")]).lines
    assert graphite.status == "no_producer"
    assert any("aucun ne nomme ce produit" in w and "08.99Z" in w for w in graphite.warnings)
    assert talc.status in ("matched", "low_confidence")
    assert any(s.supplier.name == "TALC DE LUZENAC" for s in talc.suppliers)
