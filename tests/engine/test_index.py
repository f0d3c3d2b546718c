import json

import numpy as np

from matching.index import build_catalog_indexes, load_catalog_index, naf_row_map, tokenize


def test_tokenize_folds_accents_plurals_and_stop_words():
    assert tokenize("Roulements à billes") == ["roulement", "bille"]
    assert tokenize("Tôles d'acier INOX") == ["tole", "acier", "inox"]
    assert tokenize("") == []


def test_naf_row_map_groups_positions():
    m = naf_row_map(["28.15Z", "25.62B", "28.15Z", None])
    assert m["28.15Z"].tolist() == [0, 2]
    assert m["25.62B"].tolist() == [1]
    assert "" not in m


def test_index_is_arrays_and_json_and_reloads(tmp_path, table):
    manifest = build_catalog_indexes(table, tmp_path)
    assert manifest["rows"] == len(table)
    files = {p.name for p in (tmp_path / "index").iterdir()}
    assert {"index.json", "vocab.index.json", "naf_rows.npy"} <= files
    assert not any(f.endswith((".pkl", ".pickle")) for f in files)
    assert json.loads((tmp_path / "index" / "index.json").read_text())["kind"] == "bm25s"
    idx = load_catalog_index(tmp_path, table)
    assert idx.rows_for_naf("28.15Z").tolist() == [0, 1, 2]
    assert idx.rows_for_naf("99.99Z").tolist() == []
    rows, scores = idx.search(tokenize("roulements"), 5)
    # both suppliers whose own words say "roulements" come back, best first
    assert set(rows.tolist()) >= {0, 7, 1}
    assert np.all(np.diff(scores) <= 0)


def test_index_is_built_lazily_for_old_catalogs(tmp_path, table):
    idx = load_catalog_index(tmp_path, table)
    assert idx.n_docs == len(table)
    assert (tmp_path / "index" / "index.json").is_file()


def test_an_empty_catalog_gets_a_valid_empty_index(tmp_path, table):
    empty = table.iloc[0:0]
    assert build_catalog_indexes(empty, tmp_path)["rows"] == 0
    idx = load_catalog_index(tmp_path, empty)
    rows, _ = idx.search(tokenize("roulements"), 5)
    assert len(rows) == 0 and len(idx.rows_for_naf("28.15Z")) == 0
