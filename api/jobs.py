"""The durable job runner: BOM jobs run in threads of the service process.

Durability lives in the database, not here: a job is a row (with its upload and
parsed lines) before the client hears 202; this runner claims queued rows,
heartbeats while matching, and writes the result + ``done`` in one transaction.
If the process dies, another runner (the next start, or a sibling worker's
periodic sweep) finds the stale heartbeat and re-queues the job, or fails it
with a reason once it has used its attempts. Several processes can share one
database: claiming is an atomic ``UPDATE ... WHERE status='queued'``.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from api.store import Store
from matching.errors import RelocmatchError

log = logging.getLogger("relocmatch.jobs")

# run(lines, options, progress) -> result-contract dict
RunFn = Callable[[list[dict[str, Any]], dict[str, Any], Callable[[int, int], None]], dict[str, Any]]


class JobLost(Exception):
    """The job is no longer ours (deleted, or recovered by another runner): stop quietly."""


class JobRunner:
    """Runs queued jobs with ``run``; ``submit(job_id)`` wakes it up for a new job."""

    def __init__(
        self,
        store: Store,
        run: RunFn,
        *,
        threads: int = 1,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 60.0,
        max_attempts: int = 2,
        poll_s: float = 2.0,
    ) -> None:
        self.store = store
        self.run = run
        self.threads = threads
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, float] = {}  # job id -> last heartbeat sent
        self._done: dict[str, int] = {}  # job id -> lines done (the tick writes it with the heartbeat)
        self._lock = threading.Lock()

    # -- public --------------------------------------------------------
    def start(self) -> None:
        """Recover jobs of dead runners, then start the worker threads and the heartbeat/sweep thread."""
        self.recover()
        for i in range(self.threads):
            t = threading.Thread(target=self._work, name=f"relocmatch-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._tick, name="relocmatch-job-heartbeat", daemon=True)
        t.start()
        self._threads.append(t)

    def submit(self, job_id: str) -> None:
        """Ask the runner to pick up a job that was just stored as queued."""
        self._wake.put(job_id)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop taking jobs and hand the jobs in progress back to the queue (the next start, or a
        sibling worker, resumes them at once). A crash skips this: then the stale-heartbeat
        recovery applies."""
        self._stop.set()
        for _ in self._threads:
            self._wake.put(None)
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))
        with self._lock:
            left = list(self._running)
        for job_id in left:
            try:
                if self.store.release_job(job_id, self.worker_id, "service stopped"):
                    log.info("job %s handed back to the queue", job_id)
            except Exception:
                log.exception("could not hand job %s back; it will be recovered when stale", job_id)

    def recover(self) -> list[Any]:
        """Re-queue or fail jobs whose runner stopped heartbeating (see ``Store.recover_stale``)."""
        with self._lock:
            mine = [self.worker_id] if self._running else []
        found = self.store.recover_stale(
            stale_after_s=self.stale_after_s, max_attempts=self.max_attempts, alive_workers=mine
        )
        for r in found:
            log.warning("job %s %s: %s", r.job_id, r.action, r.reason)
            if r.action == "requeued":
                self._wake.put(r.job_id)
        return found

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    # -- internals -----------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                hint = self._wake.get(timeout=self.poll_s)
            except queue.Empty:
                hint = ""
            if self._stop.is_set():
                return
            candidates = [hint] if hint else []
            try:
                candidates += [j for j in self.store.queued_job_ids(limit=10) if j != hint]
            except Exception:  # database briefly unavailable: try again at the next poll
                log.exception("cannot list queued jobs")
                continue
            for job_id in candidates:
                if self._stop.is_set():
                    return
                try:
                    if self.store.claim(job_id, self.worker_id):
                        self._execute(job_id)
                except Exception:
                    log.exception("job %s: unexpected runner error", job_id)

    def _execute(self, job_id: str) -> None:
        job = self.store.get_job(job_id, with_lines=True)
        if job is None:
            return
        with self._lock:
            self._running[job_id] = time.monotonic()
        log.info("job %s started (%d lines, attempt %d)", job_id, job.total, job.attempts)

        def progress(done: int, total: int) -> None:
            if self._stop.is_set():
                raise JobLost()
            now = time.monotonic()
            with self._lock:
                last = self._running.get(job_id, 0.0)
                self._done[job_id] = done
            if now - last >= min(1.0, self.heartbeat_s) or done == total:
                if not self.store.heartbeat(job_id, self.worker_id, done=done):
                    raise JobLost()
                with self._lock:
                    self._running[job_id] = now

        try:
            result = self.run(job.lines, job.options, progress)
            if self._stop.is_set():
                raise JobLost()
            if self.store.finish_job(job_id, self.worker_id, result):
                log.info("job %s done", job_id)
            else:
                log.info("job %s finished but no longer ours: result discarded", job_id)
        except JobLost:
            if self._stop.is_set() and self.store.release_job(job_id, self.worker_id, "service stopped"):
                log.info("job %s handed back to the queue", job_id)
            else:
                log.info("job %s is no longer ours (deleted or recovered elsewhere)", job_id)
        except RelocmatchError as exc:
            self.store.fail_job(job_id, self.worker_id, str(exc))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.store.fail_job(job_id, self.worker_id, f"internal error ({type(exc).__name__}); see the service log")
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                self._done.pop(job_id, None)

    def _tick(self) -> None:
        """Heartbeat our running jobs even while a slow line is matching; sweep for dead runners."""
        next_sweep = time.monotonic() + self.stale_after_s / 2
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                ids = [(j, self._done.get(j)) for j in self._running]
            for job_id, done in ids:
                try:
                    self.store.heartbeat(job_id, self.worker_id, done=done)
                except Exception:
                    log.exception("heartbeat of job %s failed", job_id)
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.stale_after_s / 2
                try:
                    self.recover()
                except Exception:
                    log.exception("recovery sweep failed")
