"""Cell values: numbers in FR/DE/EN notation, quantities with units, money, countries, header words."""

from __future__ import annotations

import pytest

from matching.bom.layout import keyword_scores
from matching.bom.values import parse_country, parse_money, parse_number, parse_quantity


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("18 450,50", None, 18450.50),
        ("18\u00a0450,50", None, 18450.50),
        ("18\u202f450,50", None, 18450.50),
        ("1.234,56", None, 1234.56),
        ("1,234.56", None, 1234.56),
        ("1.234.567", None, 1234567.0),
        ("1,234,567", None, 1234567.0),
        ("3,5", None, 3.5),
        ("0.25", None, 0.25),
        ("1,234", ",", 1.234),  # ambiguous: the file's decimal mark decides
        ("1,234", ".", 1234.0),
        ("1.234", ",", 1234.0),
        ("-12", None, -12.0),
        ("12'345.5", None, 12345.5),
        ("abc", None, None),
        ("12 abc", None, None),
        ("", None, None),
    ],
)
def test_parse_number(text: str, decimal: str | None, expected: float | None) -> None:
    assert parse_number(text, decimal) == expected


@pytest.mark.parametrize(
    ("cell", "value", "unit"),
    [
        ("85 t", 85.0, "t"),
        ("5 000 m", 5000.0, "m"),
        ("4 plates", 4.0, "plates"),
        ("1 set ", 1.0, "set"),
        ("12,5 kg", 12.5, "kg"),
        ("3", 3.0, None),
        (7.0, 7.0, None),
        ("500 mL", 500.0, "mL"),
        ("x4", 4.0, None),
        ("1 200 pièces", 1200.0, "pièces"),
    ],
)
def test_parse_quantity_keeps_unit_apart(cell: object, value: float, unit: str | None) -> None:
    q = parse_quantity(cell)
    assert q is not None and (q.value, q.unit) == (value, unit)


@pytest.mark.parametrize("cell", ["optional", "2 in x 2 in x 6 in", "see note", ""])
def test_parse_quantity_refuses_non_quantities(cell: str) -> None:
    assert parse_quantity(cell) is None


@pytest.mark.parametrize(
    ("cell", "amount", "currency"),
    [
        ("18 450,50 €", 18450.50, "EUR"),
        ("150.00 €", 150.0, "EUR"),
        ("$1,234.56", 1234.56, "USD"),
        ("EUR 1.234,56", 1234.56, "EUR"),
        ("£12", 12.0, "GBP"),
        ("64 300,00 € HT", 64300.0, "EUR"),
        (99.5, 99.5, None),
    ],
)
def test_parse_money(cell: object, amount: float, currency: str | None) -> None:
    m = parse_money(cell)
    assert m is not None and (m.amount, m.currency) == (amount, currency)


@pytest.mark.parametrize(
    ("text", "iso2"),
    [
        ("Chine", "CN"), ("China", "CN"), ("CN", "CN"), ("CHN", "CN"), ("cn", "CN"),
        ("Allemagne", "DE"), ("Deutschland", "DE"), ("Germany", "DE"),
        ("Türkei", "TR"), ("Turquie", "TR"), ("Royaume-Uni", "GB"), ("UK", "GB"),
        ("États-Unis", "US"), ("USA", "US"), ("Corée du Sud", "KR"), ("South Korea", "KR"),
        ("Made in China", "CN"), ("Italie", "IT"), ("Vietnam", "VN"),
    ],
)
def test_parse_country_fr_en_de(text: str, iso2: str) -> None:
    assert parse_country(text) == iso2


@pytest.mark.parametrize("text", ["Inconnu", "", "Divers"])
def test_parse_country_unknown(text: str) -> None:
    assert parse_country(text) is None


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Désignation", "description"), ("Libellé article", "description"), ("Benennung", "description"),
        ("Bezeichnung", "description"), ("Part Name", "description"), ("Artikelname", "description"),
        ("Code douanier", "code"), ("Nomenclature douanière", "code"), ("NC8", "code"), ("HS code", "code"),
        ("Zolltarifnummer", "code"), ("Warennummer", "code"), ("TARIC", "code"),
        ("Pays d'origine", "origin"), ("Country of origin", "origin"), ("Ursprungsland", "origin"),
        ("Quantité", "quantity"), ("Qté", "quantity"), ("Menge", "quantity"), ("Anz.", "quantity"), ("Stück", "quantity"),
        ("Montant", "value"), ("Spend", "value"), ("Wert", "value"), ("Betrag", "value"), ("Prix total (TTC)", "value"),
        ("Prix unitaire (HT)", "unit_price"), ("Einzelpreis", "unit_price"),
        ("Référence fournisseur", "reference"), ("MPN", "reference"), ("Artikelnummer", "reference"),
        ("Bestellnummer", "reference"), ("Fournisseur", "supplier"), ("Lieferant", "supplier"), ("Vendor", "supplier"),
        ("Unité", "unit"), ("UOM", "unit"), ("Einheit", "unit"),
    ],
)
def test_header_words_fr_en_de(header: str, role: str) -> None:
    scores = keyword_scores(header)
    best = max(scores.items(), key=lambda kv: kv[1][0])[0]
    assert best == role, scores
