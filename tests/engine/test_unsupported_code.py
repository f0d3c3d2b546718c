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
