"""``Matcher.match_many``: several requests in one engine pass, each result as ``match`` alone gives it."""

from __future__ import annotations

import pytest

from matching.types import BomLine


def _view(result):  # type: ignore[no-untyped-def]
    return [(lr.line.row, lr.line.description, lr.status, [m.supplier.siret for m in lr.suppliers],
             [round(m.score, 4) for m in lr.suppliers]) for lr in result.lines]


@pytest.mark.model
def test_each_group_gets_what_match_alone_gives(matcher) -> None:  # type: ignore[no-untyped-def]
    groups = [
        [BomLine(row=1, description="roulements à billes", code="84821010")],
        [BomLine(row=1, description="Kugellager"), BomLine(row=2, description="carton ondulé", origin_country="CN",
                                                           annual_value_eur=50_000.0)],
        [BomLine(row=1, description="roulements à billes", code="84821010"),  # the same line as group 1
         BomLine(row=2, description="", status="skipped", messages=("ligne vide",))],
        [BomLine(row=7, description="granulés de polypropylène", annual_value_eur=1_000.0)],
    ]
    together = matcher.match_many(groups)
    assert len(together) == len(groups)
    for g, res in zip(groups, together, strict=True):
        alone = matcher.match(g)
        assert _view(res) == _view(alone)
        assert res.summary == alone.summary  # counts are per request, never the whole batch
        assert res.priorities == alone.priorities  # origin, value and concentration within the request only
        assert res.engine["channels"] == alone.engine["channels"]
    assert together[2].lines[1].status == "skipped"
    assert matcher.match_many([]) == []
