"""Indicators on a hand-computed fixture (tests/fixtures/observatory/{lines,events}.csv).

The fixture, by hand (values in EUR; '-' = unknown value):

  company      line code      orig value   best alt   follow-up (final)
  ACME-MECA    1    84821010  CN   100000  regional   contracted 2026-02-25 regional, moved 80000
  ACME-MECA    2    73181535  DE    50000  national   abandoned 2026-03-03 (price)
  ACME-MECA    3    85015100  CN   150000  none       (not followed)
  ACME-MECA    4    40169300  IT        -  regional   proposed 2026-01-10
  BETA-AUTO    1    85444290  CN   200000  regional   contracted 2026-03-10 regional, moved 200000
  BETA-AUTO    2    40111000  TR    80000  national   abandoned 2026-02-28 (capacity)
  BETA-AUTO    3    73181535  CN    20000  regional   contracted 2026-04-01 national, moved 15000
  GAMMA-PLAST  1    39011010  US   300000  national   quote 2026-03-20
  GAMMA-PLAST  2    84807100  CN   100000  none       abandoned 2026-03-15 (certification)

Buyer sectors: ACME 28.15Z (div 28), BETA 29.32Z (div 29), GAMMA 22.29A (div 22).
Known imported value = 100+50+150+200+80+20+300+100 (k) = 1,000,000 (ACME-4 unknown).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.errors import BomError
from matching.observatory import (
    FollowUp,
    FollowUpError,
    FollowUpEvent,
    TrackedLine,
    best_tier_of,
    can_transition,
    compute_indicators,
    read_followups,
    read_tracked_lines,
    tracked_lines_from_result,
)

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


@pytest.fixture(scope="module")
def records():
    return read_tracked_lines(FIX / "lines.csv"), read_followups(FIX / "events.csv")


@pytest.fixture(scope="module")
def programme(records):
    return compute_indicators(*records)


def test_alternative_shares_of_imported_value_match_hand_computation(programme):
    a = programme.alternatives
    assert a["lines"] == 9
    assert a["lines_with_value"] == 8  # ACME-4 has no value: counted, not valued at 0
    assert a["imported_value_eur"] == 1_000_000.0
    # regional: ACME-1 100k + BETA-1 200k + BETA-3 20k = 320k (ACME-4 regional but unknown value)
    assert a["value_regional_eur"] == 320_000.0 and a["share_regional"] == 0.32
    # national: ACME-2 50k + BETA-2 80k + GAMMA-1 300k = 430k
    assert a["value_national_eur"] == 430_000.0 and a["share_national"] == 0.43
    # none: ACME-3 150k + GAMMA-2 100k = 250k
    assert a["value_none_eur"] == 250_000.0 and a["share_none"] == 0.25


def test_relocated_share_by_tier_of_retained_supplier(programme):
    r = programme.relocated
    # contracted: ACME-1 80k (regional), BETA-1 200k (regional), BETA-3 15k (national)
    assert r["relocations"] == 3
    assert r["value_moved_eur"] == 295_000.0 and r["share_relocated"] == 0.295
    assert r["relocations_regional"] == 2 and r["value_moved_regional_eur"] == 280_000.0
    assert r["share_relocated_regional"] == 0.28
    # BETA-3 had a regional alternative but the buyer retained a national supplier
    assert r["relocations_national"] == 1 and r["share_relocated_national"] == 0.015


def test_target_progress_against_plan_of_500(programme):
    # 3 relocations / 500 = 0.006, 497 to go
    assert programme.target == {"relocations": 3, "target": 500, "progress": 0.006, "remaining": 497}


def test_funnel_counts_current_stage(programme):
    assert programme.funnel == {
        "not_followed": 1,  # ACME-3
        "proposed": 1,  # ACME-4
        "contacted": 0,
        "quote": 1,  # GAMMA-1
        "contracted": 3,
        "abandoned": 3,
    }


def test_abandon_reasons(programme):
    got = dict(zip(programme.reasons["reason"], programme.reasons["abandoned"]))
    assert got == {"price": 1, "capacity": 1, "quality": 0, "lead_time": 0, "certification": 1, "other": 0}


def test_one_company_scope(records):
    ind = compute_indicators(*records, companies="ACME-MECA")
    # ACME known value 100k + 50k + 150k = 300k; regional 100k, national 50k, none 150k
    assert ind.alternatives["imported_value_eur"] == 300_000.0
    assert ind.alternatives["share_regional"] == 100_000 / 300_000
    assert ind.alternatives["share_national"] == 50_000 / 300_000
    assert ind.alternatives["share_none"] == 0.5
    # relocated 80k of 300k
    assert ind.relocated["share_relocated"] == 80_000 / 300_000
    assert ind.target["relocations"] == 1


def test_group_scope(records):
    ind = compute_indicators(*records, companies=["BETA-AUTO", "GAMMA-PLAST"])
    # BETA 300k + GAMMA 400k = 700k; regional 200k+20k; national 80k+300k; none 100k
    assert ind.alternatives["imported_value_eur"] == 700_000.0
    assert ind.alternatives["value_regional_eur"] == 220_000.0
    assert ind.alternatives["value_national_eur"] == 380_000.0
    assert ind.alternatives["value_none_eur"] == 100_000.0
    # moved 200k (regional) + 15k (national)
    assert ind.relocated["share_relocated"] == 215_000 / 700_000
    assert ind.funnel["abandoned"] == 2


def test_breakdown_by_buyer_sector(programme):
    s = programme.by_sector.set_index("naf_division")
    # sorted by imported value: 22 (400k), then 28 and 29 (300k each, by key)
    assert list(s.index) == ["22", "28", "29"]
    assert s.loc["22", "share_national"] == 0.75 and s.loc["22", "share_none"] == 0.25
    # div 29: regional 200k + 20k = 220k of 300k; moved 215k
    assert s.loc["29", "share_regional"] == 220_000 / 300_000
    assert s.loc["29", "relocations"] == 2 and s.loc["29", "value_moved_eur"] == 215_000.0
    assert s.loc["28", "lines"] == 4 and s.loc["28", "abandoned"] == 1


def test_breakdown_by_product_chapter(programme):
    c = programme.by_chapter.set_index("hs2")
    # 85: 150k + 200k = 350k; 39: 300k; 84: 100k + 100k = 200k; 40: 80k (+ unknown); 73: 50k + 20k
    assert list(c.index) == ["85", "39", "84", "40", "73"]
    assert list(c["imported_value_eur"]) == [350_000.0, 300_000.0, 200_000.0, 80_000.0, 70_000.0]
    assert c.loc["85", "share_regional"] == 200_000 / 350_000
    assert c.loc["73", "share_relocated"] == 15_000 / 70_000
    assert c.loc["40", "lines"] == 2 and c.loc["40", "abandoned"] == 1
    assert c.loc["84", "value_moved_eur"] == 80_000.0


def test_breakdown_by_origin_country(programme):
    o = programme.by_origin.set_index("origin_country")
    # CN: 100k + 150k + 200k + 20k + 100k = 570k, moved 80k + 200k + 15k = 295k
    assert o.loc["CN", "imported_value_eur"] == 570_000.0
    assert o.loc["CN", "relocations"] == 3
    assert o.loc["CN", "share_relocated"] == 295_000 / 570_000
    assert o.loc["CN", "abandoned"] == 1  # GAMMA-2
    # IT: one line of unknown value -> imported value 0 and no share (NaN), never a share of 0
    assert o.loc["IT", "imported_value_eur"] == 0.0 and o.loc["IT", "lines"] == 1
    assert pd.isna(o.loc["IT", "share_regional"])
    assert list(o.index) == ["CN", "US", "TR", "DE", "IT"]


def test_evolution_by_month(programme):
    m = programme.by_month
    assert list(m["month"]) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # proposed: Jan ACME-1,2,4; Feb BETA-1,2,3; Mar GAMMA-1,2
    assert list(m["proposed"]) == [3, 3, 2, 0]
    # contracted: ACME-1 02-25, BETA-1 03-10, BETA-3 04-01 (national)
    assert list(m["contracted"]) == [0, 1, 1, 1]
    assert list(m["contracted_regional"]) == [0, 1, 1, 0]
    assert list(m["contracted_national"]) == [0, 0, 0, 1]
    assert list(m["value_moved_eur"]) == [0.0, 80_000.0, 200_000.0, 15_000.0]
    # abandoned: BETA-2 02-28; ACME-2 03-03, GAMMA-2 03-15
    assert list(m["abandoned"]) == [0, 1, 2, 0]
    assert list(m["cumulative_relocations"]) == [0, 1, 2, 3]


# ----------------------------------------------------------------- transitions


def _ev(stage, d, **kw):
    return FollowUpEvent(stage=stage, on=date.fromisoformat(d), **kw)


def test_funnel_moves_forward_and_may_skip_steps():
    fu = FollowUp("X", 1).advance(_ev("proposed", "2026-01-01")).advance(_ev("quote", "2026-01-05"))
    assert fu.stage == "quote"
    assert can_transition("proposed", "quote") and not can_transition("quote", "contacted")


@pytest.mark.parametrize(
    ("before", "after"),
    [("quote", "contacted"), ("contracted", "abandoned"), ("abandoned", "contacted"), ("contacted", "proposed")],
)
def test_going_back_or_reopening_is_refused(before, after):
    kw = {
        "contracted": {"supplier_siret": "12345678900011", "supplier_tier": "regional", "value_moved_eur": 1.0},
        "abandoned": {"reason": "price"},
    }
    fu = FollowUp("X", 1, (_ev(before, "2026-01-01", **kw.get(before, {})),))
    with pytest.raises(FollowUpError, match=f"cannot go from {before} to {after}"):
        fu.advance(_ev(after, "2026-01-02", **kw.get(after, {})))


def test_event_before_previous_one_is_refused():
    fu = FollowUp("X", 1, (_ev("proposed", "2026-02-01"),))
    with pytest.raises(FollowUpError, match="before the previous one"):
        fu.advance(_ev("contacted", "2026-01-15"))


def test_contracted_needs_supplier_tier_and_value():
    with pytest.raises(FollowUpError, match="14 digits"):
        _ev("contracted", "2026-01-01", supplier_siret="123", supplier_tier="regional", value_moved_eur=1.0)
    with pytest.raises(FollowUpError, match="tier"):
        _ev("contracted", "2026-01-01", supplier_siret="12345678900011", supplier_tier="foreign", value_moved_eur=1.0)
    with pytest.raises(FollowUpError, match="value moved"):
        _ev("contracted", "2026-01-01", supplier_siret="12345678900011", supplier_tier="national")


def test_abandoned_needs_a_reason_from_the_list():
    with pytest.raises(FollowUpError, match="price, capacity, quality, lead_time, certification, other"):
        _ev("abandoned", "2026-01-01", reason="too expensive")
    with pytest.raises(FollowUpError, match="only recorded when a line is abandoned"):
        _ev("quote", "2026-01-01", reason="price")


def test_bad_event_file_reports_every_bad_row(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text(
        "company,line,date,stage,reason\n"
        "A,1,2026-01-01,proposed,\n"
        "A,2,2026-13-01,proposed,\n"  # bad date (row 3)
        "A,3,2026-01-01,abandoned,weather\n"  # bad reason (row 4)
        "A,4,2026-01-01,flying,\n",  # bad stage (row 5)
        encoding="utf-8",
    )
    with pytest.raises(BomError) as ei:
        read_followups(p)
    assert [pr.row for pr in ei.value.problems] == [3, 4, 5]


def test_orphan_followup_is_an_error(records):
    lines, fus = records
    with pytest.raises(FollowUpError, match="unknown lines"):
        compute_indicators(lines[:1], fus)


def test_tracked_lines_from_a_match_result():
    result = {
        "lines": [
            {"line": 2, "status": "matched", "input": {"row": 2, "code": "84821010", "origin_country": "CN", "annual_value_eur": 1000.0},
             "suppliers": [{"tier": "national"}, {"tier": "regional"}]},
            {"line": 3, "status": "matched", "input": {"row": 3, "origin_country": "DE", "annual_value_eur": None},
             "products": [{"code": "7318"}], "suppliers": [{"tier": "national"}]},
            {"line": 4, "status": "no_candidate", "input": {"row": 4}, "suppliers": []},
        ]
    }
    got = tracked_lines_from_result(result, company="Z", buyer_naf="28.15Z")
    assert [(t.line, t.best_tier, t.code, t.annual_value_eur) for t in got] == [
        (2, "regional", "84821010", 1000.0),
        (3, "national", "7318", None),
        (4, None, None, None),
    ]
    assert best_tier_of([]) is None
    with pytest.raises(FollowUpError):
        TrackedLine(company="Z", line=1, best_tier="foreign")  # type: ignore[arg-type]


# ----------------------------------------------------------------- property: the funnel only moves forward

_ORDER = {"proposed": 0, "contacted": 1, "quote": 2, "contracted": 3, "abandoned": 3}
_KW = {
    "contracted": {"supplier_siret": "12345678900011", "supplier_tier": "national", "value_moved_eur": 5.0},
    "abandoned": {"reason": "other"},
}


@given(st.lists(st.sampled_from(list(_ORDER)), min_size=1, max_size=6))
def test_a_history_is_accepted_iff_it_moves_forward_and_stops_at_a_final_stage(stages):
    events = tuple(_ev(s, f"2026-01-{i + 1:02d}", **_KW.get(s, {})) for i, s in enumerate(stages))
    ranks = [_ORDER[s] for s in stages]
    closed_early = any(s in ("contracted", "abandoned") for s in stages[:-1])
    expected_ok = all(a < b for a, b in zip(ranks, ranks[1:])) and not closed_early
    try:
        FollowUp("P", 1, events)
        ok = True
    except FollowUpError:
        ok = False
    assert ok == expected_ok
