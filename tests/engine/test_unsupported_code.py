"""A written code the description does not support: the code's producers first, the description's
reading kept below them in the same list (``classify.CODE_HEDGE``), on the real IREP catalog."""

from __future__ import annotations

import pytest

from matching.types import BomLine


def test_the_code_leads_and_the_description_reading_follows(matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    import matching.classify as classify

    line = BomLine(row=1, description="courroie crantée T5 largeur 16 mm", code="731511", code_raw="7315 11")
    lr = matcher.match_one(line)
    nafs = [m.supplier.naf for m in lr.suppliers]
    assert lr.status in ("matched", "low_confidence") and len(nafs) == 10
    assert any("not supported by the description" in w for w in lr.warnings)
    assert nafs[0] == "28.15Z", "the written code's producers rank first"
    assert "22.19Z" in nafs, "the description's reading (rubber belts) is in the top 10"
    first_second = nafs.index("22.19Z")
    assert all(n != "22.19Z" for n in nafs[:first_second]) and all(n == "22.19Z" for n in nafs[first_second:])

    monkeypatch.setattr(classify, "CODE_HEDGE", 0.0)
    off = matcher.match_one(BomLine(row=2, description="courroie crantée T5 largeur 16 mm", code="731511",
                                    code_raw="7315 11"))
    assert "22.19Z" not in [m.supplier.naf for m in off.suppliers]


def test_a_wrong_code_of_the_same_chapter_does_not_hide_the_description(matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ball bearings written as 8481 80 (valves, chapter 84 like bearings): the description reads as
    ball bearings (8482 10), a confident reading of another heading, so bearing makers (28.15Z) lead and
    the line warns. When a chapter sufficed to confirm the code, valve makers (28.14Z) led."""
    import matching.classify as classify

    line = BomLine(row=1, description="Roulement à billes 6204 2RS", code="848180", code_raw="8481.80")
    lr = matcher.match_one(line)
    nafs = [m.supplier.naf for m in lr.suppliers]
    assert nafs[0] == "28.15Z" and nafs.count("28.15Z") >= 5
    assert any("disagrees with the description" in w for w in lr.warnings)

    monkeypatch.setattr(classify, "CODE_AGREE_MIN", 0.25)
    old = matcher.match_one(BomLine(row=2, description="Roulement à billes 6204 2RS", code="848180", code_raw="8481.80"))
    assert old.suppliers[0].supplier.naf == "28.14Z" and not old.warnings
