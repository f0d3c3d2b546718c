"""Is a line a bought service? A service/goods classifier learned from the nomenclature's texts.

Why: the cue table and the nomenclature's service heads (``services.py``) catch a service by its
head noun. Buyers often name a service by what is done or paid, in words that are nobody's
head: "Recouvrement créances clients export, commission 8 %", "Group health and disability
cover for employees – 2026 premium", "Achat d'espace bannières web via régie publicitaire".
The nomenclature says which words belong to services: the NACE/CPA service items
(``services.docs_short``: names, NAF labels and every item of the "comprend" notes, FR and EN)
against the goods labels (CN8 and TARIC, FR and EN) and the manufacturing classes' own items.
A logistic regression over word and character n-grams, trained on those texts and on one
buyer-style variant of each (``synth.query_variant``: truncation, abbreviations, typos, upper
case, sizes), says how much a line reads like the service side. No evaluation line is used.

The pipeline asks it only about lines with no service cue, no customs code and a weak goods
reading (``services.ServiceClassifier.read``): a strong goods reading or a written code says goods.
Trained once (~30 s) into the cache folder, keyed by the reference files' bytes and this module;
loaded after that (< 1 s). The reference data holds no German service text, so German lines
rarely reach its bar: they keep the cue table and the multilingual channel.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matching.text import fold

log = logging.getLogger(__name__)

DETECTOR_VERSION = "service-detector-1"
# What it is trained from (their bytes key the cached model).
SOURCES = ("nace_fr", "nace_en", "cpa_en", "nace2_cpa21_fr", "naf", "nace2_cpa21", "cn8_fr", "cn8_en",
           "taric_fr", "taric_en")
_SEED = 7
_C = 4.0  # inverse regularisation; C = 1 caught fewer service lines, C = 16 more goods lines (docs/quality.md)


def training_texts(data_dir: str | Path | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(service texts, goods texts) as (text, lang) pairs, FR and EN: the service classes' items
    against the goods labels (CN8, TARIC) and the items of the producing classes (divisions 01–32:
    "fabrication de ..." is goods; repair and installation, 33, is a service)."""
    from matching import refdata
    from matching.codes import get_crosswalk
    from matching.products.services import SERVICE_DIVISIONS, docs_short

    xw = get_crosswalk(data_dir)
    nace = refdata.load_nace("fr", data_dir)
    classes = sorted({str(c) for c in nace["nace2"] if len(str(c)) == 5})
    service = [c for c in classes if c[:2] in SERVICE_DIVISIONS]
    making = [c for c in classes if c[:2] < "35" and c[:2] not in SERVICE_DIVISIONS]
    _, s_texts, s_langs = docs_short(data_dir, service, xw)
    _, m_texts, m_langs = docs_short(data_dir, making, xw)
    goods: list[tuple[str, str]] = []
    for lang in ("fr", "en"):
        goods += [(str(t), lang) for t in refdata.load_cn8(lang, data_dir)["description"]]
        goods += [(str(t).lstrip("- "), lang) for t in refdata.load_taric(lang, data_dir)["description"]]
    goods = list(dict.fromkeys(goods + list(zip(m_texts, m_langs, strict=True))))
    return list(zip(s_texts, s_langs, strict=True)), goods


class ServiceDetector:
    """P(service) of a line's text, from word and character n-grams."""

    def __init__(self, vectorizers: Sequence[Any], model: Any) -> None:
        self._vectorizers = tuple(vectorizers)
        self._model = model

    def _matrix(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        folded = [fold(t or "") for t in texts]
        return hstack([v.transform(folded) for v in self._vectorizers]).tocsr()

    def probabilities_sklearn(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's own ``transform`` and ``predict_proba``: what ``probabilities`` computes."""
        if not texts:
            return np.zeros(0)
        return self._model.predict_proba(self._matrix(texts))[:, 1]

    def _scorer(self) -> list[tuple[Any, dict[str, int], np.ndarray, np.ndarray]]:
        """Per vectorizer: its analyzer, vocabulary, idf and the model's weights for its columns."""
        parts = getattr(self, "_parts", None)
        if parts is None:
            coef = np.asarray(self._model.coef_, dtype=np.float64).ravel()
            parts, offset = [], 0
            for v in self._vectorizers:
                n = len(v.vocabulary_)
                parts.append((v.build_analyzer(), v.vocabulary_, np.asarray(v.idf_, dtype=np.float64),
                              coef[offset:offset + n]))
                offset += n
            self._parts = parts
        return parts

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """P(service) per text: the TF-IDF (sublinear tf, l2 per vectorizer) dotted with the
        weights directly. Why not ``predict_proba``: scikit-learn's input checks cost ~2 ms per
        call, and the reader asks one line at a time (~0.1 ms here; the tests check the two agree)."""
        out = np.zeros(len(texts))
        intercept = float(np.asarray(self._model.intercept_).ravel()[0])
        for i, text in enumerate(texts):
            z = intercept
            folded = fold(text or "")
            for analyze, vocab, idf, w in self._scorer():
                counts: dict[int, int] = {}
                for gram in analyze(folded):
                    j = vocab.get(gram)
                    if j is not None:
                        counts[j] = counts.get(j, 0) + 1
                if not counts:
                    continue
                cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
                vals = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[cols]
                z += float(vals @ w[cols]) / float(np.sqrt(vals @ vals))
            out[i] = 1.0 / (1.0 + np.exp(-z))
        return out

    def probability(self, text: str) -> float:
        return float(self.probabilities([text])[0])

    @classmethod
    def fit(cls, service: Sequence[tuple[str, str]], goods: Sequence[tuple[str, str]], *,
            variants: bool = True, seed: int = _SEED) -> ServiceDetector:
        """Train on (text, lang) pairs of each side, plus one buyer-style variant of each text when
        ``variants`` (measured: 15 development service lines caught for 3 goods lines, against
        12 for 3 without)."""
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        from matching.products.synth import query_variant

        pos, neg = list(service), list(goods)
        if not pos or not neg:
            raise ValueError(f"service detector: {len(pos)} service and {len(neg)} goods texts; both sides are needed")
        if variants:
            rng = random.Random(seed)
            pos += [(query_variant(t, lg, rng)[0], lg) for t, lg in service]
            neg += [(query_variant(t, lg, rng)[0], lg) for t, lg in goods]
        texts = [fold(t) for t, _ in pos] + [fold(t) for t, _ in neg]
        y = np.array([1] * len(pos) + [0] * len(neg))
        vecs = [TfidfVectorizer(analyzer="word", token_pattern=r"[a-z0-9]{2,}", sublinear_tf=True,
                                min_df=2 if len(texts) > 1000 else 1),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                min_df=3 if len(texts) > 1000 else 1, max_features=300_000)]
        X = hstack([v.fit_transform(texts) for v in vecs]).tocsr()
        model = LogisticRegression(C=_C, max_iter=3000, class_weight="balanced").fit(X, y)
        return cls(vecs, model)


_SHARED: dict[str, ServiceDetector] = {}
_LOCK = threading.Lock()


def get_detector(data_dir: str | Path | None = None) -> ServiceDetector:
    """The detector of this reference-data folder: from the cache when current, else trained and
    cached (a read-only cache: trained again next process)."""
    key = str(data_dir or "")
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = _cached(data_dir)
        return _SHARED[key]


def _cached(data_dir: str | Path | None) -> ServiceDetector:
    import sklearn

    from matching.embed import cache_dir
    from matching.refcache import files_digest

    digest = files_digest(SOURCES, data_dir, salt=f"{DETECTOR_VERSION}|sklearn {sklearn.__version__}",
                          extra=(Path(__file__), Path(__file__).with_name("services.py"),
                                 Path(__file__).with_name("synth.py")))
    path = cache_dir() / f"service-detector-{digest}.pkl"
    try:
        with path.open("rb") as fh:
            obj = pickle.load(fh)  # noqa: S301 - our own cache file, keyed by the sources' digest
        if isinstance(obj, ServiceDetector):
            return obj
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    t0 = time.perf_counter()
    log.info("training the service detector from the nomenclature (once, cached in %s)", path.parent)
    det = ServiceDetector.fit(*training_texts(data_dir))
    log.info("service detector trained in %.0f s", time.perf_counter() - t0)
    try:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(det, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        for old in path.parent.glob("service-detector-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return det
