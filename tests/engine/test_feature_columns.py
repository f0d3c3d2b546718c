"""The hot path reads catalog columns without pandas and scores feature columns without a
frame: both must give what the pandas path gives (same values, same float scores)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from matching.config import MatchConfig
from matching.features import FEATURE_NAMES, compute_features, feature_columns
from matching.index import build_catalog_indexes, load_catalog_index, tokenize
from matching.rank import LinearRanker, feature_matrix
from matching.retrieve import CatalogArrays, TableColumns, retrieve
from matching.types import ActivityGuess

BEARING = ActivityGuess("28.15Z", "Organes de transmission", 0.9, "cn-cpa", ("CN 84821010", "CPA 28.15.10"))
MACHINING = ActivityGuess("25.62B", "Mécanique industrielle", 0.8, "text")


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _same_values(ours: list, ref: list) -> bool:
    """Equal, counting None / NaN / pd.NA as the same missing value, and of the same types otherwise."""
    return len(ours) == len(ref) and all(
        (_missing(a) and _missing(b)) or (type(a) is type(b) and a == b) for a, b in zip(ours, ref, strict=True))


@pytest.fixture()
def mixed_table(table: pd.DataFrame) -> pd.DataFrame:
    """The fake catalog plus columns of every storage the takers distinguish."""
    n = len(table)
    t = table.copy()
    halves = [[f"s{i}" if i % 3 else None for i in range(n // 2)], [f"s{i}" for i in range(n // 2, n)]]
    t["chunked"] = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(halves, type=pa.large_string())))
    t["arrow_int"] = pd.Series(pd.array(list(range(n - 1)) + [None], dtype="int64[pyarrow]"))
    t["ints"] = np.arange(n, dtype=np.int64)
    t["flags"] = np.arange(n) % 2 == 0
    t["objects"] = pd.Series([1, "x", None, 2.5, "y", None, 3, "z", None, 4][:n], dtype=object)
    t["when"] = pd.date_range("2024-01-01", periods=n, freq="D")
    t["cat"] = pd.Categorical(["a", "b"] * (n // 2))
    return t


def test_table_columns_read_what_pandas_reads(mixed_table: pd.DataFrame) -> None:
    cols = TableColumns(mixed_table)
    rows = np.array([9, 0, 3, 3, 7, 1])
    for c in mixed_table.columns:
        ref = mixed_table[c].iloc[rows].tolist()
        assert _same_values(cols.values(c, rows), ref), c
        assert cols.strings(c, list(rows)) == [v if isinstance(v, str) else "" for v in ref], c
    assert cols.values("name", []) == [] and "name" in cols and "nope" not in cols


def test_table_columns_share_the_arrow_buffers() -> None:
    """A catalog's string columns are read in place: building the readers allocates no Arrow memory."""
    big = pd.DataFrame({"name": pd.Series([f"établissement {i}" for i in range(50_000)], dtype="string[pyarrow]")})
    before = pa.total_allocated_bytes()
    cols = TableColumns(big)
    assert pa.total_allocated_bytes() - before < 10_000
    assert cols.values("name", [49_999, 0]) == ["établissement 49999", "établissement 0"]


@pytest.fixture()
def env(tmp_path, table):
    build_catalog_indexes(table, tmp_path)
    return table, load_catalog_index(tmp_path, table), CatalogArrays.from_table(table)


@pytest.mark.parametrize("text", ["roulements à billes", "usinage", ""])
def test_ranker_scores_columns_exactly_as_the_frame(env, text: str) -> None:
    table, idx, arr = env
    toks = tokenize(text)
    c = retrieve(toks, [BEARING, MACHINING], idx, arr, MatchConfig())
    X = compute_features(3, toks, c, table, arr, region="44", buyer=(49.12, 6.18))
    cols = feature_columns(toks, c, arr, region="44", buyer=(49.12, 6.18))
    for ranker in (LinearRanker(), LinearRanker().fit(X, np.arange(len(X)) % 2)):
        s_frame, c_frame = ranker.score_and_contributions(X)
        s_cols, c_cols = ranker.score_and_contributions(cols)
        assert s_frame.tobytes() == s_cols.tobytes()
        assert c_frame.tobytes() == c_cols.tobytes()
    feats = X[list(FEATURE_NAMES)].to_numpy(dtype=float)
    assert feature_matrix(cols, FEATURE_NAMES).tobytes() == feats.tobytes()
    assert cols["name_words"] == X["name_words"].tolist()


def test_feature_matrix_marks_an_absent_feature_missing() -> None:
    M = feature_matrix({"activity": np.array([0.5, 1.0])}, ["activity", "size"])
    assert M.shape == (2, 2) and M[:, 0].tolist() == [0.5, 1.0] and np.isnan(M[:, 1]).all()


def test_compute_features_without_column_readers_reads_the_table(env) -> None:
    """CatalogArrays built by hand (no ``columns``): the frame is the same."""
    from dataclasses import replace

    table, idx, arr = env
    toks = tokenize("roulements à billes")
    c = retrieve(toks, [BEARING], idx, arr, MatchConfig())
    a = compute_features(1, toks, c, table, arr, region="44")
    b = compute_features(1, toks, c, table, replace(arr, columns=None), region="44")
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="from_table"):
        feature_columns(toks, c, replace(arr, columns=None), region="44")


def test_matcher_suppliers_match_the_table_rows(table) -> None:
    from matching.pipeline import Matcher, _SUPPLIER_FIELDS

    from .conftest import FakeClassifier

    m = Matcher(table, classifier=FakeClassifier())
    rows = [6, 0, 9]
    for sup, r in zip(m.suppliers(rows), rows, strict=True):
        rec = table.iloc[r]
        assert sup.siret == rec["siret"] and sup.name == rec["name"] and sup.lat == float(rec["lat"])
        assert sup.size_band == (rec["size_band"] if isinstance(rec["size_band"], str) else None)
        assert sup.commune_code is None  # a column of None
        assert set(_SUPPLIER_FIELDS) >= {k for k, v in vars(sup).items() if v is not None}
