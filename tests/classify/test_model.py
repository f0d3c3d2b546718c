"""The semantic channel with the REAL packaged model (runs in CI: a marker, not a skip)."""

from __future__ import annotations

import pytest


@pytest.mark.model
def test_real_model_loads_offline_and_helps_english_paraphrase(data_dir) -> None:
    from matching.classify import get_classifier
    from matching.embed import MODEL_NAME, default_encoder

    enc = default_encoder()
    assert enc is not None and getattr(enc, "model_name", "").startswith(MODEL_NAME)
    vec = enc(["ball bearing", "roller bearing", "cheese"])
    assert vec.shape == (3, 384)
    assert float(vec[0] @ vec[1]) > float(vec[0] @ vec[2])

    clf = get_classifier(data_dir)
    res = clf.classify_many(["deep groove ball bearings for electric motors", "cheddar cheese blocks"])
    assert all("semantic" in r.channels_used for r in res)
    assert res[0].products[0].code.startswith("8482")
    assert res[1].products[0].code.startswith("0406")


@pytest.mark.model
def test_loading_the_model_caps_numpy_blas_threads() -> None:
    """One thread for numpy's BLAS too: a second OpenBLAS thread busy-waits after the one-query
    cosine product and doubled the CPU time of a one-line match (docs/engine.md "Per-line cost")."""
    import os

    from threadpoolctl import threadpool_info

    from matching.embed import _load_model, default_encoder

    enc = default_encoder()  # the numpy runtime caps BLAS when it loads
    assert enc is not None
    enc(["roulement à billes"])
    _load_model()  # and the torch runtime too
    want = max(1, int(os.environ.get("RELOCMATCH_TORCH_THREADS", "1")))
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] <= want for i in blas)


def _cosines(a, b):  # type: ignore[no-untyped-def]
    import numpy as np

    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.model
def test_packed_forward_gives_what_encode_gives(data_dir) -> None:
    """Texts are embedded without SentenceTransformer.encode (no padding, no bookkeeping): ONE
    text gives the same bits as ``encode`` on every dev-set line, its semantic query (line +
    expansion words), truncated long texts and edge cases; a batch gives each row within
    rounding of ``encode``'s padded batch, whatever the batch's order and size."""
    import csv
    from pathlib import Path

    import numpy as np

    from matching.classify import get_classifier
    from matching.embed import PACK_TEXTS, _load_model, _packed_encoder, default_encoder

    enc = default_encoder("torch")
    assert enc is not None
    model = _load_model()
    assert _packed_encoder() is not None  # the packaged model has the expected shape
    devset = Path(__file__).resolve().parents[2] / "examples" / "devset" / "lines.csv"
    with devset.open(encoding="utf-8") as fh:
        lines = [r.get("description") or "" for r in csv.DictReader(fh)]
    _, sem, _, _ = get_classifier(data_dir)._query_texts(lines)
    texts = lines + sem + ["", " ", "x", "é" * 200, " ".join(["roulement à billes"] * 40), "Ölfilter für Kompressor"]
    for t in texts:
        ref = np.asarray(model.encode([t], batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True), dtype=np.float32)
        got = enc([t])
        assert got.dtype == np.float32 and got.shape == ref.shape == (1, 384)
        assert np.array_equal(got, ref), t
    # batches: packed end to end, attention per text; encode pads them (length-sorted)
    def ref_batch(ts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(ts, batch_size=64, normalize_embeddings=True, show_progress_bar=False,
                                       convert_to_numpy=True), dtype=np.float32)

    for batch in (texts[:5], texts[::-1][: PACK_TEXTS + 7], texts[100:140]):
        got, ref = enc(batch), ref_batch(batch)
        assert got.shape == ref.shape == (len(batch), 384) and got.dtype == np.float32
        cos = _cosines(got, ref)  # bf16 vectors are unit-norm only to ~0.5%: the classifier re-normalises
        assert cos.min() > 0.995, (cos.min(), batch[int(cos.argmin())])
        # and a text's vector does not depend on its neighbours beyond rounding
        alone = np.vstack([enc([t]) for t in batch[:5]])
        assert _cosines(got[:5], alone).min() > 0.995


def test_embed_dtype_setting(monkeypatch) -> None:
    """RELOCMATCH_EMBED_DTYPE forces the arithmetic; anything else is refused with the accepted values."""
    from matching.embed import embed_dtype
    from matching.errors import ConfigError

    try:
        monkeypatch.delenv("RELOCMATCH_EMBED_DTYPE", raising=False)
        embed_dtype.cache_clear()
        assert embed_dtype() == "float32"  # the default asks nothing of torch
        for value in ("float32", "bfloat16"):
            monkeypatch.setenv("RELOCMATCH_EMBED_DTYPE", value)
            embed_dtype.cache_clear()
            assert embed_dtype() == value
        monkeypatch.setenv("RELOCMATCH_EMBED_DTYPE", "fp8")
        embed_dtype.cache_clear()
        with pytest.raises(ConfigError, match="auto, float32 or bfloat16"):
            embed_dtype()
    finally:
        monkeypatch.delenv("RELOCMATCH_EMBED_DTYPE", raising=False)
        embed_dtype.cache_clear()


def test_embed_runtime_setting(monkeypatch) -> None:
    """numpy by default; RELOCMATCH_EMBED_RUNTIME forces one; bfloat16 exists on torch only."""
    from matching.embed import embed_dtype, embed_runtime
    from matching.errors import ConfigError

    monkeypatch.delenv("RELOCMATCH_EMBED_DTYPE", raising=False)
    monkeypatch.delenv("RELOCMATCH_EMBED_RUNTIME", raising=False)
    embed_dtype.cache_clear()
    try:
        assert embed_runtime() == "numpy"
        monkeypatch.setenv("RELOCMATCH_EMBED_RUNTIME", "torch")
        assert embed_runtime() == "torch"
        monkeypatch.setenv("RELOCMATCH_EMBED_RUNTIME", "onnx")
        with pytest.raises(ConfigError, match="expected numpy or torch"):
            embed_runtime()
        monkeypatch.setenv("RELOCMATCH_EMBED_DTYPE", "bfloat16")
        embed_dtype.cache_clear()
        monkeypatch.delenv("RELOCMATCH_EMBED_RUNTIME")
        assert embed_runtime() == "torch"
        monkeypatch.setenv("RELOCMATCH_EMBED_RUNTIME", "numpy")
        with pytest.raises(ConfigError, match="bfloat16 needs RELOCMATCH_EMBED_RUNTIME=torch"):
            embed_runtime()
    finally:
        monkeypatch.delenv("RELOCMATCH_EMBED_DTYPE", raising=False)
        embed_dtype.cache_clear()


@pytest.mark.model
def test_both_runtimes_give_the_same_vectors_under_one_name() -> None:
    """Label embeddings built by one runtime serve queries of the other: same name, same vectors."""
    import numpy as np

    from matching.embed import default_encoder

    lean, full = default_encoder("numpy"), default_encoder("torch")
    assert lean is not None and full is not None
    assert lean.model_name == full.model_name == "all-MiniLM-L6-v2@64"
    texts = ["roulement à billes 6205 2RS", "Luftfilter Motor Traktor", "paper cups 8 oz (case of 1000)", ""]
    a, b = lean(texts), full(texts)
    assert a.shape == b.shape == (4, 384) and a.dtype == np.float32
    assert float(np.sum(a * b, axis=1).min()) > 0.99999


@pytest.mark.model
def test_matching_with_the_semantic_channel_imports_no_torch(data_dir) -> None:
    """The start-up goal's mechanism (issue 12): a line classified WITH the semantic channel, in a
    fresh process, never imports torch, transformers or sentence-transformers."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from matching.classify import get_classifier\n"
        f"clf = get_classifier({str(data_dir)!r})\n"
        "r = clf.classify_many(['deep groove ball bearings'])[0]\n"
        "print(json.dumps({'channels': sorted(r.channels_used), 'code': r.products[0].code,\n"
        "  'heavy': sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "semantic" in got["channels"] and got["code"].startswith("8482")
    assert got["heavy"] == []
