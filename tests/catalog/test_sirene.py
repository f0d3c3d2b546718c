"""SIRENE stock loading on the real Isère sample (exact INSEE schema): names, [ND], filters, formats."""

from __future__ import annotations

import gzip
import shutil
import zipfile

import pandas as pd
import pytest

from matching.catalog import Catalog, build_catalog
from matching.errors import CatalogError

PERSONAL = ["nomUniteLegale", "nomUsageUniteLegale", "prenom1UniteLegale", "prenom2UniteLegale",
            "prenomUsuelUniteLegale", "pseudonymeUniteLegale"]


@pytest.fixture(scope="module")
def sample_df(sirene_sample) -> pd.DataFrame:
    return pd.read_csv(sirene_sample, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def retail_catalog(sirene_sample, tmp_path_factory, data_dir) -> Catalog:
    out = tmp_path_factory.mktemp("sirene") / "cat"
    build_catalog([("sirene", sirene_sample)], out, sections="G", progress=False, data_dir=data_dir)
    return Catalog.load(out)


def test_sample_loads_with_its_real_schema(retail_catalog, sample_df):
    t = retail_catalog.table
    assert len(t) == len(sample_df)  # all active, all valid NAF 47.x, all Isère communes
    assert set(t["departement"]) == {"38"} and set(t["region"]) == {"84"}
    assert t["naf"].str.startswith("47.").all()
    assert t["lat"].notna().all()
    merged = t.merge(sample_df, on="siret")
    assert (merged["commune_code"] == merged["codeCommuneEtablissement"]).mean() > 0.95
    assert (merged["size_band"].fillna("") == merged["trancheEffectifsEtablissement"]).all()
    assert (merged["category"].fillna("") == merged["categorieEntreprise"]).all()


def test_nd_is_never_a_name_and_company_names_win(retail_catalog, sample_df):
    t = retail_catalog.table.merge(sample_df, on="siret")
    assert not t["name"].str.contains(r"\[ND\]", regex=True).any()
    company_cols = ["denominationUsuelleEtablissement", "enseigne1Etablissement", "denominationUniteLegale",
                    "denominationUsuelle1UniteLegale", "sigleUniteLegale"]
    has_company = (t[company_cols] != "").any(axis=1)
    for r in t[has_company].itertuples():
        assert r.name in {" ".join(getattr(r, c).split()) for c in company_cols}  # names are cleaned at build (repeated spaces)
    # sole traders with only a masked personal name get a neutral label
    only_personal = t[~has_company]
    assert len(only_personal) > 0
    assert (only_personal["name"] == "Entreprise individuelle (SIREN " + only_personal["siren_x"] + ")").all()


def test_personal_names_never_used_even_when_not_masked(sirene_sample, sample_df, tmp_path, data_dir):
    # The same real rows with a (made-up) unmasked sole trader's name: it must never show.
    df = sample_df.head(40).copy()
    df["nomUniteLegale"] = "DUPONTEL"
    df["prenom1UniteLegale"] = "JEANNOT"
    df.loc[df.index[:20], ["denominationUniteLegale", "enseigne1Etablissement",
                           "denominationUsuelleEtablissement", "denominationUsuelle1UniteLegale",
                           "sigleUniteLegale"]] = ""
    df.loc[df.index[20:], "denominationUniteLegale"] = "SOCIETE TEST SAS"
    df.loc[df.index[20:], ["enseigne1Etablissement", "denominationUsuelleEtablissement"]] = ["", "[ND]"]
    src = tmp_path / "ei.csv"
    df.to_csv(src, index=False)
    build_catalog([("sirene", src)], tmp_path / "cat", divisions="47", progress=False, data_dir=data_dir)
    t = Catalog.load(tmp_path / "cat").table.set_index("siret")
    assert not t["name"].str.contains("DUPONTEL|JEANNOT").any()
    assert (t.loc[df["siret"].iloc[20:], "name"] == "SOCIETE TEST SAS").all()
    assert t.loc[df["siret"].iloc[:20], "name"].str.startswith("Entreprise individuelle (SIREN ").all()


def test_default_filter_keeps_goods_producers_only(sirene_sample, tmp_path, data_dir):
    # The sample is retail (47.x): the default SIRENE filter (A–E + 46) keeps none of it.
    with pytest.raises(CatalogError, match="no supplier kept"):
        build_catalog([("sirene", sirene_sample)], tmp_path / "c", progress=False, data_dir=data_dir)
    assert not (tmp_path / "c").exists()


def test_inactive_rows_are_skipped(sample_df, tmp_path, data_dir):
    df = sample_df.head(50).copy()
    df.loc[df.index[:10], "etatAdministratifEtablissement"] = "F"
    src = tmp_path / "closed.csv"
    df.to_csv(src, index=False)
    rep = build_catalog([("sirene", src)], tmp_path / "c", sections="G", progress=False, data_dir=data_dir)
    assert rep.suppliers == 40
    assert rep.sources[0].skipped["closed establishment (etatAdministratifEtablissement != A)"] == 10


def test_departement_and_region_filters(sirene_sample, tmp_path, data_dir):
    rep = build_catalog([("sirene", sirene_sample)], tmp_path / "a", divisions="47", departements="38",
                        progress=False, data_dir=data_dir)
    assert rep.suppliers == 973
    with pytest.raises(CatalogError, match="no supplier kept"):
        build_catalog([("sirene", sirene_sample)], tmp_path / "b", divisions="47", regions="44",
                      progress=False, data_dir=data_dir)


@pytest.mark.parametrize("fmt", ["gzip", "zip", "parquet", "semicolon"])
def test_other_formats_give_the_same_table(fmt, sirene_sample, sample_df, retail_catalog, tmp_path, data_dir):
    if fmt == "gzip":
        src = tmp_path / "s.csv.gz"
        with open(sirene_sample, "rb") as fi, gzip.open(src, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    elif fmt == "zip":
        src = tmp_path / "s.zip"
        with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(sirene_sample, "StockEtablissement_utf8.csv")
    elif fmt == "parquet":
        src = tmp_path / "s.parquet"
        sample_df.to_parquet(src, index=False)
    else:
        src = tmp_path / "s.csv"
        sample_df.to_csv(src, index=False, sep=";")
    build_catalog([("sirene", src)], tmp_path / "c", sections="G", progress=False, data_dir=data_dir)
    got = Catalog.load(tmp_path / "c").table
    pd.testing.assert_frame_equal(got, retail_catalog.table)
