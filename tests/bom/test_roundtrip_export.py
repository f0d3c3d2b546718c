"""Exports: every cell is inert in a spreadsheet, and what relocmatch writes it reads back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matching.bom import read_bom
from matching.bom.values import is_empty_text, parse_country
from matching.export import LINE_COLUMNS, neutralise, write_csv, write_lines_csv, write_xlsx
from matching.types import BomLine

TRIGGERS = "=+-@\t\r"


@pytest.mark.parametrize("text", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", "'=x", "''=x"])
def test_neutralise_prefixes_formula_like_text(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["abc", "", "'quoted", 3, 2.5, None, "a=b"])
def test_neutralise_leaves_other_values(value: object) -> None:
    assert neutralise(value) == value


def test_write_csv_neutralises_every_cell(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    write_csv([{"a": "=cmd|' /C calc'!A0", "b": "@x", "c": 1.5}], p, ["a", "b", "c"])
    rows = list(csv.reader(p.open(encoding="utf-8")))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "'@x", "1.5"]


def test_write_xlsx_writes_strings_not_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    p = tmp_path / "out.xlsx"
    write_xlsx([{"d": "=SUM(A1:A3)", "q": 2}], p, ["d", "q"], sheet_name="lines")
    ws = load_workbook(p)["lines"]
    assert ws["A2"].value == "'=SUM(A1:A3)" and ws["A2"].data_type == "s"
    assert ws["B2"].value == 2
    buf = io.BytesIO()
    write_xlsx([{"d": "+1"}], buf, ["d"])
    assert load_workbook(io.BytesIO(buf.getvalue())).active["A2"].value == "'+1"


def test_formula_text_round_trips_through_write_lines_csv(tmp_path: Path) -> None:
    lines = [
        BomLine(row=1, description="=HYPERLINK(\"x\")", quantity=1.0),
        BomLine(row=2, description="'=already escaped", quantity=2.0),
        BomLine(row=3, description="'plain apostrophe", quantity=3.0),
    ]
    p = tmp_path / "l.csv"
    write_lines_csv(lines, p)
    raw = p.read_text(encoding="utf-8")
    assert "\n=HYPER" not in raw and ",=HYPER" not in raw
    back = read_bom(p).items
    assert [ln.description for ln in back] == [ln.description for ln in lines]


_COUNTRIES = sorted({c for c in ["CN", "DE", "FR", "IT", "US", "TR", "KR", "JP", "IN", "VN", "PL", "ES", "BE", "GB"] if parse_country(c) == c})
_words = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\u2028\u2029\x85"),
    min_size=1,
    max_size=40,
)
_amount = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False).map(float))
_qty = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False).map(float))
_code = st.one_of(
    st.none(),
    st.from_regex(r"[1-9][0-9]{3}([0-9]{2}){0,3}", fullmatch=True),
)


@st.composite
def bom_lines(draw: st.DrawFn) -> list[BomLine]:
    n = draw(st.integers(min_value=1, max_value=12))
    out = []
    for i in range(n):
        desc = draw(st.one_of(_words, st.sampled_from(TRIGGERS[:4]).flatmap(lambda t: _words.map(lambda w: t + w))))
        desc = desc.strip()
        # a description that reads as blank, a placeholder or a total label is not an item line
        assume(desc and not is_empty_text(desc) and any(c.isalpha() for c in desc))
        from matching.bom.read import _DNP_WORDS, _is_total_text
        from matching.bom.layout import fold

        # documented limits: a description that *is* a total label or a DNP mark is skipped on read
        assume(not _is_total_text(desc) and fold(desc) not in _DNP_WORDS)
        out.append(
            BomLine(
                row=i + 1,
                description=desc,
                code=draw(_code),
                origin_country=draw(st.one_of(st.none(), st.sampled_from(_COUNTRIES))),
                annual_value_eur=draw(_amount),
                quantity=draw(_qty),
                unit=draw(st.one_of(st.none(), st.sampled_from(["kg", "m", "pcs", "t", "L", "set", "Nos"]))),
            )
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(bom_lines())
def test_written_lines_read_back_to_the_same_lines(lines: list[BomLine]) -> None:
    buf = io.StringIO()
    write_lines_csv(lines, buf)
    res = read_bom(buf.getvalue().encode("utf-8"), filename="lines.csv")
    back = res.items
    assert len(back) == len(lines)
    for a, b in zip(lines, back):
        assert b.description == a.description
        assert b.code == a.code
        assert b.quantity == a.quantity
        assert b.unit == a.unit
        assert b.origin_country == a.origin_country
        assert b.annual_value_eur == a.annual_value_eur


def test_line_columns_cover_the_dataclass() -> None:
    assert set(LINE_COLUMNS) == set(BomLine(row=1).to_dict()) - {"sheet"}


def test_export_cells_from_numpy_lists_and_dicts() -> None:
    np = pytest.importorskip("numpy")
    buf = io.StringIO()
    write_csv([{"a": np.float64(1.5), "b": {"x": 1}, "c": ["=1", "b"], "d": np.int64(4), "e": float("nan")}], buf, list("abcde"))
    assert buf.getvalue().splitlines()[1] == "1.5,x=1,'=1; b,4,"


def test_xlsx_export_says_file_wide_notes_once_on_a_notes_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from matching.results import export_dict

    result = {
        "schema_version": "1", "lines": [],
        "catalog": {"built_at": "2026-12-05T10:00:00", "suppliers": 9969, "sources": [{"name": "irep.csv"}]},
        "engine": {"version": "0.1"},
        "notes": [{"code": "no_buyer", "text": "distance : pas de commune acheteur donnée", "text_en": "distance: no buyer"}],
        "summary": {"lines": 3, "matched": 2, "no_producer": 1, "confidence": {"high": 2, "low": 1}},
    }
    out = tmp_path / "r.xlsx"
    export_dict(result, out, "xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["relocmatch", "notes"]
    notes = {r[0]: r[1] for r in wb["notes"].iter_rows(values_only=True)}
    assert notes["à lire"] == "distance : pas de commune acheteur donnée"
    assert notes["catalogue"] == "irep.csv, 9969 établissements, 2026-12-05"
    assert notes["statut no_producer"] == 1 and notes["lignes"] == 3
    result["notes"] = []
    export_dict(result, out, "xlsx")
    assert "à lire" not in {r[0] for r in load_workbook(out)["notes"].iter_rows(values_only=True)}
