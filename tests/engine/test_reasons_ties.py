"""Issue 16: the product shown is the one the reasons cite, reasons say what is true in plain
words, suppliers outside the line's activities rank below, ties are broken and said, and the
credible activities are told apart from the other leads. Hand-made catalog and classifier."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pytest

from matching.config import MatchConfig
from matching.pipeline import Matcher
from matching.results import flatten, line_result_to_dict, result_to_dict
from matching.types import ActivityGuess, BomLine, ProductGuess

ROWS = [
    # siret, name, naf, commune, departement, region, lat, lon, size_band
    ("20000000000001", "LORRAINE TUBES", "24.20Z", "LEXY", "54", "44", 49.50, 5.73, None),
    ("20000000000002", "FONDERIE DE LA MEUSE", "24.51Z", "BAR-LE-DUC", "55", "44", 48.77, 5.16, None),
    ("20000000000003", "TUBES DE BOURGOGNE", "24.20Z", "MONTBARD", "21", "27", 47.62, 4.34, None),
    ("20000000000004", "OPTIQUE DE PARIS", "26.70Z", "PARIS", "75", "11", 48.85, 2.35, None),
    ("20000000000005", "SUCRERIE DU CRISTAL", "10.81Z", "BAZANCOURT", "51", "44", 49.36, 4.17, None),
    ("20000000000006", "AAA TRANSMISSIONS", "28.15Z", "LYON", "69", "84", 45.76, 4.83, None),
    ("20000000000007", "KOYO BEARINGS", "28.15Z", "VIERZON", "18", "24", 47.22, 2.07, None),
    ("20000000000008", "MECANIQUE NANCEIENNE", "28.15Z", "NANCY", "54", "44", 48.69, 6.18, None),
    ("20000000000009", "MECANIQUE MESSINE", "28.15Z", "METZ", "57", "44", 49.12, 6.18, None),
]

TUBE_STEEL = ProductGuess("73049000", "CN8", "Tubes, tuyaux et profilés creux, sans soudure, en acier", 0.49, "text")
TUBE_CAST = ProductGuess("73030090", "CN8", "Tubes, tuyaux et profilés creux, en fonte", 0.50, "text")
DISPLAY = ProductGuess("85241900", "CN8", "Modules d'affichage à écran plat", 0.21, "text")
BALLS = ProductGuess("84821010", "CN8", "Roulements à billes", 0.6, "text")

ACTIVITIES = {
    "73049000": [ActivityGuess("24.20Z", "Fabrication de tubes, tuyaux, profilés creux et accessoires correspondants en acier",
                               0.83, "cn-cpa", ("CN 73049000", "CPA 24.20.14", "NACE 24.20"))],
    "73030090": [ActivityGuess("24.51Z", "Fonderie de fonte", 0.57, "cn-cpa", ("CN 73030090", "CPA 24.51.20", "NACE 24.51"))],
    # an unsure reading (0.35): by score alone, a regional supplier kept on a word would lead
    "85241900": [ActivityGuess("26.70Z", "Fabrication de matériels optique et photographique", 0.35, "cn-cpa",
                               ("CN 85241900", "CPA 26.70.23", "NACE 26.70"))],
    "84821010": [ActivityGuess("28.15Z", "Fabrication d'engrenages et d'organes mécaniques de transmission", 0.76,
                               "cn-cpa", ("CN 84821010", "CPA 28.15.10", "NACE 28.15")),
                 ActivityGuess("22.11Z", "Fabrication et rechapage de pneumatiques", 0.07, "text", ("texte → NAF 22.11Z",)),
                 ActivityGuess("30.92Z", "Fabrication de bicyclettes et de véhicules pour invalides", 0.05, "text",
                               ("texte → NAF 30.92Z",))],
}


@dataclass
class _Result:
    products: list
    warnings: list = field(default_factory=list)
    channels_used: tuple = ("lexical",)


class Classifier:
    """The classifier's own order puts cast iron first for a steel tube (scores 0.50 / 0.49)."""

    def classify(self, text, code=None, *, top_k=10):
        t = (text or "").lower()
        if "tube" in t:
            return _Result([TUBE_CAST, TUBE_STEEL])
        if "afficheur" in t:
            return _Result([DISPLAY])
        if "roulement" in t:
            return _Result([BALLS])
        return _Result([])

    def classify_many(self, texts, codes):
        return [self.classify(t, c) for t, c in zip(texts, codes, strict=True)]

    def activities_for_line(self, products, text):
        acts = [a for p in products for a in ACTIVITIES.get(p.code, [])]
        return sorted(acts, key=lambda a: -a.score)  # the activity step ranks steel first


class Geo:
    def resolve(self, code, name=None):
        from types import SimpleNamespace

        return SimpleNamespace(lat=49.12, lon=6.18) if code == "57463" else None

    def region_name(self, code):
        return {"44": "Grand Est"}.get(code)

    def departement_name(self, code):
        return None


def _table() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=["siret", "name", "naf", "commune", "departement", "region", "lat", "lon", "size_band"])
    df["siren"] = df["siret"].str[:9]
    df["products"] = ""
    df["commune_code"] = None
    df["postcode"] = None
    df["source"] = "test"
    return df


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


def _matcher(table, **cfg) -> Matcher:
    return Matcher(table, classifier=Classifier(), config=MatchConfig(**cfg), geo=Geo())


# -- defect 4: one product, the one the reasons use ----------------------------------------------
def test_product_shown_is_the_one_the_first_suppliers_reasons_cite(table):
    lr = _matcher(table).match_one(BomLine(row=23, description="Tube acier D30 L100"))
    first = lr.suppliers[0]
    assert first.activity == "24.20Z"
    assert lr.product.code == "73049000"  # not the classifier's first (cast iron, 73030090)
    assert "7304 90 00" in first.reasons[0].text and "7304 90 00" in first.reasons[0].detail
    assert [p.code for p in lr.products] == ["73030090", "73049000"]  # the classifier's readings, kept as scored
    d = line_result_to_dict(lr)
    assert d["product"]["code"] == "73049000"


def test_console_table_shows_the_product_the_reasons_cite(table):
    import io

    from rich.console import Console

    from matching.cli.match import print_summary

    res = _matcher(table).match([BomLine(row=23, description="Tube acier D30 L100")])
    buf = io.StringIO()
    print_summary(res, Console(file=buf, width=200))
    out = buf.getvalue()
    assert "73049000" in out and "73030090" not in out
    assert out.count("pas de commune acheteur donnée") == 1  # said once under the table


def test_search_command_shows_first_the_product_the_reasons_cite_and_no_buyer_once(table, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from matching.cli import app

    monkeypatch.setattr(Matcher, "from_catalog", classmethod(lambda cls, *a, **k: _matcher(table)))
    r = CliRunner().invoke(app, ["search", "Tube acier D30 L100", "--catalog", str(tmp_path)])
    assert r.exit_code == 0, r.output
    products = [ln for ln in r.output.splitlines() if ln.startswith("produit")]
    assert "73049000" in products[0] and "73030090" in products[1]  # cited first, the other reading after
    assert r.output.count("pas de commune acheteur donnée") == 1


def test_export_product_column_follows_each_rows_reasons(table):
    res = _matcher(table).match([BomLine(row=23, description="Tube acier D30 L100")])
    rows = flatten(res)
    assert {r["naf"] for r in rows} >= {"24.20Z", "24.51Z"}
    for r in rows:
        code = r["product_code"]
        cited = f"{code[:4]} {code[4:6]} {code[6:]}"
        assert cited in r["reasons"], (r["name"], code, r["reasons"])
        assert r["activity_naf"] == r["naf"]


# -- defect 5: outside the activities found -------------------------------------------------------
def test_supplier_outside_the_activities_found_is_told_so_and_ranks_below(table):
    lr = _matcher(table, abstain=False).match_one(BomLine(row=11, description="Afficheur cristal"))
    by_name = {m.supplier.name: m for m in lr.suppliers}
    sugar = by_name["SUCRERIE DU CRISTAL"]
    optic = by_name["OPTIQUE DE PARIS"]
    act = next(r for r in sugar.reasons if r.signal == "activity")
    assert act.text.startswith("hors des activités productrices trouvées (26.70Z) ; retenu sur le nom : « cristal »")
    assert act.text_en.startswith("outside the producing activities found (26.70Z); kept on its name: “cristal”")
    assert "aucune activité productrice identifiée" not in act.text
    assert sugar.rank > optic.rank  # regional, but outside: below every in-activity supplier


def test_activities_first_can_be_turned_off(table):
    lr = _matcher(table, abstain=False, activities_first=False).match_one(BomLine(row=11, description="Afficheur cristal"))
    names = [m.supplier.name for m in lr.suppliers]
    assert names.index("SUCRERIE DU CRISTAL") < names.index("OPTIQUE DE PARIS")  # regional-first, by score


def test_no_activity_at_all_still_says_none_was_identified(table):
    lr = _matcher(table).match_one(BomLine(row=3, description="sucrerie cristal"))
    texts = [r.text for m in lr.suppliers for r in m.reasons if r.signal == "activity"]
    assert texts and all("aucune activité productrice identifiée" in t for t in texts)


# -- no flat ties ---------------------------------------------------------------------------------
def test_equal_scores_are_ordered_by_the_product_in_the_name_and_say_so(table):
    lr = _matcher(table, region="84").match_one(BomLine(row=2, description="roulement à billes"))
    nat = [m for m in lr.suppliers if m.tier == "national"]
    assert len({round(m.score, 6) for m in nat}) == 1  # a flat tie...
    assert nat[0].supplier.name == "KOYO BEARINGS"  # ...broken by "bearings" (the CN8's English label)
    for m in nat:
        assert m.tie_note == ("même score : classés par produit cité dans son nom",
                              "same score: ordered by product named in its name")
    d = line_result_to_dict(lr)
    assert d["suppliers"][-1]["tie"]["text_en"] == "same score: ordered by product named in its name"


def test_equal_scores_are_ordered_by_distance_when_a_buyer_is_given(table):
    weights = {"activity": 0.6, "lexical": 0.1, "text": 0.12, "products": 0.06, "proximity": 0.0, "size": 0.06,
               "same_region": 0.0}
    lr = _matcher(table, buyer="57463", weights=weights).match_one(BomLine(row=2, description="roulement à billes"))
    reg = [m for m in lr.suppliers if m.tier == "regional"]
    assert [m.supplier.name for m in reg] == ["MECANIQUE MESSINE", "MECANIQUE NANCEIENNE"]  # Metz is the buyer
    assert reg[0].score == reg[1].score
    assert reg[0].tie_note == ("même score : classés par distance", "same score: ordered by distance")
    rows = flatten(_matcher(table, buyer="57463", weights=weights).match([BomLine(row=2, description="roulement à billes")]))
    assert "même score : classés par distance" in {r["tie_note"] for r in rows}


def test_a_supplier_alone_on_its_score_has_no_tie_note(table):
    lr = _matcher(table).match_one(BomLine(row=23, description="Tube acier D30 L100"))
    lone = [m for m in lr.suppliers if sum(abs(m.score - o.score) <= 1e-3 for o in lr.suppliers) == 1]
    assert lone and all(m.tie_note is None for m in lone)


# -- plain reasons, code chain kept -----------------------------------------------------------------
def test_reasons_are_plain_words_with_the_code_chain_in_detail(table):
    lr = _matcher(table).match_one(BomLine(row=2, description="roulement à billes"))
    act = next(r for r in lr.suppliers[0].reasons if r.signal == "activity")
    assert act.text == ("roulements à billes (NC 8482 10 10) → fabrication d'engrenages et d'organes mécaniques "
                        "de transmission (NAF 28.15Z), table officielle")
    assert act.text_en.startswith("ball bearings with greatest external diameter <= 30 mm (CN 8482 10 10) → "
                                  "manufacture of bearings, gears, gearing and driving elements (NAF 28.15Z)")
    assert act.detail == "CN 8482 10 10 → CPA 28.15.10 → NACE 28.15 → NAF 28.15Z (table officielle)"
    d = line_result_to_dict(lr)
    assert d["suppliers"][0]["reasons"][0]["detail"] == act.detail


def test_no_buyer_is_not_repeated_on_every_supplier(table):
    lr = _matcher(table).match_one(BomLine(row=2, description="roulement à billes"))
    assert lr.suppliers
    assert not any("pas de commune acheteur" in r.text for m in lr.suppliers for r in m.reasons)


def test_the_json_result_says_no_buyer_once_in_its_notes(table):
    lines = [BomLine(row=2, description="roulement à billes"), BomLine(row=3, description="tube acier sans soudure")]
    d = result_to_dict(_matcher(table).match(lines))
    assert d["notes"] == [{"code": "no_buyer", "text": "distance : pas de commune acheteur donnée",
                           "text_en": "distance: no buyer commune given"}]
    with_buyer = _matcher(table).with_config(MatchConfig(top_n=5, buyer="57463"))
    assert result_to_dict(with_buyer.match(lines))["notes"] == []


# -- credible activities ----------------------------------------------------------------------------
def test_far_weaker_activities_are_other_leads_not_the_lines_activities(table):
    res = _matcher(table).match([BomLine(row=2, description="roulement à billes")])
    lr = res.lines[0]
    assert [a.naf for a in lr.activities] == ["28.15Z"]
    assert [a.naf for a in lr.other_activities] == ["22.11Z", "30.92Z"]
    d = result_to_dict(res)["lines"][0]
    assert [a["naf"] for a in d["other_activities"]] == ["22.11Z", "30.92Z"]


def test_suppliers_of_an_other_lead_rank_below_the_credible_activity_and_say_so():
    # a regional tyre maker (22.11Z, an other lead at 0.07 against 0.76) next to four bearing makers
    rows = ROWS + [("20000000000010", "PNEUS DE LORRAINE", "22.11Z", "METZ", "57", "44", 49.12, 6.18, None)]
    df = pd.DataFrame(rows, columns=["siret", "name", "naf", "commune", "departement", "region", "lat", "lon", "size_band"])
    for col, v in (("products", ""), ("commune_code", None), ("postcode", None), ("source", "test")):
        df[col] = v
    df["siren"] = df["siret"].str[:9]
    lr = _matcher(df, diversify=False).match_one(BomLine(row=2, description="roulement à billes"))
    nafs = [m.supplier.naf for m in lr.suppliers]
    assert "22.11Z" in nafs
    tyre = nafs.index("22.11Z")
    assert all(n == "28.15Z" for n in nafs[:tyre]) and nafs.count("28.15Z") == 4 and tyre >= 4
    reason = lr.suppliers[tyre].reasons
    act = next(r for r in reason if r.signal == "activity")
    assert "autre piste" in act.text and "0.07" in act.text and "other lead" in act.text_en
    assert not any("autre piste" in r.text for m in lr.suppliers if m.supplier.naf == "28.15Z" for r in m.reasons)
