"""The IREP register built into a catalog: the issue's "Must show" counts, on the real file."""

from __future__ import annotations

import json

import pandas as pd

from matching.catalog import Catalog, build_catalog, sha256_file
from matching.geo import get_geo, haversine_km


def test_catalog_info_json_meets_the_issue_counts(irep_catalog_dir, irep_csv, cli):
    code, out, err = cli("catalog", "info", irep_catalog_dir, "--json")
    assert code == 0, err
    info = json.loads(out)
    register_rows = len(pd.read_csv(irep_csv, dtype=str))
    assert info["suppliers"] >= 9800
    rejected = sum(info["rejected"].values())
    assert rejected <= 0.04 * register_rows
    assert all(reason.strip() and n > 0 for reason, n in info["rejected"].items())
    assert info["by_region"]["44"] >= 1000
    # every supplier is in a région or an overseas collectivity (977, 978: in no région, issue 14)
    assert sum(info["by_region"].values()) + sum(info["by_collectivity"].values()) == info["suppliers"]
    assert sum(info["by_naf_division"].values()) == info["suppliers"]
    (src,) = info["sources"]
    assert src["kind"] == "irep" and src["rows_read"] == register_rows
    assert src["sha256"] == sha256_file(irep_csv)
    # every row read is accounted for: kept, rejected, or merged as a duplicate site
    assert src["kept"] + sum(src["rejected"].values()) == register_rows
    assert info["suppliers"] + info["duplicates_merged"] == src["kept"]
    assert info["synthetic"] is False


def test_every_supplier_has_a_valid_naf_and_a_current_region(irep_catalog_dir, data_dir):
    cat = Catalog.load(irep_catalog_dir)
    naf = set(pd.read_csv(data_dir / "naf" / "naf_rev2_5levels_fr.csv", dtype=str)["NIV5"])
    regions = set(pd.read_csv(data_dir / "geo" / "regions_decoupage_administratif.csv", dtype=str)["code"])
    t = cat.table
    assert t["naf"].isin(naf).all()
    # a current région, or (overseas collectivities, in no région) the collectivity's code
    assert (t["region"].isin(regions) | (t["region"].isna() & t["collectivity"].isin(regions))).all()
    assert t["commune_code"].notna().all() and t["departement"].notna().all()
    # the file's pre-2016 régions are gone: Lorraine/Alsace/Champagne-Ardenne sites are in 44
    raw = pd.read_csv(data_dir / "establishments" / "irep_etablissements_industriels.csv", dtype=str)
    old_ge = raw[raw["Region"].isin(["LORRAINE", "ALSACE", "CHAMPAGNE-ARDENNES"])]
    kept_ge = t[t["siret"].isin(old_ge["Numero_SIRET"]) & t["departement"].isin(
        ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"])]
    assert (kept_ge["region"] == "44").all() and len(kept_ge) > 1000


def test_ape_codes_become_dotted_naf(irep_catalog_dir, irep_csv):
    raw = pd.read_csv(irep_csv, dtype=str)
    t = Catalog.load(irep_catalog_dir).table
    row = raw[raw["Code_APE"] == "2351Z"].iloc[0]
    hits = t[(t["siret"] == row["Numero_SIRET"]) & (t["naf"] == "23.51Z")]
    assert len(hits) == 1


def test_coordinates_are_near_the_commune(irep_catalog_dir, data_dir):
    cat = Catalog.load(irep_catalog_dir)
    geo = get_geo(data_dir)
    t = cat.table.dropna(subset=["lat"]).sample(300, random_state=0)
    for r in t.itertuples():
        c = geo.commune(r.commune_code)
        assert haversine_km(r.lat, r.lon, c.lat, c.lon) <= 20.0 + 1e-6
    assert cat.table["lat"].between(-30, 60).all() or cat.table["lat"].isna().any()
    notes = cat.manifest["sources"][0]["coordinates"]
    assert notes["lambert2e"] > 9000  # most IREP points are usable Lambert II étendu


def test_rejections_come_with_file_lines(irep_catalog_dir, irep_csv):
    src = Catalog.load(irep_catalog_dir).manifest["sources"][0]
    lines = open(irep_csv, encoding="utf-8").read().splitlines()
    assert src["rejected_examples"]
    for ex in src["rejected_examples"][:5]:
        n = int(ex.split(":")[0].removeprefix("line "))
        assert 2 <= n <= len(lines)


def test_rows_for_naf_and_supplier_lookup(irep_catalog_dir):
    cat = Catalog.load(irep_catalog_dir)
    pos = cat.rows_for_naf(["23.51Z", "24.10Z", "99.99Z"])
    assert len(pos) == int(cat.table["naf"].isin(["23.51Z", "24.10Z"]).sum()) > 0
    assert set(cat.table["naf"].iloc[pos]) == {"23.51Z", "24.10Z"}
    assert list(pos) == sorted(pos)
    s = cat.to_supplier(int(pos[0]))
    assert s.naf in {"23.51Z", "24.10Z"} and len(s.siret) == 14 and s.source == "irep"
    again = cat.supplier(s.siret)
    assert again is not None and again.siret == s.siret
    assert cat.supplier("00000000000001") is None


def test_build_is_repeatable(irep_catalog_dir, irep_csv, tmp_path, data_dir):
    other = tmp_path / "again"
    build_catalog([("irep", irep_csv)], other, progress=False, data_dir=data_dir)
    assert sha256_file(other / "suppliers.parquet") == sha256_file(irep_catalog_dir / "suppliers.parquet")
    m1 = json.loads((irep_catalog_dir / "manifest.json").read_text())
    m2 = json.loads((other / "manifest.json").read_text())
    assert m1["table_sha256"] == m2["table_sha256"]
    assert m1["by_region"] == m2["by_region"] and m1["rejected"] == m2["rejected"]


def test_region_filter_on_irep(irep_csv, tmp_path, data_dir):
    rep = build_catalog([("irep", irep_csv)], tmp_path / "ge", regions="44", sections="C", progress=False,
                        data_dir=data_dir)
    t = Catalog.load(tmp_path / "ge").table
    assert set(t["region"]) == {"44"}
    assert t["naf"].str[:2].astype(int).between(10, 33).all()
    assert 400 < rep.suppliers < 1000
    assert rep.sources[0].skipped["outside the geographic filter"] > 0
