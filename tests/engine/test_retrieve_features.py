import math

import numpy as np
import pytest

from matching.config import MatchConfig
from matching.features import FEATURE_NAMES, compute_features
from matching.index import build_catalog_indexes, load_catalog_index, tokenize
from matching.retrieve import CatalogArrays, naf_similarity, retrieve
from matching.types import ActivityGuess

BEARING = ActivityGuess("28.15Z", "Organes de transmission", 0.9, "cn-cpa", ("CN 84821010", "CPA 28.15.10"))
MACHINING = ActivityGuess("25.62B", "Mécanique industrielle", 0.8, "text")
WHOLESALE = ActivityGuess("46.69B", "Commerce de gros", 0.5, "cn-cpa", (), True)


@pytest.fixture()
def env(tmp_path, table):
    build_catalog_indexes(table, tmp_path)
    return table, load_catalog_index(tmp_path, table), CatalogArrays.from_table(table)


def sirets(table, rows):
    return {table.siret[r] for r in rows}


def test_naf_similarity_follows_the_hierarchy():
    assert naf_similarity("25.62B", "25.62B") == 1.0
    assert naf_similarity("25.62A", "25.62B") > naf_similarity("25.61Z", "25.62B") > 0
    assert naf_similarity("10.71C", "25.62B") == 0.0


def test_activity_block_brings_producers_and_keeps_wholesale_apart(env):
    table, idx, arr = env
    c = retrieve([], [BEARING, WHOLESALE], idx, arr, MatchConfig(lexical_depth=0))
    assert sirets(table, c.rows) == {"10000000000001", "10000000000002", "10000000000003"}
    assert np.allclose(c.activity, 0.9)
    c2 = retrieve([], [BEARING, WHOLESALE], idx, arr, MatchConfig(lexical_depth=0, include_wholesale=True))
    dist = int(np.flatnonzero(table.siret.to_numpy()[c2.rows] == "10000000000008")[0])
    assert c2.activity[dist] < 0.9  # distributors are a second choice


def test_sibling_sous_classe_is_a_discounted_candidate(env):
    table, idx, arr = env
    c = retrieve([], [MACHINING], idx, arr, MatchConfig(lexical_depth=0))
    by = dict(zip(table.siret.to_numpy()[c.rows], c.activity, strict=True))
    assert by["10000000000004"] == pytest.approx(0.8)
    assert 0 < by["10000000000010"] < 0.8  # 25.62A décolletage


def test_lexical_channel_finds_suppliers_by_their_own_words(env):
    table, idx, arr = env
    c = retrieve(tokenize("roulements"), [], idx, arr, MatchConfig())
    assert "10000000000008" in sirets(table, c.rows)  # DISTRI ROULEMENTS via its name only
    assert np.isnan(c.activity).all()  # no activity known: missing, not zero
    assert (c.channels & 2).all()


def test_candidate_depth_caps_the_union(env):
    table, idx, arr = env
    c = retrieve(tokenize("roulements usinage"), [BEARING, MACHINING], idx, arr, MatchConfig(candidate_depth=2))
    assert len(c) == 2


def test_features_are_in_unit_range_or_nan_and_pair_indexed(env):
    table, idx, arr = env
    toks = tokenize("roulements à billes")
    c = retrieve(toks, [BEARING], idx, arr, MatchConfig())
    X = compute_features(7, toks, c, table, arr, region="44", buyer=(49.12, 6.18))
    assert X.index.names == ["line_id", "siret"]
    assert set(X.index.get_level_values(0)) == {7}
    vals = X[list(FEATURE_NAMES)].to_numpy(dtype=float)
    ok = np.isnan(vals) | ((vals >= 0) & (vals <= 1))
    assert ok.all()
    skf = X.xs("10000000000002", level="siret").iloc[0]
    assert skf["products"] == pytest.approx(1.0)  # both words in its declared products
    metz = X.xs("10000000000001", level="siret").iloc[0]
    assert metz["same_region"] == 1.0 and metz["distance_km"] < 5
    assert metz["proximity"] > X.xs("10000000000003", level="siret").iloc[0]["proximity"]
    assert math.isnan(metz["products"])  # declares no products: missing, not zero
    assert "roulement" in metz["name_words"]


def test_no_buyer_means_missing_proximity(env):
    table, idx, arr = env
    c = retrieve([], [BEARING], idx, arr, MatchConfig())
    X = compute_features(1, [], c, table, arr, region="44")
    assert X["proximity"].isna().all()
