"""Values in thousands scale with their header; value = unit price × quantity only when the
file has no total column; negative values are warned (issue 16, defects 1, 2 and 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.bom.read import VALUE_FROM_PRICE, read_bom



def _boms() -> Path:
    import os

    p = Path(os.environ.get("RELOCMATCH_DATA", "/work/shared/data")) / "boms"
    if not p.is_dir():
        pytest.skip(f"{p}: real BOMs not available")
    return p


@pytest.mark.parametrize("header", ["Valeur (k€)", "kEUR", "T€", "Tsd. EUR", "Montant en milliers d'euros", "Umsatz TEUR"])
def test_value_header_in_thousands_scales_amounts(header: str) -> None:
    data = f"Désignation;Code;{header}\nRoulement à billes 6205;8482.10;96\nVis M6;7318.15;1,5\n".encode()
    res = read_bom(data, filename="achats.csv")
    values = [ln.annual_value_eur for ln in res.items]
    assert values == [96_000.0, 1_500.0]
    assert "×" in res.layout.evidence["value"] and "thousands" in res.layout.evidence["value"]
    assert any("multiplied by 1,000" in n for n in res.layout.notes)


def test_value_header_in_euros_is_not_scaled() -> None:
    res = read_bom("Désignation;Valeur annuelle (€)\nRoulement à billes;96\n".encode(), filename="a.csv")
    assert res.items[0].annual_value_eur == 96.0


def test_bom_inspect_shows_the_scale_evidence(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from matching.cli import app

    f = tmp_path / "achats.csv"
    f.write_text("Désignation;Valeur (k€)\nRoulement à billes;96\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["bom", "inspect", str(f), "--json"])
    assert out.exit_code == 0, out.output
    assert "thousands" in out.output and "96000" in out.output.replace(",", "").replace(".0", "")


def test_value_from_unit_price_times_quantity_on_cncfraese() -> None:
    res = read_bom(_boms() / "cncfraese__Stueckliste.xlsx")
    first = res.items[0]  # NEMA17: Preis 15, Stück 3
    assert first.annual_value_eur == pytest.approx(45.0)
    assert any(m.startswith(VALUE_FROM_PRICE) for m in first.messages)
    assert sum(ln.annual_value_eur or 0 for ln in res.items) == pytest.approx(
        15 * 3 + 15.6 * 3 + 4.79 * 8 + 4.79 * 2 + 4.79 * 4 + 4.79 * 2 + 24 + 4.79 + 2 + 4 * 4 + 7.6 * 3 + 2.5 * 2)


def test_no_product_when_the_file_has_its_own_total() -> None:
    data = "Désignation;Prix unitaire;Quantité;Montant\nVis M6;2;10;25\nÉcrou M6;1;5;\n".encode()
    res = read_bom(data, filename="a.csv")
    assert [ln.annual_value_eur for ln in res.items] == [25.0, None]
    assert not any(VALUE_FROM_PRICE in m for ln in res.items for m in ln.messages)


def test_unit_price_in_dollars_gives_no_value() -> None:
    res = read_bom("Description;Unit price ($);Qty\nBall bearing;2;10\n".encode(), filename="a.csv")
    assert res.items[0].annual_value_eur is None


def test_negative_value_is_a_warning() -> None:
    res = read_bom("Désignation;Montant\nRoulement à billes;-500\n".encode(), filename="a.csv")
    ln = res.items[0]
    assert ln.status == "warning" and any("negative" in m for m in ln.messages)


@pytest.mark.parametrize("header", ["Coût €", "Coût EUR", "Coût unitaire €"])
def test_an_accented_letter_before_t_is_not_the_thousands_sign(header: str) -> None:
    # "Coût €" ends in "t €": the t is the word's last letter, not "T€" (thousands of euros)
    data = f"Désignation;{header};Quantité\nVis M6;2;10\n".encode()
    res = read_bom(data, filename="achats.csv")
    assert res.items[0].annual_value_eur == pytest.approx(20.0)
    assert not any("multiplied" in n for n in res.layout.notes)


@pytest.mark.parametrize(("column", "expected", "scaled"), [("B", 96_000.0, True), ("C", 96.0, False)])
def test_an_explicit_mapping_reads_the_scale_of_the_column_it_maps(column: str, expected: float, scaled: bool) -> None:
    data = "Désignation;Budget (k€);Valeur annuelle €\nRoulement à billes;96;96\n".encode()
    res = read_bom(data, filename="achats.csv", mapping={"value": column})
    assert res.items[0].annual_value_eur == pytest.approx(expected)
    assert any("multiplied by 1,000" in n for n in res.layout.notes) is scaled
    assert ("thousands" in res.layout.evidence["value"]) is scaled


def test_an_empty_mapping_removes_the_unit_price_and_its_derived_value() -> None:
    res = read_bom(_boms() / "cncfraese__Stueckliste.xlsx", mapping={"unit_price": ""})
    assert "unit_price" not in res.layout.columns
    assert all(ln.annual_value_eur is None for ln in res.items)
    assert not any(VALUE_FROM_PRICE in m for ln in res.items for m in ln.messages)
    assert any(n.startswith("unit_price column: none (explicit mapping unit_price=") for n in res.layout.notes)
    # the quantity column is still read
    assert res.items[0].quantity == 3


def test_the_description_column_cannot_be_mapped_away() -> None:
    from matching.errors import BomError

    with pytest.raises(BomError, match="description column cannot be removed"):
        read_bom("Désignation;Quantité\nVis M6;2\n".encode(), filename="a.csv", mapping={"description": ""})
