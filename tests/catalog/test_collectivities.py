"""Issue 14, defect 3: overseas collectivities (977 Saint-Barthélemy, 978 Saint-Martin, 975, 98x)
are in France but in no région. The catalog keeps their code apart (region None, collectivity
977), counts by région list the 18 INSEE régions only, and filters refuse them as régions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from matching.catalog.store import Catalog, _collectivities_apart, _filters_for, catalog_summary
from matching.cli import app
from matching.config import KNOWN_REGIONS
from matching.errors import CatalogError
from matching.geo import get_geo, split_region


@pytest.mark.parametrize(("code", "split"), [("44", ("44", None)), ("01", ("01", None)), ("977", (None, "977")),
                                             ("978", (None, "978")), ("988", (None, "988")), ("", (None, None)),
                                             (None, (None, None))])
def test_split_region(code: str | None, split: tuple[str | None, str | None]) -> None:
    assert split_region(code) == split


def test_geo_puts_saint_barthelemy_in_no_region(data_dir: Path) -> None:
    geo = get_geo(data_dir)
    sbh = geo.commune("97701")
    assert sbh is not None and (sbh.region, sbh.collectivity, sbh.departement) == (None, "977", "977")
    metz = geo.commune("57463")
    assert metz is not None and (metz.region, metz.collectivity) == ("44", None)
    assert set(geo.regions()) == KNOWN_REGIONS
    assert {"977", "978"} <= set(geo.collectivities())
    assert geo.region_of_departement("977") is None and geo.region_of_departement("57") == "44"


def test_irep_catalog_info_lists_regions_only(irep_catalog_dir: Path) -> None:
    res = CliRunner().invoke(app, ["catalog", "info", str(irep_catalog_dir), "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert set(m["by_region"]) <= KNOWN_REGIONS
    assert {"977", "978"} <= set(m["by_collectivity"])
    assert m["without_region"] >= sum(m["by_collectivity"].values())
    cat = Catalog.load(irep_catalog_dir)
    rows = cat.table[cat.table["collectivity"].notna()]
    assert len(rows) == sum(m["by_collectivity"].values()) and rows["region"].isna().all()
    sup = cat.to_supplier(int(rows.index[0]))
    assert sup.region is None and sup.collectivity in {"977", "978"}
    text = CliRunner().invoke(app, ["catalog", "info", str(irep_catalog_dir)]).stdout
    assert "overseas collectivities (in no région): 977=" in text


def test_a_catalog_built_before_the_column_reads_the_same() -> None:
    old = pd.DataFrame({"siret": ["1", "2", "3"], "region": pd.array(["44", "977", None], dtype="string")})
    new = _collectivities_apart(old)
    assert new["region"].tolist()[:2] == ["44", pd.NA] and new["collectivity"].tolist()[1] == "977"
    s = catalog_summary(new.assign(naf="28.15Z", lat=1.0, products=None))
    assert s["by_region"] == {"44": 1} and s["by_collectivity"] == {"977": 1} and s["without_region"] == 2


def test_region_filters_refuse_collectivities() -> None:
    with pytest.raises(CatalogError, match="977 is not an INSEE région.*--departements 977"):
        _filters_for("irep", None, None, "44,977", None)
    assert _filters_for("irep", None, None, "44", None).regions == frozenset({"44"})


def test_potential_refuses_a_collectivity_as_region() -> None:
    from matching.potential import potential

    table = pd.DataFrame({"siret": ["1"], "naf": ["28.15Z"], "region": ["44"]})
    with pytest.raises(CatalogError, match="978.*not an INSEE région"):
        potential([], table, region="978")
