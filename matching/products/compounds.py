"""German compound splitting over the vocabulary of the CN/TARIC German labels.

Why our own splitter and not a package: the nomenclature is the vocabulary that matters
(a part the labels never use cannot find a code anyway), and a frequency-based split over
it (Koehn & Knight 2003: the split whose parts have the highest geometric-mean frequency
wins over the unsplit word) needs no model file and no Wikipedia statistics. It is measured
against ``compound-split`` 1.0.2 in docs/classify.md ("Learned product understanding").

Words are folded (``matching.text.fold``: lower case, umlauts stripped), like every query.
The head of a German compound is its last element (``werkzeugkoffer`` → ``koffer``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from matching.text import STOP_WORDS, fold

# Linking elements (Fugen) between two parts: Arbeit-s-platz, Schraube-n-schlüssel, Kind-er-wagen.
_FUGEN = ("", "s", "es", "n", "en", "e", "er")
# Inflection endings a part may carry in the labels (Zangen, Regale, Kugeln) or in the query.
_ENDINGS = ("", "e", "n", "en", "s", "es", "er", "ern")
_WORD = re.compile(r"[a-z]+")
_VOWEL = re.compile(r"[aeiouy]")
MIN_PART = 3  # a first part may be this short when the labels use it as a word (Rad, Tür)
MIN_INNER = 4  # later parts: shorter ones are mostly fragments ("sch", "ung", "ing")
MIN_FIRST_COUNT = 5  # a 2–3-letter first part must be a label word this often (Öl, Rad, Tür)
MAX_PARTS = 4
PART_PENALTY = 0.5  # log-count penalty per part beyond two: "werkzeug|koffer" over "werk|zeug|koffer"


def label_vocabulary(texts: Iterable[str]) -> Counter[str]:
    """Folded word counts of German label texts (stop words and words under 3 letters left out)."""
    stop = STOP_WORDS["de"]
    counts: Counter[str] = Counter()
    for t in texts:
        for w in _WORD.findall(fold(t or "")):
            if len(w) >= 2 and w not in stop:
                counts[w] += 1
    return counts


def head_counts(counts: Mapping[str, int], *, min_words: int = 3, min_len: int = 4) -> dict[str, int]:
    """Heads that the labels use only inside compounds (``Beißzangen``, ``Spannzangen`` → ``zangen``).

    A suffix of 4+ letters ending at least ``min_words`` distinct label words, not itself a
    label word, counts as a word (its count = the number of words it ends).
    """
    ends: Counter[str] = Counter()
    for w in counts:
        for i in range(MIN_PART, len(w) - min_len + 1):
            # only at a plausible boundary: what comes before is a label word (+ linking letters)
            left = w[:i]
            if any(counts.get(left[: len(left) - len(f)] + e, 0) for f in _FUGEN if len(left) - len(f) >= MIN_PART
                   for e in ("", "e", "en", "n")):
                ends[w[i:]] += 1
    return {s: n for s, n in ends.items() if n >= min_words and s not in counts}


class CompoundSplitter:
    """Split folded German words into parts known to the label vocabulary; head = last part."""

    def __init__(self, counts: Mapping[str, int], *, extra: Mapping[str, int] | None = None) -> None:
        self.counts: dict[str, int] = dict(counts)
        if extra:
            for k, v in extra.items():
                self.counts.setdefault(k, v)
        self._split = lru_cache(maxsize=65_536)(self._split_uncached)

    @classmethod
    def from_labels(cls, texts: Iterable[str]) -> CompoundSplitter:
        counts = label_vocabulary(texts)
        return cls(counts, extra=head_counts(counts))

    def count(self, part: str, *, last: bool = False, first: bool = False) -> int:
        """How often the labels use ``part`` (with its inflected forms; the last part may carry an ending).

        Parts under 4 letters count only as a first part used as a word on its own (Öl, Rad, Tür).
        """
        c = self.counts
        if not _VOWEL.search(part):  # "sch", "str": fragments, never a part
            return 0
        if len(part) < MIN_INNER:
            if not first:
                return 0
            n = c.get(part, 0) if len(part) == 2 else sum(c.get(part + e, 0) for e in ("", "e", "en", "n", "er"))
            return n if n >= (MIN_FIRST_COUNT if len(part) == 3 else 10 * MIN_FIRST_COUNT) else 0
        n = sum(c.get(part + e, 0) for e in _ENDINGS)
        if last:
            for e in _ENDINGS[1:]:
                if part.endswith(e) and len(part) - len(e) >= MIN_INNER:
                    n += c.get(part[: -len(e)], 0)
        return n

    def split(self, word: str) -> tuple[str, ...]:
        """The parts of ``word`` (folded), head last; ``(word,)`` when no split beats the word itself."""
        w = fold(word).strip()
        if len(w) < 6 or not w.isalpha():
            return (w,) if w else ()
        return self._split(w)

    def head(self, word: str) -> str:
        parts = self.split(word)
        return parts[-1] if parts else ""

    # ------------------------------------------------------------------ internals
    def _split_uncached(self, w: str) -> tuple[str, ...]:
        best: tuple[float, tuple[str, ...]] = (math.log(self.count(w, last=True)) if self.count(w, last=True) else -1.0, (w,))
        for parts in self._candidates(w, MAX_PARTS):
            if len(parts) < 2:
                continue
            counts = [self.count(p, last=(i == len(parts) - 1), first=(i == 0)) for i, p in enumerate(parts)]
            if min(counts) <= 0:
                continue
            score = sum(math.log(c) for c in counts) / len(counts) - PART_PENALTY * (len(parts) - 2)
            if score > best[0] + 1e-9:
                best = (score, parts)
        return best[1]

    def _candidates(self, w: str, k: int) -> Iterable[tuple[str, ...]]:
        """Every way to cut ``w`` into at most ``k`` known parts (linking letters dropped)."""
        yield (w,)
        if k <= 1:
            return
        first = k == MAX_PARTS
        # longest left part first: on a tie ("fenster|glas" / "fenst|glas") the whole word wins
        for i in range(len(w) - MIN_INNER, (2 if first else MIN_INNER) - 1, -1):
            left, rest = w[:i], w[i:]
            if not self.count(left, first=first):
                continue
            for f in _FUGEN:
                if f and not rest.startswith(f):
                    continue
                tail = rest[len(f):]
                if len(tail) < MIN_INNER:
                    continue
                for sub in self._candidates(tail, k - 1):
                    if len(sub) == 1 and not self.count(sub[0], last=True):
                        continue
                    yield (left, *sub)
