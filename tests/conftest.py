"""Fixtures shared by every test area. Area-specific fixtures live in tests/<area>/conftest.py.

Expensive fixtures are built once per session. The reference data is required:
tests run against the real bundle named by RELOCMATCH_DATA (the Makefile and
.ci/run point it at ../shared/data).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TESTS_DIR = Path(__file__).parent
FIXTURES = TESTS_DIR / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real reference-data bundle; the suite cannot run without it."""
    raw = os.environ.get("RELOCMATCH_DATA")
    if not raw or not Path(raw).is_dir():
        pytest.fail("RELOCMATCH_DATA must point at the reference data (make test sets it to ../shared/data)")
    return Path(raw)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def irep_catalog_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """The real IREP register built once per session into a catalog folder (read-only for tests)."""
    from matching.catalog import build_catalog

    out = tmp_path_factory.mktemp("irep_catalog") / "catalog"
    build_catalog([("irep", data_dir / "establishments" / "irep_etablissements_industriels.csv")], out,
                  progress=False, data_dir=data_dir)
    return out


@pytest.fixture(scope="session")
def matcher(irep_catalog_dir: Path, data_dir: Path):
    """The real engine: IREP catalog, real classifier (semantic channel when installed), defaults."""
    from matching.config import MatchConfig
    from matching.pipeline import Matcher

    return Matcher.from_catalog(irep_catalog_dir, MatchConfig(), data_dir=data_dir)


@pytest.fixture(scope="session", autouse=True)
def products_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The learned products artifact the engine loads: the default folder when it is built and
    fresh (``make models``), else built once for this session into a temporary folder."""
    from matching.errors import DataError
    from matching.products.artifacts import ENV_VAR, build, check, default_folder

    raw = os.environ.get("RELOCMATCH_DATA")
    if not raw or not Path(raw).is_dir():
        return default_folder()  # the data_dir fixture fails the tests that need data
    try:
        check(default_folder(), raw)
        return default_folder()
    except DataError:
        root = tmp_path_factory.mktemp("models")
        build(root / "products", raw, log=lambda s: None)
        os.environ[ENV_VAR] = str(root)
        return root / "products"


@pytest.fixture(scope="session", autouse=True)
def semantic_models(products_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The label embeddings of the default semantic model: the default folder when built and
    fresh (``make models``), else built once for this session into a temporary folder (from the
    on-disk embedding cache when the machine has it). None when the model is not installed."""
    from matching.products import semantic as sem

    raw = os.environ.get("RELOCMATCH_DATA")
    key = sem.model_key()
    if not raw or not Path(raw).is_dir() or not sem.available(key):
        return None
    codes, texts = sem.label_texts(raw, sem.MODELS[key].max_chars)
    try:
        sem.load(key, codes=codes, texts=texts)
        return sem.default_folder(key)
    except sem.SemanticArtifactError:
        root = tmp_path_factory.mktemp("semantic")
        sem.build(key, root / f"semantic-{key}", raw, log=lambda s: None)
        os.environ[sem.ENV_ROOT] = str(root)
        return root / f"semantic-{key}"
