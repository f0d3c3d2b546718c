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
from matching.text import STOP_WORDS, fold

LANGS = ("fr", "en", "de")
_WORD = re.compile(r"[a-z]+")


class Lexicon:
    """Label vocabularies FR/EN/DE (folded word → count) and the German compound splitter."""

    def __init__(self, vocab: Mapping[str, Mapping[str, int]], de_heads: Mapping[str, int] | None = None) -> None:
        self.vocab = {lang: dict(vocab.get(lang, {})) for lang in LANGS}
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

        texts = {}
        for lang in LANGS:
            texts[lang] = [*refdata.load_cn8(lang, data_dir)["description"], *refdata.load_taric(lang, data_dir)["description"]]
        return cls.from_texts(texts)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"vocab": self.vocab, "de_heads": self.de_heads}, ensure_ascii=False, sort_keys=True),
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(d["vocab"], d["de_heads"])

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
