"""Cell values of BOM files: numbers in FR/DE/EN notation, quantities with units,
money with currency, countries, and formula-like text.

Pure functions, no I/O: the reader calls them on every cell, so they stay cheap.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache

# Characters that make a spreadsheet evaluate a cell (CSV/formula injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_SPACE_CHARS = "\u00a0\u202f\u2009\u2007 "
_WS = re.compile(r"\s+")
_DASHES = {"-", "--", "---", "—", "–", "/", "n/a", "na", "n.a.", "#n/a", "?"}


def cell_text(value: object) -> str:
    """Text of a cell as a person would read it: integral floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return str(value).strip()


_PLACEHOLDER = re.compile(r"^[\W_]*(?:item|ref|réf|no|n°|nr|tbd|tbc|todo|xxx|dnp)?[\W_]*$", re.I)


@lru_cache(maxsize=131072)
def is_empty_text(text: str) -> bool:
    """A cell that carries no information: blank, a dash, or a template placeholder ('(Item #: )')."""
    t = text.strip()
    if not t:
        return True
    if len(t) > 12:
        return False
    if t.lower() in _DASHES:
        return True
    return not any(c.isdigit() for c in t) and bool(_PLACEHOLDER.match(t)) and t.lower() != "dnp"


def is_formula_like(text: str) -> bool:
    return bool(text) and text[0] in FORMULA_TRIGGERS


def is_escaped_formula(text: str) -> bool:
    """Text that `export.neutralise` produced: apostrophe(s) then a formula trigger."""
    rest = text.lstrip("'")
    return text[:1] == "'" and bool(rest) and rest[0] in FORMULA_TRIGGERS


def unneutralise(text: str) -> str:
    """Undo `export.neutralise`: drop one leading apostrophe when a formula trigger follows."""
    return text[1:] if is_escaped_formula(text) else text


# --------------------------------------------------------------------------- numbers

_DROP_SPACES = str.maketrans("", "", _SPACE_CHARS + "'")
_NUM_CORE = re.compile(r"^[+-]?(?:\d[\d\u00a0\u202f\u2009\u2007 .,']*\d|\d)$")


def decimal_hint(text: str) -> str | None:
    """',' or '.' when the written number says unambiguously which is the decimal mark."""
    s = text.strip().translate(_DROP_SPACES).lstrip("+-")
    has_c, has_p = "," in s, "." in s
    if has_c and has_p:
        return "," if s.rfind(",") > s.rfind(".") else "."
    if has_c:
        parts = s.split(",")
        if len(parts) > 2:
            return "."  # 1,234,567
        return "," if len(parts[1]) != 3 else None
    if has_p:
        parts = s.split(".")
        if len(parts) > 2:
            return ","  # 1.234.567
        return "." if len(parts[1]) != 3 else None
    return None


def parse_number(text: str, decimal: str | None = None) -> float | None:
    """A number written in French (`18 450,50`), German (`1.234,56`) or English (`1,234.56`).

    ``decimal`` is the file's decimal mark when known; it only decides ambiguous
    cases such as `1,234` or `1.234`. Returns None when the text is not a number.
    """
    s = text.strip()
    if not s:
        return None
    if not _NUM_CORE.match(s):
        return None
    hint = decimal_hint(s)
    mark = hint or decimal or "."
    s = s.translate(_DROP_SPACES)
    if mark == ",":
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def as_number(value: object, decimal: str | None = None) -> float | None:
    """A cell as a number: native numbers pass, text is parsed in any notation."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, str):
        return parse_number(value, decimal)
    return None


_QTY_RE = re.compile(
    r"^\s*(?P<num>[+-]?\d[\d\u00a0\u202f\u2009\u2007 .,']*?)\s*(?P<unit>[^\d\s][^\d]{0,24})?\s*$"
)
_UNIT_CLEAN = re.compile(r"^[A-Za-zÀ-ÿµ²³°%/.\- ]+$")


@dataclass(frozen=True)
class Quantity:
    value: float | None
    unit: str | None


def parse_quantity(value: object, decimal: str | None = None) -> Quantity | None:
    """A quantity with its unit kept apart: `85 t`, `5 000 m`, `4 plates`, `1 set`, `3`.

    None when the cell holds no quantity at all (e.g. 'optional').
    """
    n = as_number(value, decimal)
    if n is not None:
        return Quantity(n, None)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s:
        return None
    if s.lower().startswith(("x", "×")) and parse_number(s[1:].strip(), decimal) is not None:
        return Quantity(parse_number(s[1:].strip(), decimal), None)  # "x4"
    m = _QTY_RE.match(s)
    if not m:
        return None
    num = parse_number(m.group("num").strip(), decimal)
    if num is None:
        return None
    unit = (m.group("unit") or "").strip().rstrip(".").strip()
    if unit and not _UNIT_CLEAN.match(unit):
        return None
    return Quantity(num, unit or None)


_CURRENCY = [
    ("EUR", re.compile(r"€|\bEUR\b|\beuros?\b", re.I)),
    ("USD", re.compile(r"US\$|\$|\bUSD\b", re.I)),
    ("GBP", re.compile(r"£|\bGBP\b", re.I)),
    ("CHF", re.compile(r"\bCHF\b|\bSFr\.?", re.I)),
    ("CNY", re.compile(r"¥|\bCNY\b|\bRMB\b", re.I)),
]
_TAX_WORDS = re.compile(r"\b(?:HT|TTC|HTVA|netto|brutto|net|excl\.?|incl\.?)\b", re.I)


def currency_of(text: str) -> str | None:
    for code, rx in _CURRENCY:
        if rx.search(text):
            return code
    return None


# A value header that says its amounts are in thousands (or millions): "Valeur (k€)", "kEUR",
# "T€", "TEUR", "Tsd. EUR", "en milliers d'euros", "in Tausend", "('000 €)", "M€", "Mio. EUR".
_SCALES: tuple[tuple[float, re.Pattern[str]], ...] = (
    (1000.0, re.compile(r"(?<![^\W\d_])[kKtT]\s?(?:€|EUR\b|euros?\b)|(?<![^\W\d_])k\$|\btsd\b\.?|\btausend|"
                        r"\bmilliers?\b|\bthousands?\b|'000\b|\(000\)|\b000\s?€", re.I)),
    (1_000_000.0, re.compile(r"(?<![^\W\d_])M\s?(?:€|EUR\b)|\bMio\b\.?|\bmillions?\b|\bMillionen\b|\bMEUR\b")),
)


def value_scale(header: str) -> tuple[float, str] | None:
    """(factor, the words that say so) when a money header gives its amounts in thousands or
    millions, else None. Why: a "Valeur (k€)" column read as euros is wrong by ×1000."""
    for factor, rx in _SCALES:
        m = rx.search(header or "")
        if m:
            return factor, m.group(0).strip()
    return None


@dataclass(frozen=True)
class Money:
    amount: float
    currency: str | None


def parse_money(value: object, decimal: str | None = None) -> Money | None:
    """An amount with an optional currency symbol/code: `18 450,50 €`, `$1,234.56`, `150.00 €`."""
    n = as_number(value, decimal)
    if n is not None:
        return Money(n, None)
    if not isinstance(value, str):
        return None
    cur = currency_of(value)
    s = value
    for _, rx in _CURRENCY:
        s = rx.sub(" ", s)
    s = _TAX_WORDS.sub(" ", s).strip()
    n = parse_number(s, decimal)
    if n is None:
        return None
    return Money(n, cur)


# --------------------------------------------------------------------------- countries

_EXTRA_COUNTRY_NAMES = {
    "usa": "US", "us": "US", "u.s.a.": "US", "etats-unis": "US", "états-unis": "US", "amerique": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "royaume-uni": "GB", "angleterre": "GB", "england": "GB",
    "grossbritannien": "GB", "großbritannien": "GB", "vereinigtes königreich": "GB",
    "south korea": "KR", "korea": "KR", "coree du sud": "KR", "corée du sud": "KR", "coree": "KR", "südkorea": "KR",
    "taiwan": "TW", "taïwan": "TW", "russia": "RU", "russie": "RU", "russland": "RU",
    "vietnam": "VN", "viet nam": "VN", "czech republic": "CZ", "tchequie": "CZ", "tchéquie": "CZ", "tschechien": "CZ",
    "holland": "NL", "hollande": "NL", "pays-bas": "NL", "niederlande": "NL",
    "turkey": "TR", "turquie": "TR", "türkei": "TR", "turkiye": "TR", "türkiye": "TR",
    "iran": "IR", "syria": "SY", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD",
    "laos": "LA", "hong kong": "HK", "macau": "MO", "prc": "CN", "p.r.c.": "CN", "p.r. china": "CN",
    "volksrepublik china": "CN", "republique populaire de chine": "CN", "république populaire de chine": "CN",
}


def _fold(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return _WS.sub(" ", s.lower().strip())


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    """Folded country name / code (EN, FR, DE, ISO-2, ISO-3) → ISO-2, built once from pycountry."""
    import gettext

    import pycountry

    idx: dict[str, str] = {}
    tr = []
    for lang in ("fr", "de"):
        try:
            tr.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]))
        except OSError:  # pragma: no cover - locales missing from the wheel
            pass
    for c in pycountry.countries:
        a2 = c.alpha_2
        names = {c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)}
        for n in list(names):
            if n:
                for t in tr:
                    names.add(t.gettext(n))
        for n in names:
            if n:
                idx[_fold(n)] = a2
                short = _fold(n.split(",")[0])
                idx.setdefault(short, a2)
        idx[_fold(c.alpha_3)] = a2
        idx[_fold(a2)] = a2
    for k, v in _EXTRA_COUNTRY_NAMES.items():
        idx[_fold(k)] = v
    idx["uk"] = "GB"
    idx["el"] = "GR"  # EU usage for Greece
    return idx


def parse_country(text: str) -> str | None:
    """ISO-2 of a country written as a code or a name in EN/FR/DE ('Chine', 'China', 'CN', 'CHN')."""
    t = _fold(text).strip(" .")
    if not t:
        return None
    idx = _country_index()
    if t in idx:
        return idx[t]
    t2 = re.sub(r"^(made in|fabrique en|fabriqué en|hergestellt in|origine?|origin)\s*:?\s*", "", t)
    t2 = _fold(t2)
    if t2 in idx:
        return idx[t2]
    t3 = re.sub(r"\s*\(.*\)\s*$", "", t2)
    return idx.get(t3)
