"""Service lines: which lines are services (table-driven, FR/EN/DE) and which service activities
they reach, on the real reference data. Phrases written for these tests, not taken from a set."""

from __future__ import annotations

import re

import pytest

from matching.products.services import ServiceClassifier, heads, load_cues, object_refs, service_heads
from matching.types import ProductGuess


@pytest.fixture(scope="module")
def services(data_dir):
    return ServiceClassifier(data_dir)


SERVICES = [
    # (line, a cue that must be found, a NACE class expected among the first three)
    ("Location nacelle ciseaux 12 m (semaine)", "location", "77.3"),
    ("Transport de big bags Anvers - Nancy", "transport", "49.41"),
    ("Prestation d'étalonnage des micromètres", "etalonnage", "71.20"),
    ("Nettoyage vitres atelier", "nettoyage", "81.22"),
    ("Formation habilitation électrique B1V", "formation", "85.59"),
    ("Contrat d'entretien chaudière gaz", "contrat", "33.12"),
    ("Enlèvement des déchets de bois", "enlevement", "38.11"),
    ("Abonnement plateforme de visioconférence", "abonnement", "58.29"),
    ("Crane hire with operator, 2 days", "hire", "77.32"),
    ("Road haulage of coils Antwerp to Metz", "haulage", "49.41"),
    ("Repair of gearbox housing", "repair", "33.12"),
    ("Industrial cleaning of paint booth", "cleaning", "81.22"),
    ("Salt spray testing of coated parts", "testing", "71.20"),
    ("Wartung Hydraulikpresse", "wartung", "33.12"),
    ("Kranmiete mit Fahrer", "miete", "77.32"),
    ("Seefracht Hamburg - Le Havre", "fracht", "50.20"),
    ("Industriereinigung Lackierkabine", "reinigung", "81.22"),
    ("Schweißerkurs", "kurs", "85.59"),
    ("Materialprüfung Zugversuch", "prufung", "71.20"),
]

GOODS = [
    "Chariot de manutention 300 kg",
    "Produit d'entretien sols 5 L",
    "Kit de réparation chambre à air",
    "Caisse de transport en bois",
    "Bac de collecte huiles usagées 60 L",
    "Cleaning cloths microfibre (pack of 50)",
    "Service kit for pump seals",
    "Shipping cartons 600x400x400",
    "Test leads 4 mm, silicone",
    "Repair kit for air cylinder",
    "Reinigungsmittel Edelstahl",
    "Transportkiste Aluminium",
    "Montageplatte Stahl verzinkt",
    "Prüfspitzen Set",
    "Wartungseinheit Druckluft 1/2 Zoll",
]


@pytest.mark.parametrize("line,cue,nace", SERVICES)
def test_service_lines_are_read_as_services(services, line, cue, nace):
    reading = services.read(line)
    assert reading is not None, f"{line!r} read as goods"
    assert cue in reading.cues
    classes = [p.code for p in reading.products]
    assert any(c.startswith(nace) for c in classes[:3]), (line, classes)
    assert all(p.system == "CPA" for p in reading.products)
    acts = [a.naf for a in reading.activities]
    assert any(n.startswith(nace) for n in acts), acts
    assert all(a.route == "service" and a.via for a in reading.activities)


@pytest.mark.parametrize("line", GOODS)
def test_goods_that_name_a_service_word_stay_goods(services, line):
    assert services.read(line) is None, f"{line!r} read as a service: {services.detect(line)}"


@pytest.mark.parametrize(
    "text,lang,expected",
    [
        ("Chariot de transport - location", "fr", ["chariot"]),
        ("Transport de bobines (urgent)", "fr", ["transport"]),
        ("rental of forklift for 3 months", "en", ["rental"]),
        ("forklift rental", "en", ["rental"]),
        ("Motor vehicles for the transport of goods", "en", ["vehicles"]),
        ("Wartungsvertrag - Kompressor", "de", ["wartungsvertrag", "kompressor"]),
    ],
)
def test_heads_by_language(text, lang, expected):
    assert heads(text, lang) == expected


def test_cue_table_is_well_formed(tmp_path):
    cues = load_cues()
    assert {c.lang for c in cues} == {"fr", "en", "de"}
    assert all(c.where in ("head", "any") and c.gloss for c in cues)
    bad = tmp_path / "cues.csv"
    bad.write_text("lang,cue,where,nace,gloss\nfr,location,somewhere,,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="where must be head or any"):
        load_cues(bad)


@pytest.mark.parametrize(
    "line,first",
    [
        # the head cue's service comes first, not the one of a cue further on
        ("Hébergement de la messagerie, abonnement annuel", "63.11"),
        ("Stockage des archives papier en entrepôt, abonnement mensuel", "52.10"),
    ],
)
def test_the_head_cue_speaks_first(services, line, first):
    reading = services.read(line)
    assert reading is not None
    assert reading.products[0].code.startswith(first), [p.code for p in reading.products]


@pytest.mark.parametrize(
    "note,served,excepted",
    [
        # sentences in the style of the NACE notes, written for this test
        ("This class includes the repair and maintenance of goods of division 27, except those in class group 27.5.",
         ("27",), ("27.5",)),
        ("This class includes the repair and maintenance of goods produced in groups 26.5, 26.6 and 26.7, "
         "except those that are considered household goods.", ("26.5", "26.6", "26.7"), ()),
        ("This class includes the repair of fabricated metal products of division 25.", ("25",), ()),
        ("This class includes: - rental of cranes without operator", (), ()),
    ],
)
def test_object_refs_read_what_a_class_serves(note, served, excepted):
    assert object_refs(note) == (served, excepted)


def test_repair_classes_know_the_goods_they_serve(services):
    services.read("Réparation pompe")  # builds the classifier
    refs = services._object_refs
    assert refs["33.12"][0] == ("28",)
    assert "27" in refs["33.14"][0] and "27.5" in refs["33.14"][1]
    assert not any(c.startswith("77.") for c in refs)  # rental classes name no goods codes


def _goods(code: str) -> tuple[ProductGuess, ...]:
    return (ProductGuess(code=code, system="CN8", label="", score=0.9, source="text"),)


@pytest.mark.parametrize(
    "line,goods,first",
    [
        # the goods the line names choose the repair class: a pressure gauge (26.51) → 33.13,
        # a transformer (27.11) → 33.14, a compressor (28.13) → 33.12
        ("Réparation et étalonnage des manomètres de l'atelier", "90262020", "33.13"),
        ("Instandsetzung Trafo 630 kVA nach Wicklungsschaden", "85042300", "33.14"),
        ("Wartungsvertrag Schraubenverdichter, jährlich", "84148073", "33.12"),
    ],
)
def test_the_served_goods_choose_the_repair_class(services, line, goods, first):
    reading = services.read(line, goods=_goods(goods))
    assert reading is not None
    repairs = [p.code for p in reading.products if p.code.startswith("33.1")]
    assert repairs and repairs[0] == first, [p.code for p in reading.products]
    served = next(a for a in reading.activities if a.naf.startswith(first))
    assert any("bien concerné" in v for v in served.via)


def test_the_served_goods_do_not_turn_a_hire_into_a_repair(services):
    reading = services.read("Location compresseur mobile diesel, 2 semaines", goods=_goods("84148011"))
    assert reading is not None
    assert reading.products[0].code.startswith("77."), [p.code for p in reading.products]


def test_the_engine_passes_the_goods_reading_to_the_repair_class(matcher):
    """End to end: the pipeline hands the line's goods reading to the service reader, so a repair
    line's activity says which goods chose it (written for this test)."""
    from matching.types import BomLine

    lr = matcher.match([BomLine(row=2, description="Contrat maintenance annuel compresseurs à vis")]).lines[0]
    assert lr.kind == "service" and lr.status == "matched"
    assert lr.activities[0].naf == "33.12Z", [a.naf for a in lr.activities]
    # the goods reading is a CN8 or, when its best CN8s tie, an HS6 guess: either way a compressor of 8414
    assert any(re.match(r"bien concerné : (CN8|HS6) 8414", v) and "NACE 28.13" in v for v in lr.activities[0].via)


# -- service heads taken from the nomenclature (no cue-table word in these lines) -------------------
NOMENCLATURE_SERVICES = [
    # (line, the head word that makes it a service) — written for this test
    ("Remorquage d'une barge vide jusqu'au quai", "remorquage"),
    ("Dépollution du sol de l'ancienne cuverie", "depollution"),
    ("Décontamination des cuves de l'ancien atelier", "decontamination"),
    ("Towing of the broken-down trailer to the depot", "towing"),
    ("Proofreading of the user manual, 40 pages", "proofreading"),
    ("Landscaping of the plant entrance", "landscaping"),
]


@pytest.mark.parametrize("line,head", NOMENCLATURE_SERVICES)
def test_a_head_the_nomenclature_uses_for_services_makes_a_service(data_dir, services, line, head):
    cues = services.detect(line)
    assert [c.cue for c in cues] == [head], cues
    # the cue table alone does not know these words: the nomenclature does
    assert ServiceClassifier(data_dir, nomenclature_heads=False).detect(line) == []


@pytest.mark.parametrize("line", [
    "Équipement de protection individuelle",  # -ment, but a goods word first in the labels
    "Bâtiment modulaire 6 m x 3 m",
    "Logement de roulement fonte",
    "Polishing paste 500 g",
    "Bottling machine spare nozzle",
    "Vérin hydraulique double effet 80/45 course 500",
])
def test_goods_whose_head_looks_like_an_action_stay_goods(services, line):
    assert services.detect(line) == [], services.detect(line)


def test_service_heads_are_what_services_head_and_goods_do_not():
    svc = [("Remorquage des navires", "fr"), ("Remorquage en mer", "fr"), ("Camions avec chauffeur, location", "fr"),
           ("Camions de location", "fr"), ("Camions pour le déménagement", "fr"), ("Towing of vehicles", "en"),
           ("Towing services of ships", "en"), ("Services of hairdressers", "en")]
    goods = [("Camions bennes", "fr"), ("Camions-citernes", "fr"), ("Remorques pour camions", "fr")]
    got = service_heads(svc, goods)
    assert "remorquage" in got["fr"] and "towing" in got["en"]
    assert "camion" not in got["fr"]  # heads goods labels too
    assert "hairdresser" not in got["en"]  # one text only, and no action ending


@pytest.mark.parametrize(
    "text,lang,expected",
    [
        ("PO 4711 fret ferroviaire bobines", "fr", ["fret"]),
        ("Rechnung 2026-03 Reparatur Kompressor", "de", ["reparatur", "kompressor"]),
        ("Facture 03/2026 tri et préparation des ferrailles", "fr", ["tri"]),
        ("Inv. 2026-02 general waste skips - emptying", "en", ["skips"]),
    ],
)
def test_heads_skip_the_document_reference(text, lang, expected):
    assert heads(text, lang) == expected


def test_every_segment_reads_a_service_named_after_its_object(services):
    """"<the thing> : <the service>": the service noun heads a later segment."""
    line = "Transformateur sec 1000 kVA : démantèlement et dépollution"
    assert heads(line, "fr") == ["transformateur"]
    assert heads(line, "fr", every_segment=True) == ["transformateur", "demantelement"]
    assert [c.cue for c in services.detect(line)] == ["demantelement"]
