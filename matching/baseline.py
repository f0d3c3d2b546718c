"""The baseline relocmatch must beat: plain BM25 over supplier names and NAF labels.

What a developer without a crosswalk would build, and how public company search engines
work: the line's text is searched directly in the suppliers' names and activity labels
(bm25s with its own stock tokenizer and French stop words). No product codes, no
activities, no geography.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.index import naf_labels


@dataclass
class BM25Baseline:
    retriever: Any
    n_docs: int

    @classmethod
    def from_table(cls, table: Any, labels: dict[str, str] | None = None) -> BM25Baseline:
        """Index ``name + NAF label`` of every supplier of a catalog table."""
        import bm25s

        labels = naf_labels() if labels is None else labels
        names = table["name"].fillna("").astype(str).tolist()
        nafs = table["naf"].fillna("").astype(str).tolist()
        corpus = [f"{n} {labels.get(c, '')}" for n, c in zip(names, nafs, strict=True)]
        tokens = bm25s.tokenize(corpus, stopwords="fr", show_progress=False)
        r = bm25s.BM25()
        r.index(tokens, show_progress=False)
        return cls(r, len(corpus))

    def search(self, text: str, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) for a free-text query; empty when no word is known."""
        import bm25s

        q = bm25s.tokenize([text or ""], stopwords="fr", show_progress=False, return_ids=False)
        words = [w for w in q[0] if w in self.retriever.vocab_dict]
        if not words:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        docs, scores = self.retriever.retrieve([words], k=min(k, self.n_docs), show_progress=False, n_threads=1)
        keep = scores[0] > 0
        return docs[0][keep].astype(np.int64), scores[0][keep]
