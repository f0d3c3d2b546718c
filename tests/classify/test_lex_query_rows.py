"""The lexical index builds its query rows itself (no sklearn ``transform``): same floats, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from matching.classify import _LexIndex, _tfidf_rows

QUERIES = [
    "roulement a billes",
    "roulement roulement roulement a billes billes",  # repeated terms: sublinear tf
    "",  # empty query: an empty row
    "zzqx wvvk",  # nothing in the vocabulary
    "vis inox a tete hexagonale m8",
    "Kugellager schraube edelstahl",
]


def _assert_same_rows(index: _LexIndex, queries: list[str]) -> None:
    for vec, analyze in zip((index.word, index.char), index._analyzers, strict=True):
        ours = _tfidf_rows(vec, analyze, queries)
        ref = vec.transform(queries)
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours.indptr, ref.indptr)
        np.testing.assert_array_equal(ours.indices, ref.indices)
        assert ours.data.dtype == ref.data.dtype
        assert ours.data.tobytes() == ref.data.tobytes()


def test_query_rows_match_sklearn_on_a_fitted_index() -> None:
    docs = ["roulement a billes acier", "vis inox tete hexagonale", "kugellager schraube", "billes de verre",
            "roulement conique", "vis a bois"]
    _assert_same_rows(_LexIndex(docs), QUERIES)


def test_query_rows_match_sklearn_on_the_real_indexes(lexical_classifier, devset) -> None:
    """The nomenclature index (idf loaded from disk as float64) and the NAF activity index (fitted)."""
    from matching.text import analyze

    queries = [analyze(r["description"]).text for r in devset[:80]] + QUERIES
    _assert_same_rows(lexical_classifier.index, queries)
    lexical_classifier.activities_from_text("roulement")  # builds the activity index
    _assert_same_rows(lexical_classifier._activity_index.index, queries)


def test_scores_match_the_sklearn_transform_path(lexical_classifier, devset) -> None:
    from matching.text import analyze

    index = lexical_classifier.index
    queries = [analyze(r["description"]).text for r in devset[:40]]
    ref = 0.5 * (index.word.transform(queries) @ index.Xw).toarray() + 0.5 * (
        index.char.transform(queries) @ index.Xc).toarray()
    assert index.scores(queries).tobytes() == ref.tobytes()


@pytest.mark.parametrize("queries", [[], ["roulement"]])
def test_scores_shape(lexical_classifier, queries: list[str]) -> None:
    s = lexical_classifier.index.scores(queries)
    assert s.shape == (len(queries), lexical_classifier.index.Xw.shape[1])
