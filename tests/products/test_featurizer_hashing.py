"""The products featurizer hashes n-grams itself (no scikit-learn at start-up): same matrices as
scikit-learn's HashingVectorizer, value for value."""

from __future__ import annotations

import numpy as np
import pytest

from matching.products.model import N_CHAR, N_WORD, _Hashing
from matching.classify import char_wb_ngrams, word_ngrams

DOCS = ["roulement a billes", "roulement roulement a billes billes", "", "Werkzeugkoffer h_koffer werkzeug koffer",
        "vis  inox\ttête hexagonale M8", "Ölfilter für Kompressor", "a", "x" * 40, "ĳ İstanbul ǅ"]


@pytest.mark.parametrize(("kind", "n"), [("word", N_WORD), ("char_wb", N_CHAR), ("char_wb", 1000)])
def test_hashed_rows_equal_sklearn_hashing_vectorizer(kind: str, n: int) -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    kw = {"token_pattern": r"\S+", "ngram_range": (1, 2)} if kind == "word" else {"ngram_range": (3, 5)}
    ref = HashingVectorizer(analyzer=kind, n_features=n, alternate_sign=False, norm=None, dtype=np.float32,
                            **kw).transform(DOCS)
    ours = _Hashing(word_ngrams if kind == "word" else char_wb_ngrams, n).transform(DOCS)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_array_equal(ours.data, ref.data)


def test_analyzers_equal_sklearn_ones() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    w = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2)).build_analyzer()
    c = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    for d in DOCS:
        assert word_ngrams(d) == w(d)
        assert char_wb_ngrams(d) == c(d)
