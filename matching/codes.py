"""Product codes: the canonical form of any written HS/CN/TARIC code, and the crosswalk
from product codes to the activities (CPA → NACE → NAF) that produce them.

The parser (`parse_code`) is pure: it reads no data file, so the BOM reader and the
API can call it on every cell cheaply. Checking that a code *exists* needs the
nomenclature and lives on the `Crosswalk` object (`get_crosswalk().canonical(...)`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from matching.errors import CodeError

System = Literal["HS2", "HS4", "HS6", "CN8", "TARIC10"]

_SYSTEM_BY_LEN: dict[int, System] = {2: "HS2", 4: "HS4", 6: "HS6", 8: "CN8", 10: "TARIC10"}

# Prefixes people write before a code, in FR/EN/DE: HS/SH (Harmonized System / Système
# harmonisé), CN/NC/KN (Combined Nomenclature in EN/FR/DE), TARIC, "code", "ex" (customs
# "part of"). An optional level digit (HS6, CN8, NC8, SH4) must agree with the digits.
_PREFIX_RE = re.compile(
    r"""^(?:
        (?P<family>hs|sh|cn|nc|kn|taric|code)
        (?:(?P<year>(?:19|20)\d\d)(?!\d)|(?P<level>\d{1,2})(?!\d))?
        (?:\s*code)?
      )\s*[:\-#=]?\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_EX_RE = re.compile(r"^ex\s*[:\-]?\s*(?=\d)", re.IGNORECASE)
# Separators allowed between digit groups: space (incl. NBSP/thin space), dot, hyphen, slash.
_BODY_RE = re.compile(r"^\d+(?:[ .\-/]+\d+)*$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_EXPECTED = (
    "expected an HS/CN/TARIC code of 2, 4, 6, 8 or 10 digits, e.g. '8482.10', '8482 10 10', "
    "'84821010', 'HS 848210', 'CN 8482 10 10'"
)


@dataclass(frozen=True)
class ParsedCode:
    """A written product code in canonical form.

    ``digits`` is the code without separators (``"84821010"``), ``system`` its level
    given by the digit count, ``written`` exactly what the input said, and
    ``zero_padded`` is True when we restored a leading zero that a spreadsheet dropped
    (chapters 01–09 written as numbers: ``4011000`` → ``04011000``).
    """

    digits: str
    system: System
    written: str
    zero_padded: bool = False

    @property
    def chapter(self) -> str:
        return self.digits[:2]

    @property
    def hs4(self) -> str | None:
        return self.digits[:4] if len(self.digits) >= 4 else None

    @property
    def hs6(self) -> str | None:
        return self.digits[:6] if len(self.digits) >= 6 else None

    @property
    def cn8(self) -> str | None:
        return self.digits[:8] if len(self.digits) >= 8 else None

    @property
    def dotted(self) -> str:
        """Customs display form: ``8482``, ``8482.10``, ``8482.10.10``, ``8482.10.10.00``."""
        d = self.digits
        if len(d) <= 4:
            return d
        return ".".join([d[:4]] + [d[i : i + 2] for i in range(4, len(d), 2)])


def parse_code(text: str) -> ParsedCode:
    """Canonicalise a written HS/CN/TARIC code without reading any data file.

    Accepts separators (space, dot, hyphen, slash), prefixes (``HS``, ``HS6:``, ``CN``,
    ``NC8``, ``TARIC``, ``SH``, ``KN``), a leading apostrophe (Excel text marker) and a
    trailing ``.0`` float artefact on a bare number. Bare numbers with 3, 5, 7 or 9
    digits are read as codes whose leading zero a spreadsheet dropped. Anything else
    raises CodeError naming the input and what was expected.
    """
    if not isinstance(text, str):
        raise CodeError(f"code {text!r}: not a string; {_EXPECTED}", code=None)
    written = text
    s = _SPACES.sub(" ", text).strip().strip("'\"‘’“”").strip()
    if not s:
        raise CodeError(f"empty code {written!r}; {_EXPECTED}", code=written)

    level: int | None = None
    family: str | None = None
    m = _PREFIX_RE.match(s)
    if m and m.end() < len(s) and s[m.end() :][:1].isdigit():
        family = m.group("family").lower()
        if m.group("level"):
            level = int(m.group("level"))
        s = s[m.end() :]
    elif m and not s[:1].isdigit():
        # a prefix with nothing numeric after it ("HS", "CN: n/a")
        raise CodeError(f"code {written!r} has no digits after its prefix; {_EXPECTED}", code=written)
    ex = _EX_RE.match(s)
    if ex:
        s = s[ex.end() :]
    s = s.strip()

    bare = s.isdigit()
    if bare is False and re.fullmatch(r"\d{3,10}\.0", s):
        # 84821010.0: a spreadsheet number exported as float
        s = s.split(".")[0]
        bare = True
    if not _BODY_RE.match(s):
        raise CodeError(
            f"code {written!r} contains characters other than digits and separators; {_EXPECTED}",
            code=written,
        )
    digits = re.sub(r"\D", "", s)
    n = len(digits)
    zero_padded = False
    if n in (3, 5, 7, 9):
        if bare and digits[0] != "0":
            digits = "0" + digits
            zero_padded = True
            n += 1
        else:
            hint = (
                " (a leading zero can only be restored on a bare number, e.g. '4011000' → 04011000)"
                if not bare
                else ""
            )
            raise CodeError(f"code {written!r} has {n} digits{hint}; {_EXPECTED}", code=written)
    if n not in _SYSTEM_BY_LEN:
        raise CodeError(f"code {written!r} has {n} digit{'s' if n != 1 else ''}; {_EXPECTED}", code=written)
    if digits[:2] == "00":
        raise CodeError(f"code {written!r}: chapter 00 does not exist (chapters are 01–99)", code=written)
    system = _SYSTEM_BY_LEN[n]
    if level is not None:
        if level != n:
            raise CodeError(
                f"code {written!r}: the prefix says {level} digits but the code has {n}; "
                f"write it without the level (e.g. 'HS {digits}') or fix the digits",
                code=written,
            )
    return ParsedCode(digits=digits, system=system, written=written, zero_padded=zero_padded)


def try_parse_code(text: str | None) -> ParsedCode | None:
    """`parse_code` that returns None instead of raising (for scanning cells)."""
    if text is None:
        return None
    try:
        return parse_code(text)
    except CodeError:
        return None
