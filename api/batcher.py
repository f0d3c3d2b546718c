"""Coalescing of concurrent synchronous matches (``POST /v1/match``) into one engine call.

Why: a one-line match is dominated by per-call costs (the BERT forward of one short text,
numpy and sklearn call overheads); twenty lines in one call cost far less than twenty calls.
Requests that arrive while the engine is busy wait for the next call and go in together,
so there is no added delay when the service is idle. The engine runs on ONE thread per
worker process: its work is CPU-bound and mostly under the GIL, so more threads only
thrash (docs/api.md "Serving under load").

Requests are grouped by their options (top, région, buyer): one engine pass per group,
each request getting its own result (summary and priorities included), exactly as alone.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matching.types import BomLine

# (matcher, the requests' lines, their shared options, deadline as time.time()) -> one result per request
MatchGroups = Callable[[Any, list[list[BomLine]], dict[str, Any], float], list[dict[str, Any]]]


@dataclass
class _Pending:
    matcher: Any
    lines: list[BomLine]
    options: dict[str, Any]
    deadline: float
    future: asyncio.Future[dict[str, Any]]
    loop: asyncio.AbstractEventLoop
    key: tuple[int, str] = field(init=False)

    def __post_init__(self) -> None:
        self.key = (id(self.matcher), json.dumps(self.options, sort_keys=True, default=str))

    def settle(self, result: dict[str, Any] | None, exc: BaseException | None) -> None:
        """Hand the outcome to the waiting request, on its own event loop (thread-safe)."""

        def _set() -> None:
            if self.future.done():  # the caller gave up (timeout, disconnect)
                return
            if exc is not None:
                self.future.set_exception(exc)
            else:
                self.future.set_result(result)  # type: ignore[arg-type]

        try:
            self.loop.call_soon_threadsafe(_set)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            pass


class MatchBatcher:
    """Queue of synchronous match requests served in coalesced batches by ``engines`` threads.

    ``max_lines`` caps the lines of one engine call (a request bigger than that goes alone);
    ``max_lines=1`` turns coalescing off (each request its own call). One engine thread runs
    the matcher in this process; with engine processes (api/engine_pool.py) there is one
    thread per process, each handing the next batch to a free process. The queue is a
    thread-safe one and results go back with ``call_soon_threadsafe``, so the batcher serves
    any event loop (one per uvicorn worker; test clients start their own).
    """

    def __init__(self, match_groups: MatchGroups, *, max_lines: int = 10, engines: int = 1) -> None:
        self._match_groups = match_groups
        self.max_lines = max(1, max_lines)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._held: list[_Pending] = []  # taken from the queue, left for a later batch (other options, too big)
        self._take_lock = threading.Lock()  # one thread at a time forms a batch (and waits for a request)
        self._stats_lock = threading.Lock()
        self._closed = False
        self._shares_left = 0  # engines still to take a share of the lines that were waiting
        self.calls = 0  # engine calls made (observability and tests)
        self.requests = 0  # requests served
        self.engines = max(1, engines)
        self._threads = [threading.Thread(target=self._serve, name=f"relocmatch-engine-{i}", daemon=True)
                         for i in range(self.engines)]
        for t in self._threads:
            t.start()

    async def match(self, matcher: Any, lines: list[BomLine], options: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """The result-contract dict of ``lines``; ``TimeoutError`` past ``timeout_s``; engine errors re-raised."""
        loop = asyncio.get_running_loop()
        item = _Pending(matcher, lines, options, time.time() + timeout_s, loop.create_future(), loop)
        self._queue.put(item)
        return await asyncio.wait_for(item.future, timeout_s)

    def _take_batch(self) -> list[_Pending] | None:
        """The oldest waiting request and the others with its options, up to ``max_lines`` lines.
        Blocks while nothing waits; None when the batcher is closed."""
        with self._take_lock:
            return self._take_batch_locked()

    def _take_batch_locked(self) -> list[_Pending] | None:
        if self._closed:
            return None
        if not self._held:
            first = self._queue.get()
            if first is None:
                self._closed = True
                return None
            self._held.append(first)
        while True:  # everything that arrived meanwhile
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                for p in self._held:
                    p.settle(None, RuntimeError("the service is shutting down"))
                self._closed = True
                return None
            self._held.append(nxt)
        live = [p for p in self._held if not p.future.done()]
        if not live:
            self._held = []
            return []
        first = live[0]
        # With several engines, a batch takes its share of the lines waiting and leaves the rest
        # to the engines still to come: 10 waiting for 2 engines make 5 + 5, not 10 + 0 (then
        # one engine idles while the other's batch doubles). Measured at 20 clients with 2 engine
        # processes: p95 172-215 ms taking all, 142-182 ms taking shares (docs/api.md).
        waiting = sum(len(p.lines) for p in live if p.key == first.key)
        takers = self._shares_left if self._shares_left > 0 else self.engines
        cap = min(self.max_lines, -(-waiting // takers))
        self._shares_left = takers - 1
        batch, size, rest = [first], len(first.lines), []
        for p in live[1:]:
            if p.key == first.key and size + len(p.lines) <= cap:
                batch.append(p)
                size += len(p.lines)
            else:
                rest.append(p)
        self._held = rest
        return batch

    def _serve(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if not batch:
                continue
            deadline = max(p.deadline for p in batch)  # the engine stops once every caller has given up
            first = batch[0]
            try:
                results = self._match_groups(first.matcher, [p.lines for p in batch], first.options, deadline)
                if len(results) != len(batch):
                    raise RuntimeError(f"the engine returned {len(results)} results for {len(batch)} requests")
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request, never lost
                for p in batch:
                    p.settle(None, exc)
                continue
            with self._stats_lock:  # not the take lock: its holder may be waiting for the next request
                self.calls += 1
                self.requests += len(batch)
            for p, r in zip(batch, results):
                p.settle(r, None)

    def close(self) -> None:
        """Stop the engine threads once their current calls end (lifespan shutdown)."""
        self._queue.put(None)
