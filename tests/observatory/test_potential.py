"""Territorial strengths on the hand-made fixture (tests/fixtures/observatory/), with the
real crosswalk (CN → CPA → NAF) from the reference data.

Fixture BOMs (imported value by HS4, French-origin and code-less lines left out):
  3901  300000 (US)            → 20.16Z: 3 establishments, 1 in Grand Est (size 41 → 250+)
  8482  100000 + 60000 = 160000 → 28.15Z: 4, 2 in 44 (21 → 50-249, 12 → 10-49)
  7318  50000 + 20000 + 30000   → 25.94Z: 5, 3 in 44 (12, 11 → 10-49; 03 → 0-9)
  8480  100000                  → 25.73A/B: 3, 2 in 44
  4011  80000                   → 22.11Z: 2, 1 in 44
  8544  200000                  → 27.90Z: 1, 0 in 44  (no regional base)
  8501  150000                  → 27.11Z: 2, 0 in 44  (no regional base)
  4016  value unknown           → 22.19Z: 2, 1 in 44
The wholesale row (46.69B) never counts: the crosswalk gives producers only.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from matching.errors import CatalogError
from matching.potential import add_labels, potential, size_band_group
from matching.types import BomLine

FIX = Path(__file__).parents[1] / "fixtures" / "observatory"


def _bom(path: Path) -> list[BomLine]:
    from matching.bom import read_bom

    return read_bom(path).items


@pytest.fixture(scope="module")
def crosswalk(data_dir):
    from matching.codes import get_crosswalk

    return get_crosswalk(data_dir)


@pytest.fixture(scope="module")
def table(crosswalk):
    boms = [_bom(p) for p in sorted((FIX / "boms").glob("*.csv"))]
    catalog = pd.read_csv(FIX / "catalog.csv", dtype=str)
    return potential(boms, catalog, crosswalk)


def test_ranked_by_imported_value_with_a_regional_base(table):
    assert list(table["hs4"]) == ["3901", "8482", "7318", "8480", "4011", "8544", "8501", "4016"]
    assert list(table["rank"]) == list(range(1, 9))
    t = table.set_index("hs4")
    assert t.loc["8482", "imported_value_eur"] == 160_000.0 and t.loc["8482", "lines"] == 2
    assert t.loc["7318", "imported_value_eur"] == 100_000.0 and t.loc["7318", "lines"] == 3
    # 8544 is worth more than 8482 but has no regional producer: ranked after every product with one
    assert not t.loc["8544", "regional_base"] and t.loc["8544", "potential_eur"] == 0.0
    assert math.isnan(t.loc["4016", "imported_value_eur"])  # unknown value stays unknown


def test_establishment_counts_and_size_bands(table):
    t = table.set_index("hs4")
    assert t.loc["7318", "activities"] == "25.94Z"
    assert (t.loc["7318", "establishments_fr"], t.loc["7318", "establishments_region"]) == (5, 3)
    assert (t.loc["7318", "region_0-9"], t.loc["7318", "region_10-49"]) == (1, 2)
    assert (t.loc["8482", "region_10-49"], t.loc["8482", "region_50-249"]) == (1, 1)
    assert t.loc["8482", "establishments_fr"] == 4  # the 46.69B distributor is not counted
    assert t.loc["3901", "region_250+"] == 1


def test_left_out_lines_are_counted(table):
    assert table.attrs["unclassified_lines"] == 1  # "Pièces diverses", no code
    assert table.attrs["unclassified_value_eur"] == 5000.0
    assert table.attrs["french_origin_lines_left_out"] == 1  # carton, FR


def test_labels_and_size_band_groups(table, crosswalk):
    lab = add_labels(table, crosswalk).set_index("hs4")
    assert "Roulements" in lab.loc["8482", "label"]
    assert size_band_group("12") == "10-49" and size_band_group("NN") == "unknown" and size_band_group(None) == "unknown"
    assert size_band_group("3") == "0-9"


def test_catalog_without_required_columns_is_refused(crosswalk):
    with pytest.raises(CatalogError, match="siret, naf, region"):
        potential([BomLine(row=1, code="8482")], pd.DataFrame({"siret": []}), crosswalk)
