"""The one entry point of product understanding: lexical channels + learned model + head nouns.

``get_products(data_dir, semantic=...)`` returns a ``ProductUnderstanding``: the
``matching.classify.ProductClassifier`` API (``classify``, ``classify_many``,
``activities_for_line``, ``label``...) so the pipeline uses it as its classifier, with the
score of every CN8 blended from three readings of the line:

    score = (1 - a) · [(1 - b) · lexical(full line) + b · lexical(head + core words)] + a · √P_model(HS6)

- lexical(full line): the existing TF-IDF (+ semantic when on) channel of classify.py;
- lexical(core): the same index queried with the head noun and its complements only
  (``heads.parse``: no material, size, standard or pack word), so a modifier cannot choose
  the chapter on its own ("poignée de porte laiton" is queried as "poignee porte" too);
- P_model: the HS6 probabilities of the model trained on synthetic queries (``model.py``),
  loaded from the artifact (``artifacts.py``).

``understand_many`` also returns, per line, what a confidence/abstention step needs: the head
parse, the model's top HS6 and probability, the top score and margin, and whether the model
and the lexical channel agree on the heading.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from matching.classify import ClassifyResult, Encoder, ProductClassifier

MODEL_SHARE = 0.3  # a
CORE_SHARE = 0.3  # b


COMPOUND_REQUERY = True
HEAD_TWICE = True  # re-query the head parse's core when it cut a German compound


@dataclass(frozen=True)
class LineUnderstanding:
    """One line as understood: the classifier result plus the evidence behind it."""

    result: ClassifyResult
    head: str
    core: tuple[str, ...]
    modifiers: dict[str, tuple[str, ...]]
    lang: str | None
    model_top: tuple[tuple[str, float], ...]  # (HS6, probability), best first
    top_score: float
    margin: float  # top score − second product's score
    agree_hs4: bool  # the model's best HS6 and the final best product share the heading
    channels: tuple[str, ...] = field(default_factory=tuple)


class ProductUnderstanding(ProductClassifier):
    """ProductClassifier whose scores also read the head noun and the learned model."""

    def __init__(self, data_dir: str | Path | None = None, *, artifact=None, encoder: Encoder | None = None,  # noqa: ANN001
                 semantic: bool | None = None, model_share: float = MODEL_SHARE, core_share: float = CORE_SHARE,
                 use_model: bool = True, use_heads: bool = True, semantic_model: str | None = None) -> None:
        super().__init__(data_dir, encoder=encoder, semantic=semantic, semantic_model=semantic_model)
        if artifact is None:
            from matching.products.artifacts import load

            artifact = load(None, data_dir)
        self.artifact = artifact
        self.model_share = model_share if use_model else 0.0
        self.core_share = core_share if use_heads else 0.0
        pos = {h: i for i, h in enumerate(artifact.model.classes)}
        self._cls_of_cn8 = np.array([pos.get(c[:6], -1) for c in self.codes])
        self._last: dict[str, tuple] = {}
        self._last_lock = threading.Lock()
        self._tls = threading.local()  # this thread's last batch: exact under concurrent requests

    # ------------------------------------------------------------------ channels
    def _lex_compose(self, texts: list[str]) -> np.ndarray:
        """Lexical CN8 scores of already prepared query strings (the depth mix of classify.py)."""
        from matching.classify import _DEPTH_WEIGHTS

        s = self.index.scores(texts)
        s8, s6, s4, sc = (s[:, sl] for sl in self._slices)
        w8, w6, w4, wc = _DEPTH_WEIGHTS
        g6 = s6[:, self._map6]
        gc = np.where(self._mapc >= 0, sc[:, np.maximum(self._mapc, 0)], g6) if sc.shape[1] else g6
        return w8 * s8 + w6 * g6 + w4 * s4[:, self._map4] + wc * gc

    def model_proba(self, texts: Sequence[str]) -> np.ndarray:
        """HS6 probabilities of the learned model, (n, n_classes)."""
        a = self.artifact
        return a.model.predict_proba(a.featurizer.matrix(list(texts)))

    def _score_matrix(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        from matching.products.heads import parse

        score, langs, channels = super()._score_matrix(texts)
        texts = list(texts)
        parses = [parse(t, lexicon=self.artifact.lexicon) for t in texts]
        if self.core_share > 0:
            # the head twice: a modifier left in the core ("Rohr" of "Rohrbündelwärmetauscher") must
            # not outweigh the product it modifies
            core = [(p.head + " " + p.core_text()) if HEAD_TWICE and p.head else p.core_text() for p in parses]
            # Only lines whose core differs from the line's own words are re-queried.
            # A German compound cut into head + modifiers counts as differing ("Plattenwärmetauscher").
            rows = [i for i, (p, t) in enumerate(zip(parses, texts))
                    if p.core and (len(p.modifiers) or (COMPOUND_REQUERY and p.head != p.head_word))]
            if rows:
                q, _, _, _ = self._query_texts([core[i] for i in rows])
                cs = self._lex_compose(q)
                score[rows] = (1 - self.core_share) * score[rows] + self.core_share * cs
            channels = (*channels, "heads")
        proba = None
        if self.model_share > 0:
            proba = self.model_proba(texts)
            m = np.sqrt(proba)[:, np.maximum(self._cls_of_cn8, 0)] * (self._cls_of_cn8 >= 0)
            score = (1 - self.model_share) * score + self.model_share * m
            channels = (*channels, "model")
        last = {t: (parses[i], None if proba is None else proba[i]) for i, t in enumerate(texts)}
        self._tls.last = last
        with self._last_lock:
            self._last = last
        return np.clip(score, 0.0, 1.0), langs, channels

    def classify_many(self, texts: Sequence[str], codes: Sequence[str | None] | None = None, *,  # type: ignore[override]
                      top_k: int = 10) -> list[ClassifyResult]:
        """The classifier's results, each with ``evidence``: the learned model's best HS6, its
        probability and whether it shares the heading of the final best product (read by
        ``matching.confidence``; computed in the same batch, nothing scored twice)."""
        self._tls.last = {}
        results = super().classify_many(texts, codes, top_k=top_k)
        last = getattr(self._tls, "last", None) or {}
        classes = self.artifact.model.classes
        out = []
        for t, r in zip(texts, results):
            proba = last.get(t or "", (None, None))[1]
            if proba is None:
                out.append(r)
                continue
            j = int(np.argmax(proba))
            top_hs6 = str(classes[j])
            agree = bool(r.products and r.products[0].code[:4] == top_hs6[:4])
            out.append(replace(r, evidence={"model_hs6": top_hs6, "model_p": round(float(proba[j]), 4),
                                            "model_agree_hs4": agree}))
        return out

    # ------------------------------------------------------------------ entry point
    def understand_many(self, texts: Sequence[str], codes: Sequence[str | None] | None = None, *,
                        top_k: int = 10) -> list[LineUnderstanding]:
        """``classify_many`` plus the evidence per line (head parse, model top, score margin, agreement)."""
        from matching.products.heads import parse

        results = self.classify_many(texts, codes, top_k=top_k)
        with self._last_lock:
            last = dict(self._last)
        out = []
        classes = self.artifact.model.classes
        for t, r in zip(texts, results):
            p, proba = last.get(t or "", (None, None))
            if p is None:
                p = parse(t or "", lexicon=self.artifact.lexicon)
            if proba is None and self.model_share > 0 and (t or "").strip():
                proba = self.model_proba([t])[0]
            top = ()
            if proba is not None:
                idx = np.argsort(-proba)[:5]
                top = tuple((classes[j], round(float(proba[j]), 4)) for j in idx)
            s = [x.score for x in r.products]
            best = s[0] if s else 0.0
            margin = best - (s[1] if len(s) > 1 else 0.0)
            agree = bool(top and r.products and top[0][0][:4] == r.products[0].code[:4])
            out.append(LineUnderstanding(r, p.head, p.core, p.modifiers, r.lang or p.lang, top, round(best, 4),
                                         round(margin, 4), agree, r.channels_used))
        return out

    def understand(self, text: str, code: str | None = None, *, top_k: int = 10) -> LineUnderstanding:
        return self.understand_many([text], [code], top_k=top_k)[0]


_CACHE: dict[tuple, ProductUnderstanding] = {}
_LOCK = threading.Lock()


def get_products(data_dir: str | Path | None = None, *, semantic: bool | None = None,
                 models: str | Path | None = None, semantic_model: str | None = None) -> ProductUnderstanding:
    """The process-wide product-understanding stage (artifact loaded once; ArtifactError if missing/stale)."""
    from matching.products.artifacts import default_folder, load
    from matching.products.semantic import model_key
    from matching.refdata import data_dir as _dd

    folder = Path(models) if models is not None else default_folder()
    sem_key = model_key(semantic_model) if semantic is not False else None
    key = (str(_dd(data_dir).resolve()), semantic, str(folder), sem_key)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = ProductUnderstanding(data_dir, artifact=load(folder, data_dir), semantic=semantic,
                                               semantic_model=sem_key)
        return _CACHE[key]


def enabled() -> bool:
    """The learned stage is the engine's default; ``RELOCMATCH_PRODUCTS=0`` falls back to classify.py alone."""
    import os

    return os.environ.get("RELOCMATCH_PRODUCTS", "1").strip().lower() not in ("0", "false", "no", "off")


def pipeline_classifier(data_dir: str | Path | None = None, *, semantic: bool | None = None,  # noqa: ANN201
                        semantic_model: str | None = None):
    """What the pipeline classifies with: this stage when enabled, else ``classify.get_classifier``."""
    if enabled():
        return get_products(data_dir, semantic=semantic, semantic_model=semantic_model)
    from matching.classify import get_classifier

    return get_classifier(data_dir, semantic=semantic, semantic_model=semantic_model)
