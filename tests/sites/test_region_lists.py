"""A région's own list in the documented CSV and GeoJSON layouts (hand-made fixtures)."""

from __future__ import annotations

import pytest


def test_csv_layout(tmp_path, region_csv, data_dir):
    from matching.sites import SiteRegister, build_register

    rep = build_register([("csv", region_csv)], tmp_path / "r", data_dir=data_dir)
    assert rep.manifest["rejected"] == {
        "coordinates outside France": 1, "duplicate site_id": 1, "invalid status": 1, "invalid surface_m2": 1,
        "missing or non-positive surface": 1, "unknown commune (INSEE code not in COG 2026)": 1,
    }
    src = rep.manifest["sources"][0]
    assert src["rows_read"] == 10 and src["kept"] == 4
    assert "line 4: unknown commune (INSEE code not in COG 2026)" in src["rejected_examples"]
    assert "line 6: duplicate site_id" in src["rejected_examples"]
    assert any("line 8, column surface_m2" in p for p in src["problems"])
    reg = SiteRegister.load(tmp_path / "r")
    a = reg.site("GE-001")
    assert a["surface_m2"] == 120_000 and a["site_type"] == "parc_activites" and a["zone_kind"] == "activity"
    assert a["region"] == "44" and a["departement"] == "57" and a["coords_source"] == "source" and a["verified"]
    b = reg.site("GE-002")
    assert b["status"] == "sans_projet" and b["pollution"] == "peu_probable" and b["zone_kind"] == "activity"
    assert b["coords_source"] == "commune" and b["lat"] == pytest.approx(48.69313)  # Nancy's town hall
    c = reg.site("GE-007")
    assert c["surface_m2"] == 35_000 and c["has_project"] and not c["available"] and c["site_type"] == "logistique"
    d = reg.site("GE-009")
    assert not d["verified"] and d["pollution"] == "averee" and d["zone_kind"] == "urban" and d["rail_m"] is None
    assert rep.manifest["by_region"] == {"44": 4}


def test_geojson_layout(tmp_path, region_geojson, data_dir):
    from matching.sites import SiteRegister, build_register

    rep = build_register([("geojson", region_geojson)], tmp_path / "g", data_dir=data_dir)
    assert rep.manifest["rejected"] == {"invalid geometry": 1, "missing commune": 1}
    reg = SiteRegister.load(tmp_path / "g")
    p = reg.site("GEO-1")
    assert (p["lat"], p["lon"]) == (49.1, 6.705) and p["surface_m2"] == 200_000 and p["rail_m"] == 300
    poly = reg.site("GEO-2")
    assert poly["lat"] == pytest.approx(48.82) and poly["lon"] == pytest.approx(7.79)  # mean of the ring's vertices
    assert poly["verified"] is False and poly["site_type"] == "industrielle"


def test_two_sources_in_one_register(tmp_path, region_csv, region_geojson, data_dir):
    from matching.sites import build_register

    rep = build_register([("csv", region_csv), ("geojson", region_geojson)], tmp_path / "both", data_dir=data_dir)
    assert rep.sites == 6 and rep.manifest["by_source"] == {"csv": 4, "geojson": 2}


def test_missing_columns_name_the_file_and_the_layout(tmp_path, data_dir):
    from matching.sites import SiteError, build_register

    f = tmp_path / "list.csv"
    f.write_text("id;nom;commune\nA;B;57463\n", encoding="utf-8")
    with pytest.raises(SiteError, match=r"list.csv: line 1: missing columns site_id, name, surface_m2 or surface_ha"):
        build_register([("csv", f)], tmp_path / "x", data_dir=data_dir)
    g = tmp_path / "list.geojson"
    g.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(SiteError, match="FeatureCollection"):
        build_register([("geojson", g)], tmp_path / "x", data_dir=data_dir)
