"""Build → load round trip of the products artifact, its manifest, and the missing/stale errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matching.products.artifacts import ArtifactError, BuildConfig, build, check, load


@pytest.fixture(scope="module")
def small_artifact(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A small build (two chapters, one epoch): the same code path as the shipped artifact."""
    out = tmp_path_factory.mktemp("products") / "products"
    build(out, data_dir, config=BuildConfig(chapters=("84", "94"), epochs=2, dim=16, max_per_class=20), log=lambda s: None)
    return out


def test_manifest(small_artifact: Path) -> None:
    m = json.loads((small_artifact / "manifest.json").read_text())
    assert m["artifact"] == "relocmatch-products" and m["version"]
    assert set(m["sources"]) and all(len(v) == 16 for v in m["sources"].values())
    t = m["training"]
    assert t["samples"] > t["classes"] > 100 and t["synthetic_generated"] > t["label_texts"]
    for rel, size in m["files"].items():
        assert (small_artifact / rel).stat().st_size == size
    assert m["model"]["classes"] == t["classes"]


def test_round_trip_predicts_the_chapters_it_learned(small_artifact: Path, data_dir: Path) -> None:
    a = load(small_artifact, data_dir)
    X = a.featurizer.matrix(["Kugellager 6205", "chaise de bureau en bois", "centrifugal pump 3 kW"])
    p = a.model.predict_proba(X)
    assert p.shape == (3, len(a.model.classes))
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-4)
    top3 = [[a.model.classes[j][:4] for j in np.argsort(-row)[:3]] for row in p]
    assert "8482" in top3[0] and any(h[:2] == "94" for h in top3[1]) and top3[2][0][:2] == "84", top3


def test_missing_folder_names_the_build_command(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ArtifactError) as e:
        load(tmp_path / "nothing", data_dir)
    assert "relocmatch products build --out" in str(e.value) and str(tmp_path / "nothing") in str(e.value)


def test_stale_and_incomplete_artifacts_are_refused(small_artifact: Path, tmp_path: Path, data_dir: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(small_artifact, copy)
    m = json.loads((copy / "manifest.json").read_text())
    m["sources"][next(iter(m["sources"]))] = "0" * 16
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="stale"):
        check(copy, data_dir)
    m = json.loads((small_artifact / "manifest.json").read_text())
    m["version"] = "products-0"
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="stale"):
        check(copy, data_dir)
    m["version"] = json.loads((small_artifact / "manifest.json").read_text())["version"]
    (copy / "manifest.json").write_text(json.dumps(m))
    (copy / "model" / "bias.npy").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="incomplete"):
        check(copy, data_dir)
