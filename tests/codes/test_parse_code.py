"""parse_code: the pure, data-free canonicaliser of written HS/CN/TARIC codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.codes import ParsedCode, parse_code, try_parse_code
from matching.errors import CodeError

ACCEPTED = [
    # written, digits, system, zero_padded
    ("8482.10", "848210", "HS6", False),
    ("8482 10 10", "84821010", "CN8", False),
    ("84821010", "84821010", "CN8", False),
    ("HS 848210", "848210", "HS6", False),
    ("HS6: 8482.10", "848210", "HS6", False),
    ("hs6 8482.10", "848210", "HS6", False),
    ("7318.15.95", "73181595", "CN8", False),
    ("7318 15 95", "73181595", "CN8", False),
    ("4819", "4819", "HS4", False),
    ("4819.10", "481910", "HS6", False),
    ("CN 8482 10 10", "84821010", "CN8", False),
    ("CN8: 84821010", "84821010", "CN8", False),
    ("NC 8482 10 10", "84821010", "CN8", False),
    ("KN 8482 10 10", "84821010", "CN8", False),
    ("SH 8482.10", "848210", "HS6", False),
    ("8482101000", "8482101000", "TARIC10", False),
    ("TARIC 8482 10 10 00", "8482101000", "TARIC10", False),
    ("8482.10.10.00", "8482101000", "TARIC10", False),
    ("02", "02", "HS2", False),
    ("HS848210", "848210", "HS6", False),
    ("HS2022: 848210", "848210", "HS6", False),
    ("HS200990", "200990", "HS6", False),  # 2009 90 is a code, not a year
    ("8482-10-10", "84821010", "CN8", False),
    ("8482\u00a010", "848210", "HS6", False),
    ("  84821010  ", "84821010", "CN8", False),
    ("'0406", "0406", "HS4", False),  # Excel text marker
    ("84821010.0", "84821010", "CN8", False),  # float artefact of a spreadsheet export
    ("ex 8482 10", "848210", "HS6", False),
    # spreadsheet dropped the leading zero of chapters 01-09
    ("4011000", "04011000", "CN8", True),
    ("40110", "040110", "HS6", True),
    ("406", "0406", "HS4", True),
    ("406101000", "0406101000", "TARIC10", True),
]

REJECTED = [
    "",
    "   ",
    "abc",
    "HS",
    "1",
    "00",
    "12345678901",
    "8482.1",  # 5 digits with a separator: not a bare spreadsheet number
    "06 4",
    "04061",  # odd length that already starts with 0: no dropped zero to restore
    "8482.10A",
    "HS6: 84821010",  # level prefix disagrees with the digits
    "CN8 8482",
    "8482,10",
]


@pytest.mark.parametrize(("written", "digits", "system", "padded"), ACCEPTED)
def test_parse_code_accepts_common_written_forms(written: str, digits: str, system: str, padded: bool) -> None:
    p = parse_code(written)
    assert (p.digits, p.system, p.zero_padded) == (digits, system, padded)
    assert p.written == written


@pytest.mark.parametrize("written", REJECTED)
def test_parse_code_rejects_with_message_naming_input(written: str) -> None:
    with pytest.raises(CodeError) as info:
        parse_code(written)
    msg = str(info.value)
    assert repr(written) in msg or "empty" in msg
    assert info.value.code == written


def test_error_message_says_what_was_expected() -> None:
    with pytest.raises(CodeError, match=r"expected an HS/CN/TARIC code of 2, 4, 6, 8 or 10 digits"):
        parse_code("12345678901")


def test_parsed_code_hierarchy_helpers() -> None:
    p = parse_code("8482 10 10")
    assert (p.chapter, p.hs4, p.hs6, p.cn8) == ("84", "8482", "848210", "84821010")
    assert p.dotted == "8482.10.10"
    assert parse_code("4819").hs6 is None
    assert parse_code("8482101000").dotted == "8482.10.10.00"


def test_parsed_code_is_frozen() -> None:
    p = parse_code("4819")
    with pytest.raises(AttributeError):
        p.digits = "4820"  # type: ignore[misc]


def test_try_parse_code_returns_none_on_bad_input() -> None:
    assert try_parse_code("nonsense") is None
    assert try_parse_code(None) is None
    assert try_parse_code("4819") == ParsedCode("4819", "HS4", "4819")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_any_string_gives_parsed_code_or_code_error(text: str) -> None:
    try:
        p = parse_code(text)
    except CodeError:
        return
    assert p.digits.isdigit() and len(p.digits) in (2, 4, 6, 8, 10)
    assert p.system == {2: "HS2", 4: "HS4", 6: "HS6", 8: "CN8", 10: "TARIC10"}[len(p.digits)]


_code_like = st.builds(
    lambda prefix, d, sep: prefix + sep.join(d[i : i + 2] if i else d[:4] for i in [0] + list(range(4, len(d), 2))),
    st.sampled_from(["", "HS ", "CN ", "NC8 ", "HS6: ", "TARIC ", "ex ", "'"]),
    st.sampled_from([2, 4, 6, 8, 10]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    st.sampled_from(["", " ", ".", "-"]),
)


@settings(max_examples=300, deadline=None)
@given(_code_like)
def test_code_like_strings_never_raise_anything_but_code_error(text: str) -> None:
    try:
        p = parse_code(text)
    except CodeError:
        return
    assert p.digits == "".join(c for c in p.digits if c.isdigit())


@given(st.sampled_from([4, 6, 8, 10]).flatmap(lambda n: st.from_regex(rf"\A[1-9][0-9]{{{n - 1}}}\Z")))
def test_bare_digit_codes_round_trip(digits: str) -> None:
    p = parse_code(digits)
    assert p.digits == digits and not p.zero_padded
    assert parse_code(p.dotted).digits == digits
