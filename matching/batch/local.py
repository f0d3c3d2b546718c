"""The embedded default: a local process pool, each process loading the Matcher once.

No server, nothing to install beyond relocmatch: what a laptop or one big machine runs.
Companies are the unit of work (largest first, so the pool ends together); each worker
matches a company and commits it itself (atomic per company, ``output.commit_tables``), and
reports its progress to the parent, which draws one bar overall and one per company in flight.
"""

from __future__ import annotations

import os
import queue as _queue
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pyarrow as pa

from matching.batch.work import EngineSettings

_STATE: dict[str, Any] = {}


def _init(settings: EngineSettings, q: Any) -> None:
    from matching.batch.work import get_matcher, single_thread_env

    single_thread_env()
    _STATE["settings"], _STATE["queue"] = settings, q
    get_matcher(settings)  # load catalog, indexes and models once, before the first company


def _match(company: str, inputs: pa.Table, out: str, marker: dict[str, Any]) -> dict[str, Any]:
    import time

    from matching.batch.output import commit_tables
    from matching.batch.work import LOAD_STATS, match_company, peak_rss_mib

    q = _STATE["queue"]
    n = inputs.num_rows
    last = [0.0]

    def progress(i: int, total: int) -> None:
        now = time.monotonic()
        if i == total or now - last[0] > 0.3:
            last[0] = now
            q.put((company, i, total))

    lines, sups = match_company(_STATE["settings"], company, inputs, progress=progress)
    c = commit_tables(Path(out), company, lines, sups, marker=marker)
    q.put((company, n, n))
    return {"counts": c, "pid": os.getpid(), "rss_mib": peak_rss_mib(), **LOAD_STATS}


class LocalEngine:
    """``--engine local`` (default): ``workers`` processes on this machine (default: its cores)."""

    name = "local"

    def __init__(self, workers: int | None = None, progress: bool = True) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.progress = progress
        self.worker_stats: dict[int, dict[str, Any]] = {}

    def run(self, jobs: list[Any], settings: EngineSettings, out: Path,
            on_done: Callable[[str, dict[str, Any]], None]) -> list[dict[str, Any]]:
        import multiprocessing as mp
        from concurrent.futures.process import BrokenProcessPool

        ctx = mp.get_context("spawn")  # never fork a parent that holds threads (rich) or torch
        manager = ctx.Manager()
        q = manager.Queue()
        failures: list[dict[str, Any]] = []
        jobs = sorted(jobs, key=lambda j: -j.inputs.num_rows)
        total = sum(j.inputs.num_rows for j in jobs)
        bar = _Bars(total, len(jobs), self.progress)
        try:
            with bar, ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=ctx,
                                          initializer=_init, initargs=(settings, q)) as pool:
                futs: dict[Future, Any] = {pool.submit(_match, j.company, j.inputs, str(out), j.marker): j
                                           for j in jobs}
                pending = set(futs)
                while pending:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    _drain(q, bar)
                    for f in done:
                        j = futs[f]
                        try:
                            res = f.result()
                        except BrokenProcessPool as exc:
                            failures.append({"company": j.company, "source": j.marker.get("source"),
                                             "reason": f"worker process died ({exc})"})
                            continue
                        except Exception as exc:  # noqa: BLE001 - one company failing never stops the others
                            failures.append({"company": j.company, "source": j.marker.get("source"),
                                             "reason": f"{type(exc).__name__}: {exc}"})
                            continue
                        self.worker_stats[res["pid"]] = {k: v for k, v in res.items() if k != "counts"}
                        bar.finish(j.company, j.inputs.num_rows)
                        on_done(j.company, res["counts"])
                _drain(q, bar)
        finally:
            manager.shutdown()
        return failures


def _drain(q: Any, bar: _Bars) -> None:
    while True:
        try:
            company, i, n = q.get_nowait()
        except (_queue.Empty, EOFError, OSError):
            return
        bar.update(company, i, n)


class _Bars:
    """Rich progress on stderr: one bar overall (lines), one per company being matched."""

    def __init__(self, total: int, companies: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total, self.companies = total, companies
        self.tasks: dict[str, Any] = {}
        self.seen: dict[str, int] = {}
        self.done_lines = 0
        self.done_companies = 0

    def __enter__(self) -> _Bars:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

            self.p = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
            self.p.__enter__()
            self.overall = self.p.add_task(self._label(), total=self.total)
        return self

    def _label(self) -> str:
        return f"lines (companies {self.done_companies}/{self.companies})"

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.p.__exit__(*exc)

    def update(self, company: str, i: int, n: int) -> None:
        if not self.enabled or company in self.seen and self.seen[company] < 0:
            return
        if company not in self.tasks:
            self.tasks[company] = self.p.add_task(f"  {company[:40]}", total=n)
        self.p.update(self.tasks[company], completed=i)
        self.p.update(self.overall, completed=self.done_lines + sum(v for v in self.seen.values() if v > 0) + 0)
        self.seen[company] = i

    def finish(self, company: str, n: int) -> None:
        self.done_lines += n
        self.done_companies += 1
        self.seen[company] = -1
        if not self.enabled:
            return
        t = self.tasks.pop(company, None)
        if t is not None:
            self.p.remove_task(t)
        inflight = sum(v for v in self.seen.values() if v > 0)
        self.p.update(self.overall, completed=self.done_lines + inflight, description=self._label())
