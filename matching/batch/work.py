"""What one worker does, whichever the engine: load the engine once, match one company.

``get_matcher`` is a module-level cache keyed by the catalog path and settings, so a local
pool process or a Spark Python worker loads catalog, indexes and models once and reuses them
for every company it is given (Spark ships the path and settings, never the catalog).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from matching.batch.rows import (
    LINES_SCHEMA,
    SUPPLIERS_SCHEMA,
    error_rows,
    lines_from_table,
    result_rows,
    to_table,
)


@dataclass(frozen=True)
class EngineSettings:
    """Everything a worker needs to build the same Matcher as every other worker (picklable, small)."""

    catalog: str
    data_dir: str | None = None
    region: str = "44"
    top: int = 10
    semantic: bool | None = None  # None: the model when installed; False: lexical only
    ranker: str | None = None

    def config(self, buyer: str | None = None) -> Any:
        from matching.config import MatchConfig

        return MatchConfig(region=self.region, top_n=self.top, semantic=self.semantic, buyer=buyer or None)


_CACHE: dict[tuple[Any, ...], Any] = {}
LOAD_STATS: dict[str, float] = {}


def single_thread_env() -> None:
    """One BLAS / torch thread per worker process: the pool or Spark gives the parallelism."""
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(k, "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def get_matcher(settings: EngineSettings) -> Any:
    """The process's Matcher for these settings, loaded on first use (then cached)."""
    key = (os.path.abspath(settings.catalog), settings.data_dir, settings.region, settings.top,
           settings.semantic, settings.ranker)
    m = _CACHE.get(key)
    if m is None:
        single_thread_env()
        from matching.memory import freeze_long_lived
        from matching.pipeline import Matcher

        t0 = time.perf_counter()
        m = Matcher.from_catalog(settings.catalog, settings.config(), data_dir=settings.data_dir,
                                 ranker_path=settings.ranker)
        freeze_long_lived()
        LOAD_STATS["load_s"] = time.perf_counter() - t0
        LOAD_STATS["rss_after_load_mib"] = peak_rss_mib()
        _CACHE[key] = m
    return m


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def match_company(settings: EngineSettings, company: str, inputs: pa.Table,
                  progress: Any = None) -> tuple[pa.Table, pa.Table]:
    """One company's output tables (lines, suppliers), from its input rows in ``seq`` order.

    The company's lines go through ONE ``Matcher.match`` call whatever the engine: batch
    composition (embedding batches, repeated-line reuse, priorities) is then the same, and so
    are the results.
    """
    from matching.errors import RelocmatchError
    from matching.results import result_to_dict

    inputs = inputs.sort_by("seq")
    rows = inputs.to_pylist()
    matcher = get_matcher(settings)
    buyer = rows[0]["buyer"] if rows else None
    try:
        m = matcher.with_config(matcher.config.with_(buyer=buyer or None)) if buyer else matcher
    except RelocmatchError as exc:
        lines, sups = error_rows(company, rows, str(exc))
    else:
        res = m.match(lines_from_table(inputs), progress=progress)
        lines, sups = result_rows(company, rows, result_to_dict(res))
    return to_table(lines, LINES_SCHEMA), to_table(sups, SUPPLIERS_SCHEMA)


def log(msg: str) -> None:
    print(f"[relocmatch batch pid {os.getpid()}] {msg}", file=sys.stderr, flush=True)
