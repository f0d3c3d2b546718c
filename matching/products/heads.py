"""The head noun of a purchasing line and its modifiers (FR/EN/DE).

Why: the product is the HEAD of the phrase, the rest refines it. "poignée de porte laiton" is a
handle (of a door, in brass), not brass; "gobelets carton (carton de 1000)" are cups; "Stahlregal
verzinkt" is a shelf. A lexical index weighs every word alike, so a material, a size or a pack word
can choose the chapter; the parser says which words are the product and which are modifiers, so
the scorer can query the product words alone and keep the modifiers for refining inside a heading.

Rules (linguistic structure, not trade vocabulary):
- French: the head is the first content noun, before ``de/d'/en/à/pour/avec/sans`` and before a
  parenthesis; noun complements after ``de/à`` stay in the core ("poignée de porte").
- English: the head is the last content word before ``of/for/with`` or a parenthesis
  ("brass door handle" → handle).
- German: the head is the first noun (capitalised word that is not an acronym or an adjective,
  else the first non-adjective) before ``für/mit/aus``: a German line names the product first and
  qualifies it after ("Luftfilter Motor Traktor", "Reihenklemme 2,5 mm² Hutschiene"). A compound
  is split against the label vocabulary and its last element is the head (``Werkzeugkoffer`` →
  ``koffer``), unless the whole compound is itself a label word (lexicalised: ``Bleistift`` is a
  pencil, not a lead pin); its material parts are typed as modifiers either way.
- Modifiers are typed: material, size (measures, dimensions, ``M8x40``, ``Ø 25``, ``DN50``),
  standard (DIN/ISO/EN numbers, steel grades ``A2``, ``8.8``, ``1.4301``), pack ("lot de 50",
  "(carton de 1000)", "box of 100", "VE 100"), position (AV/AR, front, links), purpose (after
  ``pour/for/für``), part (part numbers). The material lexicon below is the closed class of
  materials of the nomenclature's material chapters (39–40, 44–48, 50–56, 68–81), written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from matching.text import _UNITS, STOP_WORDS, fold, guess_lang, stem

# ----------------------------------------------------------------- closed-class lexicons
# Materials and finishes (folded). A word here never chooses the chapter when another content
# word can be the head; alone ("acier inox 304") it is the product.
_MATERIALS = frozenset("""
acier inox inoxydable fer fonte laiton cuivre bronze zinc zingue zingues zinguee galva galvanise galvanisee
aluminium alu plomb etain nickel titane chrome chromee chromes tungstene magnesium
plastique plastiques pvc pe pehd pebd pp ps abs pa polyamide nylon polyethylene polypropylene polystyrene
polyurethane pu pet ptfe teflon pom silicone epdm nbr caoutchouc latex
carton cartonne papier kraft bois contreplaque mdf verre ceramique porcelaine cuir coton laine lin soie
polyester textile feutre liege
steel stainless iron cast brass copper bronze zinc galvanized galvanised aluminum aluminium lead tin nickel
titanium chromed plastic plastics rubber cardboard paperboard carton paper wood wooden plywood glass ceramic
leather cotton wool linen silk polyester felt cork
stahl edelstahl eisen guss grauguss messing kupfer bronze zink verzinkt verzinkte verzinkter feuerverzinkt
aluminium alu blei zinn nickel titan verchromt kunststoff kunststoffe gummi kautschuk pappe karton papier
holz sperrholz glas keramik porzellan leder baumwolle wolle leinen seide filz kork papp
""".split()) | frozenset("""
nickele chrome peint laque anodise plastifie revetu traite
plated coated painted lacquered anodised anodized chromed nickel-plated
beschichtet lackiert eloxiert vernickelt verchromt brüniert bruniert
""".split())  # finishes: the surface, not the product
_POSITION = frozenset("""
av ar avant arriere gauche droite droit sup inf superieur inferieur interieur exterieur
front rear left right upper lower inner outer lh rh
vorne hinten links rechts oben unten innen aussen vl vr hl hr
""".split())
# Pack nouns: a pack only when a count goes with them ("carton de 1000", "box of 100", "100 Stk").
_PACK_NOUNS = r"(?:lots?|cartons?|boites?|boxe?s?|sachets?|paquets?|packs?|colis|rouleaux?|palettes?|bidons?|fut|futs|" \
              r"cases?|bags?|packets?|rolls?|pallets?|pails?|drums?|kartons?|packung(?:en)?|beutel|schachteln?|" \
              r"rollen?|paletten?|eimer|gebinde|ve|pu|sets?|satz|jeux?|kits?)"


def _noun_packs(nouns: str) -> str:
    """The two pack shapes around a group of pack nouns: "carton de 1000", "sac 25 kg" / "25 kg Sack"."""
    return (nouns + r"\s*(?:de|of|a|mit|zu|x|:)?\s*\d+(?:[.,]\d+)?(?![x\d])\s*(?:[a-z]{1,5}\b)?"
            r"|\d+(?:[.,]\d+)?\s*(?:kg|g|l|ml|cl|t)\s+" + nouns + r"(?![a-z])")


_PACK_RE = re.compile(
    r"(?<![a-z0-9])(?:" + _noun_packs(_PACK_NOUNS) +
    r"|(?:par|per)\s*\d+\b"
    r"|\d+\s*(?:pcs|pces|pce|pieces?|pc|stk|stuck|st|units?|ex|exemplaires?|u)\b)",
)
_CONTAINER_RE_CACHE: dict[frozenset[str], re.Pattern[str]] = {}


def _container_re(containers: frozenset[str]) -> re.Pattern[str] | None:
    """Pack phrases built on the nomenclature's container nouns (``Lexicon.containers``), in the
    same shapes as the hand-written pack nouns: "sac 25 kg", "25 kg Sack", "Dose 1 kg"."""
    if not containers:
        return None
    rx = _CONTAINER_RE_CACHE.get(containers)
    if rx is None:
        nouns = "(?:" + "|".join(sorted(map(re.escape, containers), key=len, reverse=True)) + ")"
        rx = _CONTAINER_RE_CACHE[containers] = re.compile(r"(?<![a-z0-9])(?:" + _noun_packs(nouns) + ")")
    return rx


def pack_spans(folded: str, containers: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Where ``folded`` holds pack phrases, as (start, end) offsets.

    The hand-written pack nouns ("lot de 50", "carton de 1000", "VE 100") are packs anywhere. A
    container noun of the nomenclature ("sac 25 kg", "Dose 1 kg") is a pack only after another
    word: at the start of the line it is the product itself ("flacon 250 ml ambré"). The
    caller leaves English lines out (their head comes last: "glass bottles 75 cl").
    """
    spans = [m.span() for m in _PACK_RE.finditer(folded)]
    rx = _container_re(containers)
    if rx is not None:
        blanked = _blank(folded, spans)
        for m in rx.finditer(blanked):
            if re.search(r"[a-z]{2}", blanked[:m.start()]):
                spans.append(m.span())
    return sorted(spans)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def strip_packs(folded: str, containers: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """``folded`` with its pack phrases blanked out, and the phrases (see ``pack_spans``)."""
    spans = pack_spans(folded, containers)
    return _blank(folded, spans), [" ".join(folded[a:b].split()) for a, b in spans]


_STANDARD_RE = re.compile(
    r"^(?:din|iso|en|nf|astm|sae|ansi|jis|bs|ip\d{2}|a[24](?:-\d+)?|\d{1,2}\.\d|\d\.\d{4}|\d{3}l?|s\d{3}[a-z]*|"
    r"c\d{2}|cl?\d{3}|gs|ce|rohs|ul|class|classe|kl|klasse)$"
)
_SIZE_RE = re.compile(
    r"^(?:[mø]\d+(?:[.,]\d+)?(?:x\d+(?:[.,]\d+)?)*|(?:dn|pn|gr|sw|nw|od|id)\d+|\d+(?:[.,/]\d+)*(?:x\d+(?:[.,]\d+)?)*"
    r"(?:mm|cm|m|km|g|kg|t|l|ml|cl|v|kv|a|ma|w|kw|hz|bar|mpa|nm|ah|mah|in|ft|lb|oz|m2|m3|mm2|awg|\"|')?"
    r"|\d+/\d+\"?|x)$"
)
_PREP = {
    "fr": {"de": "of", "d": "of", "du": "of", "des": "of", "en": "in", "a": "of", "au": "of", "aux": "of",
           "pour": "for", "avec": "with", "sans": "with", "sur": "with", "par": "with"},
    "en": {"of": "of", "for": "for", "with": "with", "without": "with", "in": "in", "on": "with", "from": "with"},
    "de": {"fur": "for", "fuer": "for", "mit": "with", "ohne": "with", "aus": "in", "von": "of", "zum": "for",
           "zur": "for", "inkl": "with"},
}
# Heads that mean "a part of": then the complement is the product family ("pièces pour moteur").
_GENERIC = frozenset("""
piece pieces partie parties part parts teil teile ersatzteil ersatzteile accessoire accessoires accessory
accessories zubehor kit set rechange spare composant composants component components element elements
article articles artikel produit produits product products ensemble assembly baugruppe
""".split())
_GENERIC_STEMS = frozenset(stem(g) for g in _GENERIC)
_DE_ADJ_END = ("ig", "lich", "isch", "bar", "iert", "los", "fest", "frei", "sam")
_DE_INFLECT = ("en", "em", "er", "es", "e")
_DE_PARTICIPLE = ("ge", "ver", "be", "ent", "zer")


def _de_adjective(word: str) -> bool:
    """A German adjective or participle by its ending ("verzinkte", "rostfreier", "elektrisches")."""
    if word.endswith(_DE_ADJ_END):
        return True
    for e in _DE_INFLECT:
        if word.endswith(e) and len(word) > len(e) + 3:
            base = word[: -len(e)]
            if base.endswith(_DE_ADJ_END) or (base.startswith(_DE_PARTICIPLE) and base.endswith("t")):
                return True
    return False


def _lexicalised(splitter: object, word: str) -> bool:
    """The whole compound is a word of the labels (``bleistift``, ``zahnriemen``): keep it whole."""
    count = getattr(splitter, "count", None)
    return len(word) >= 6 and count is not None and count(word, last=True) > 0
_SIZE_PREFIX_RE = re.compile(r"(?<![a-z0-9])(dn|pn|gr|sw|nw|ø|m)\.?\s+(\d)")
_TOKEN_RE = re.compile(r"\(|\)|ø\s*\d+(?:[.,]\d+)?|\d+(?:[.,/x]\d+)+[a-z]*|[;,/+]|[a-z0-9]+(?:-[a-z0-9]+)*|'")
_ALL_STOP = frozenset().union(*STOP_WORDS.values())


class Splitter(Protocol):  # what the parser needs of matching.products.compounds.CompoundSplitter
    def split(self, word: str) -> tuple[str, ...]: ...


class LangGuesser(Protocol):  # matching.products.lexicon.Lexicon
    def guess_lang(self, text: str) -> str | None: ...


@dataclass(frozen=True)
class HeadParse:
    """A line read as head + modifiers. Words are folded; ``core`` = the product words, head first."""

    text: str
    lang: str | None
    head: str  # the head noun (German: the compound's last element); "" when none
    head_word: str  # the word the head came from (the whole compound)
    core: tuple[str, ...]  # head, its noun complements/adjectives, compound modifiers (no material/size/pack)
    modifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind → words

    @property
    def materials(self) -> tuple[str, ...]:
        return self.modifiers.get("material", ())

    @property
    def head_is_material(self) -> bool:
        return self.head in _MATERIALS

    def core_text(self) -> str:
        """The product words as one string (what a head-only query sends to the index)."""
        return " ".join(self.core)


def is_material(word: str) -> bool:
    return fold(word) in _MATERIALS


def _kind(tok: str) -> str:
    """Type of one folded token outside the head choice: size, standard, part, material, position, word."""
    t = tok.replace(" ", "")
    if t.startswith("ø") or _SIZE_RE.match(t) or t in _UNITS:
        return "size"
    if _STANDARD_RE.match(t):
        return "standard"
    if any(c.isdigit() for c in t):
        return "part"
    if t in _MATERIALS:
        return "material"
    if t in _POSITION:
        return "position"
    return "word"


def parse(text: str | None, *, lang: str | None = None, splitter: Splitter | None = None,
          lexicon: LangGuesser | None = None) -> HeadParse:
    """Read ``text`` as head + typed modifiers (see module doc).

    ``lang`` None = guessed (by ``lexicon`` when given: stop words, then the label vocabularies);
    ``splitter`` cuts German compounds (default: the lexicon's, when it has one).
    """
    raw = text or ""
    if splitter is None:
        splitter = getattr(lexicon, "splitter", None)
    lang = lang or (lexicon.guess_lang(raw) if lexicon is not None else guess_lang(raw)) or "fr"
    mods: dict[str, list[str]] = {}

    def add(kind: str, *words: str) -> None:
        for w in words:
            if w and w not in mods.setdefault(kind, []):
                mods[kind].append(w)

    folded = fold(raw)
    # Capitalisation per folded word (German nouns are capitalised), from the raw text.
    all_caps = raw.upper() == raw or raw.lower() == raw
    raw_words = re.findall(r"[^\W\d_]+", raw) if lang == "de" and not all_caps else []
    caps = {fold(w): w[:1].isupper() for w in raw_words}
    acronyms = {fold(w) for w in raw_words if len(w) >= 2 and w.isupper()}  # "HB", "HSS", "LED"
    # 1. pack phrases, anywhere (inside parentheses too)
    # English puts the head last ("glass bottles 75 cl"): a trailing container is its product.
    containers = getattr(lexicon, "containers", frozenset()) if lang != "en" else frozenset()
    folded, packs = strip_packs(folded, containers)
    add("pack", *packs)
    folded = _SIZE_PREFIX_RE.sub(r"\1\2", folded)  # "DN 10", "Gr. 9", "Ø 25" are one size token
    # 2. tokens with their clause: parenthesised text is a modifier, never the head
    toks: list[tuple[str, int]] = []  # (token, depth of parentheses)
    depth = 0
    for m in _TOKEN_RE.finditer(folded):
        t = m.group(0)
        if t == "(":
            depth += 1
        elif t == ")":
            depth = max(0, depth - 1)
        elif t == "'":
            continue
        else:
            toks.append((t, depth))
    preps = _PREP.get(lang, _PREP["fr"])
    # 3. clauses: split on prepositions and punctuation, remember the relation of each clause
    clauses: list[tuple[str, list[str]]] = [("main", [])]
    for t, d in toks:
        if d > 0:
            k = _kind(t)
            add("other" if k == "word" else k, t)
            continue
        if t in (";", ",", "/", "+"):
            clauses.append(("sep", []))
            continue
        if t in preps:
            clauses.append((preps[t], []))
            continue
        if t in _GENERIC:  # "pièces pour moteur", "Spare parts for pump": the complement is the family
            add("generic", t)
            continue
        if t in _ALL_STOP and t not in _MATERIALS:
            continue
        clauses[-1][1].append(t)

    def content(words: list[str]) -> list[str]:
        out = []
        for w in words:
            k = _kind(w)
            if k == "word":
                out.append(w)
            else:
                add(k, w)
        return out

    main = clauses[0][1] if clauses[0][1] else next((ws for _, ws in clauses if ws), [])
    rest = clauses[1:] if clauses[0][1] else [c for c in clauses if c[1] is not main]
    head_word = ""
    core: list[str] = []
    main_words = content(main)
    if lang == "en":
        if main_words:
            head_word = main_words[-1]
            core = [head_word, *main_words[:-1]]
    elif lang == "de":
        if main_words:
            nouns = [w for w in main_words if caps.get(w) and w not in acronyms and not _de_adjective(w)]
            if not nouns:
                nouns = [w for w in main_words if w not in acronyms and not _de_adjective(w)] or main_words
            head_word = nouns[0]
            core = [head_word, *[w for w in main_words if w != head_word]]
    else:
        if main_words:
            head_word = main_words[0]
            core = list(main_words)
    # Complements: "de porte", "of door" stay in the core, "pour/for/für" is the purpose,
    # "avec/with/mit" a feature; "en/in/aus" clauses carry materials (typed by ``content``).
    for rel, ws in rest:
        words = content(ws)
        if not words:
            continue
        if rel == "for":
            add("purpose", *words)
        elif rel == "with":
            add("feature", *words)
        elif rel in ("of", "in") and lang != "de":
            core.extend(words)
        elif rel == "sep":
            add("other", *words)
        else:
            add("other", *words)
    # No content word: the product is the material itself ("acier inox 304", "Messing CuZn39").
    if not head_word:
        mats = mods.get("material", [])
        if mats:
            head_word = mats[0]
            core = [head_word]
            mods["material"] = mats[1:]
            if not mods["material"]:
                del mods["material"]
    head = head_word
    # A generic head ("pièces pour moteur", "Ersatzteile für Pumpe"): the purpose is the family.
    if head and (head in _GENERIC or stem(head) in _GENERIC_STEMS) and mods.get("purpose"):
        purpose = mods.pop("purpose")
        add("generic", head)
        core = [*purpose, *[w for w in core if w != head_word]]
        head_word = head = purpose[0]
    # German compounds: the last element is the head, the others modify it.
    if lang == "de" and splitter is not None and head_word:
        parts = splitter.split(head_word)
        if len(parts) > 1:
            lead = []
            for p in parts[:-1]:
                if p in _MATERIALS:
                    add("material", p)
                else:
                    lead.append(p)
            if _lexicalised(splitter, head_word):  # "bleistift": the compound is the product
                head = head_word
                lead = []
            else:
                head = parts[-1]
            core = [head, *lead, *[w for w in core if w != head_word]]
        for i, w in enumerate(core[1:], start=1):  # other compounds in the core: drop their materials
            ps = splitter.split(w)
            if len(ps) > 1 and any(p in _MATERIALS for p in ps):
                add("material", *[p for p in ps if p in _MATERIALS])
                core[i] = " ".join(p for p in ps if p not in _MATERIALS)
    core = [w for w in dict.fromkeys(" ".join(core).split()) if w]
    return HeadParse(raw, lang, head, head_word, tuple(core), {k: tuple(v) for k, v in mods.items() if v})
