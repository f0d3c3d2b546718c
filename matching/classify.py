"""Free text (FR/EN/DE) and an optional written code → likely CN8/HS6 codes and NAF activities.

Why this shape: the nomenclature is small (9,759 CN8 codes × 3 languages), so a
lexical index with word *and* character n-grams over every label fits in memory and
answers in a few ms; character n-grams cope with German compounds and typos that a
word index misses. Evidence is read at three depths (the CN8 label, all labels under
its HS6, the HS4 heading) so "roulement à billes" hits heading 8482 even when the
CN8 wording differs. A semantic channel (English sentence model over the EN labels)
adds recall for paraphrases; it is optional and the result says which channels ran.
A code written on the line is trusted but checked against the text.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matching.codes import Crosswalk, code_similarity, try_parse_code
from matching.errors import CodeError
from matching.text import analyze, split_purpose
from matching.types import ActivityGuess, ProductGuess

Encoder = Callable[[list[str]], np.ndarray]

# Depth weights of the lexical evidence (CN8 own label, HS6 group, HS4 heading) and the
# share of the semantic channel by query language (the model is English-only).
TEXT_ACTIVITIES = 5  # text-matched activities merged into a line's crosswalk activities
_DEPTH_WEIGHTS = (0.45, 0.25, 0.15, 0.15)  # CN8, HS6, HS4, CPA 2.1 subcategory
# A French/German line reaches the English model only through the English words its
# expansions add: without any, the semantic channel gets a small say.
_SEM_SHARE = {"en": 0.45, None: 0.3, "fr": 0.25, "de": 0.25}
_SEM_SHARE_NO_EXPANSION = 0.1
# A text reading is "confident" when its best score clears this (used to flag code conflicts).
_CONFIDENT = 0.35
# Weight of the description's reading, relative to a written code it does not support (0 = off).
CODE_HEDGE = 0.5
# The closeness (``codes.code_similarity``) a text reading in the top 3 needs to confirm a written
# code: 0.5 = the same HS4 heading. At 0.25 a reading in another heading of the same chapter
# ("câble coaxial" read as 8544, written 8536) confirmed a wrong code and hid the text's producers.
CODE_AGREE_MIN = 0.5
# Bump when the document construction changes (part of the on-disk index cache key).
_INDEX_VERSION = "lex-4"  # lex-4: CSR arrays stored uncompressed, loaded memory-mapped

# Exclusion clauses and filler of the nomenclature texts: they add words the product is NOT.
_EXCL_RE = re.compile(
    r"\((?:\s*(?:à|a)\s+l['’]excl|\s*excl\.|\s*ausg\.|\s*other than|\s*autres que|\s*andere als|\s*non compris)"
    r"[^()]*(?:\([^()]*\)[^()]*)*\)",
    re.IGNORECASE,
)
_FILLER_RE = re.compile(r"\b(?:n\.d\.a\.|a\.n\.g\.|n\.e\.s\.|n\.e\.c\.)", re.IGNORECASE)


def clean_label(label: str) -> str:
    """A nomenclature label without its exclusion clauses ("(à l'excl. de ...)", "(ausg. ...)")."""
    return _FILLER_RE.sub(" ", _EXCL_RE.sub(" ", label or "")).strip()


@dataclass(frozen=True)
class ClassifyResult:
    """Products (best first, scores in [0, 1]), warnings for the user, and which channels ran."""

    products: list[ProductGuess]
    warnings: list[str] = field(default_factory=list)
    channels_used: tuple[str, ...] = ()
    lang: str | None = None
    # What a confidence step reads besides the products (``matching.confidence``): e.g. the learned
    # model's best HS6 and its probability; None when the classifier has no such evidence.
    evidence: dict[str, Any] | None = None


# German noun endings the shared stemming (``matching.text.stem``) does not remove: a query's
# singular "Feile" meets the labels' plural "Feilen" (and "Regal"/"Regale", "Kugel"/"Kugeln").
_DE_ENDINGS = ("n", "en", "e", "er", "nen")


def inflected_form(word: str, vocab: frozenset[str] | set[str]) -> str | None:
    """The vocabulary word that is ``word`` with a German plural ending added or removed, or None."""
    for e in _DE_ENDINGS:
        if word + e in vocab:
            return word + e
    for e in _DE_ENDINGS:
        if word.endswith(e) and len(word) - len(e) >= 4 and word[: -len(e)] in vocab:
            return word[: -len(e)]
    return None


def _vectorizers():  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, dtype=np.float32)
    return word, char


_WHITE_SPACES = re.compile(r"\s\s+")
_TOKEN = re.compile(r"\S+")


def word_ngrams(doc: str) -> list[str]:
    """The analyzer of ``TfidfVectorizer(analyzer="word", token_pattern=r"\\S+", ngram_range=(1, 2))``:
    lower-cased whitespace tokens, then their bigrams (scikit-learn's order)."""
    tokens = _TOKEN.findall(doc.lower())
    return tokens + [" ".join(tokens[i: i + 2]) for i in range(len(tokens) - 1)]


def char_wb_ngrams(doc: str, min_n: int = 3, max_n: int = 5) -> list[str]:
    """The analyzer of ``analyzer="char_wb", ngram_range=(3, 5)``: character n-grams inside
    space-padded words, a word shorter than n counted once (scikit-learn's ``_char_wb_ngrams``)."""
    out: list[str] = []
    append = out.append
    for w in _WHITE_SPACES.sub(" ", doc.lower()).split():  # lower first, as the preprocessor runs first
        w = " " + w + " "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(w[offset: offset + n])
            while offset + n < w_len:
                offset += 1
                append(w[offset: offset + n])
            if offset == 0:
                break
    return out


class _FittedVec:
    """What query rows need of a fitted TfidfVectorizer (vocabulary, idf, options), without
    scikit-learn: importing it costs ~2 s of every start-up, and a loaded index only queries.
    ``transform`` (the reference path, for tests) builds the real vectorizer on demand."""

    norm = "l2"
    use_idf = True
    sublinear_tf = True
    dtype = np.float32

    def __init__(self, kind: str, vocabulary: dict[str, int], idf: np.ndarray) -> None:
        self.kind, self.vocabulary_, self.idf_ = kind, vocabulary, idf
        self._sk = None

    def build_analyzer(self) -> Callable[[str], list[str]]:
        return word_ngrams if self.kind == "word" else char_wb_ngrams

    def to_sklearn(self):  # type: ignore[no-untyped-def]
        if self._sk is None:
            word, char = _vectorizers()
            vec = word if self.kind == "word" else char
            vec.vocabulary_, vec.idf_ = self.vocabulary_, self.idf_
            self._sk = vec
        return self._sk

    def transform(self, queries: list[str]):  # type: ignore[no-untyped-def]
        return self.to_sklearn().transform(queries)


def _csr_load(folder: Path, name: str):  # type: ignore[no-untyped-def]
    """The CSR saved by ``_LexIndex.save`` as ``name``.{data,indices,indptr,shape}.npy, memory-mapped: a
    query only touches the rows of its own terms, so the OS reads only those pages."""
    import scipy.sparse as sp

    arrs = {k: np.load(folder / f"{name}.{k}.npy", mmap_mode="r", allow_pickle=False)
            for k in ("data", "indices", "indptr", "shape")}
    X = sp.csr_matrix((arrs["data"], arrs["indices"], arrs["indptr"]), shape=tuple(int(v) for v in arrs["shape"]),
                      copy=False)
    return X


class _LexIndex:
    """Word (1–2 grams) + character (3–5 grams) TF-IDF over normalised documents.

    Saved as a folder of arrays and JSON (``save``/``load``), never pickled. A loaded index
    needs no scikit-learn (``_FittedVec``); fitting one does.
    """

    def __init__(self, docs: list[str] | None) -> None:
        if docs is None:
            return
        self.word, self.char = _vectorizers()
        self.Xw = self.word.fit_transform(docs).T.tocsr()  # terms × docs: a query row times this is one sparse dot
        self.Xc = self.char.fit_transform(docs).T.tocsr()
        self._finish()

    def _finish(self) -> None:
        self.vocab = [t for t in self.word.vocabulary_ if " " not in t]
        # Built once: sklearn's ``transform`` rebuilds the analyzer and re-validates its input on
        # every call, which costs more than the queries themselves (one line = two transforms).
        self._analyzers = (self.word.build_analyzer(), self.char.build_analyzer())

    def save(self, folder: Path) -> None:
        import json

        folder.mkdir(parents=True, exist_ok=True)
        for name, vec, X in (("word", self.word, self.Xw), ("char", self.char, self.Xc)):
            (folder / f"{name}_vocab.json").write_text(json.dumps({k: int(v) for k, v in vec.vocabulary_.items()}))
            np.save(folder / f"{name}_idf.npy", vec.idf_.astype(np.float64), allow_pickle=False)
            for k, arr in (("data", X.data), ("indices", X.indices), ("indptr", X.indptr),
                           ("shape", np.array(X.shape, dtype=np.int64))):
                np.save(folder / f"{name}_X.{k}.npy", arr, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> _LexIndex:
        import json

        self = cls(None)
        self.word, self.char = (
            _FittedVec(name, json.loads((folder / f"{name}_vocab.json").read_text()),
                       np.load(folder / f"{name}_idf.npy", allow_pickle=False))
            for name in ("word", "char"))
        self.Xw = _csr_load(folder, "word_X")
        self.Xc = _csr_load(folder, "char_X")
        self._finish()
        return self

    def scores(self, queries: list[str]) -> np.ndarray:
        """Cosine similarity of each query to every document: (n_queries, n_docs), mean of word and char."""
        qw = _tfidf_rows(self.word, self._analyzers[0], queries)
        qc = _tfidf_rows(self.char, self._analyzers[1], queries)
        sw = (qw @ self.Xw).toarray()
        sc = (qc @ self.Xc).toarray()
        return 0.5 * sw + 0.5 * sc


def _tfidf_rows(vec, analyze: Callable[[str], list[str]], queries: list[str]):  # type: ignore[no-untyped-def]
    """``vec.transform(queries)`` of a fitted TfidfVectorizer, minus its per-call validation.

    The same float operations in the same order (sorted in-vocabulary n-gram counts in
    ``vec.dtype``, sublinear tf, × idf, sklearn's own in-place l2 row normalisation), so the
    matrix is identical to sklearn's; ``tests/classify/test_lex_query_rows.py`` checks it.
    """
    import scipy.sparse as sp

    if vec.norm != "l2" or not vec.use_idf:  # not the shape replicated here: sklearn's own path
        return vec.transform(queries)
    vocab = vec.vocabulary_
    indices: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for q in queries:
        found: dict[int, int] = {}
        for term in analyze(q):
            j = vocab.get(term)
            if j is not None:
                found[j] = found.get(j, 0) + 1
        for j in sorted(found):
            indices.append(j)
            counts.append(found[j])
        indptr.append(len(indices))
    idx = np.asarray(indices, dtype=np.int32)
    X = sp.csr_matrix((np.asarray(counts, dtype=vec.dtype), idx, np.asarray(indptr, dtype=np.int32)),
                      shape=(len(queries), len(vocab)))
    if vec.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    X.data *= vec.idf_[idx]
    _row_normalize_l2(X)
    return X


def _row_normalize_l2(X) -> None:  # type: ignore[no-untyped-def]
    """``sklearn.utils.sparsefuncs_fast.inplace_csr_row_normalize_l2`` in NumPy, same floats: per
    row, the squares (in the data's dtype) summed in order in float64, then each value divided
    by the root in float64 and stored back in the data's dtype; empty rows left alone."""
    data, indptr = X.data, X.indptr
    sq = (data * data).astype(np.float64)
    for i in range(len(indptr) - 1):
        a, b = indptr[i], indptr[i + 1]
        if a == b:
            continue
        total = float(np.cumsum(sq[a:b])[-1])  # sequential, as the Cython loop adds them
        if total == 0.0:
            continue
        data[a:b] = data[a:b].astype(np.float64) / np.sqrt(total)


def _dense_rows(m) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(m.todense()) if hasattr(m, "todense") else np.asarray(m)


class ProductClassifier:
    """Built once from the reference data; ``classify`` is cheap and thread-safe for reads."""

    def __init__(self, data_dir: str | Path | None = None, *, encoder: Encoder | None = None, semantic: bool | None = None,
                 semantic_model: str | None = None) -> None:
        self._data_dir = data_dir
        # The label tables and the lexical index come from one cache folder keyed by the bytes of
        # the reference files and of the text tables: a start-up parses no CSV (``_lex_index``).
        self.index, tables = self._lex_index()
        self.codes: list[str] = tables["codes"]
        self.label_fr: dict[str, str] = tables["label_fr"]
        self.label_en: dict[str, str] = tables["label_en"]
        self.label_de: dict[str, str] = tables["label_de"]
        self.hs_label: dict[str, str] = tables["hs_label"]
        self.hs6: list[str] = sorted({c[:6] for c in self.codes})
        self.hs4: list[str] = sorted({c[:4] for c in self.codes})
        self.cpa: list[str] = tables["cpa"]
        cpa_of: dict[str, str] = tables["cpa_of"]
        n8, n6, n4 = len(self.codes), len(self.hs6), len(self.hs4)
        self._slices = (
            slice(0, n8),
            slice(n8, n8 + n6),
            slice(n8 + n6, n8 + n6 + n4),
            slice(n8 + n6 + n4, n8 + n6 + n4 + len(self.cpa)),
        )
        posc = {p: i for i, p in enumerate(self.cpa)}
        self._mapc = np.array([posc.get(cpa_of.get(c, ""), -1) for c in self.codes])
        pos6 = {h: i for i, h in enumerate(self.hs6)}
        pos4 = {h: i for i, h in enumerate(self.hs4)}
        self._map6 = np.array([pos6[c[:6]] for c in self.codes])
        self._map4 = np.array([pos4[c[:4]] for c in self.codes])
        self._hs6_set, self._hs4_set = set(self.hs6), set(self.hs4)

        # semantic channel: an injected encoder (tests) embeds the labels itself; the packaged
        # models read their label embeddings from the built artifact (matching/products/semantic.py).
        from matching.products import semantic as _sem

        self._encoder: Encoder | None = None
        self._emb: np.ndarray | None = None
        self._labels = None  # LabelEmbeddings of a packaged model, loaded on first use
        self._sem_lock = threading.Lock()
        self.semantic_model: str | None = None
        self.semantic_unavailable: str | None = None  # why the channel is off although requested
        self._sem_shares, self._sem_floor, self._sem_expansions = _SEM_SHARE, 0.0, True
        if semantic is not False:
            if encoder is None:
                key = _sem.model_key(semantic_model)
                self.semantic_model = key
                spec = _sem.MODELS[key]
                self._sem_shares = spec.shares or _SEM_SHARE
                self._sem_floor, self._sem_expansions = spec.cos_floor, spec.expansions
                if key == "minilm":
                    from matching.embed import default_encoder

                    encoder = default_encoder()  # None when the package is missing
                elif _sem.available(key):
                    encoder = _lazy_query_encoder(key)
                if encoder is None:
                    self.semantic_unavailable = f"package {spec.package} not installed"
                else:
                    self._packaged = True
            self._encoder = encoder
        self.semantic_requested = semantic
        self._activity_index: _ActivityIndex | None = None

    # ------------------------------------------------------------ reference
    def _docs(self, heading: dict[str, list[str]]) -> list[str]:
        """Normalised documents: one per CN8 (FR+EN+DE labels), per HS6 (its label and every
        CN8 label under it) and per HS4 (heading texts in three languages)."""
        cn8_docs = [
            analyze(" . ".join(clean_label(x) for x in (self.label_fr[c], self.label_en.get(c, ""), self.label_de.get(c, ""))), lang=False, expand=False).text
            for c in self.codes
        ]
        by6: dict[str, list[str]] = {}
        for c, d in zip(self.codes, cn8_docs):
            by6.setdefault(c[:6], []).append(d)
        hs6_docs = [" ".join([analyze(self.hs_label.get(h, ""), lang=False, expand=False).text, *by6[h]]) for h in self.hs6]
        hs4_docs = [analyze(" . ".join(heading.get(h, [])) + " . " + self.hs_label.get(h, ""), lang=False, expand=False).text for h in self.hs4]
        cpa_docs = [analyze(self._cpa_texts[p], lang=False, expand=False).text for p in self.cpa]
        return cn8_docs + hs6_docs + hs4_docs + cpa_docs

    @staticmethod
    def _cpa_texts_by_code(data_dir: str | Path | None) -> dict[str, str]:
        """CPA 2.1 subcategory texts: English name and notes + the French label and notes of its
        category (the only French CPA level published). Product-like wording ("Ball or roller
        bearings", "Structures métalliques") that the customs labels lack."""
        from matching import refdata

        en = refdata.load_cpa(data_dir)
        fr = refdata.load_nace_cpa_fr(data_dir)
        fr5 = {c: f"{lab} . {inc}" for c, lab, inc in zip(fr["CPA21"], fr["Label_CPA21"], fr["Include_CPA21"])}
        out = {}
        for code, name, inc in zip(en["CPA 2.1"], en["Name"], en["Include"]):
            if len(code) == 8:
                out[code] = f"{name} . {inc} . {fr5.get(code[:7], '')}"
        return out

    _SOURCES = ("cn8_fr", "cn8_en", "cn8_de", "hs2022", "taric_fr", "taric_en", "taric_de", "cpa_en",
                "nace2_cpa21_fr", "cn2022_cpa21")

    def _tables(self) -> dict:
        """The label tables, read from the reference files (what the cache folder stores)."""
        from matching import refdata

        data_dir = self._data_dir
        fr = refdata.load_cn8("fr", data_dir)
        en = refdata.load_cn8("en", data_dir).set_index("code")["description"]
        de = refdata.load_cn8("de", data_dir).set_index("code")["description"]
        hs = refdata.load_hs2022(data_dir)
        cpa_texts = self._cpa_texts_by_code(data_dir)
        cn_cpa = refdata.load_cn_cpa(data_dir)
        cpa_of = {c: p for c, p in zip(cn_cpa["cn8"], cn_cpa["cpa"]) if p in cpa_texts}
        return {"codes": fr["code"].tolist(), "label_fr": dict(zip(fr["code"], fr["description"])),
                "label_en": en.to_dict(), "label_de": de.to_dict(), "hs_label": dict(zip(hs["hscode"], hs["description"])),
                "cpa": sorted(set(cpa_of.values())), "cpa_of": cpa_of}

    def _lex_index(self) -> tuple[_LexIndex, dict]:
        """(lexical index, label tables) from the on-disk cache when the data, tables and code are
        unchanged, else built (the reference files parsed, the index fitted) and saved there."""
        import json

        from matching import text as _text
        from matching.embed import cache_dir
        from matching.refcache import files_digest

        key = files_digest(self._SOURCES, self._data_dir, salt=_INDEX_VERSION,
                           extra=(Path(_text.__file__), *sorted(_text.RESOURCES.glob("*.csv"))))
        folder = cache_dir() / f"classify-lex-{key}"
        self.index_cache = folder
        if (folder / "done").exists():
            try:
                self.index_cached = True
                idx = _LexIndex.load(folder)
                tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
                _prune_old_indexes(folder)
                return idx, tables
            except (OSError, ValueError, KeyError):
                pass
        self.index_cached = False
        tables = self._tables()
        self.codes, self.label_fr, self.label_en, self.label_de = (tables[k] for k in ("codes", "label_fr", "label_en", "label_de"))
        self.hs_label, self.cpa = tables["hs_label"], tables["cpa"]
        self.hs6 = sorted({c[:6] for c in self.codes})
        self.hs4 = sorted({c[:4] for c in self.codes})
        self._cpa_texts = self._cpa_texts_by_code(self._data_dir)
        idx = _LexIndex(self._docs(self._headings(self._data_dir)))
        try:
            tmp = folder.with_name(folder.name + f".tmp{id(self)}")
            idx.save(tmp)
            (tmp / "tables.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
            (tmp / "done").write_text("ok")
            try:
                tmp.rename(folder)
            finally:
                if tmp.exists():  # another process won the race: keep its copy
                    import shutil

                    shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass  # a read-only cache is not an error: we just rebuild next time
        _prune_old_indexes(folder)
        return idx, tables

    @staticmethod
    def _headings(data_dir: str | Path | None) -> dict[str, list[str]]:
        """HS4 heading texts in FR/EN/DE from the TARIC tree (hier_pos 4 rows)."""
        from matching import refdata

        out: dict[str, list[str]] = {}
        for lang in ("fr", "en", "de"):
            t = refdata.load_taric(lang, data_dir)
            t = t[t["hier_pos"] == 4]
            for code10, desc in zip(t["code10"], t["description"]):
                out.setdefault(code10[:4], []).append(clean_label(desc))
        return out

    def label(self, code: str, lang: str = "fr") -> str:
        """The best label we have for a CN8/HS6/HS4 code in ``lang`` (French first: advisors read French).

        CN8: the self-explanatory CN text; HS6/HS4: the crosswalk's TARIC heading text, else HS 2022 EN.
        """
        if len(code) == 8:
            table = {"fr": self.label_fr, "en": self.label_en, "de": self.label_de}.get(lang, self.label_fr)
            if code in table:
                return table[code]
        elif lang != "en":
            found = _crosswalk(self._data_dir).labels(code, lang)
            if found:
                return found
        return self.hs_label.get(code, self.label_fr.get(code, ""))

    def exists(self, digits: str) -> bool:
        return digits in self.label_fr or digits in self._hs6_set or digits in self._hs4_set or digits in self.hs_label

    @property
    def semantic_available(self) -> bool:
        return self._encoder is not None

    def _embeddings(self) -> np.ndarray | None:
        """Label embeddings of an injected encoder, or None (packaged models: ``_label_embeddings``)."""
        if self._encoder is None or getattr(self, "_packaged", False):
            return None
        if self._emb is None:
            with self._sem_lock:
                if self._emb is None:
                    from matching.embed import cached_embeddings

                    texts = [clean_label(self.label_en.get(c) or self.label_fr[c]) for c in self.codes]
                    self._emb = cached_embeddings("cn8_en", texts, self._encoder)
        return self._emb

    def _label_embeddings(self):  # type: ignore[no-untyped-def]
        """The packaged model's label embeddings from its artifact, loaded once (None: channel off).

        Missing or stale artifact: an error when the channel was asked for (``semantic=True``),
        else the channel is switched off and ``semantic_unavailable`` says why and how to build it.
        """
        if self._encoder is None or not getattr(self, "_packaged", False):
            return None
        if self._labels is None:
            with self._sem_lock:
                if self._labels is None and self._encoder is not None:
                    from matching.products import semantic as _sem

                    spec = _sem.MODELS[self.semantic_model or _sem.DEFAULT_MODEL]
                    texts = _sem.label_texts_of(self.codes, self.label_fr, self.label_en, self.label_de, spec.max_chars)
                    try:
                        self._labels = _sem.load(self.semantic_model, codes=self.codes, texts=texts)
                    except _sem.SemanticArtifactError as exc:
                        if self.semantic_requested:
                            raise
                        import logging

                        logging.getLogger(__name__).warning("semantic channel off: %s", exc)
                        self.semantic_unavailable = str(exc)
                        self._encoder = None
        return self._labels

    # -------------------------------------------------------------- scoring
    def _query_texts(self, texts: Sequence[str]) -> tuple[list[str], list[str], list[str | None], list[float]]:
        lex, sem, langs, shares = [], [], [], []
        vocab = self._vocab_set()
        for t in texts:
            a = analyze(t)
            toks = [self._fix_typo(w, vocab) for w in a.tokens]
            head, purpose = split_purpose(t)
            if purpose:
                # "Filtre à air pour compresseur": the product words count twice, the purpose once.
                head_toks = [self._fix_typo(w, vocab) for w in analyze(head).tokens]
                lex.append(" ".join(head_toks + toks))
            else:
                lex.append(" ".join(toks))
            langs.append(a.lang)
            share = self._sem_shares.get(a.lang, self._sem_shares.get(None, 0.3))
            if not self._sem_expansions:  # a multilingual model reads the line as written
                sem.append(t or "")
                shares.append(share)
                continue
            own = set(analyze(t, expand=False).tokens)
            # Expansion words, once each and at most 10: the model's cost grows with length.
            extra = " ".join(list(dict.fromkeys(w for w in toks if w not in own))[:10])
            sem.append((t or "") + (" (" + extra + ")" if extra else ""))
            shares.append(share if a.lang == "en" or extra else min(share, _SEM_SHARE_NO_EXPANSION))
        return lex, sem, langs, shares

    @lru_cache(maxsize=1)  # noqa: B019 - one classifier per process, cached on purpose
    def _vocab_set(self) -> frozenset[str]:
        return frozenset(self.index.vocab)

    @lru_cache(maxsize=4096)  # noqa: B019
    def _fix_typo(self, word: str, vocab: frozenset[str]) -> str:
        """An out-of-vocabulary word in the inflected form the labels use ("feile" → "feilen",
        "zange" → "zangen": German plurals, which the shared plural stemming leaves alone), else,
        at 6+ letters, its closest vocabulary word (rapidfuzz ratio ≥ 88)."""
        if word in vocab or len(word) < 4:
            return word
        form = inflected_form(word, vocab)
        if form is not None:
            return form
        if len(word) < 6:
            return word
        from rapidfuzz import fuzz, process

        hit = process.extractOne(word, self._vocab_near_length(len(word)), scorer=fuzz.ratio, score_cutoff=88)
        return hit[0] if hit else word

    @lru_cache(maxsize=64)  # noqa: B019
    def _vocab_near_length(self, n: int) -> list[str]:
        """The vocabulary words that can reach ratio 88 with a word of ``n`` letters, in vocabulary order.

        ratio = 200·LCS/(n + m) ≤ 200·min(n, m)/(n + m), so m must lie within [0.785·n, 1.273·n];
        one letter of margin each side. The first best match is the same as over the whole
        vocabulary (the others cannot reach the cut-off), at a third of the cost.
        """
        lo, hi = int(n * 0.785) - 1, int(n * 1.273) + 1
        return [w for w in self.index.vocab if lo <= len(w) <= hi]

    def _score_matrix(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None], tuple[str, ...]]:
        lex, sem, langs, shares = self._query_texts(texts)
        s = self.index.scores(lex)
        s8, s6, s4, sc = (s[:, sl] for sl in self._slices)
        w8, w6, w4, wc = _DEPTH_WEIGHTS
        g6 = s6[:, self._map6]
        # A CN8 without a CPA link (1%) takes its HS6 evidence in place of the CPA one.
        gc = np.where(self._mapc >= 0, sc[:, np.maximum(self._mapc, 0)], g6) if sc.shape[1] else g6
        score = w8 * s8 + w6 * g6 + w4 * s4[:, self._map4] + wc * gc
        channels: tuple[str, ...] = ("lexical",)
        emb = self._embeddings()
        labels = self._label_embeddings()
        if (emb is not None or labels is not None) and self._encoder is not None:
            q = self._encoder(sem)
            q = np.asarray(q, dtype=np.float32)
            q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
            cos = labels.cosines(q, self._sem_floor) if labels is not None else np.clip(q @ emb.T, 0.0, 1.0)
            # Semantic evidence at HS4 too: the best CN8 cosine under each heading.
            share = np.array(shares, dtype=np.float32)[:, None]
            score = (1 - share) * score + share * cos
            channels = ("lexical", "semantic")
        # Empty queries: no evidence (all zero) stays zero and yields no products.
        return np.clip(score, 0.0, 1.0), langs, channels

    # -------------------------------------------------------------- public
    def classify(self, text: str, code: str | None = None, *, top_k: int = 10) -> ClassifyResult:
        """The most likely products of one line (see ``classify_many``)."""
        return self.classify_many([text], [code], top_k=top_k)[0]

    def classify_many(self, texts: Sequence[str], codes: Sequence[str | None] | None = None, *, top_k: int = 10) -> list[ClassifyResult]:
        """Classify a batch (queries are embedded in one batch). ``codes`` aligns with ``texts``."""
        texts = [t or "" for t in texts]
        codes = list(codes) if codes is not None else [None] * len(texts)
        if len(codes) != len(texts):
            raise ValueError(f"codes has {len(codes)} items, texts has {len(texts)}; expected the same length")
        # Each distinct text is scored once (BOMs repeat lines), in one batch.
        uniq = list(dict.fromkeys(t for t in texts if analyze(t).text))
        if uniq:
            mat, langs_sub, channels = self._score_matrix(uniq)
            pos = {t: k for k, t in enumerate(uniq)}
            rows = {i: mat[pos[t]] for i, t in enumerate(texts) if t in pos}
            langs = {i: langs_sub[pos[t]] for i, t in enumerate(texts) if t in pos}
        else:
            rows, langs, channels = {}, {}, ("lexical",)
        if self._encoder is None:
            channels = tuple(channels) + ("semantic-unavailable",) if self.semantic_requested is not False else tuple(channels)
        out = []
        for i, (t, c) in enumerate(zip(texts, codes)):
            text_products = self._rank(rows[i], top_k) if i in rows else []
            out.append(self._with_code(t, c, text_products, top_k, channels, langs.get(i)))
        return out

    def _rank(self, row: np.ndarray, top_k: int) -> list[ProductGuess]:
        """Best CN8 per HS6, HS6s ordered by their best CN8; an HS6 guess when its CN8s tie."""
        order = np.argpartition(-row, min(len(row) - 1, top_k * 8))[: top_k * 8]
        order = order[np.argsort(-row[order])]
        seen: dict[str, list[int]] = {}
        for j in order:
            if row[j] <= 0:
                break
            seen.setdefault(self.codes[j][:6], []).append(int(j))
        out: list[ProductGuess] = []
        for h6, js in seen.items():
            best = js[0]
            sc = float(row[best])
            siblings = [j for j in js[1:] if row[best] - row[j] < 0.01]
            if siblings and h6 in self.hs_label:
                out.append(ProductGuess(h6, "HS6", self.label(h6), round(sc, 4), "text"))
            else:
                code = self.codes[best]
                out.append(ProductGuess(code, "CN8", self.label_fr[code], round(sc, 4), "text"))
            if len(out) >= top_k:
                break
        return out

    def _with_code(self, text: str, code: str | None, products: list[ProductGuess], top_k: int, channels: tuple[str, ...], lang: str | None) -> ClassifyResult:
        warnings: list[str] = []
        if not code or not str(code).strip():
            if not products:
                warnings.append("no product recognised in the description and no code given")
            return ClassifyResult(products, warnings, channels, lang)
        parsed = try_parse_code(str(code))
        if parsed is None:
            warnings.append(f"code {code!r} is not a valid HS/CN code; used the description only")
            return ClassifyResult(products, warnings, channels, lang)
        digits = _canonical(parsed.digits, self)
        if digits is None:
            warnings.append(f"code {code!r} does not exist in CN 2023 / HS 2022; used the description only")
            return ClassifyResult(products, warnings, channels, lang)
        system = {8: "CN8", 6: "HS6", 4: "HS4", 2: "HS2"}.get(len(digits), "CN8")
        given_label = self.label(digits)
        if not products:  # no usable text: the code alone
            return ClassifyResult([ProductGuess(digits, system, given_label, 0.9, "given")], warnings, channels + ("code",), lang)
        top = products[: min(3, len(products))]
        # A reading supports the code when it shares its heading: a chapter (84, 85, 39) holds dozens.
        agree = [p for p in top if code_similarity(digits, p.code) >= CODE_AGREE_MIN]
        confident = products[0].score >= _CONFIDENT
        if agree:
            best = max(p.score for p in agree)
            given = ProductGuess(digits, system, given_label, round(min(1.0, 0.9 + 0.1 * best), 4), "given+text")
            rest = [p for p in products if p.code != digits]
            return ClassifyResult([given, *rest][:top_k], warnings, channels + ("code",), lang)
        if confident:
            warnings.append(
                f"code {parsed.written!r} ({given_label[:60]}) disagrees with the description, which reads as "
                f"{products[0].code} ({products[0].label[:60]}); both readings are kept"
            )
            given = ProductGuess(digits, system, given_label, round(products[0].score * 0.95, 4), "given")
            merged = sorted([given, *products], key=lambda p: -p.score)
            return ClassifyResult(merged[:top_k], warnings, channels + ("code",), lang)
        given = ProductGuess(digits, system, given_label, 0.8, "given")
        if CODE_HEDGE > 0:
            warnings.append(
                f"code {parsed.written!r} ({given_label[:60]}) is not supported by the description, which reads "
                f"best as {products[0].code} ({products[0].label[:60]}); producers of both readings are shown"
            )
        return ClassifyResult([given, *[p for p in products if p.code != digits]][:top_k], warnings, channels + ("code",), lang)

    # ---------------------------------------------------------- activities
    def activities_from_text(self, text: str, *, top_k: int = 10) -> list[ActivityGuess]:
        """NAF sous-classes whose labels and French NACE notes match the text (route "text")."""
        return self._activities_index().search(text, top_k=top_k)

    def prefetch_text_activities(self, texts: Sequence[str]) -> None:
        """Score the text activities of many lines at once (what ``activities_for_line`` asks for
        next, one line at a time, then finds in the cache): one sparse product per batch."""
        self._activities_index().search_many(texts, top_k=TEXT_ACTIVITIES)

    def _activities_index(self) -> _ActivityIndex:
        if self._activity_index is None:
            self._activity_index = _ActivityIndex(self._data_dir)
        return self._activity_index

    def activities_for_line(self, products: Sequence[ProductGuess], text: str, *, top_k: int = 10) -> list[ActivityGuess]:
        """Crosswalk activities of the top products (weighted by product score × route confidence)
        merged per NAF (noisy-or) with the text activities; sorted, scores in [0, 1]."""
        merged: dict[str, ActivityGuess] = {}
        acc: dict[str, float] = {}
        xw = _crosswalk(self._data_dir)
        if products:
            top = products[0].score or 1.0
            # A written code the description does not support (``_with_code``: source "given"
            # ahead of the text's readings) is one hypothesis, the description's best reading
            # another: the text readings are weighed against their own best, at CODE_HEDGE of the
            # code's weight, instead of being dropped for scoring below half the code.
            text_top = next((p.score for p in products if p.source == "text"), 0.0)
            hedge = CODE_HEDGE > 0 and products[0].source == "given" and text_top > 0
            second: dict[str, float] = {}
            for p in products[:5]:
                rel = p.score / top if top else 0.0
                weight = p.score
                if hedge and p.source == "text":
                    rel = p.score / text_top
                    weight = CODE_HEDGE * top
                if rel < 0.5 and p.source == "text":
                    continue
                for a in xw.activities_for(p.code):
                    s = float(np.clip(weight * a.score * (rel ** 2), 0.0, 1.0))
                    if hedge and p.source == "text":  # the best text reading only: never above the code
                        second[a.naf] = max(second.get(a.naf, 0.0), s)
                    else:
                        acc[a.naf] = 1 - (1 - acc.get(a.naf, 0.0)) * (1 - s)
                    if a.naf not in merged or s > merged[a.naf].score:
                        merged[a.naf] = a
            for naf, s in second.items():
                acc[naf] = 1 - (1 - acc.get(naf, 0.0)) * (1 - s)
        for a in self.activities_from_text(text, top_k=TEXT_ACTIVITIES):
            s = 0.6 * a.score
            acc[a.naf] = 1 - (1 - acc.get(a.naf, 0.0)) * (1 - s)
            merged.setdefault(a.naf, a)
        out = [
            ActivityGuess(naf, g.label, round(float(np.clip(acc[naf], 0, 1)), 4), g.route, g.via, g.wholesale)
            for naf, g in merged.items()
        ]
        out.sort(key=lambda a: (a.wholesale, -a.score))
        return out[:top_k]


class _ActivityIndex:
    """Lexical index over NAF sous-classe labels + French NACE include notes."""

    def __init__(self, data_dir: str | Path | None) -> None:
        self.naf, self.labels, self.index = self._load_or_build(data_dir)
        # Per (analyzed text, top_k): a service sees the same lines again and again (bounded LRU).
        self._cache: OrderedDict[tuple[str, int], tuple[ActivityGuess, ...]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = 4096

    @staticmethod
    def _docs(data_dir: str | Path | None) -> tuple[list[str], dict[str, str], list[str]]:
        from matching import refdata

        naf = refdata.load_naf(data_dir)
        # Only activities that make or sell goods: agriculture, mining, manufacturing (01–33) and
        # wholesale (46, flagged). Retail, transport or finance notes mention products too
        # ("commerce de détail de quincaillerie") but never supply a BOM line.
        div = naf["NIV5"].str[:2].astype(int)
        naf = naf[(div <= 33) | (div == 46)]
        nace = refdata.load_nace("fr", data_dir).set_index("nace2")
        docs = []
        for code, lab5, lab4, n4 in zip(naf["NIV5"], naf["LIB_NIV5"], naf["LIB_NIV4"], naf["NIV4"]):
            note = ""
            if n4 in nace.index:
                row = nace.loc[n4]
                note = f"{row['Include']} {row['Include_Also']}"
            note = re.sub(r"(?i)cette classe comprend(?: egalement| également)?\s*:?", " ", note)
            docs.append(analyze(f"{lab5} . {lab5} . {lab4} . {note}", lang=False, expand=False).text)
        return naf["NIV5"].tolist(), dict(zip(naf["NIV5"], naf["LIB_NIV5"])), docs

    @classmethod
    def _load_or_build(cls, data_dir: str | Path | None) -> tuple[list[str], dict[str, str], _LexIndex]:
        """(NAF codes, labels, index): fitted once per bundle and text tables into the cache folder
        ``classify-act-<key>`` (like the nomenclature index), only loaded at start-up."""
        import json

        from matching import text as _text
        from matching.embed import cache_dir
        from matching.refcache import files_digest

        key = files_digest(("naf", "nace_fr"), data_dir, salt=_INDEX_VERSION + "/activities",
                           extra=(Path(_text.__file__), *sorted(_text.RESOURCES.glob("*.csv"))))
        folder = cache_dir() / f"classify-act-{key}"
        if (folder / "done").exists():
            try:
                meta = json.loads((folder / "naf.json").read_text(encoding="utf-8"))
                idx = _LexIndex.load(folder)
                _prune_old_indexes(folder)
                return meta["naf"], meta["labels"], idx
            except (OSError, ValueError, KeyError):
                pass
        codes, labels, docs = cls._docs(data_dir)
        idx = _LexIndex(docs)
        try:
            tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
            idx.save(tmp)
            (tmp / "naf.json").write_text(json.dumps({"naf": codes, "labels": labels}, ensure_ascii=False),
                                          encoding="utf-8")
            (tmp / "done").write_text("ok")
            try:
                tmp.rename(folder)
            finally:
                if tmp.exists():
                    import shutil

                    shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass
        _prune_old_indexes(folder)
        return codes, labels, idx

    def search(self, text: str, *, top_k: int = 10) -> list[ActivityGuess]:
        return self.search_many([text], top_k=top_k)[0]

    def search_many(self, texts: Sequence[str], *, top_k: int = 10) -> list[list[ActivityGuess]]:
        """``search`` of each text; the texts not in the cache are scored in ONE sparse product
        (each row is computed as alone, so the guesses are the same as one at a time)."""
        qs = [analyze(t).text for t in texts]
        found: dict[str, tuple[ActivityGuess, ...]] = {}
        with self._cache_lock:
            for q in dict.fromkeys(q for q in qs if q):
                hit = self._cache.get((q, top_k))
                if hit is not None:
                    self._cache.move_to_end((q, top_k))
                    found[q] = hit
        missing = [q for q in dict.fromkeys(qs) if q and q not in found]
        if missing:
            rows = self.index.scores(missing)
            fresh = {q: self._guesses(rows[i], top_k) for i, q in enumerate(missing)}
            found.update(fresh)
            with self._cache_lock:
                for q, g in fresh.items():
                    self._cache[(q, top_k)] = g
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [list(found[q]) if q else [] for q in qs]

    def _guesses(self, s: np.ndarray, top_k: int) -> tuple[ActivityGuess, ...]:
        order = np.argsort(-s)[:top_k]
        top = float(s[order[0]]) if len(order) else 0.0
        out = []
        for j in order:
            if s[j] <= 0 or s[j] < 0.3 * top:
                break
            naf = self.naf[j]
            out.append(ActivityGuess(naf, self.labels[naf], round(float(min(1.0, s[j] * 1.5)), 4), "text",
                                     (f"texte → NAF {naf}",), naf.startswith("46")))
        return tuple(out)


def _prune_old_indexes(keep: Path, *, older_than_s: float = 600.0) -> None:
    """Remove lexical-index folders of other (older) versions from the cache, once they are
    more than ten minutes old (a process still loading one is given time)."""
    import shutil
    import time

    now = time.time()
    for d in keep.parent.glob(keep.name.rsplit("-", 1)[0] + "-*"):
        try:
            if d != keep and now - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


# ------------------------------------------------------------- crosswalk glue
def _crosswalk(data_dir: str | Path | None) -> Crosswalk:
    """The foundation crosswalk, shared with the rest of the engine (cached per data dir)."""
    from matching.codes import get_crosswalk

    return get_crosswalk(data_dir)


def _canonical(digits: str, clf: ProductClassifier) -> str | None:
    """The nomenclature code a written code stands for (itself, or its nearest existing parent)."""
    try:
        return _crosswalk(clf._data_dir).canonical(digits).digits
    except CodeError:
        pass
    for d in (digits, digits[:8], digits[:6], digits[:4]):
        if d and clf.exists(d):
            return d
    return None


def _lazy_query_encoder(key: str) -> Encoder:
    """The query encoder of packaged model ``key``, loaded at its first call (not at import)."""

    def encode(texts: list[str]) -> np.ndarray:
        from matching.products.semantic import encoders

        return encoders(key).query(texts)

    return encode


_CACHE: dict[tuple[str, bool | None, str | None], ProductClassifier] = {}
_CACHE_LOCK = threading.Lock()


def get_classifier(data_dir: str | Path | None = None, *, semantic: bool | None = None,
                   semantic_model: str | None = None) -> ProductClassifier:
    """The process-wide classifier for a data directory (built on first call, then cached).

    ``semantic=None`` uses the packaged model when installed and its label embeddings are built,
    ``False`` forces lexical only; ``semantic_model`` = ``minilm`` | ``e5`` (default
    ``$RELOCMATCH_SEMANTIC_MODEL``, else minilm).
    """
    from matching.products.semantic import model_key
    from matching.refdata import data_dir as _dd

    key = (str(_dd(data_dir).resolve()), semantic, model_key(semantic_model) if semantic is not False else None)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = ProductClassifier(data_dir, semantic=semantic, semantic_model=key[2])
        return _CACHE[key]


def classify(text: str, code: str | None = None, *, top_k: int = 10, data_dir: str | Path | None = None) -> ClassifyResult:
    """Convenience: ``get_classifier(data_dir).classify(text, code)``."""
    return get_classifier(data_dir).classify(text, code, top_k=top_k)


def activities_from_text(text: str, *, top_k: int = 10, data_dir: str | Path | None = None) -> list[ActivityGuess]:
    return get_classifier(data_dir).activities_from_text(text, top_k=top_k)


def activities_for_line(products: Sequence[ProductGuess], text: str, *, data_dir: str | Path | None = None) -> list[ActivityGuess]:
    return get_classifier(data_dir).activities_for_line(products, text)
