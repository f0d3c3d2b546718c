"""Project input: wrong input gets an error naming the field."""

from __future__ import annotations

import json

import pytest


def _resolve(data_dir, **kw):
    from matching.sites.project import parse_project, resolve_project

    base = {"activity": "28.96Z", "surface_ha_min": 1, "surface_ha_max": 4, "region": "44"}
    return resolve_project(parse_project({**base, **kw}), data_dir=data_dir)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"activity": "99.99Z"}, "activity", "unknown NAF code"),
    ({"surface_ha_min": -2}, "surface_ha_min", "not a possible surface"),
    ({"surface_ha_min": 5, "surface_ha_max": 2}, "surface_ha_max", "below surface_ha_min"),
    ({"surface_ha_max": 1e9}, "surface_ha_max", "not a possible surface"),
    ({"surface_m2_min": 1000}, "surface_ha_min", "not both"),
    ({"surface_ha_min": None, "surface_ha_max": None}, "surface_m2_min", "required"),
    ({"region": "99"}, "region", "unknown région"),
    ({"departements": ["57", "9Z"]}, "departements.1", "unknown département"),
    ({"departements": ["75"]}, "departements.0", "not in région 44"),
    ({"wishes": {"near_commune": "99999"}}, "wishes.near_commune", "unknown commune"),
    ({"wishes": {"site_types": ["château"]}}, "wishes.site_types.0", "unknown site type"),
    ({"constraints": {"rail_within_km": -1}}, "constraints.rail_within_km", "greater than 0"),
    ({"constraints": {"zoning": True}}, "constraints.zoning", "Extra inputs"),
    ({"activity": ""}, "activity", "at least 1"),
])
def test_wrong_input_names_the_field(data_dir, change, field, words):
    from matching.sites.project import ProjectError

    with pytest.raises(ProjectError) as err:
        _resolve(data_dir, **change)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ") and words in str(err.value)


def test_resolved_project(data_dir):
    rp = _resolve(data_dir, departements=["57", "54"], wishes={"near_commune": "57463"})
    assert (rp.activity_naf, rp.activity_route, rp.activity_class) == ("28.96Z", "code", "industrial")
    assert (rp.surface_min, rp.surface_max) == (10_000, 40_000)
    assert rp.departements == {"57", "54"} and rp.near[1] == "Metz"
    rp = _resolve(data_dir, activity="2896Z", surface_ha_min=None, surface_ha_max=None, surface_m2_min=5000,
                  region=None)
    assert rp.activity_naf == "28.96Z" and (rp.surface_min, rp.surface_max) == (5000, 10_000) and rp.departements is None
    assert len(_resolve(data_dir).departements) == 10  # Grand Est's ten départements


def test_free_text_goes_through_the_understanding_stage(data_dir):
    rp = _resolve(data_dir, activity="fabrication de machines pour le travail du caoutchouc ou des plastiques")
    assert rp.activity_route == "text" and rp.activity_naf == "28.96Z"
    assert rp.activity_alternatives[0][0] == "28.96Z"


def test_read_project_names_the_file(tmp_path):
    from matching.sites import SiteError
    from matching.sites.project import read_project

    p = tmp_path / "p.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(SiteError, match="p.json: not valid JSON"):
        read_project(p)
    p.write_text(json.dumps({"activity": "28.96Z", "surface_m2_min": "lots"}), encoding="utf-8")
    with pytest.raises(SiteError, match=r"p.json: surface_m2_min: "):
        read_project(p)


def test_schema_is_documented():
    from matching.sites.project import Project

    props = Project.model_json_schema()["properties"]
    for k in ("activity", "surface_m2_min", "surface_m2_max", "region", "departements", "constraints", "wishes"):
        assert k in props
