"""The one text normaliser used on both sides of every comparison.

Queries (BOM lines) and references (nomenclature labels, NAF notes, supplier
texts) go through the same function, so whatever a buyer writes ("Roul. à billes
6205-2RS", "Kugellager 608ZZ", "Vis CHC M8x30 inox A2") lands in the same
token space as "Roulements à billes" / "Ball bearings" / "Kugellager".

Steps: Unicode fold (NFKC, lowercase, accents stripped, ß→ss), purchasing-file
abbreviations and trade words expanded from a hand-written table
(``matching/resources/abbreviations.csv``, general knowledge, never line-specific),
part-number-like tokens kept apart (``625zz``, ``m8``, ``nema17``, ``6205-2rs``),
pure numbers and units dropped from the word tokens, FR/EN/DE stop words removed,
light plural stemming. Pure Python, no heavy import: cheap callers can use it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RESOURCES = Path(__file__).parent / "resources"

Lang = str  # "fr" | "en" | "de"

# ---------------------------------------------------------------- stop words
# Function words, plus nomenclature filler that carries no product meaning.
_STOP_FR = """
a au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes
moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une
vos votre vous d l y c s n est sont ete etre cette cet type lot ref piece pieces pce pcs unite env
dont sans sous non plus ni notamment leurs
""".split()
_STOP_EN = """
the of and or for with without in on to by an as at from into its it is are be this that these those
not other than such which including incl excl per each pack set pcs pc piece pieces unit units ref
type qty no nr approx
""".split()
_STOP_DE = """
der die das den dem des ein eine einer eines einem einen und oder mit ohne fur von vom zu zum zur im in
an am auf aus bei nach uber unter nicht als auch sowie wie ausg andere anderer anderes stuck stk st
typ art nr ca je
""".split()
STOP_WORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(_STOP_FR),
    "en": frozenset(_STOP_EN),
    "de": frozenset(_STOP_DE),
}
_ALL_STOP = frozenset().union(*STOP_WORDS.values())


@lru_cache(maxsize=1)
def brand_words() -> frozenset[str]:
    """Maker/distributor names dropped from word tokens (``resources/brands.txt``)."""
    lines = (RESOURCES / "brands.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(fold(x).strip() for x in lines if x.strip() and not x.startswith("#"))


# Words that only signal a language (stop words + very common trade words), used by guess_lang.
_LANG_HINTS: dict[str, frozenset[str]] = {
    "fr": frozenset(_STOP_FR) | frozenset("acier fil tube tole vis ecrou roulement carton sac".split()),
    "en": frozenset(_STOP_EN) | frozenset("steel wire sheet screw nut bearing box bag board".split()),
    "de": frozenset(_STOP_DE) | frozenset("stahl draht blech schraube mutter lager karton beutel".split()),
}

# ------------------------------------------------------------------- tokens
_UNITS = frozenset(
    """mm cm m km um µm nm g kg mg t l ml cl dl v kv mv a ma w kw mw hz khz mhz ghz nf pf uf mf ohm kohm
    mohm bar psi rpm tr min h s ah mah va kva db dbm lm cd c k pa kpa mpa n nm sqmm mm2 m2 m3 ft in
    lb lbs oz x pce pcs stk st""".split()
)
# A token mixing letters and digits (or digits around a dash with letters) is a part number:
# 625zz, m8, nema17, fr4, 6205-2rs, a2-70, m8x30, 2rs, pt100.
_PART_RE = re.compile(r"(?<![\w])(?=[\w\-/.]*\d)(?=[\w\-/.]*[a-z])[a-z0-9]+(?:[\-/.][a-z0-9]+)*(?![\w])")
_WORD_RE = re.compile(r"[a-z0-9]+")
_NUMBERISH = re.compile(r"^\d+(?:[.,x]\d+)*$")
# "12v", "30mm", "2mm", "4x4" are measurements, not part numbers.
_MEASURE_RE = re.compile(r"^\d+(?:[.,]\d+)?(?:x\d+(?:[.,]\d+)?)*(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")?$")


def fold(text: str) -> str:
    """Lowercase, NFKC, accents stripped, typographic quotes unified (``Gehäuse`` → ``gehause``)."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = t.replace("ß", "ss").replace("’", "'").replace("‘", "'").replace("œ", "oe").replace("æ", "ae")
    t = unicodedata.normalize("NFKD", t)
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def stem(token: str) -> str:
    """Light plural stemming shared by FR/EN/DE, identical on both sides.

    Linguistically crude on purpose: it only has to map "roulements"→"roulement",
    "bearings"→"bearing", "metaux"/"metal"→"metau", "tuyaux"→"tuyau" the same way in queries and
    labels. "-ies" is a French plural as often as an English one ("poulies", "scies", "bougies"):
    both it and the English singular in consonant + "y" map to "-ie", so "poulie"/"poulies" and
    "battery"/"batteries"/"batterie" meet (until session 23 "poulies" became "pouly" and no longer
    met "poulie"). German compounds are left to char n-grams.
    """
    n = len(token)
    if n <= 3 or not token.isalpha():
        return token
    if token.endswith("aux") and n > 5:
        return token[:-1]  # metaux/tuyaux → metau/tuyau; singular "metal" → "metau" below
    if token.endswith("al") and n > 4:
        return token[:-2] + "au"
    if token.endswith("ies") and n > 4:
        return token[:-1]
    if token.endswith("y") and n > 4 and token[-2] not in "aeiouy":
        return token[:-1] + "ie"
    if token.endswith(("eaux", "eux")) or (token.endswith("x") and token[-2] in "au"):
        return token[:-1]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


# ------------------------------------------------------------ abbreviations
@dataclass(frozen=True)
class Abbreviation:
    term: str  # folded phrase as written in purchasing files
    expansion: str  # folded canonical words (FR/EN/DE) added next to it
    replace: bool  # True: the term is an abbreviation to drop once expanded


@lru_cache(maxsize=4)
def load_abbreviations(path: str | None = None) -> tuple[Abbreviation, ...]:
    """The hand-written table of purchasing abbreviations and trade words (CSV: term,expansion,mode,domain)."""
    p = Path(path) if path else RESOURCES / "abbreviations.csv"
    out: list[Abbreviation] = []
    with p.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            term = fold(row["term"]).strip()
            if not term or not row.get("expansion"):
                raise ValueError(f"{p}:{i}: term and expansion are required")
            out.append(Abbreviation(term, fold(row["expansion"]).strip(), row.get("mode", "add").strip() == "replace"))
    return tuple(out)


_PLURAL_ENDINGS = ("es", "en", "s", "x", "n",)
_PLURAL = r"(?:es|en|s|x|n)?"


@lru_cache(maxsize=4)
def _abbrev_regex(path: str | None = None) -> tuple[re.Pattern[str], dict[str, Abbreviation]]:
    table = load_abbreviations(path)
    by_key: dict[str, Abbreviation] = {}
    alts = []
    for ab in sorted(table, key=lambda a: len(a.term), reverse=True):
        key = re.sub(r"[\s\-_/.]+", " ", ab.term).strip()
        if key in by_key:
            continue
        by_key[key] = ab
        parts = [re.escape(p) for p in re.split(r"[\s\-_/.]+", ab.term.strip(".")) if p]
        # Trade words come in the plural as often as not ("roulettes", "écrous", "Schrauben"):
        # a word of 4+ letters also matches with a FR/EN/DE plural ending.
        plural = _PLURAL if re.fullmatch(r"[a-z]{4,}", parts[-1]) and not parts[-1].endswith(("s", "x")) else ""
        alts.append(r"[\s\-_/.]*".join(parts) + plural + r"\.?")
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])")
    return pattern, by_key


@lru_cache(maxsize=4)
def load_part_patterns(path: str | None = None) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Part-number shapes that reveal a product family (``6205-2rs`` → ball bearing, ``m8x30`` → screw)."""
    p = Path(path) if path else RESOURCES / "part_patterns.csv"
    out: list[tuple[re.Pattern[str], str]] = []
    with p.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out.append((re.compile(row["pattern"]), fold(row["expansion"]).strip()))
            except re.error as exc:
                raise ValueError(f"{p}:{i}: bad regular expression {row['pattern']!r}: {exc}") from None
    return tuple(out)


def part_hints(parts: tuple[str, ...] | list[str]) -> list[str]:
    """Expansion words of the part-number patterns that match any of ``parts``."""
    hints: list[str] = []
    for tok in parts:
        for pat, exp in load_part_patterns():
            if pat.match(tok) and exp not in hints:
                hints.append(exp)
    return hints


def expand_abbreviations(folded: str, *, path: str | None = None) -> tuple[str, list[str]]:
    """Expand table terms in an already folded text; return (text, expansions applied).

    "replace" terms (``roul.``, ``chc``) are substituted, "add" terms (``kugellager``,
    ``pehd``) keep the original word and add the canonical ones after it.
    """
    pattern, by_key = _abbrev_regex(path)
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        key = re.sub(r"[\s\-_/.]+", " ", m.group(0)).strip()
        ab = by_key.get(key) or next(
            (by_key[key[: -len(e)]] for e in _PLURAL_ENDINGS if key.endswith(e) and key[: -len(e)] in by_key), None
        )
        if ab is None:
            return m.group(0)
        used.append(ab.term)
        return f" {ab.expansion} " if ab.replace else f" {m.group(0)} {ab.expansion} "

    out = pattern.sub(sub, folded)
    # German compounds: "edelstahlblech" = "edelstahl" + "blech", "kegelrollenlager" ends in
    # "rollenlager". A long word that is not itself a table term is read as head (its longest
    # table-term suffix) plus modifier (the rest, if it is a table term too).
    extra: list[str] = []
    for w in _WORD_RE.findall(folded):
        if len(w) < 8 or w in by_key:
            continue
        for i in range(1, len(w) - 3):
            head = by_key.get(w[i:])
            if head is None or " " in head.term:
                continue
            extra.append(head.expansion if head.replace else f"{head.term} {head.expansion}")
            used.append(head.term)
            mod = w[:i]
            for m in (mod, mod[:-1] if mod.endswith("s") else None):
                ab = by_key.get(m) if m and len(m) >= 3 else None
                if ab is not None:
                    extra.append(ab.expansion if ab.replace else f"{ab.term} {ab.expansion}")
                    used.append(ab.term)
                    break
            break
    if extra:
        out = out + " " + " ".join(extra)
    return out, used


# --------------------------------------------------------------- analysis
@dataclass(frozen=True)
class Normalized:
    """A text after normalisation.

    ``text`` is the space-joined word tokens (stop words removed, stemmed) ready for
    TF-IDF; ``parts`` the part-number-like tokens kept aside for fuzzy matching;
    ``lang`` the guessed language; ``expansions`` the table terms that fired.
    """

    text: str
    tokens: tuple[str, ...]
    parts: tuple[str, ...]
    lang: Lang | None
    expansions: tuple[str, ...] = ()


def guess_lang(text: str) -> Lang | None:
    """fr / en / de from stop words and letters (ä ö ü ß → de, é è ç à → fr); None if no clue."""
    low = unicodedata.normalize("NFKC", text).lower()
    scores = {"fr": 0.0, "en": 0.0, "de": 0.0}
    scores["de"] += 1.5 * sum(low.count(c) for c in "äöüß")
    scores["fr"] += 1.5 * sum(low.count(c) for c in "éèêàçôûœ")
    words = _WORD_RE.findall(fold(text))
    for w in words:
        for lang, hints in _LANG_HINTS.items():
            if w in hints:
                scores[lang] += 1.0
    # German nouns are long compounds; "-ung", "-keit", "-lager", "-schraube" are strong hints.
    scores["de"] += 0.5 * sum(1 for w in words if w.endswith(("ung", "keit", "heit", "lager", "schraube", "platte", "stahl")))
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else None


@lru_cache(maxsize=16_384)
def analyze(text: str | None, *, expand: bool = True, stop: bool = True, lang: bool = True) -> Normalized:
    """Normalise a query or a reference text (see module doc). None/empty gives an empty result.

    ``lang=False`` skips the language guess (reference texts, whose language is known).
    Cached (the result is immutable): a line's text is analysed by the classifier, the typo
    fixer, the purpose splitter and the activity search, four times in one match.
    """
    if not text:
        return Normalized("", (), (), None)
    guessed = guess_lang(text) if lang else None
    folded = fold(text)
    parts: list[str] = []
    for m in _PART_RE.finditer(folded):  # before expansion: "6205-2rs" stays one token
        tok = m.group(0).strip(".-/")
        if not tok or _MEASURE_RE.match(tok) or len(tok) < 2:
            continue
        parts.append(tok.replace("/", "-"))
    used: list[str] = []
    if expand:
        folded, used = expand_abbreviations(folded)
        hints = part_hints(parts)
        if hints:
            folded = folded + " " + " ".join(hints)
    tokens: list[str] = []
    brands = brand_words()
    for w in _WORD_RE.findall(folded):
        if _NUMBERISH.match(w) or w in _UNITS or _MEASURE_RE.match(w):
            continue
        if len(w) < 2 or (stop and (w in _ALL_STOP or w in brands)):
            continue
        if any(c.isdigit() for c in w):
            continue  # digits+letters: a part number, kept in `parts`
        tokens.append(stem(w))
    return Normalized(" ".join(tokens), tuple(tokens), tuple(dict.fromkeys(parts)), guessed, tuple(used))


_PURPOSE_RE = re.compile(r"(?<![a-z0-9])(?:pour|for|fur|fuer)(?![a-z0-9])")
# Heads that mean "a part/accessory of": then what follows "pour/for/für" IS the product family.
_GENERIC_HEADS = frozenset(
    "piece partie part parts teil teile ersatzteil ersatzteile accessoire accessory zubehor kit set "
    "rechange spare composant component".split()
)


def split_purpose(text: str | None) -> tuple[str, str]:
    """Split "Filtre à air pour compresseur" into the product ("filtre a air") and its purpose
    ("compresseur"), so the purpose can weigh less. A generic head ("pièces pour moteur",
    "spare parts for pump") or no marker gives ``(folded text, "")``.
    """
    folded = fold(text or "")
    m = _PURPOSE_RE.search(folded)
    if not m:
        return folded, ""
    head, tail = folded[: m.start()], folded[m.end() :]
    head_words = [stem(w) for w in _WORD_RE.findall(head) if w not in _ALL_STOP and not w.isdigit()]
    if not head_words or any(w in _GENERIC_HEADS or stem(w) in _GENERIC_HEADS for w in head_words[:2]):
        return folded, ""
    return head, tail


def normalize(text: str | None) -> str:
    """The normalised word string of ``text`` (what lexical indexes see on both sides)."""
    return analyze(text).text
