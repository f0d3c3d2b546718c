"""Checks on one input line before it is matched: text that names no product, suspicious values.

Why: a BOM cell holding ``300``, ``+SUM(1,2)`` or ``@cmd|' /C calc'!A0`` is not a product; matching
it gives confident-looking suppliers for nothing. Such a line (without a code to fall back on) is
``skipped`` with the reason. A negative value is kept but warned (a credit note, a return, a typo).
Pure functions, used by the BOM reader and by the pipeline (API lines never pass the reader).
"""

from __future__ import annotations

import re

from matching.types import BomLine

_LETTER = re.compile(r"[^\W\d_]")
# =anything, or +/-/@ followed by a function call, a DDE pipe or a command word (@cmd, +SUM(…), -2+3)
_FORMULA = re.compile(r"^\s*(?:=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!]|@[A-Za-z]+\b\S*$|[+\-@]\s*\d[\d.,]*\s*[-+*/^])")


def _quote(text: str, n: int = 40) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def formula_like(text: str) -> bool:
    """Text that a spreadsheet would run as a formula or command (not a product description)."""
    return bool(_FORMULA.match(text or ""))


def unusable_text_reason(description: str | None, code: str | None) -> str | None:
    """Why a line cannot be matched on its text, or None when it can (a code is always usable);
    the words that say why come first, so that a narrow table column shows them."""
    text = (description or "").strip()
    if code or not text:
        return None  # a written code is matched on its own; an empty line is reported elsewhere
    if formula_like(text):
        return f"formule de tableur, pas un produit : description « {_quote(text)} »"
    if not _LETTER.search(text):
        return f"sans lettres, ni produit ni code : description « {_quote(text)} »"
    return None


def negative_value_warning(value: float) -> str:
    """The message for a negative annual value (kept, but not counted in value shares)."""
    return f"value {value:g} is negative (credit note, return or typo?): not counted in value shares"


def line_checks(line: BomLine) -> tuple[str | None, tuple[str, ...]]:
    """(reason to skip the line or None, warnings to add) for a line about to be matched. Only a code
    that parsed (``line.code``) stands in for the text: a junk written code (``code_raw``) does not."""
    skip = unusable_text_reason(line.description, line.code)
    warnings: list[str] = []
    v = line.annual_value_eur
    if v is not None and v == v and v < 0:
        msg = negative_value_warning(v)
        if msg not in line.messages:
            warnings.append(msg)
    return skip, tuple(warnings)
