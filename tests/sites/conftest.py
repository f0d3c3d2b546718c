"""Site-register fixtures: the real Cartofriches register built once, the hand-made région lists."""

from __future__ import annotations

from pathlib import Path

import pytest

SITES_FIXTURES = Path(__file__).parent.parent / "fixtures" / "sites"


@pytest.fixture(scope="session")
def cartofriches_csv(data_dir: Path) -> Path:
    return data_dir / "sites" / "friches_cartofriches.csv"


@pytest.fixture(scope="session")
def cartofriches_register(tmp_path_factory: pytest.TempPathFactory, cartofriches_csv: Path, data_dir: Path):
    """(folder, build report) of the real national register."""
    from matching.sites import build_register

    out = tmp_path_factory.mktemp("sites") / "cartofriches"
    rep = build_register([("cartofriches", cartofriches_csv)], out, data_dir=data_dir)
    return out, rep


@pytest.fixture(scope="session")
def register(cartofriches_register):
    from matching.sites import SiteRegister

    return SiteRegister.load(cartofriches_register[0])


@pytest.fixture(scope="session")
def region_csv() -> Path:
    return SITES_FIXTURES / "region_sites.csv"


@pytest.fixture(scope="session")
def region_geojson() -> Path:
    return SITES_FIXTURES / "region_sites.geojson"
