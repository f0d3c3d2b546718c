"""The typo fixer searches only the vocabulary words of a length that can reach the cut-off:
it must pick exactly the word the search over the whole vocabulary picks."""

from __future__ import annotations

import random

from rapidfuzz import fuzz, process


def test_length_window_picks_what_the_whole_vocabulary_picks(data_dir) -> None:  # type: ignore[no-untyped-def]
    from matching.classify import get_classifier

    clf = get_classifier(data_dir, semantic=False)
    vocab = clf.index.vocab
    rnd = random.Random(7)
    words = ["roulemnts", "polypropylen", "kugellagern", "compresseurr", "aluminim", "xxxxxxxxxxxx"]
    for w in rnd.sample([v for v in vocab if len(v) >= 6], 150):  # one letter dropped, added or swapped
        i = rnd.randrange(1, len(w) - 1)
        words += [w[:i] + w[i + 1:], w[:i] + "e" + w[i:], w[:i - 1] + w[i] + w[i - 1] + w[i + 1:]]
    fixed = 0
    for w in words:
        whole = process.extractOne(w, vocab, scorer=fuzz.ratio, score_cutoff=88)
        window = clf._vocab_near_length(len(w))
        assert len(window) < len(vocab)
        near = process.extractOne(w, window, scorer=fuzz.ratio, score_cutoff=88)
        assert (near[0] if near else None) == (whole[0] if whole else None), w
        fixed += whole is not None
    assert fixed > len(words) // 2  # the comparison is about real corrections, not only misses
