"""Service lines: which lines are services (table-driven, FR/EN/DE) and which service activities
they reach, on the real reference data. Phrases written for these tests, not taken from a set."""

from __future__ import annotations

import pytest

from matching.products.services import ServiceClassifier, heads, load_cues


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
