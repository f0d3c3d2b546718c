"""Number-only and formula-like descriptions are not products; negative values are warned
(issue 16, defect 6)."""

from __future__ import annotations

import pytest

from matching.types import BomLine

from .test_pipeline_fake import matcher


@pytest.mark.parametrize("text", ["300", "+SUM(1,2)", "@cmd|' /C calc'!A0", "=roulement", "-2+3"])
def test_number_only_and_formula_lines_are_skipped_with_the_reason(table, text: str) -> None:
    res = matcher(table).match([BomLine(row=1, description=text), BomLine(row=2, description="roulement à billes")])
    bad, good = res.lines
    assert bad.status == "skipped" and not bad.suppliers
    assert any(("sans lettres" in w) or ("formule" in w) for w in bad.warnings)
    assert good.status == "matched"
    assert res.summary["skipped"] == 1


def test_a_number_with_a_code_is_still_matched(table) -> None:
    lr = matcher(table).match([BomLine(row=1, description="300", code="84821010")]).lines[0]
    assert lr.status != "skipped"


def test_a_formula_with_a_junk_written_code_is_still_skipped(table) -> None:
    # the written code did not parse (code None, code_raw kept): it cannot stand in for the text
    lr = matcher(table).match([BomLine(row=1, description="+SUM(1,2)", code=None, code_raw="#REF!")]).lines[0]
    assert lr.status == "skipped" and any("formule" in w for w in lr.warnings)


def test_negative_value_warned_on_an_api_line(table) -> None:
    lines = [BomLine(row=1, description="roulement à billes", annual_value_eur=-500.0),
             BomLine(row=2, description="roulement à billes", annual_value_eur=800.0),
             BomLine(row=3, description="roulement à billes", annual_value_eur=-1.0)]
    out = matcher(table).match(lines).lines
    assert any("negative" in w for w in out[0].warnings)
    assert not any("negative" in w for w in out[1].warnings)
    assert any("negative" in w for w in out[2].warnings)
