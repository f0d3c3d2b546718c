"""Product codes: the canonical form of any written HS/CN/TARIC code, and the crosswalk
from product codes to the activities (CPA → NACE → NAF) that produce them.

The parser (`parse_code`) is pure: it reads no data file, so the BOM reader and the
API can call it on every cell cheaply. Checking that a code *exists* needs the
nomenclature and lives on the `Crosswalk` object (`get_crosswalk().canonical(...)`).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from matching.errors import CodeError, RelocmatchError
from matching.types import ActivityGuess

if TYPE_CHECKING:
    import pandas as pd

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
    m = _PREFIX_RE.match(s)
    if m and m.end() < len(s) and s[m.end() :][:1].isdigit():
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


# =========================================================================== NAF codes

_NAF_RE = re.compile(r"^\s*(\d{2})\s*[.\s]?\s*(\d{2})\s*([A-Za-z])\s*$")


def normalize_naf(text: str) -> str:
    """Canonical NAF sous-classe ``28.15Z`` from ``2815Z``, ``28.15z``, ``28 15 Z`` (IREP/APE style)."""
    m = _NAF_RE.match(text or "")
    if not m:
        raise CodeError(f"NAF code {text!r}: expected a sous-classe like '28.15Z' or '2815Z'", code=text)
    return f"{m.group(1)}.{m.group(2)}{m.group(3).upper()}"


def code_similarity(a: str, b: str) -> float:
    """Closeness of two product codes in the HS2/HS4/HS6/CN8 tree, in [0, 1].

    The depth of the shared prefix over 8 digits: same CN8 1.0, same HS6 0.75, same
    HS4 0.5, same chapter 0.25, else 0.0. Two identical codes are 1.0 whatever their
    level (an HS6 compared with itself is as close as the information allows), while
    an HS6 against one of its CN8 codes is 0.75. TARIC10 codes compare on their CN8.
    Raises CodeError when either code cannot be parsed.
    """
    da, db = parse_code(a).digits[:8], parse_code(b).digits[:8]
    if da == db:
        return 1.0
    shared = 0
    for level in (2, 4, 6, 8):
        if len(da) >= level and len(db) >= level and da[:level] == db[:level]:
            shared = level
        else:
            break
    return shared / 8


# =========================================================================== crosswalk

# A NAF label naming its class's remainder: "d'autres …", "Autre transformation …".
_RESIDUAL_RE = re.compile(r"(?i)(?:^|\W)autres?\s")

# Route confidences (before splitting across CPA classes and NAF sous-classes).
ROUTE_BASE: dict[str, float] = {
    "cn-cpa": 0.95,  # official Eurostat CN 2022 → CPA 2.1 line
    "cn2021-cpa": 0.9,  # the same table for CN 2021 (codes deleted in 2022)
    "cn8-sibling": 0.85,  # a CN 2023 code missing from the 2022 table: its HS6 siblings
    "hs6-cn8-expanded": 0.9,
    "hs4-cn8-expanded": 0.75,
    "hs2-cn8-expanded": 0.5,
    "hs2017-conversion": 0.75,
    "hs-isic-fallback": 0.35,
}


@dataclass(frozen=True)
class _Route:
    """How a product code reaches activities: a route, its confidence, and CPA/NACE shares."""

    route: str
    base: float
    head: tuple[str, ...]  # readable start of the chain, e.g. ("CN 84821010",)
    cpa: dict[str, float]  # CPA 2.1 code → share of the code's CN8 lines (sums to 1); {} for ISIC
    nace: dict[str, tuple[float, str | None]]  # NACE code → (share, best CPA leading there)


def _shares(counter: dict[str, int]) -> dict[str, float]:
    total = sum(counter.values())
    return {k: v / total for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))}


_MISSING = object()


class Crosswalk:
    """HS/CN/TARIC codes ↔ labels ↔ CPA 2.1 ↔ NACE/NAF activities, over one data bundle.

    Build it with `get_crosswalk()` (cached per data directory). Indexes are built
    lazily, on first use, and kept: after the first call every method is a dict lookup.

    Scoring of activities: each route has a base confidence (`ROUTE_BASE`); the code's
    probability mass is split over the CPA classes it reaches (by share of its CN8
    lines), then uniformly over the NAF sous-classes of each NACE class; the score of a
    sous-classe is ``base × √(mass)``. The square root keeps splits readable: a class
    with 2 sous-classes gives 0.71×base each, 4 sous-classes 0.5×base, rather than 0.25.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, Any] = {}
        self._act_cache: dict[str, list[ActivityGuess]] = {}
        self._lock = threading.RLock()  # API workers may share one crosswalk; builds nest

    # ------------------------------------------------------------------ lazy indexes
    def _get(self, name: str, build: Callable[[], Any]) -> Any:
        hit = self._cache.get(name, _MISSING)
        if hit is not _MISSING:
            return hit
        with self._lock:
            if name not in self._cache:
                snap = self._snapshot()
                if name in snap:
                    from matching.codes_snapshot import decode

                    self._cache[name] = decode(snap.pop(name))
                else:
                    self._cache[name] = build()
            return self._cache[name]

    def _snapshot(self) -> dict[str, Any]:
        """The stored tables of this bundle (``matching.codes_snapshot``), read once; when none are
        stored yet, this process warms the tables on typical codes and stores them."""
        snap = getattr(self, "_snap", None)
        if snap is not None:
            return snap
        from matching import codes_snapshot

        self._snap = {}  # while warming, every table is built from the files
        stored = codes_snapshot.read(self.root)
        if stored is not None:
            self._snap = stored
            return self._snap
        try:
            for c in codes_snapshot.WARM_CODES:
                self.activities_for(c)
                self.labels(c, "fr")
            self._act_cache.clear()
            codes_snapshot.write(self.root, self._cache)
        except Exception:  # noqa: BLE001 - warming is an optimisation: the lookups themselves raise as usual
            pass
        return self._snap

    def _has(self, key: str) -> bool:
        from matching import refdata

        return (self.root / refdata.ref_file(key).path).is_file()

    @property
    def _cn22(self) -> dict[str, str]:
        from matching import refdata

        return self._get("cn22", lambda: dict(zip(*_cols(refdata.load_cn_cpa(self.root), "cn8", "cpa"), strict=True)))

    @property
    def _cn21(self) -> dict[str, str]:
        from matching import refdata

        def build() -> dict[str, str]:
            if not self._has("cn2021_cpa21"):
                return {}
            return dict(zip(*_cols(refdata.load_cn_cpa(self.root, edition=2021), "cn8", "cpa"), strict=True))

        return self._get("cn21", build)

    def _prefix_counts(self, table: str) -> dict[str, dict[str, int]]:
        """prefix (2/4/6 digits) → {CPA: number of CN8 lines under it} for the 2022 or 2021 table."""

        def build() -> dict[str, dict[str, int]]:
            src = self._cn22 if table == "cn22" else self._cn21
            out: dict[str, dict[str, int]] = {}
            for cn, cpa in src.items():
                for n in (2, 4, 6):
                    d = out.setdefault(cn[:n], {})
                    d[cpa] = d.get(cpa, 0) + 1
            return out

        return self._get(f"prefix_{table}", build)

    def _cn8_labels(self, lang: str) -> dict[str, str]:
        from matching import refdata

        return self._get(
            f"cn8_{lang}", lambda: dict(zip(*_cols(refdata.load_cn8(lang, self.root), "code", "description"), strict=True))
        )

    @property
    def _cn23(self) -> set[str]:
        return self._get("cn23", lambda: set(self._cn8_labels("fr")))

    @property
    def _hs(self) -> dict[str, str]:
        """HS 2022 code (2/4/6 digits) → English description."""
        from matching import refdata

        return self._get("hs", lambda: dict(zip(*_cols(refdata.load_hs2022(self.root), "hscode", "description"), strict=True)))

    def _taric(self, lang: str) -> dict[tuple[str, str], tuple[int, str]]:
        """(code10, suffix) → (hier_pos, self-contained label built by joining ancestor fragments)."""
        from matching import refdata

        def build() -> dict[tuple[str, str], tuple[int, str]]:
            if not self._has(f"taric_{lang}"):
                return {}
            df = refdata.load_taric(lang, self.root).sort_values("goods_code", kind="stable")
            out: dict[tuple[str, str], tuple[int, str]] = {}
            stack: list[tuple[int, str]] = []  # (depth, description)
            for code10, suffix, hp, indent, desc in zip(
                df["code10"], df["suffix"], df["hier_pos"], df["indent"], df["description"], strict=True
            ):
                depth = 0 if hp == 2 else 1 + indent.count("-")
                while stack and stack[-1][0] >= depth:
                    stack.pop()
                stack.append((depth, desc))
                # the chapter title (depth 0) is too broad to repeat in every label
                parts = [d for dep, d in stack if dep > 0] or [desc]
                out[(code10, suffix)] = (int(hp), " > ".join(parts))
            return out

        return self._get(f"taric_{lang}", build)

    @property
    def _taric_codes(self) -> dict[str, set[str]]:
        """Codes that exist as real TARIC lines (suffix 80), by digit length 2/4/6/8/10."""

        def build() -> dict[str, set[str]]:
            out: dict[str, set[str]] = {k: set() for k in ("2", "4", "6", "8", "10")}
            for (code10, suffix), (hp, _) in self._taric("fr").items():
                if suffix != "80":
                    continue
                out["10"].add(code10)
                if hp >= 8:
                    out["8"].add(code10[:8])
                elif hp in (2, 4, 6):
                    out[str(hp)].add(code10[:hp])
            return out

        return self._get("taric_codes", build)

    @property
    def _corr(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """HS 2022 → [HS 2017] and HS 2017 → [HS 2022] from the UNSD correlation table."""
        from matching import refdata

        def build() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
            df = refdata.load_hs2022_hs2017(self.root)
            fwd: dict[str, list[str]] = {}
            back: dict[str, list[str]] = {}
            for a, b in zip(df["hs2022"], df["hs2017"], strict=True):
                fwd.setdefault(a, []).append(b)
                back.setdefault(b, []).append(a)
            return fwd, back

        return self._get("corr", build)

    @property
    def _isic(self) -> dict[str, dict[str, int]]:
        """HS prefix (2/4/6) → {ISIC4 class: number of concordance rows}."""
        from matching import refdata

        def build() -> dict[str, dict[str, int]]:
            df = refdata.load_hs_isic4(self.root)
            out: dict[str, dict[str, int]] = {}
            for hs6, isic in zip(df["HS_6d"], df["ISIC4_4d"], strict=True):
                for n in (2, 4, 6):
                    d = out.setdefault(hs6[:n], {})
                    d[isic] = d.get(isic, 0) + 1
            return out

        return self._get("isic", build)

    @property
    def _cpa_nace(self) -> dict[str, str]:
        from matching import refdata

        return self._get("cpa_nace", lambda: dict(zip(*_cols(refdata.load_nace_cpa(self.root), "cpa", "nace"), strict=True)))

    @property
    def _naf(self) -> dict[str, Any]:
        """NAF indexes: sous-classe labels, level labels, sous-classes by NIV4/NIV3/NIV2."""
        from matching import refdata

        def build() -> dict[str, Any]:
            df = refdata.load_naf(self.root)
            labels: dict[str, str] = {}
            by: dict[str, list[str]] = {}
            for row in df.itertuples(index=False):
                labels[row.NIV5] = row.LIB_NIV5
                for code, lib in ((row.NIV4, row.LIB_NIV4), (row.NIV3, row.LIB_NIV3), (row.NIV2, row.LIB_NIV2)):
                    labels.setdefault(code, lib)
                    by.setdefault(code, []).append(row.NIV5)
            return {"labels": labels, "by": by, "codes": list(df["NIV5"])}

        return self._get("naf", build)

    # ------------------------------------------------------------------ existence
    def canonical(self, code: str | ParsedCode) -> ParsedCode:
        """Parse ``code`` and check it exists in the nomenclature of its level.

        Known means: HS2/HS4/HS6 in HS 2022 or the CN/TARIC tree (HS6 also in HS 2017),
        CN8 in CN 2023, 2022 or 2021 or the TARIC tree, TARIC10 in the TARIC tree.
        """
        p = code if isinstance(code, ParsedCode) else parse_code(code)
        if not self._known(p):
            raise CodeError(
                f"unknown {p.system} code {p.digits}"
                + (f" (written {p.written!r})" if p.written.strip() != p.digits else "")
                + (" after restoring a dropped leading zero" if p.zero_padded else "")
                + f": not in {_KNOWN_IN[p.system]}",
                code=p.written,
            )
        return p

    def _known(self, p: ParsedCode) -> bool:
        d, n = p.digits, len(p.digits)
        tc = self._taric_codes
        if n == 10:
            if d in tc["10"]:
                return True
            return not tc["10"] and d.endswith("00") and self._known_cn8(d[:8])
        if n == 8:
            return self._known_cn8(d)
        if d in self._hs or d in tc[str(n)]:
            return True
        if n == 6 and d in self._corr[1]:
            return True  # an HS 2017 subheading (deleted or split in 2022)
        return False

    def nearest_known(self, code: str | ParsedCode) -> ParsedCode | None:
        """The code itself when known, else its deepest known ancestor (CN8 → HS6 → HS4 → HS2).

        For best-effort matching of well-formed codes from other editions (a 2019 CN8
        deleted since still says which HS6 it sits under). None when even the chapter is
        unknown. Raises CodeError only when ``code`` cannot be parsed.
        """
        p = code if isinstance(code, ParsedCode) else parse_code(code)
        for n in (10, 8, 6, 4, 2):
            if n <= len(p.digits):
                sub = ParsedCode(p.digits[:n], _SYSTEM_BY_LEN[n], p.written, p.zero_padded)
                if self._known(sub):
                    return sub
        return None

    def _known_cn8(self, d: str) -> bool:
        return d in self._cn23 or d in self._cn22 or d in self._cn21 or d in self._taric_codes["8"]

    # ------------------------------------------------------------------ labels
    def labels(self, code: str | ParsedCode, lang: str = "fr") -> str | None:
        """A self-contained label of a product code in FR/EN/DE, or None when unknown."""
        p = code if isinstance(code, ParsedCode) else parse_code(code)
        lang = lang.lower()
        if lang not in ("fr", "en", "de"):
            raise ValueError(f"language {lang!r} not available; expected fr, en or de")
        d = p.digits
        if len(d) == 8:
            label = self._cn8_labels(lang).get(d)
            if label:
                return label
        if len(d) in (2, 4, 6) and lang == "en" and d in self._hs:
            return self._hs[d]
        hit = self._taric(lang).get((d.ljust(10, "0"), "80"))
        if hit:
            label = hit[1]
            # chapter titles are upper case in TARIC ("ANIMAUX VIVANTS")
            return label[:1] + label[1:].lower() if label.isupper() else label
        if lang != "en" and len(d) in (2, 4, 6):
            return None
        return self._hs.get(d)

    def ancestors(self, code: str | ParsedCode, lang: str = "fr") -> list[tuple[str, str, str]]:
        """(code, system, label) of each level above ``code``, chapter first ('' when no label)."""
        p = code if isinstance(code, ParsedCode) else parse_code(code)
        out = []
        for n, system in ((2, "HS2"), (4, "HS4"), (6, "HS6"), (8, "CN8")):
            if n < len(p.digits):
                sub = p.digits[:n]
                out.append((sub, system, self.labels(sub, lang) or ""))
        return out

    def cn8_table(self, lang: str = "fr") -> pd.DataFrame:
        """CN 2023 eight-digit codes with their self-explanatory text: columns code, description."""
        from matching import refdata

        return self._get(f"cn8_table_{lang}", lambda: refdata.load_cn8(lang, self.root)[["code", "description"]].copy())

    def hs6_codes(self) -> list[str]:
        """Every HS 2022 six-digit subheading code."""
        return self._get("hs6_codes", lambda: [c for c in self._hs if len(c) == 6])

    # ------------------------------------------------------------------ activities labels
    def naf_codes(self) -> list[str]:
        """The 732 NAF rév. 2 sous-classes (``01.11Z`` …)."""
        return list(self._naf["codes"])

    def naf_label(self, naf: str) -> str:
        """French label of a NAF sous-classe (or of a class/group/division code)."""
        key = naf.strip()
        labels = self._naf["labels"]
        if key not in labels:
            try:
                key = normalize_naf(key)
            except CodeError:
                pass
        if key not in labels:
            raise CodeError(f"unknown NAF code {naf!r}: not in NAF rév. 2", code=naf)
        return labels[key]

    def naf_for_nace(self, nace: str) -> list[str]:
        """NAF sous-classes of a NACE class (``28.15``), group (``31.0``) or division (``03``).

        A NACE code absent from NAF (the CPA table uses ``03.00``) falls back to its
        group, then its division.
        """
        by = self._naf["by"]
        for key in (nace, nace[:4], nace[:2]):
            if key in by:
                return list(by[key])
        return []

    def nace_notes(self, nace4: str) -> str:
        """French 'comprend' notes of a NACE class/group/division ('' when none)."""
        from matching import refdata

        def build() -> dict[str, str]:
            df = refdata.load_nace("fr", self.root)
            return {
                c: "\n".join(x for x in (inc, also) if x)
                for c, inc, also in zip(df["nace2"], df["Include"], df["Include_Also"], strict=True)
            }

        return self._get("nace_notes", build).get(nace4.strip(), "")

    def nace_label(self, nace: str, lang: str = "fr") -> str | None:
        """Label of a NACE code in FR or EN."""
        from matching import refdata

        lang = "en" if lang.lower() == "en" else "fr"
        table = self._get(
            f"nace_labels_{lang}",
            lambda: dict(zip(*_cols(refdata.load_nace(lang, self.root), "nace2", "NAME"), strict=True)),
        )
        return table.get(nace.strip())

    def cpa_label(self, cpa: str, lang: str = "en", *, fallback: bool = True) -> str | None:
        """CPA 2.1 label: EN at every level; FR down to 5 digits (none exists at 6 digits).

        With ``fallback`` a missing French label returns the English one.
        """
        from matching import refdata

        en = self._get("cpa_en", lambda: dict(zip(*_cols(refdata.load_cpa(self.root), "CPA 2.1", "Name"), strict=True)))
        if lang.lower() == "fr":
            fr = self._get(
                "cpa_fr",
                lambda: {
                    c: lab
                    for c, lab in zip(*_cols(refdata.load_nace_cpa_fr(self.root), "CPA21", "Label_CPA21"), strict=True)
                    if lab
                },
            )
            if cpa in fr:
                return fr[cpa]
            if not fallback:
                return None
        return en.get(cpa)

    # ------------------------------------------------------------------ routes
    def _route(self, p: ParsedCode) -> _Route | None:
        d = p.digits
        if len(d) == 10:
            r = self._route(ParsedCode(d[:8], "CN8", d[:8]))
            return None if r is None else _Route(r.route, r.base, (f"TARIC {d}", *r.head), r.cpa, r.nace)
        if len(d) == 8:
            if d in self._cn22:
                return self._from_cpa("cn-cpa", (f"CN {d}",), {self._cn22[d]: 1})
            if d in self._cn21:
                return self._from_cpa("cn2021-cpa", (f"CN2021 {d}",), {self._cn21[d]: 1})
            sib = self._prefix_counts("cn22").get(d[:6])
            if sib:
                n = sum(sib.values())
                return self._from_cpa("cn8-sibling", (f"CN {d}", f"HS {d[:6]} ({n} sibling CN8)"), sib)
            r = self._route_hs(d[:6])
            return None if r is None else _Route(r.route, r.base, (f"CN {d}", *r.head), r.cpa, r.nace)
        return self._route_hs(d)

    def _route_hs(self, d: str) -> _Route | None:
        n = len(d)
        counts = self._prefix_counts("cn22").get(d)
        if counts:
            k = sum(counts.values())
            return self._from_cpa(f"hs{n}-cn8-expanded", (f"HS {d}", f"{k} CN8 code{'s' if k > 1 else ''}"), counts)
        if n == 6:
            fwd, back = self._corr
            merged: dict[str, int] = {}
            head: tuple[str, ...] = ()
            if d in fwd:  # HS 2022 code absent from CN 2022: its HS 2017 ancestors in CN 2021
                olds = sorted(set(fwd[d]))
                for old in olds:
                    for cpa, c in self._prefix_counts("cn21").get(old, {}).items():
                        merged[cpa] = merged.get(cpa, 0) + c
                head = (f"HS {d}", "HS2017 " + ", ".join(olds))
            if not merged and d in back:  # an HS 2017 code: its HS 2022 successors in CN 2022
                news = sorted(set(back[d]))
                for new in news:
                    for cpa, c in self._prefix_counts("cn22").get(new, {}).items():
                        merged[cpa] = merged.get(cpa, 0) + c
                head = (f"HS2017 {d}", "HS2022 " + ", ".join(news))
            if merged:
                return self._from_cpa("hs2017-conversion", head, merged)
        isic = self._isic.get(d)
        if isic:
            nace: dict[str, tuple[float, str | None]] = {}
            for code, share in _shares(isic).items():
                key = f"{code[:2]}.{code[2:]}"
                old = nace.get(key, (0.0, None))[0]
                nace[key] = (old + share, f"ISIC {code}")
            return _Route("hs-isic-fallback", ROUTE_BASE["hs-isic-fallback"], (f"HS {d}",), {}, nace)
        return None

    def _from_cpa(self, route: str, head: tuple[str, ...], counts: dict[str, int]) -> _Route:
        cpa = _shares(counts)
        nace: dict[str, tuple[float, str | None]] = {}
        for c, share in cpa.items():
            key = self._cpa_nace.get(c) or c[:5]
            old_share, best = nace.get(key, (0.0, None))
            nace[key] = (old_share + share, best or c)  # cpa is sorted by share: first is best
        return _Route(route, ROUTE_BASE[route], head, cpa, nace)

    def cpa_for(self, code: str | ParsedCode) -> list[tuple[str, float, str]]:
        """CPA 2.1 classes producing ``code``: (cpa, confidence, route), best first.

        Confidence = route base × √(share of the code's CN8 lines in that CPA class).
        The ISIC fallback reaches activities without a CPA class, so it gives [] here.
        """
        p = self.canonical(code)
        r = self._route(p)
        if r is None:
            return []
        return [(c, round(r.base * math.sqrt(s), 4), r.route) for c, s in r.cpa.items()]

    def subheadings_per_naf(self) -> dict[str, int]:
        """How many HS 2022 subheadings the crosswalk routes to each NAF sous-classe: a class that
        produces 24 subheadings (08.99Z) is a catch-all, one that produces 1 (08.93Z, salt) is not."""

        def build() -> dict[str, int]:
            out: dict[str, int] = {}
            for h in self.hs6_codes():
                try:
                    nafs = {a.naf for a in self.activities_for(h)}
                except RelocmatchError:
                    continue
                for naf in nafs:
                    out[naf] = out.get(naf, 0) + 1
            return out

        return self._get("subheadings_per_naf", build)

    def activities_for(self, code: str | ParsedCode) -> list[ActivityGuess]:
        """NAF sous-classes producing ``code``, with confidence, route and readable chain.

        Producers only (``wholesale=False``); the engine adds wholesale separately.
        """
        p = self.canonical(code)
        if p.digits in self._act_cache:
            return list(self._act_cache[p.digits])
        r = self._route(p)
        out: list[ActivityGuess] = []
        if r is not None:
            product = _stems(self.labels(p, "fr") or "")
            mass: dict[str, float] = {}
            via: dict[str, tuple[str, ...]] = {}
            best: dict[str, float] = {}
            for nace, (share, link) in r.nace.items():
                nafs = self.naf_for_nace(nace)
                text = product
                if link and not link.startswith("ISIC"):
                    text = product | _stems(self.cpa_label(link[:8], "fr", fallback=False) or "")
                    text |= _stems(self.cpa_label(link[:7], "fr", fallback=False) or "")
                for naf, w in zip(nafs, self._split(nafs, text), strict=True):
                    m = share * w
                    mass[naf] = mass.get(naf, 0.0) + m
                    if m > best.get(naf, -1.0):
                        best[naf] = m
                        chain = list(r.head)
                        if link and not link.startswith("ISIC"):
                            pct = r.cpa.get(link, 1.0)
                            chain.append(f"CPA {link}" + (f" ({pct:.0%})" if pct < 0.999 else ""))
                        elif link:
                            chain.append(link)
                        chain.append(f"NACE {nace}")
                        via[naf] = tuple(chain)
            labels = self._naf["labels"]
            for naf, m in mass.items():
                score = round(min(1.0, r.base * math.sqrt(min(m, 1.0))), 4)
                out.append(ActivityGuess(naf=naf, label=labels.get(naf, ""), score=score, route=r.route, via=via[naf]))
            out.sort(key=lambda a: (-a.score, a.naf))
        self._act_cache[p.digits] = out
        return list(out)

    def _split(self, nafs: list[str], product: frozenset[str]) -> list[float]:
        """How a NACE class's mass is shared among its NAF sous-classes (sums to 1).

        Half uniformly, half in proportion to the words the product's French label shares
        with each sous-classe label (10.51C "fromage" for cheese), when any are shared;
        otherwise uniformly. NAF splits classes by product or technique, and the
        product's own words are the only evidence available here.
        """
        k = len(nafs)
        if k <= 1 or not product:
            return [1.0] * k
        stems = self._get("naf_stems", lambda: {n: _stems(lab) for n, lab in self._naf["labels"].items()})
        overlap = [len(product & stems.get(n, frozenset())) for n in nafs]
        total = sum(overlap)
        if total == 0:
            residual = [n for n in nafs if self.is_residual_naf(n)]
            if len(residual) == 1:
                # The product names none of the specific sous-classes (butter, cheese, nuclear
                # fuel, packaging machines): it belongs to the class's "autres …" one.
                return [0.5 / k + (0.5 if n == residual[0] else 0.0) for n in nafs]
            return [1.0 / k] * k
        return [0.5 / k + 0.5 * o / total for o in overlap]

    def is_residual_naf(self, naf: str) -> bool:
        """True for a sous-classe whose label is its class's remainder ("Fabrication d'autres
        articles métalliques", "Autres activités du travail des grains")."""
        return bool(_RESIDUAL_RE.search(self._naf["labels"].get(naf, "")))

    def code_similarity(self, a: str, b: str) -> float:
        """Same as the module-level `code_similarity` (pure; here so the crosswalk is one object)."""
        return code_similarity(a, b)

    # ------------------------------------------------------------------ coverage
    def coverage(self) -> dict[str, Any]:
        """Share of CN 2023 codes and of HS 2022 six-digit codes reaching ≥1 NAF sous-classe."""
        out: dict[str, Any] = {}
        for name, codes in (("cn2023", sorted(self._cn23)), ("hs2022_hs6", self.hs6_codes())):
            reached = 0
            routes: dict[str, int] = {}
            missing: list[str] = []
            for c in codes:
                acts = self.activities_for(ParsedCode(c, _SYSTEM_BY_LEN[len(c)], c))
                if acts:
                    reached += 1
                    routes[acts[0].route] = routes.get(acts[0].route, 0) + 1
                else:
                    missing.append(c)
            out[name] = {
                "codes": len(codes),
                "reached": reached,
                "share": reached / len(codes) if codes else None,
                "routes": dict(sorted(routes.items(), key=lambda kv: -kv[1])),
                "missing_examples": missing[:10],
            }
        return out


_KNOWN_IN = {
    "HS2": "the HS 2022 chapters or the CN/TARIC tree",
    "HS4": "the HS 2022 headings or the CN/TARIC tree",
    "HS6": "the HS 2022 or HS 2017 subheadings or the CN/TARIC tree",
    "CN8": "CN 2023, CN 2022, CN 2021 or the TARIC tree",
    "TARIC10": "the TARIC goods nomenclature",
}


_STOP = frozenset(
    "fabrication autre autres produit produits article articles partie parties leurs meme avec sans pour dont "
    "ainsi ceux celles elles dans entre comprenant compris ailleurs denommes excl exclusion sauf usage utilises "
    "type types genre genres matiere matieres forme formes service services industrie industries activites "
    "simil similaires assimiles divers diverses general".split()
)


def _stems(text: str) -> frozenset[str]:
    """Crude French word stems (accents off, ≥4 letters, first 5 letters) for label overlap."""
    import unicodedata

    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    return frozenset(w[:5] for w in re.findall(r"[a-z]{4,}", t) if w not in _STOP)


def _cols(df: pd.DataFrame, a: str, b: str) -> tuple[Any, Any]:
    return df[a].tolist(), df[b].tolist()


_CROSSWALKS: dict[str, Crosswalk] = {}
_CROSSWALKS_LOCK = threading.Lock()


def get_crosswalk(data_dir: Path | str | None = None) -> Crosswalk:
    """The crosswalk over ``data_dir`` (default ``$RELOCMATCH_DATA``), one per process per directory."""
    from matching import refdata

    root = refdata.data_dir(data_dir).resolve()
    key = str(root)
    with _CROSSWALKS_LOCK:
        if key not in _CROSSWALKS:
            _CROSSWALKS[key] = Crosswalk(root)
        return _CROSSWALKS[key]
