"""One interface, two engines: what a batch engine is given and what it must do.

The runner (``run_batch``) finds the companies, skips the complete ones, reads the rest and
hands the engine a list of ``Job``s; the engine matches each company (``work.match_company``)
and commits it (``output.commit*``) as soon as it is done. Whatever the engine, a company's
lines go through one ``Matcher.match`` call with the same settings, so the results are the same.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from matching.batch.inputs import CompanyInput, discover, iter_read
from matching.batch.output import clean_temporaries, is_complete, write_summary
from matching.batch.work import EngineSettings
from matching.errors import ConfigError


@dataclass
class Job:
    """One company to match: its input rows (INPUT_SCHEMA) and what its marker will say."""

    company: str
    inputs: pa.Table
    marker: dict[str, Any]


class BatchEngine(Protocol):
    name: str

    def run(self, jobs: list[Job], settings: EngineSettings, out: Path,
            on_done: Callable[[str, dict[str, Any]], None]) -> list[dict[str, Any]]:
        """Match and commit every job; call ``on_done(company, counts)`` after each commit.
        Returns the companies that failed in the engine (``company, source, reason``)."""


@dataclass
class BatchReport:
    out: Path
    engine: str
    companies: int = 0
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    summary: Path | None = None


def settings_key(settings: EngineSettings) -> str:
    """What the results depend on besides the input: catalog table, options, ranker."""
    cat = Path(settings.catalog)
    try:
        manifest = json.loads((cat / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{cat}: not a catalog folder (no readable manifest.json; build one with "
                          "`relocmatch catalog build`)") from None
    ranker = ""
    if settings.ranker:
        ranker = hashlib.sha256(Path(settings.ranker).read_bytes()).hexdigest()
    key = {"table": manifest.get("table_sha256"), "region": settings.region, "top": settings.top,
           "semantic": settings.semantic, "ranker": ranker}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def make_engine(name: str, *, workers: int | None = None, master: str | None = None, spark: Any = None,
                progress: bool = True, wave_lines: int | None = None) -> BatchEngine:
    if name == "local":
        from matching.batch.local import LocalEngine

        return LocalEngine(workers=workers, progress=progress)
    if name == "spark":
        from matching.batch.spark import SparkEngine

        return SparkEngine(master=master or "local[2]", spark=spark, wave_lines=wave_lines)
    raise ConfigError(f"--engine {name!r}: expected local or spark")


def run_batch(input_path: str | Path, out: str | Path, settings: EngineSettings, engine: BatchEngine, *,
              force: bool = False, log: Callable[[str], None] | None = None) -> BatchReport:
    """Match every company of INPUT into OUT with ``engine``; complete companies are skipped
    unless ``force``. Returns what was done, skipped and could not be read."""
    t0 = time.perf_counter()
    log = log or (lambda _m: None)
    out = Path(out)
    key = settings_key(settings)
    batch = discover(input_path)
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        return _run_locked(batch, out, key, settings, engine, force, log, t0)


def _exclusive(out: Path):  # noqa: ANN202
    """One batch at a time per OUT (a second one would remove the first one's temporary folders)."""
    import contextlib
    import fcntl

    @contextlib.contextmanager
    def lock():  # noqa: ANN202
        with open(out / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigError(f"{out}: another relocmatch batch is writing to this folder") from None
            yield

    return lock()


def _run_locked(batch: Any, out: Path, key: str, settings: EngineSettings, engine: BatchEngine, force: bool,
                log: Callable[[str], None], t0: float) -> BatchReport:
    clean_temporaries(out)
    rep = BatchReport(out=out, engine=engine.name, companies=len(batch.companies), notes=list(batch.notes))
    pending: list[CompanyInput] = []
    for ci in batch.companies:
        if not force and is_complete(out, ci.company, ci.fingerprint, key):
            rep.skipped.append(ci.company)
        else:
            pending.append(ci)
    if rep.skipped:
        log(f"{len(rep.skipped)} companies already complete in {out}, skipped (--force to redo them)")
    jobs: list[Job] = []
    for ci, table, reason in iter_read(pending):
        if table is None:
            rep.failed.append({"company": ci.company, "source": ci.source, "status": "unreadable", "reason": reason})
            log(f"unreadable: {reason}")
            continue
        jobs.append(Job(ci.company, table, {"fingerprint": ci.fingerprint, "settings": key, "source": ci.source,
                                            "engine": engine.name}))
    rep.lines = sum(j.inputs.num_rows for j in jobs)

    def on_done(company: str, counts: dict[str, Any]) -> None:
        rep.done.append(company)

    if jobs:
        for f in engine.run(jobs, settings, out, on_done):
            rep.failed.append({"status": "failed", **f})
            log(f"failed: {f['company']}: {f['reason']}")
    rep.summary = write_summary(out, rep.failed)
    rep.seconds = time.perf_counter() - t0
    return rep
