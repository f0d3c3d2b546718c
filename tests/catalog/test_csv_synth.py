"""Generic directory CSV (column mapping, products text) and the synthetic benchmark generator."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from matching.catalog import Catalog, build_catalog, sha256_file, synth_sirene
from matching.catalog.sources import luhn_ok, parse_mapping
from matching.errors import CatalogError

MAP = "siret=SIRET,name=Raison sociale,naf=APE,commune=Commune,postcode=CP,products=Produits"


@pytest.fixture()
def directory_csv(tmp_path):
    """A small regional directory in the shape agencies publish: ';', cp1252, French headers."""
    rows = [
        ("552 081 317 00123", "Aciéries de Lorraine", "24.10Z", "57463", "57000", "tôles laminées, acier"),
        ("38080229800022", "Plasturgie Saint-Avold", "2229A", "ST AVOLD", "57500", "injection plastique"),
        ("30468892200026", "Roulements de l'Est", "28.15Z", "Strasbourg", "67000", "roulements à billes"),
        ("12345678900011", "Mauvais code", "ZZ.99", "57463", "57000", ""),
        ("12345678900029", "Commune inconnue", "25.62B", "Nullepart", "57000", ""),
        ("12345678900037", "", "25.62B", "57463", "57000", ""),
    ]
    df = pd.DataFrame(rows, columns=["SIRET", "Raison sociale", "APE", "Commune", "CP", "Produits"])
    path = tmp_path / "annuaire.csv"
    df.to_csv(path, index=False, sep=";", encoding="cp1252")
    return path


def test_generic_csv_keeps_products_and_resolves_communes(directory_csv, tmp_path, data_dir):
    rep = build_catalog([("csv", directory_csv)], tmp_path / "c", mapping=MAP, progress=False, data_dir=data_dir)
    t = Catalog.load(tmp_path / "c").table.set_index("siret")
    assert rep.suppliers == 3
    assert t.loc["55208131700123", "products"] == "tôles laminées, acier"
    assert t.loc["55208131700123", "name"] == "Aciéries de Lorraine"  # cp1252 decoded
    assert t.loc["38080229800022", ["naf", "commune_code", "region"]].tolist() == ["22.29A", "57606", "44"]
    assert t.loc["30468892200026", "commune_code"] == "67482"
    assert set(t["source"]) == {"csv"}
    r = rep.sources[0]
    assert r.rejected == {"invalid NAF code (not a NAF rév. 2 sous-classe)": 1, "unknown commune code": 1,
                          "missing name": 1}
    assert rep.manifest["with_products"] == 3


def test_mapping_parsing_and_errors(directory_csv, tmp_path, data_dir):
    assert parse_mapping("siret=SIRET, name = Raison sociale")["name"] == "Raison sociale"
    with pytest.raises(CatalogError, match="lacks target"):
        build_catalog([("csv", directory_csv)], tmp_path / "c", mapping="siret=SIRET,name=Raison sociale",
                      progress=False, data_dir=data_dir)
    with pytest.raises(CatalogError, match="missing column"):
        build_catalog([("csv", directory_csv)], tmp_path / "c", mapping=MAP.replace("APE", "NAF"),
                      progress=False, data_dir=data_dir)


def test_csv_and_irep_combined_sorted_by_siret(directory_csv, irep_csv, tmp_path, data_dir):
    rep = build_catalog([("irep", irep_csv), ("csv", directory_csv)], tmp_path / "c", mapping=MAP,
                        progress=False, indexes=False, data_dir=data_dir)
    t = Catalog.load(tmp_path / "c").table
    assert rep.suppliers == len(t) and {"csv", "irep"} == set(t["source"])
    assert t["siret"].is_monotonic_increasing


@pytest.mark.parametrize("suffix", [".csv.gz", ".parquet"])
def test_synthetic_file_is_sirene_schema_and_labelled(suffix, tmp_path, data_dir, sirene_sample):
    out = tmp_path / f"synth{suffix}"
    synth_sirene(3000, out, seed=7, data_dir=data_dir, progress=False)
    df = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, dtype=str, keep_default_na=False)
    real_cols = pd.read_csv(sirene_sample, nrows=0).columns.tolist()
    assert df.columns.tolist()[: len(real_cols)] == real_cols
    assert len(df) == 3000 and df["siret"].is_unique
    assert all(luhn_ok(s) and luhn_ok(s[:9]) for s in df["siret"])
    assert json.loads((tmp_path / f"synth{suffix}.synthetic.json").read_text())["synthetic"] is True
    rep = build_catalog([("sirene", out)], tmp_path / "cat", progress=False, indexes=False, data_dir=data_dir)
    m = Catalog.load(tmp_path / "cat").manifest
    assert m["synthetic"] is True and m["sources"][0]["synthetic"] is True
    assert rep.suppliers > 1500 and m["rejected"] == {}
    # the default filter (A–E + 46) did work on the rest
    assert m["skipped"]["outside the NAF filter"] > 0
    # realistic geography: Île-de-France is the most populated région
    assert max(m["by_region"], key=m["by_region"].get) == "11"


def test_synthetic_marker_column_survives_without_sidecar(tmp_path, data_dir):
    out = tmp_path / "s.csv"
    synth_sirene(500, out, seed=1, data_dir=data_dir, progress=False)
    (tmp_path / "s.csv.synthetic.json").unlink()
    build_catalog([("sirene", out)], tmp_path / "cat", progress=False, indexes=False, data_dir=data_dir)
    assert Catalog.load(tmp_path / "cat").manifest["synthetic"] is True


def test_synthetic_is_deterministic_per_seed(tmp_path, data_dir):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    synth_sirene(1000, a, seed=3, data_dir=data_dir, progress=False)
    synth_sirene(1000, b, seed=3, data_dir=data_dir, progress=False)
    synth_sirene(1000, c, seed=4, data_dir=data_dir, progress=False)
    assert sha256_file(a) == sha256_file(b) != sha256_file(c)


def test_cli_synth_then_build_then_info(cli, tmp_path):
    out = tmp_path / "s.csv.gz"
    code, _, err = cli("catalog", "synth", "--rows", "2000", "--out", out, "--quiet")
    assert code == 0, err
    code, stdout, err = cli("catalog", "build", "--source", "sirene", out, "--out", tmp_path / "c", "--quiet",
                            "--no-indexes")
    assert code == 0, err
    assert "SYNTHETIC" in stdout
    code, stdout, _ = cli("catalog", "info", tmp_path / "c")
    assert code == 0 and "SYNTHETIC" in stdout
