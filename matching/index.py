"""Catalog indexes: a lexical index over suppliers' own words and the NAF → rows map.

Written as a folder of arrays and JSON with a manifest (bm25s save format, no pickle),
built once with the catalog (``build_catalog_indexes``) and loaded memory-mapped by the
matcher (``load_catalog_index``), which also builds it lazily for catalogs made before
the index existed. Scoring is done here with numpy over bm25s's precomputed CSC matrix
so a query only touches the postings of its own words (no numba needed).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matching.errors import CatalogError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

INDEX_DIR = "index"
INDEX_VERSION = 1
TOKENIZER = "relocmatch-simple-v1"

# Small FR/EN/DE stop-word list: words that carry no product or activity meaning.
STOP_WORDS = frozenset(
    """
    a au aux avec ce ces d de des du en et l la le les leur ou par pour sa se sans ses son sur un une y
    autres autre non compris ni hors dont qui que fabrication fabricant production
    an and as at by for from in into of on or the to with other others than not nes excluding including
    der die das den dem des ein eine einer eines und oder mit fur von zu im in aus auf bei ohne nicht
    sa sas sarl sasu eurl snc sci ste societe cie etablissements ets groupe france site usine
    """.split()
)
_TOKEN_RE = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents (œ → oe, ß → ss): the one folding used on both sides."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("ß", "ss").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=200_000)
def _stem(tok: str) -> str:
    # Plural folding, enough to meet "roulements"/"roulement", "bearings"/"bearing", "tôles"/"tôle".
    if len(tok) > 4 and not tok.isdigit():
        if tok.endswith("aux"):
            return tok[:-3] + "al"
        if tok.endswith(("s", "x")) and not tok.endswith(("ss", "us", "is")):
            return tok[:-1]
    return tok


def tokenize(text: str | None) -> list[str]:
    """Words of a text for the lexical index: folded, stop words dropped, plurals folded."""
    if not text:
        return []
    out = []
    for tok in _TOKEN_RE.findall(fold(str(text))):
        if len(tok) < 2 or tok in STOP_WORDS or (tok.isdigit() and len(tok) < 3):
            continue
        out.append(_stem(tok))
    return out


@lru_cache(maxsize=4)
def naf_labels(data_dir: str | None = None) -> dict[str, str]:
    """NAF sous-classe → French label, from the reference bundle (empty when unavailable)."""
    import csv

    from matching.errors import DataError
    from matching.refdata import data_dir as _data_dir

    try:
        path = _data_dir(data_dir) / "naf" / "naf_rev2_5levels_fr.csv"
    except DataError:
        return {}
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["NIV5"]: row["LIB_NIV5"] for row in csv.DictReader(fh)}


def supplier_texts(table: pd.DataFrame, labels: dict[str, str] | None = None) -> list[str]:
    """The words each supplier is indexed under: name, product keywords, NAF label."""
    labels = naf_labels() if labels is None else labels
    n = len(table)

    def col(name: str) -> list[str]:
        if name not in table.columns:
            return [""] * n
        return table[name].fillna("").astype(str).tolist()

    names, products, nafs = col("name"), col("products"), col("naf")
    return [f"{a} {b} {labels.get(c, '')}" for a, b, c in zip(names, products, nafs, strict=True)]


def naf_row_map(nafs: Iterable[Any]) -> dict[str, np.ndarray]:
    """NAF code → sorted int32 row positions."""
    arr = np.asarray(["" if v is None or v != v else str(v) for v in nafs], dtype=object)
    if arr.size == 0:
        return {}
    codes, inverse = np.unique(arr.astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
    return {
        str(c): order[bounds[i] : bounds[i + 1]].astype(np.int32) for i, c in enumerate(codes) if c
    }


def build_catalog_indexes(table: pd.DataFrame, out_dir: str | Path) -> dict:
    """Build the lexical index and NAF → rows map of a catalog table into ``out_dir/index``.

    Returns the index manifest (also written as ``index/index.json``) for the catalog manifest.
    """
    import bm25s

    t0 = time.perf_counter()
    out = Path(out_dir) / INDEX_DIR
    out.mkdir(parents=True, exist_ok=True)
    texts = supplier_texts(table)
    # bm25s builds its vocabulary from lists of tokens; an empty doc keeps its row position.
    corpus = [tokenize(t) or [""] for t in texts]
    if corpus:
        retriever = bm25s.BM25(k1=1.2, b=0.5)
        retriever.index(corpus, show_progress=False)
        retriever.save(str(out), show_progress=False)
        vocab_size = len(retriever.vocab_dict)
    else:  # an empty catalog (filters kept nothing) still gets a valid, empty index
        np.save(out / "data.csc.index.npy", np.zeros(0, dtype=np.float32), allow_pickle=False)
        np.save(out / "indices.csc.index.npy", np.zeros(0, dtype=np.int32), allow_pickle=False)
        np.save(out / "indptr.csc.index.npy", np.zeros(1, dtype=np.int64), allow_pickle=False)
        (out / "vocab.index.json").write_text("{}", encoding="utf-8")
        (out / "params.index.json").write_text(json.dumps({"num_docs": 0, "k1": 1.2, "b": 0.5}), encoding="utf-8")
        vocab_size = 0
    del corpus
    nmap = naf_row_map(table["naf"] if "naf" in table.columns else [])
    codes = sorted(nmap)
    rows = np.concatenate([nmap[c] for c in codes]) if codes else np.zeros(0, dtype=np.int32)
    offsets = np.cumsum([0] + [len(nmap[c]) for c in codes]).astype(np.int64)
    np.save(out / "naf_rows.npy", rows, allow_pickle=False)
    np.save(out / "naf_offsets.npy", offsets, allow_pickle=False)
    (out / "naf_codes.json").write_text(json.dumps(codes), encoding="utf-8")
    manifest = {
        "version": INDEX_VERSION,
        "kind": "bm25s",
        "tokenizer": TOKENIZER,
        "fields": ["name", "products", "naf_label"],
        "rows": int(len(table)),
        "vocabulary": int(vocab_size),
        "naf_codes": len(codes),
        "build_seconds": round(time.perf_counter() - t0, 2),
    }
    (out / "index.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


@dataclass
class CatalogIndex:
    """A loaded catalog index: lexical search over suppliers and NAF blocks."""

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n_docs: int
    naf_codes: list[str]
    naf_rows: np.ndarray
    naf_offsets: np.ndarray
    manifest: dict

    def __post_init__(self) -> None:
        self._naf_pos = {c: i for i, c in enumerate(self.naf_codes)}
        # NAF codes by class (4 digits, "25.62") and by group ("25.6"), in naf_codes order:
        # retrieval widens a line to its sibling sous-classes without scanning every code.
        self._by_prefix: dict[str, list[str]] = {}
        for c in self.naf_codes:
            for k in (c[:5], c[:4]):
                self._by_prefix.setdefault(k, []).append(c)

    def naf_codes_with_prefix(self, prefix: str) -> list[str]:
        """The catalog's NAF codes starting with ``prefix`` (a class "25.62" or a group "25.6"), in index order."""
        if len(prefix) in (4, 5):
            return self._by_prefix.get(prefix, [])
        return [c for c in self.naf_codes if c.startswith(prefix)]

    def rows_for_naf(self, naf: str) -> np.ndarray:
        """Row positions of the establishments whose NAF is ``naf`` (empty when none)."""
        i = self._naf_pos.get(naf)
        if i is None:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.naf_rows[self.naf_offsets[i] : self.naf_offsets[i + 1]])

    def naf_count(self, naf: str) -> int:
        i = self._naf_pos.get(naf)
        return 0 if i is None else int(self.naf_offsets[i + 1] - self.naf_offsets[i])

    def scores_for(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of every supplier sharing a word with ``tokens``."""
        ids = sorted({self.vocab[t] for t in tokens if t in self.vocab and t})
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.concatenate([self.indices[self.indptr[i] : self.indptr[i + 1]] for i in ids])
        val = np.concatenate([self.data[self.indptr[i] : self.indptr[i + 1]] for i in ids])
        if len(ids) == 1:
            return idx.astype(np.int64), val.astype(np.float32)
        rows, inv = np.unique(idx, return_inverse=True)
        sc = np.bincount(inv, weights=val, minlength=len(rows)).astype(np.float32)
        return rows.astype(np.int64), sc

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) for a tokenised query, best first."""
        rows, sc = self.scores_for(tokens)
        if len(rows) > k:
            part = np.argpartition(-sc, k - 1)[:k]
            rows, sc = rows[part], sc[part]
        order = np.argsort(-sc, kind="stable")
        return rows[order], sc[order]


def load_catalog_index(catalog_dir: str | Path, table: pd.DataFrame | None = None) -> CatalogIndex:
    """Load ``catalog_dir/index`` memory-mapped; build it first when missing and ``table`` is given."""
    d = Path(catalog_dir) / INDEX_DIR
    if not (d / "index.json").is_file():
        if table is None:
            raise CatalogError(f"{catalog_dir}: catalog has no index (index/index.json); rebuild the catalog")
        try:
            build_catalog_indexes(table, catalog_dir)
        except OSError as exc:  # read-only catalog: build in memory-backed temp dir
            import tempfile

            tmp = tempfile.mkdtemp(prefix="relocmatch-index-")
            build_catalog_indexes(table, tmp)
            d = Path(tmp) / INDEX_DIR
            del exc
    try:
        manifest = json.loads((d / "index.json").read_text(encoding="utf-8"))
        vocab = json.loads((d / "vocab.index.json").read_text(encoding="utf-8"))
        params = json.loads((d / "params.index.json").read_text(encoding="utf-8"))
        load = lambda name: np.load(d / name, mmap_mode="r", allow_pickle=False)  # noqa: E731
        idx = CatalogIndex(
            vocab=vocab,
            data=load("data.csc.index.npy"),
            indices=load("indices.csc.index.npy"),
            indptr=np.asarray(load("indptr.csc.index.npy")),
            n_docs=int(params["num_docs"]),
            naf_codes=json.loads((d / "naf_codes.json").read_text(encoding="utf-8")),
            naf_rows=load("naf_rows.npy"),
            naf_offsets=np.asarray(load("naf_offsets.npy")),
            manifest=manifest,
        )
    except (OSError, ValueError, KeyError) as exc:
        raise CatalogError(f"{d}: cannot read the catalog index ({exc}); rebuild the catalog") from None
    if table is not None and idx.n_docs != len(table):
        raise CatalogError(
            f"{d}: index has {idx.n_docs} rows but the catalog table has {len(table)}; rebuild the catalog"
        )
    return idx
