"""API test fixtures.

- ``db``: a fresh database per test, parametrised over SQLite (file in tmp_path) and
  PostgreSQL (``RELOCMATCH_TEST_POSTGRES_URL``, a unique schema per test, dropped after).
  Without the variable the postgres params skip; with it they run and fail loudly if the
  server is unreachable.
- ``FakeMatcher``: ONLY for the mechanics tests (auth, limits, jobs, crash recovery); it
  returns real ``LineResult`` dataclasses so the real result serialiser runs.
- ``real_matcher``: the real ``Matcher`` over the real IREP catalog (session fixture
  ``irep_catalog_dir``), lexical channels only (semantic=False) to keep the suite bounded.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from api.store import Store
from matching.config import MatchConfig
from matching.results import MatchResult, summarise
from matching.types import ActivityGuess, BomLine, LineResult, ProductGuess, Reason, Supplier, SupplierMatch

PG_ENV = "RELOCMATCH_TEST_POSTGRES_URL"


@dataclass
class DB:
    url: str
    schema: str | None
    kind: str

    def settings(self, **kw: Any) -> Settings:
        base: dict[str, Any] = dict(database_url=self.url, database_schema=self.schema, catalog="/nonexistent",
                                    job_poll_s=0.2, job_heartbeat_s=0.2)
        base.update(kw)
        return Settings(**base)

    def store(self) -> Store:
        return Store(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield DB(f"sqlite:///{tmp_path / 'relocmatch.sqlite3'}", None, "sqlite")
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests need a server (CI sets it)")
    schema = f"relocmatch_test_{uuid.uuid4().hex[:12]}"
    d = DB(url, schema, "postgres")
    store = d.store()
    if not store.ping():  # fail loudly: the variable says a server is there
        pytest.fail(f"{PG_ENV}={url}: PostgreSQL unreachable")
    store.create_all()
    try:
        yield d
    finally:
        store.drop_schema()
        store.dispose()


def _supplier(i: int) -> Supplier:
    return Supplier(siret=f"{12345678900000 + i:014d}", name=f"Fournisseur {i}", naf="28.15Z", commune="Metz",
                    commune_code="57463", departement="57", region="44")


class FakeMatcher:
    """A deterministic stand-in for mechanics tests. ``gate`` (threading.Event) blocks each
    line until set; ``started`` is set when the first line is being matched."""

    def __init__(self, *, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.config = MatchConfig()
        self.gate = gate
        self.fail = fail
        self.started = threading.Event()
        self.calls = 0
        import pandas as pd

        self.table = pd.DataFrame({"siret": [_supplier(i).siret for i in range(3)]})

    def supplier(self, row: int) -> Supplier:
        return _supplier(int(row))

    def with_config(self, config: MatchConfig) -> FakeMatcher:
        import copy

        m = copy.copy(self)  # gate and started events stay shared with the test
        m.config = config
        return m

    def _line(self, ln: BomLine) -> LineResult:
        top = self.config.top_n
        sups = tuple(
            SupplierMatch(rank=i + 1, supplier=_supplier(i), tier="regional", score=0.9 - 0.1 * i,
                          reasons=(Reason("activity", 0.5, "activité 28.15Z"),))
            for i in range(min(3, top))
        )
        return LineResult(line=ln, status="matched",
                          products=(ProductGuess("84821010", "CN8", "roulements", 0.8, "text"),),
                          activities=(ActivityGuess("28.15Z", "Fabrication d'engrenages", 0.7, "cn-cpa"),),
                          suppliers=sups)

    def match(self, lines: list[BomLine], *, progress: Any = None) -> MatchResult:
        self.calls += 1
        if self.fail:
            raise RuntimeError("secret internal detail /etc/passwd")
        out = []
        for i, ln in enumerate(lines):
            self.started.set()
            if self.gate is not None:
                self.gate.wait()
            out.append(self._line(ln))
            if progress is not None:
                progress(i + 1, len(lines))
        return MatchResult(catalog={"name": "fake"}, lines=out, summary=summarise(out))

    def match_many(self, groups: list[list[BomLine]], *, progress: Any = None) -> list[MatchResult]:
        """Like the real one: one engine pass (``calls`` + 1), one result per request."""
        flat = self.match([ln for g in groups for ln in g], progress=progress).lines
        out, pos = [], 0
        for g in groups:
            part = flat[pos : pos + len(g)]
            pos += len(g)
            out.append(MatchResult(catalog={"name": "fake"}, lines=part, summary=summarise(part)))
        return out

    def search(self, text: str, **kw: Any) -> LineResult:
        return self._line(BomLine(row=1, description=text))


@pytest.fixture(scope="session")
def real_matcher(irep_catalog_dir: Path, data_dir: Path) -> Any:
    """The real Matcher over the real IREP catalog (lexical channels: bounded test time)."""
    from matching.pipeline import Matcher

    return Matcher.from_catalog(irep_catalog_dir, MatchConfig(semantic=False))


def make_key(store: Store, name: str = "k", org: str | None = None) -> str:
    return store.create_key(name, org)[0]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fake_matcher_cls() -> type[FakeMatcher]:
    return FakeMatcher


@pytest.fixture
def key_for() -> Any:
    return make_key


@pytest.fixture
def bearer() -> Any:
    return auth


def sqlite_with_key(folder: Path, name: str) -> tuple[str, str]:
    """A fresh SQLite store in ``folder`` with its tables and one API key: (url, key)."""
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    store = Store(url)
    store.create_all()
    key = make_key(store, name)
    store.dispose()
    return url, key


@pytest.fixture(scope="session")
def sqlite_key() -> Any:
    return sqlite_with_key


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Like ``db`` but NOTHING created (migration tests build the schema themselves)."""
    if request.param == "sqlite":
        yield DB(f"sqlite:///{tmp_path / 'relocmatch.sqlite3'}", None, "sqlite")
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests need a server (CI sets it)")
    d = DB(url, f"relocmatch_test_{uuid.uuid4().hex[:12]}", "postgres")
    store = d.store()
    if not store.ping():
        pytest.fail(f"{PG_ENV}={url}: PostgreSQL unreachable")
    try:
        yield d
    finally:
        store.drop_schema()
        store.dispose()


@pytest.fixture(scope="session")
def legacy_store() -> Any:
    """The frozen pre-migration api/store.py (tests/api/legacy_store_0001.py) as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("legacy_store_0001", Path(__file__).parent / "legacy_store_0001.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


REDIS_ENV = "RELOCMATCH_TEST_REDIS_URL"


@dataclass
class RedisTarget:
    url: str
    prefix: str  # this test's own keys: <prefix>:...; deleted afterwards


@pytest.fixture
def redis_target() -> Any:
    """The real Redis (``RELOCMATCH_TEST_REDIS_URL``) with a key prefix of this test's own.
    Unset: skip, except in CI (``CI=true``) where it fails; set but unreachable: fail."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{REDIS_ENV} not set in CI: .ci/run exports it")
        pytest.skip(f"{REDIS_ENV} not set: the shared-limits tests need a Redis server (CI sets it)")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"{REDIS_ENV}={url}: Redis unreachable ({exc})")
    prefix = f"relocmatch_test_{uuid.uuid4().hex[:12]}"
    try:
        yield RedisTarget(url, prefix)
    finally:
        names = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if names:
            client.delete(*names)
        client.close()
