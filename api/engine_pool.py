"""Engine processes: ``/v1/match`` batches matched in N separate processes, whichever is free.

Why: with uvicorn's ``--workers``, each worker keeps the keep-alive connections it accepted,
and twenty clients rarely split evenly (measured: 9 to 15 ms of server CPU per request, and
from 100 to 150 requests/s, run to run, depending on the split). In one worker, the event
loop and the engine share one GIL, so HTTP work and the engine's Python never overlap.
Here one uvicorn process serves HTTP while ``engine_processes`` processes, each with its own
Matcher loaded from the catalog, take the coalesced batches from one queue: the load is
balanced whatever the connections, and HTTP and matching run in parallel.

Each process loads the catalog and the model once (memory: one Matcher per process, plus
the HTTP process's own for the other endpoints). A process that dies (killed, out of
memory) fails the batch it held with a clear error, and the pool is started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from api import engine
from matching.errors import RelocmatchError
from matching.types import BomLine

log = logging.getLogger("relocmatch.api")

_MATCHER: Any = None  # the engine process's own Matcher (set by _start)


class EngineUnavailable(RelocmatchError):
    """An engine process died while matching this batch (the pool is being restarted)."""


def _start(catalog: str, semantic: bool | None, ranker: str | None, torch_threads: int) -> None:
    """In each engine process: load the Matcher, warm it up, keep the collector off it."""
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the pool
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    global _MATCHER
    from matching.config import MatchConfig
    from matching.memory import freeze_long_lived
    from matching.pipeline import Matcher

    _MATCHER = Matcher.from_catalog(catalog, MatchConfig(semantic=semantic), ranker_path=ranker)
    _MATCHER.match([BomLine(row=1, description="roulements à billes", code="84821010")])
    from matching.embed import set_threads

    set_threads(torch_threads)
    freeze_long_lived()


def _run(groups: list[list[BomLine]], options: dict[str, Any], deadline: float) -> list[dict[str, Any]]:
    """In an engine process: one batch (the deadline is on the wall clock, shared across processes)."""
    return engine.match_groups(_MATCHER, groups, options, deadline)


def _ready() -> bool:
    return _MATCHER is not None


class EnginePool:
    """``processes`` engine processes behind one ``match_groups`` call (blocking; one per dispatcher thread)."""

    def __init__(self, *, processes: int, catalog: str, semantic: bool | None, ranker: str | None,
                 torch_threads: int = 1) -> None:
        self.processes = processes
        self._args = (catalog, semantic, ranker, torch_threads)
        self._lock = threading.Lock()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn: a fresh interpreter, never a fork of this multi-threaded server
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=self._args)

    def wait_ready(self) -> None:
        """Start every process now and wait until each has its Matcher (not on the first request)."""
        futures = [self._executor.submit(_ready) for _ in range(self.processes * 2)]
        for f in futures:
            f.result()

    def match_groups(self, _matcher: Any, groups: list[list[BomLine]], options: dict[str, Any],
                     deadline: float) -> list[dict[str, Any]]:
        """``engine.match_groups`` in a free engine process (the HTTP process's matcher is not used)."""
        executor = self._executor
        try:
            return executor.submit(_run, groups, options, deadline).result()
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:  # the first thread to notice starts a new pool
                    log.error("an engine process died; starting the engine processes again")
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._new_executor()
            raise EngineUnavailable("an engine process stopped while matching these lines; "
                                    "the engine is restarting: retry in a few seconds") from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
