"""Per-language word counts of the nomenclature labels, and what they are used for.

Why: the CN8/TARIC labels exist in French, English and German for the same codes, so their
vocabularies say which language a short line is in ("brass door handle", "Stahlregal verzinkt"
carry no stop word) and which German words a compound may be cut into. Built once from the
reference data into the products artifact (``lexicon.json``), loaded at start-up.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from matching.products.compounds import CompoundSplitter, head_counts, label_vocabulary
from matching.products.heads import _MATERIALS
from matching.text import STOP_WORDS, fold

LANGS = ("fr", "en", "de")
_WORD = re.compile(r"[a-z]+")
_TERM_WORD = re.compile(r"[a-z0-9]+")
_ALL_STOP = frozenset().union(*STOP_WORDS.values())
# The HS headings of "articles for the conveyance or packing of goods": their labels enumerate the
# containers a buyer writes as a pack ("sac 25 kg", "Dose 1 kg", "flacon 3 l").
PACKING_HEADINGS = ("3923", "4415", "4416", "4819", "6305", "7010", "7310", "7612")
_ITEM_SPLIT = re.compile(r",|\b(?:et|ou|and|or|und|oder)\b")
_NOT_CONTAINER = frozenset("""
autre autres other others andere anderer anderes similaire similaires similar ahnliche ahnlicher article articles
ouvrage ouvrages work works ware waren erzeugnis erzeugnisse produit produits product products
dispositif dispositifs
""".split())


class Lexicon:
    """Label vocabularies FR/EN/DE (folded word → count) and the German compound splitter."""

    def __init__(self, vocab: Mapping[str, Mapping[str, int]], de_heads: Mapping[str, int] | None = None,
                 containers: Iterable[str] = ()) -> None:
        self.vocab = {lang: dict(vocab.get(lang, {})) for lang in LANGS}
        self.containers = frozenset(containers)  # folded container nouns (``container_nouns``)
        self.de_heads = dict(de_heads if de_heads is not None else head_counts(self.vocab["de"]))
        self.splitter = CompoundSplitter(self.vocab["de"], extra=self.de_heads)
        self._totals = {lang: max(1, sum(v.values())) for lang, v in self.vocab.items()}

    @classmethod
    def from_texts(cls, texts: Mapping[str, Iterable[str]]) -> Lexicon:
        return cls({lang: label_vocabulary(texts.get(lang, ())) for lang in LANGS})

    @classmethod
    def from_refdata(cls, data_dir: str | Path | None = None) -> Lexicon:
        """From the CN8 self-explanatory texts and the TARIC fragments of the three languages."""
        from matching import refdata

        texts, packing = {}, []
        for lang in LANGS:
            taric = refdata.load_taric(lang, data_dir)
            texts[lang] = [*refdata.load_cn8(lang, data_dir)["description"], *taric["description"]]
            sel = taric["goods_code"].str[:4].isin(PACKING_HEADINGS) & taric["hier_pos"].isin([4, 6])
            packing += [(lang, d) for d in taric.loc[sel, "description"]]
        vocab = {lang: label_vocabulary(texts[lang]) for lang in LANGS}
        return cls(vocab, containers=container_nouns(packing, vocab))

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"vocab": self.vocab, "de_heads": self.de_heads,
                                    "containers": sorted(self.containers)}, ensure_ascii=False, sort_keys=True),
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(d["vocab"], d["de_heads"], d.get("containers", ()))

    # ------------------------------------------------------------------ language
    def lang_scores(self, text: str) -> dict[str, float]:
        """Mean log-frequency of the line's words in each language's labels (compound parts for German)."""
        words = [w for w in _WORD.findall(fold(text or "")) if len(w) >= 3]
        out = {lang: 0.0 for lang in LANGS}
        if not words:
            return out
        for lang in LANGS:
            v, tot = self.vocab[lang], self._totals[lang]
            s = 0.0
            for w in words:
                c = v.get(w, 0)
                if not c and lang == "de":
                    parts = self.splitter.split(w)
                    if len(parts) > 1:
                        c = min(self.splitter.count(p, last=i == len(parts) - 1, first=i == 0) for i, p in enumerate(parts))
                s += math.log1p(c * 1e6 / tot)
            out[lang] = s / len(words)
        return out

    def guess_lang(self, text: str) -> str | None:
        """Stop words (2+ letters), accented letters and the label vocabularies, summed.

        ``matching.text.guess_lang`` alone says nothing on "brass door handle" and reads the "l"
        of "0,2 l" as French; the vocabularies of the labels decide those.
        """
        raw = text or ""
        scores = self.lang_scores(raw)
        low = raw.lower()
        scores["de"] += 1.5 * sum(low.count(c) for c in "äöüß")
        scores["fr"] += 1.5 * sum(low.count(c) for c in "éèêàçôûœ")
        for w in _WORD.findall(fold(raw)):
            if len(w) >= 2:
                for lang in LANGS:
                    if w in STOP_WORDS[lang]:
                        scores[lang] += 2.0
        # capitalised words after the first: German nouns (unless the whole line is in capitals)
        words = re.findall(r"[^\W\d_]{3,}", raw)
        if raw.upper() != raw and sum(1 for w in words[1:] if w[:1].isupper()) >= 1 and any(w.islower() for w in words):
            scores["de"] += 1.0
        best = max(scores, key=lambda k: scores[k])
        return best if scores[best] > 0 else None

    def word_count(self, word: str, lang: str) -> int:
        return self.vocab.get(lang, {}).get(fold(word), 0)

    def knows(self, word: str) -> bool:
        """A folded word the labels of some language use, in this form or an inflected one
        (``schraube`` / ``schrauben``, ``ecrou`` / ``ecrous``), or a German compound of label words."""
        w = fold(word)
        forms = {w, w + "s", w + "e", w + "n", w + "en", w + "es", w + "er", w + "x", w[:-1], w[:-2]}
        return any(f in v for v in self.vocab.values() for f in forms) or len(self.splitter.split(w)) > 1

    def says(self, term: str) -> bool:
        """Every content word of ``term`` is a label word (``knows``): the nomenclature already says it.

        Why: a hand-written trade word ("joint torique → o-ring", "Kugellager → ball bearing") that
        the labels already hold adds the words of the lines it was written for to every other line
        that uses it; measured over seven blind sets, such rows cost 1.3 points of NAF-hit@10
        (docs/quality.md, "Session 23"). Only what the labels cannot say is kept: abbreviations,
        shop-floor words, part shapes ("2RS", "NEMA17", "Akkuschrauber", "sauterelle").
        """
        words = [w for w in _TERM_WORD.findall(fold(term)) if w not in _ALL_STOP]
        return bool(words) and all(self.knows(w) for w in words)


def container_nouns(labels: Iterable[tuple[str, str]], vocab: Mapping[str, Mapping[str, int]] | None = None) -> frozenset[str]:
    """The container nouns that packing headings' labels enumerate, folded, with their singulars.

    ``labels`` are (lang, label). "Boîtes, sacs, pochettes, cornets et autres emballages en
    papier, …" gives boites, sacs, pochettes, cornets (and boite, sac, …): the noun of each
    enumerated item (French: its first word; German: its first capitalised word; English: its
    last, "Folding cartons"), up to the first item that carries a complement ("en papier",
    "aus Kunststoffen"), before the first ``;`` (what follows is another article: closures,
    cable drums). A catch-all item ("et autres …", "and similar …") is not a container name; an
    item that opens with a preposition ("D'une contenance de 50 l") ends the list. A singular
    made here that is another language's label word ("Tuben" → "tube") is left out.
    """
    stop = frozenset().union(*STOP_WORDS.values())
    out: set[str] = set()
    for lang, label in labels:
        raw_head = str(label).split(";")[0].split(":")[0]
        for raw_item in _ITEM_SPLIT.split(raw_head):
            if raw_item.strip().endswith("-"):  # "Transport- oder Verpackungsmittel"
                continue
            raw_words = re.findall(r"[^\W\d_]+", raw_item)
            words = [fold(w) for w in raw_words]
            if not words:
                continue
            if words[0] in stop:  # "d'une contenance", "de jute", "en polymeres"
                break
            cut = next((i for i, w in enumerate(words) if w in stop), len(words))
            pre = list(zip(words[:cut], raw_words[:cut]))
            if pre and not any(w in _NOT_CONTAINER for w, _ in pre) and len(pre) <= 3:
                cands = [(w, r) for w, r in pre if w not in _MATERIALS]
                if lang == "de":
                    cands = [(w, r) for w, r in cands if r[:1].isupper()]
                noun = (cands[-1] if lang == "en" else cands[0])[0] if cands else ""
                if len(noun) >= 3 and not (lang == "en" and noun.endswith("ing")):
                    out.add(noun)
                    for sg in _singulars(noun, lang):
                        if vocab is None or not any(vocab.get(o, {}).get(sg) for o in LANGS if o != lang):
                            out.add(sg)
            if cut < len(words):  # the item has a complement: the list is over
                break
    return frozenset(out)


def _singulars(word: str, lang: str) -> set[str]:
    """Plausible singulars (FR/EN -s/-x; DE -e/-n/-en/-er): a few non-words are harmless."""
    ends = ("e", "n", "en", "er") if lang == "de" else ("s", "x")
    return {word[: -len(e)] for e in ends if word.endswith(e) and len(word) - len(e) >= 3}
