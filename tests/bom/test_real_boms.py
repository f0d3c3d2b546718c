"""Every real BOM of ../shared/data/boms reads, with the description column and the number
of item lines (status ok|warning) checked against counts made by opening each file.

How the counts were made: each file was dumped row by row (python-calamine for
workbooks, a plain line listing for text files) and the item rows counted by hand
using these rules: an item is a row that names something to buy (its description,
or failing that another text cell, a reference or a code); blank rows, title rows
above the header, the header, totals, section titles (a lone label on a table whose
rows usually fill several cells) and DNP ("do not populate") rows are not items.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.bom import read_bom

# (file, description header as written, item lines, how they were counted)
CASES = [
    ("bancthermique__Nomenclature.csv", "Désignation", 21, "23 lines: header, rows 2-22 items, line 23 blank"),
    ("cncfraese__Stueckliste.xlsx", "Beschreibung", 12, "header row 3; rows 4-15 items; 16-17 blank; 18 'Gesamtpreis' total"),
    ("ebk-cnc__BOM.ods", "column A", 21,
     "header row 4 (blank, menge, ep, gp); items 6-8 (3) + 11-16 (6) + 18-25 (8) + 27-30 (4); sections 5, 10, 17, 26; 31-35 zeros; 36 SUMME"),
    ("erpnext-velo__Stückliste.csv", "Artikel-Code (Artikel)", 33,
     "36 lines: header, 33 component rows 2-34 (each has a COMP-xxxx code), 2 blank lines"),
    ("erpnext-velo__bom_ebike_premium_001.csv", "Item Code (Items)", 16,
     "17 lines: header, the parent e-bike row 2 (kept: it has a description) and 15 component rows"),
    ("erpnext-velo__items.csv", "Description", 69, "70 lines: header + 69 item-master rows"),
    ("esp32scd30__nomenclature.csv", "Value", 14,
     "15 lines: header + 14 KiCad rows; 'Description' is filled on 1 row only, so 'Value' is the text column"),
    ("hackrf-jawbreaker__jawbreaker-bom.csv", "Field3", 277,
     "368 lines: header + 367 designator rows, minus 90 rows with a DNP field (grep -c -E '(^|;)DNP(;|$)' = 90)"),
    ("hackrf-jellybean__jellybean_BOM.ods", "Details", 112,
     "header row 2; rows 3-116 = 114 rows, minus 2 DNP rows (106, 107); pin headers P1-P22 kept with their Value text"),
    ("hackrf__hackrf-one-bom.csv", "Description", 92,
     "header line 15 (after a 14-line preamble); lines 16-182 = 167 parts, minus 75 with DNP in the Note column"),
    ("holybro-x650__Bill of Materials.xlsx", "Description", 28,
     "header row 1; rows 2-29 items; 30-36 blank; 37 'Spent so far', 38 'Remaining' (no item text); 39 'Total Price'"),
    ("insoleuse__Nomenclature.xlsx", "Réf.", 13,
     "sheet 'Débit bois', header row 3; items 4-9 (6) + 12-14 (3) + 17-20 (4); sections 11, 16; row 21 a bare sum"),
    ("kosmos-magpi__Nomenclature_MagPI.ods", "Désignation fournisseur", 38,
     "header row 3; items 4-18 (15) + 21 + 24 ('Visserie') + 27-32 (6) + 35-49 (15); 5 'Total (TTC)' rows"),
    ("kosmos__ElectroniqueV4Mono.xlsx", "Description KOSMOS", 44,
     "header row 3; items 5-32 (28) + 35 + 38-40 (3) + 43-52 (10) + 55 + 58; 6 supplier section rows (GOTRONIC, EDMUND...)"),
    ("kosmos__Nomenclature_KOSMOS4.0_projet_IUEM.xlsx", "Désignation fournisseur", 113,
     "header row 3; items 4-39 (36) + 42-61 (20) + 64-77 (14) + 80-107 (28) + 110-123 (14) + 126 (1); 6 totals"),
    ("libresolarbox__Bill of Materials.ods", "Material", 33,
     "header row 1; rows 2-42 = 41 numbered rows, minus 8 rows holding only their number (23-25, 30, 34-37)"),
    ("mqtt-alarm__Stueckliste.xlsx", "Bezeichnung", 30,
     "header row 2; items 3-19 (17) + 22-34 (13, two with Anz. 'optional'); row 21 'Alarmzentrale:' section"),
    ("opendogv3__BOM.ods", "desc", 41,
     "header row 2; items 5-7, 10-26, 30-31, 34-40, 43-49, 52-54, 57-58 = 3+17+2+7+7+3+2; 7 section rows"),
    ("opentorque__Bill of Materials.csv", "Part Name", 11, "23 lines: header + 11 parts + 11 empty ',,,,,' lines"),
    ("optoincubator__bom.tsv", "Item", 32,
     "45 lines: header; 5 '## Section ##' lines; 7 blank lines; 32 item lines (13+7+5+5+2)"),
    ("os1-dlp__Bill of Materials.xlsx", "Component (Description)", 108,
     "header row 1; 14 subsystem sections; items 5-15, 19-32, 36-39, 45-53, 57-68, 72-76, 81-84, 89-91, 97-106, "
     "111-114, 119-121, 125-135, 140-143, 148-161 = 108; row 3 is a template '(Item #: )' with only a subsystem total"),
    ("plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx", "Pièce", 40,
     "sheet 'Nomenclature' (not the pivot 'TCD'); header row 3 under a 'Total' row 2; rows 4-43 items"),
    ("plastic-recycler__Nomenclature.xlsx", "Désignation", 95, "sheet 'Nomenclature', header row 2, rows 3-97 items"),
    ("trenntrafo__Stückliste.xlsx", "Bauteil", 31,
     "header row 2 under title 'Bauteile'; items 3-13 (11) + 16-35 (20); row 15 'Elektronik' section; 36 'Gesamt'"),
    ("voron2__BOM.csv", "Part Number", 290,
     "291 lines: header + 290 parts; 'Description' is empty everywhere so 'Part Number' holds the text"),
]


@pytest.fixture(scope="module")
def boms_dir(data_dir: Path) -> Path:
    return data_dir / "boms"


def test_every_real_file_is_covered(boms_dir: Path) -> None:
    files = {p.name for p in boms_dir.iterdir() if p.name != "README.md"}
    assert files == {c[0] for c in CASES}


@pytest.mark.parametrize(("name", "description", "n_items", "how"), CASES, ids=[c[0][:40] for c in CASES])
def test_real_bom_description_column_and_item_count(boms_dir: Path, name: str, description: str, n_items: int, how: str) -> None:
    res = read_bom(boms_dir / name)
    assert res.layout.columns.get("description") == description, res.layout.evidence
    items = [ln for ln in res.lines if ln.status in ("ok", "warning")]
    assert len(items) == n_items, how
    # every row of the chosen sheet comes out exactly once, in order
    rows = [ln.row for ln in res.lines]
    assert rows == sorted(set(rows))
    assert all(ln.description for ln in items)
    assert all(ln.messages for ln in res.lines if ln.status == "skipped")


def test_kicad_preamble_and_shifted_header(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "hackrf__hackrf-one-bom.csv")
    assert res.layout.header_row == 15
    first = res.items[0]
    assert first.row == 16 and first.description.startswith("CAP CER 33PF")
    assert first.quantity == 29 and first.reference == "GRM1555C1H330JA01D" and first.supplier == "Murata"
    assert any("moved 1 column" in n for n in res.layout.notes)
    assert [r.kind for r in res.rows[:14]].count("preamble") >= 10


def test_notice_or_pivot_sheet_is_not_chosen(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "plastic-recycler__Nomenclature.xlsx")
    assert res.layout.sheet == "Nomenclature" and "Data" in res.layout.sheets


def test_units_inside_quantity_text(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "libresolarbox__Bill of Materials.ods")
    by_row = {ln.row: ln for ln in res.items}
    assert (by_row[2].quantity, by_row[2].unit) == (1.0, "set")
    assert (by_row[3].quantity, by_row[3].unit) == (4.0, "plates")


def test_german_decimal_comma_quantity(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "ebk-cnc__BOM.ods")
    profile = next(ln for ln in res.items if ln.description.startswith("Profile Rahmen"))
    assert profile.quantity == pytest.approx(34.04)
    assert [ln.messages[0] for ln in res.lines if ln.row == 5] == ["section row ('linearführungen')"]


def test_space_padded_fields_are_trimmed(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "erpnext-velo__bom_ebike_premium_001.csv")
    comp = [ln for ln in res.items if ln.description.startswith("STO-COMP")]
    assert len(comp) == 15 and all(ln.unit == "Nos" for ln in comp)
    assert [ln.quantity for ln in comp if ln.quantity != 1.0] == [2.0, 2.0]  # W007 and B007 (lines 10, 12)
    assert comp[0].description == "STO-COMP-2024-F003"  # "STO-COMP-2024-F003   " in the file


def test_usd_value_column_is_not_taken_as_eur(boms_dir: Path) -> None:
    res = read_bom(boms_dir / "os1-dlp__Bill of Materials.xlsx")
    assert res.layout.columns["value"].strip() == "Total Cost ($)"
    assert all(ln.annual_value_eur is None for ln in res.items)
    assert any("USD" in n for n in res.layout.notes)
