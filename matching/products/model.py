"""A linear classifier over hashed word and character n-grams, trained on synthetic queries.

Why this shape: 5,600 HS6 classes × a million hashed n-grams is too large for a dense
scikit-learn linear model (one-vs-rest SGD over 5,600 classes does not train in minutes on two
cores, a dense coefficient matrix does not fit in memory). A factorised linear model — every
n-gram an embedding of 64 numbers, a line the weighted sum of its n-grams, a softmax layer over
HS6 (fastText's architecture) — is the same kind of linear model over the same features, with
a low-rank weight matrix. It is trained once with PyTorch (``train``) and scored with NumPy
(``ProductModel.predict``), so start-up never imports torch.

Features (``Featurizer``): the normalised words (``matching.text.analyze`` without the trade-word
expansions) and their bigrams, the head noun as its own feature (``h_<head>``), the parts of
German compounds (``Werkzeugkoffer`` → ``werkzeug``, ``koffer``), character 3–5-grams of the
words; word and character groups weigh half each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.products.heads import parse
from matching.text import analyze, stem

FEATURE_VERSION = "f5"  # f5: stems of "-ies" and consonant + "y" words end in "-ie" (text.stem, session 23)
N_WORD = 2**18
N_CHAR = 2**18


class _Hashing:
    """``HashingVectorizer(alternate_sign=False, norm=None, dtype=float32)`` over one of the two
    analyzers of ``matching.classify``, without scikit-learn (its import costs ~2 s of every
    start-up): the same MurmurHash3 (x86, 32-bit, seed 0) of each UTF-8 n-gram, column
    ``abs(hash) % n_features``, counts summed per column. ``tests/products/test_model.py``
    checks the matrices against scikit-learn's."""

    def __init__(self, analyzer, n_features: int) -> None:  # noqa: ANN001
        self.analyzer, self.n_features = analyzer, n_features

    def transform(self, docs: Sequence[str]):  # type: ignore[no-untyped-def]
        import mmh3
        import scipy.sparse as sp

        indices: list[int] = []
        indptr = [0]
        n = self.n_features
        for doc in docs:
            indices.extend(abs(mmh3.hash(g, 0, signed=True)) % n for g in self.analyzer(doc))
            indptr.append(len(indices))
        X = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)), shape=(len(docs), n))
        X.sum_duplicates()
        return X


class Featurizer:
    """Line text → sparse feature rows (hashed n-grams, no fitted state)."""

    def __init__(self, lexicon, *, n_word: int = N_WORD, n_char: int = N_CHAR) -> None:  # noqa: ANN001
        from matching.classify import char_wb_ngrams, word_ngrams

        self.lexicon = lexicon
        self.n_word, self.n_char = n_word, n_char
        self.word = _Hashing(word_ngrams, n_word)
        self.char = _Hashing(char_wb_ngrams, n_char)

    def words(self, text: str, lang: str | None = None) -> tuple[str, str]:
        """(word-feature text, character-feature text) of one line."""
        toks = list(analyze(text, expand=False).tokens)
        extra: list[str] = []
        p = parse(text, lang=lang, lexicon=self.lexicon)
        if p.head:
            extra.append("h_" + stem(p.head))
        split = self.lexicon.splitter.split
        for w in toks:
            if len(w) >= 7:
                parts = split(w)
                if len(parts) > 1:
                    extra.extend(stem(x) for x in parts)
        return " ".join(toks + extra), " ".join(toks)

    def matrix(self, texts: Sequence[str], langs: Sequence[str | None] | None = None):  # type: ignore[no-untyped-def]
        """CSR (n, n_word + n_char): each group L1-normalised to weigh 0.5 (an empty group weighs 0)."""
        import scipy.sparse as sp

        langs = list(langs) if langs is not None else [None] * len(texts)
        pairs = [self.words(t, lang) for t, lang in zip(texts, langs)]
        Xw = self.word.transform([w for w, _ in pairs])
        Xc = self.char.transform([c for _, c in pairs])
        for X in (Xw, Xc):
            s = np.asarray(X.sum(axis=1)).ravel()
            s[s == 0] = 1.0
            X.data *= np.repeat(0.5 / s, np.diff(X.indptr)).astype(np.float32)
        return sp.hstack([Xw, Xc], format="csr", dtype=np.float32)


@dataclass
class ProductModel:
    """Embeddings (n_features × dim), output layer (dim × classes), bias; classes are HS6 codes."""

    E: np.ndarray
    W: np.ndarray
    b: np.ndarray
    classes: list[str]

    def logits(self, X) -> np.ndarray:  # noqa: ANN001 - scipy CSR
        """Row sums of the n-gram embeddings (gathered, so a float16 memory map is never copied whole)."""
        n = X.shape[0]
        dim = self.E.shape[1]
        emb = np.zeros((n, dim), dtype=np.float32)
        if X.nnz:
            rows = np.asarray(self.E[X.indices], dtype=np.float32) * X.data[:, None]
            nonempty = np.diff(X.indptr) > 0
            starts = X.indptr[:-1][nonempty]
            emb[nonempty] = np.add.reduceat(rows, starts, axis=0)
        return emb @ self.W + self.b

    def predict_proba(self, X) -> np.ndarray:  # noqa: ANN001
        z = self.logits(X)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    # ------------------------------------------------------------------ persistence
    def save(self, folder: Path) -> dict[str, int]:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "embeddings.npy", self.E.astype(np.float16), allow_pickle=False)
        np.save(folder / "output.npy", self.W.astype(np.float32), allow_pickle=False)
        np.save(folder / "bias.npy", self.b.astype(np.float32), allow_pickle=False)
        (folder / "classes.json").write_text(json.dumps(self.classes))
        return {"n_features": int(self.E.shape[0]), "dim": int(self.E.shape[1]), "classes": len(self.classes)}

    @classmethod
    def load(cls, folder: Path) -> ProductModel:
        E = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        W = np.load(folder / "output.npy", allow_pickle=False)
        b = np.load(folder / "bias.npy", allow_pickle=False)
        classes = json.loads((folder / "classes.json").read_text())
        if W.shape != (E.shape[1], len(classes)) or b.shape != (len(classes),):
            raise ValueError(f"model arrays in {folder} do not fit together: E {E.shape}, W {W.shape}, "
                             f"b {b.shape}, {len(classes)} classes")
        return cls(E, W, b, classes)


def train(X, y: np.ndarray, classes: list[str], *, dim: int = 48, epochs: int = 3, batch: int = 1024,  # noqa: ANN001
          lr: float = 0.02, seed: int = 12, log=print) -> tuple[ProductModel, dict[str, float]]:  # noqa: ANN001
    """Fit the factorised linear model with PyTorch (softmax cross-entropy, Adam, sparse embeddings)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_feat, n_cls = X.shape[1], len(classes)
    bag = torch.nn.EmbeddingBag(n_feat, dim, mode="sum", sparse=True)
    torch.nn.init.normal_(bag.weight, std=0.05)
    out = torch.nn.Linear(dim, n_cls)
    opt_e = torch.optim.SparseAdam(list(bag.parameters()), lr=lr)
    opt_w = torch.optim.Adam(list(out.parameters()), lr=lr)
    indptr, indices, data = X.indptr, X.indices.astype(np.int64), X.data.astype(np.float32)
    n = X.shape[0]
    stats: dict[str, float] = {}
    t0 = time.perf_counter()
    for ep in range(epochs):
        order = rng.permutation(n)
        total, seen, correct = 0.0, 0, 0
        for g in (opt_e, opt_w):
            for pg in g.param_groups:
                pg["lr"] = lr * (1.0 - ep / epochs)  # linear decay, as fastText
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            starts, ends = indptr[idx], indptr[idx + 1]
            lens = ends - starts
            flat = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(idx) else np.array([], int)
            inp = torch.from_numpy(indices[flat])
            w = torch.from_numpy(data[flat])
            offs = torch.from_numpy(np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64))
            logits = out(bag(inp, offs, per_sample_weights=w))
            target = torch.from_numpy(y[idx].astype(np.int64))
            loss = torch.nn.functional.cross_entropy(logits, target)
            opt_e.zero_grad()
            opt_w.zero_grad()
            loss.backward()
            opt_e.step()
            opt_w.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            correct += int((logits.argmax(1) == target).sum())
        stats[f"epoch{ep + 1}_loss"] = round(total / max(1, seen), 4)
        stats[f"epoch{ep + 1}_train_acc"] = round(correct / max(1, seen), 4)
        log(f"epoch {ep + 1}/{epochs}: loss {total / max(1, seen):.3f}, train acc {correct / max(1, seen):.3f}, "
            f"{time.perf_counter() - t0:.0f}s")
    stats["train_seconds"] = round(time.perf_counter() - t0, 1)
    model = ProductModel(bag.weight.detach().numpy().copy(), out.weight.detach().numpy().T.copy(),
                         out.bias.detach().numpy().copy(), list(classes))
    return model, stats
