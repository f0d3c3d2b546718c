"""The learned service/goods detector: what it learns, when the reader asks it, and what it says on
the real reference data. Phrases written for these tests, not taken from an evaluation set."""

from __future__ import annotations

import numpy as np
import pytest

from matching.products import services as sv
from matching.products.service_detector import ServiceDetector, get_detector
from matching.types import ProductGuess


class FixedDetector:
    """A detector that answers one probability (or a given one for some texts) and records the questions."""

    def __init__(self, p: float, answers: dict[str, float] | None = None) -> None:
        self.p = p
        self.answers = answers or {}
        self.asked: list[str] = []

    def probabilities(self, texts):
        self.asked.extend(texts)
        return [self.answers.get(t, self.p) for t in texts]


def _goods(score: float) -> tuple[ProductGuess, ...]:
    return (ProductGuess(code="84821010", system="CN8", label="roulements à billes", score=score, source="model"),)


def test_fit_learns_which_side_a_text_is_on():
    service = [("recouvrement de créances pour compte de tiers", "fr"), ("services d'assurance de responsabilité", "fr"),
               ("achat d'espace publicitaire dans la presse", "fr"), ("audit des comptes annuels", "fr"),
               ("debt collection services", "en"), ("insurance of liability", "en")]
    goods = [("roulements à billes", "fr"), ("vis et boulons en acier", "fr"), ("câbles électriques isolés", "fr"),
             ("palettes en bois", "fr"), ("ball bearings", "en"), ("steel bolts and screws", "en")]
    det = ServiceDetector.fit(service, goods, variants=False)
    assert det.probability("recouvrement des créances clients") > 0.5 > det.probability("roulements à billes 6204")
    assert det.probability("liability insurance premium") > det.probability("steel bolts M8")
    assert det.probabilities([]).shape == (0,)


def test_fit_needs_both_sides():
    with pytest.raises(ValueError, match="both sides"):
        ServiceDetector.fit([("audit des comptes", "fr")], [], variants=False)


@pytest.mark.parametrize("p,goods,has_code,text,expected", [
    (0.95, (), False, "Recouvrement créances export", True),
    (0.95, _goods(0.1), False, "Recouvrement créances export", True),
    (0.95, _goods(0.6), False, "Recouvrement créances export", False),  # a confident goods reading
    (0.95, (), True, "Recouvrement créances export", False),  # a written customs code
    (0.5, (), False, "Recouvrement créances export", False),  # under the bar
    (0.95, (), False, "   ", False),
])
def test_the_reader_asks_the_detector_only_about_weak_goods_readings_without_a_code(p, goods, has_code, text, expected):
    det = FixedDetector(p)
    reader = sv.ServiceClassifier(nomenclature_heads=False, detector=det)
    cue = reader.learned_cue(text, goods, has_code=has_code)
    assert (cue is not None) is expected
    if cue is not None:
        assert not cue.nace  # it says that the line is a service, not which one
        assert f"{p:.2f}" in cue.cue
    if has_code or (goods and goods[0].score >= sv.DETECT_MAX_GOODS_SCORE) or not text.strip():
        assert det.asked == []  # not even asked


def test_the_head_noun_must_read_as_a_service_too():
    """The whole line reads as a service, but its head ("kit") does not: goods. Same line, a
    service head: a service."""
    text = "Kit de réparation chambre à air"
    goods_head = sv.ServiceClassifier(nomenclature_heads=False, detector=FixedDetector(0.95, {"kit": 0.05}))
    assert goods_head.learned_cue(text) is None
    assert "kit" in goods_head._detector.asked
    service_head = sv.ServiceClassifier(nomenclature_heads=False, detector=FixedDetector(0.95, {"kit": 0.6}))
    assert service_head.learned_cue(text) is not None


def test_the_detector_can_be_turned_off():
    reader = sv.ServiceClassifier(nomenclature_heads=False, detector=False)
    assert reader.learned_cue("Recouvrement créances export") is None


def test_a_line_no_cue_marks_is_read_as_a_service_when_the_detector_says_so(data_dir):
    line = "Recouvrement créances clients export, commission sur montants encaissés"
    off = sv.ServiceClassifier(data_dir, detector=FixedDetector(0.0))
    assert off.read(line, semantic=False) is None  # no cue, no service head: goods for the cue reader
    on = sv.ServiceClassifier(data_dir, detector=FixedDetector(0.97))
    reading = on.read(line, semantic=False)
    assert reading is not None and reading.activities
    assert all(a.naf[:2] in sv.SERVICE_DIVISIONS for a in reading.activities)
    assert any(a.naf.startswith("82.91") for a in reading.activities[:3])  # collection agencies
    assert "modèle nomenclature 0.97" in reading.evidence
    assert on.read(line, semantic=False, has_code=True) is None


@pytest.fixture(scope="module")
def detector(data_dir):
    return get_detector(data_dir)  # trained once from the reference data, then cached


@pytest.mark.parametrize("line", [
    "Espace publicitaire presse professionnelle, insertion pleine page",
    "Insurance premium for product liability cover, annual",
    "Audit comptable annuel des comptes sociaux",
])
def test_the_trained_detector_reads_services_no_cue_names(detector, line):
    assert detector.probability(line) >= sv.DETECT_MIN_PROBABILITY


@pytest.mark.parametrize("line", [
    "Roulement à billes 6204 2RS",
    "Vis à tête hexagonale M8x40 inox A2",
    "Stainless steel hex bolts M10",
    "Câble électrique H07RN-F 3G2,5",
    "Palettes bois 1200x800",
])
def test_the_trained_detector_leaves_goods_to_the_goods_reader(detector, line):
    assert detector.probability(line) < 0.5


def test_the_direct_scorer_agrees_with_scikit_learn(detector):
    texts = ["Vis CHC M8x40 inox A2 boîte de 100", "Recouvrement créances clients export, commission 8 %", "",
             "300", "Wartungsvertrag Kompressor", "SERVICE DE NETTOYAGE DES LOCAUX"]
    assert np.allclose(detector.probabilities(texts), detector.probabilities_sklearn(texts), atol=1e-9)


def test_the_trained_detector_is_cached_on_disk(data_dir, detector):
    from matching.embed import cache_dir
    from matching.products import service_detector

    assert get_detector(data_dir) is detector  # one per folder per process
    assert list(cache_dir().glob("service-detector-*.pkl"))
    again = service_detector._cached(data_dir)  # read back from the file, not trained again
    assert again is not detector
    line = "Audit comptable annuel des comptes sociaux"
    assert again.probability(line) == pytest.approx(detector.probability(line))


def test_the_engine_reads_a_cueless_service_line_and_keeps_a_coded_one_as_goods(matcher):
    """End to end on the real engine: a service line no cue marks is a service (its reason names
    the detector); the same words with a customs code stay goods (written for this test)."""
    from matching.types import BomLine

    text = "Espace publicitaire presse professionnelle, insertion pleine page"
    lines = [BomLine(row=2, description=text), BomLine(row=3, description=text, code="49021000", code_raw="4902 10 00")]
    plain, coded = matcher.match(lines).lines
    assert plain.kind == "service", [a.naf for a in plain.activities]
    assert plain.activities[0].naf.startswith("73.1"), [a.naf for a in plain.activities]
    assert any("modèle nomenclature" in w for w in plain.warnings)
    assert coded.kind != "service"
