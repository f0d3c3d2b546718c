"""The real Cartofriches register: counts recomputed here from the CSV with the csv module."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest


@pytest.fixture(scope="module")
def raw_rows(cartofriches_csv):
    with cartofriches_csv.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _has_surface(r: dict) -> bool:
    try:
        return float(r["site_surface_m2"]) > 0
    except ValueError:
        return False


def test_counts_per_region_equal_an_independent_count(cartofriches_register, raw_rows):
    _, rep = cartofriches_register
    m = rep.manifest
    expected = Counter(r["region_code"] for r in raw_rows if _has_surface(r))
    assert m["by_region"] == dict(sorted(expected.items()))
    assert m["by_region"]["44"] == 2863  # 2,875 Grand Est sites (data README) less 12 without a surface
    big = Counter(r["region_code"] for r in raw_rows if _has_surface(r) and float(r["site_surface_m2"]) >= 10_000)
    assert m["at_least_1ha_by_region"] == dict(sorted(big.items()))
    assert m["at_least_1ha_by_region"]["44"] == 1425 and m["at_least_1ha"] == 9796  # the data README's figures
    deps = Counter(r["dep"] for r in raw_rows if _has_surface(r) and r["region_code"] == "44")
    assert {d: n for d, n in m["by_departement"].items() if d in deps} == dict(deps)


def test_rejections_are_counted_with_reasons_and_lines(cartofriches_register, raw_rows):
    _, rep = cartofriches_register
    no_surface = [i for i, r in enumerate(raw_rows, start=2) if not _has_surface(r)]
    assert rep.manifest["rejected"] == {"missing or non-positive surface": len(no_surface)}
    assert len(no_surface) == 94
    src = rep.manifest["sources"][0]
    assert src["rows_read"] == len(raw_rows) == 23878
    assert src["kept"] == rep.sites == len(raw_rows) - 94
    assert src["rejected_examples"][:3] == [f"line {i}: missing or non-positive surface" for i in no_surface[:3]]


def test_caveats_are_carried_as_data(register, raw_rows):
    kept = {r["site_id"]: r for r in raw_rows if _has_surface(r)}
    t = register.table.set_index("site_id")
    unverified = {sid for sid, r in kept.items() if r["checked"] == "False"}
    assert set(t.index[~t["verified"]]) == unverified
    placeholder = {sid for sid, r in kept.items() if r["nature"] == "fond friche"
                   and round(float(r["site_surface_m2"]), 2) in (312.14, 31214.45, 624.29)}
    assert set(t.index[t["surface_is_placeholder"]]) == placeholder and len(placeholder) == 725
    with_project = {sid for sid, r in kept.items() if r["site_statut"] in ("friche avec projet", "friche reconvertie")}
    assert set(t.index[t["has_project"]]) == with_project
    c = register.manifest["caveats"]
    assert (c["unverified"], c["surface_is_placeholder"], c["has_project"]) == (
        len(unverified), len(placeholder), len(with_project))


def test_geography_comes_from_the_commune_tables(register, raw_rows):
    t = register.table
    assert t["region"].notna().all() and t["departement"].notna().all()
    by_id = {r["site_id"]: r for r in raw_rows}
    # the file's région (COG 2026 by département) agrees with the one the commune tables give
    assert all(by_id[s]["region_code"] == reg for s, reg in zip(t["site_id"], t["region"], strict=True))
    row = register.site("52140_21556")  # the data README's sample row
    assert row["commune"].upper().startswith("COLOMBEY") and row["region"] == "44"
    assert row["surface_is_placeholder"] is True and row["has_project"] is True and row["verified"] is True


def test_build_is_atomic_and_refuses_a_bad_file(tmp_path, cartofriches_register, region_csv, data_dir):
    from matching.sites import SiteError, SiteRegister, build_register

    out = tmp_path / "reg"
    build_register([("csv", region_csv)], out, data_dir=data_dir)
    before = (out / "manifest.json").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("pk,site_id\n1,x\n", encoding="utf-8")
    with pytest.raises(SiteError, match="missing columns"):
        build_register([("cartofriches", bad)], out, data_dir=data_dir)
    assert (out / "manifest.json").read_text() == before  # the previous register is untouched
    assert not list(tmp_path.glob(".reg.building-*"))
    assert SiteRegister.load(out).manifest["sites"] == json.loads(before)["sites"]
    with pytest.raises(SiteError, match="unknown source kind"):
        build_register([("shapefile", region_csv)], out, data_dir=data_dir)
    with pytest.raises(SiteError, match="not a site register"):
        SiteRegister.load(tmp_path)
