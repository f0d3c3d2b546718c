"""Supplier names are cleaned at catalog build and the cleaning is counted (issue 16, defect 3)."""

from __future__ import annotations

import json

import pandas as pd

from matching.catalog.names import clean_name, clean_names


def test_clean_name_removes_script_markup_and_control_characters():
    js = "SARL AUREjavascript:openWindowScroll('/gerep/afficherReferentielCodeApePopup.do?methode=ecriture',520,300,'_blank');GAN MEGRET"
    assert clean_name(js) == "SARL AUREGAN MEGRET"
    assert clean_name("<b>ACME</b>  &amp; Fils\x07 ") == "ACME & Fils"
    assert clean_name("USINE\tDE\u200b  METZ") == "USINE DE METZ"


def test_clean_names_counts_only_changed_names():
    s = pd.Series(["ACME", "A  B", None, "javascript:void(0);", "SKF"], dtype="string")
    out, n = clean_names(s)
    assert n == 2
    assert out.tolist()[:2] == ["ACME", "A B"] and out.isna().tolist() == [False, False, True, True, False]


def test_irep_catalog_has_no_script_fragment_and_counts_cleaning(irep_catalog_dir):
    from matching.catalog import Catalog

    cat = Catalog.load(irep_catalog_dir)
    names = cat.table["name"].astype("string")
    assert not names.str.contains("javascript:", case=False, na=False).any()
    assert not names.str.contains(r"[\x00-\x1f<>]", regex=True, na=False).any()
    assert (names == "SARL AUREGAN MEGRET").any()
    manifest = json.loads((irep_catalog_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["names_cleaned"] >= 1
    assert manifest["sources"][0]["names_cleaned"] == manifest["names_cleaned"]
