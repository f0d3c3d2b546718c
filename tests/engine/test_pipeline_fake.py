import io
import json

import pytest

from matching.config import MatchConfig
from matching.errors import ConfigError
from matching.pipeline import Matcher
from matching.results import FLAT_COLUMNS, export_result, flatten, result_to_dict
from matching.types import BomLine

from .conftest import FakeClassifier


class FakeGeo:
    def resolve(self, code, name=None):
        from types import SimpleNamespace

        return SimpleNamespace(lat=49.12, lon=6.18) if code == "57463" else None

    def region_name(self, code):
        return {"44": "Grand Est"}.get(code)

    def departement_name(self, code):
        return {"57": "Moselle"}.get(code)


def matcher(table, classifier=None, **cfg):
    return Matcher(table, classifier=classifier or FakeClassifier(), config=MatchConfig(**cfg), geo=FakeGeo())


LINES = [
    BomLine(row=2, description="Roulements à billes 6204", annual_value_eur=1000.0),
    BomLine(row=3, description="Usinage pièces", annual_value_eur=3000.0),
    BomLine(row=4, description="", status="skipped", messages=("ligne vide",)),
    BomLine(row=5, description="xyzzy qwerty", annual_value_eur=500.0),
]


def test_every_line_comes_out_with_a_status(table):
    res = matcher(table).match(LINES)
    assert [lr.status for lr in res.lines] == ["matched", "matched", "skipped", "no_candidate"]
    s = res.summary
    assert (s["lines"], s["matched"], s["skipped"], s["no_candidate"], s["error"]) == (4, 2, 1, 1, 0)
    assert s["with_regional"] == 2
    assert s["value_share_regional"] == pytest.approx(4000 / 4500, abs=1e-4)
    assert s["value_share_none"] == pytest.approx(500 / 4500, abs=1e-4)


def test_regional_first_puts_grand_est_first_and_says_tier(table):
    lr = matcher(table, buyer="57463").match_one(LINES[0])
    first = lr.suppliers[0]
    assert first.tier == "regional" and first.supplier.region == "44"
    assert all(m.tier == ("regional" if m.supplier.region == "44" else "national") for m in lr.suppliers)
    assert [m.rank for m in lr.suppliers] == list(range(1, len(lr.suppliers) + 1))
    texts = " | ".join(r.text for r in first.reasons)
    assert "roulements à billes (NC 8482 10 10) → fabrication d'engrenages" in texts  # plain words
    details = " | ".join(r.detail for r in first.reasons)
    assert "CN 8482 10 10 → CPA 28.15.10 → NAF 28.15Z (table officielle)" in details  # the code chain, kept
    assert "Grand Est, Moselle" in texts and "km" in texts
    assert "nom : « roulement »" in texts


def test_policy_none_orders_by_score_only(table):
    lr = matcher(table, tier_policy="none").match_one(LINES[0])
    scores = [m.score for m in lr.suppliers]
    assert scores == sorted(scores, reverse=True)


def test_a_failing_line_is_an_error_and_the_others_continue(table):
    m = matcher(table, classifier=FakeClassifier(fail_on="Usinage"))
    res = m.match(LINES)
    assert [lr.status for lr in res.lines] == ["matched", "error", "skipped", "no_candidate"]
    assert "boom" in res.lines[1].errors[0]


def test_progress_is_called_once_per_line(table):
    calls = []
    matcher(table).match(LINES, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_search_with_forced_naf_and_unknown_buyer(table):
    m = matcher(table)
    lr = m.search("pièces", naf="25.62B", top=2)
    assert lr.status == "matched" and len(lr.suppliers) == 2
    assert lr.suppliers[0].supplier.naf in {"25.62B", "25.62A"}
    with pytest.raises(ConfigError, match="buyer"):
        m.search("roulements", buyer="00000")
    with pytest.raises(ConfigError, match="naf"):
        m.search("x", naf="99.99Q")


def test_result_dict_has_the_contract_shape(table):
    res = matcher(table).match(LINES)
    d = json.loads(json.dumps(result_to_dict(res)))
    assert d["schema_version"] and set(d) >= {"catalog", "lines", "summary"}
    line = d["lines"][0]
    assert set(line) >= {"line", "status", "input", "errors", "warnings", "products", "activities", "suppliers"}
    sup = line["suppliers"][0]
    assert set(sup) >= {"rank", "siret", "name", "naf", "commune", "departement", "region", "tier", "distance_km",
                        "score", "reasons"}
    assert set(sup["reasons"][0]) >= {"signal", "contribution", "text"}
    assert set(line["products"][0]) >= {"code", "system", "label", "score", "source"}
    assert set(line["activities"][0]) >= {"naf", "label", "score"}


def test_flatten_one_row_per_supplier_and_one_for_empty_lines(table):
    res = matcher(table, top_n=2).match(LINES)
    rows = flatten(res)
    assert all(list(r) == list(FLAT_COLUMNS) for r in rows)
    assert len(rows) == 2 + 2 + 1 + 1
    buf = io.StringIO()
    export_result(res, buf, "json")
    assert json.loads(buf.getvalue())["summary"]["lines"] == 4


def test_repeated_lines_get_the_same_suppliers_and_their_own_row(table):
    lines = [BomLine(row=2, description="Roulements à billes"),
             BomLine(row=9, description="Roulements à billes", messages=("quantité manquante",))]
    res = matcher(table).match(lines)
    a, b = res.lines
    assert [m.supplier.siret for m in a.suppliers] == [m.supplier.siret for m in b.suppliers]
    assert (a.line.row, b.line.row) == (2, 9)
    assert "quantité manquante" in b.warnings and "quantité manquante" not in a.warnings


def test_each_line_carries_its_priority_into_the_contract_and_exports(table):
    lines = [
        BomLine(row=2, description="Roulements à billes 6204", origin_country="CN", annual_value_eur=3000.0),
        BomLine(row=3, description="Usinage pièces", origin_country="DE", annual_value_eur=1000.0),
    ]
    d = result_to_dict(matcher(table).match(lines))
    first, second = (ln["priority"] for ln in d["lines"])
    # non-EU and the largest value: the first line comes before the second
    assert first["non_eu"] == 1.0 and second["non_eu"] == 0.0
    assert first["score"] > second["score"]
    assert "hors UE (CN)" in first["text"]
    rows = flatten(matcher(table).match(lines))
    assert {r["priority"] for r in rows if r["line"] == 2} == {first["score"]}
    assert all(r["priority_reason"] for r in rows)
