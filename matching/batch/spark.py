"""``--engine spark``: Apache Spark (pyspark) in local mode or on a cluster.

The lines are a Spark DataFrame repartitioned by company and sorted by line order; each
partition goes through ``mapInArrow`` to ``partition_results``, which loads the catalog and
models ONCE per Python worker (``work.get_matcher``, a module-level cache keyed by the catalog
path; ``spark.python.worker.reuse`` keeps the worker, and so the Matcher, across tasks) —
only the catalog *path* and the settings are broadcast, never the data. Results are written
with Spark's Parquet writer into a staging folder, then each company's partition folders are
renamed into OUT and its marker written, as the local engine does.

Companies go in waves of about ``wave_lines`` lines (one Spark job each): a run killed
half-way keeps every wave already committed. On a cluster OUT must be a folder every node
and the driver see (a shared or network file system) and relocmatch must be installed on
every node with the same catalog path.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from matching.batch.output import commit, counts, unescape
from matching.batch.rows import INPUT_SCHEMA, LINES_SCHEMA, SUPPLIERS_SCHEMA, UNION_SCHEMA, to_union
from matching.batch.work import EngineSettings, log


def partition_results(settings: dict[str, Any], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """One Spark partition: its companies' lines (sorted by company, seq) → result rows (UNION_SCHEMA)."""
    from matching.batch import work

    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        part = ctx.partitionId() if ctx is not None else -1
    except ImportError:  # pragma: no cover
        part = -1
    es = EngineSettings(**settings)
    t0 = time.perf_counter()
    reused = bool(work._CACHE)
    work.get_matcher(es)
    load_s = 0.0 if reused else work.LOAD_STATS.get("load_s", 0.0)
    n_companies = n_lines = 0
    current: str | None = None
    buf: list[pa.Table] = []

    def flush() -> Iterator[pa.RecordBatch]:
        nonlocal n_companies, n_lines
        if current is None or not buf:
            return
        inputs = pa.concat_tables(buf)
        inputs = pa.Table.from_arrays([inputs[f.name].cast(f.type) for f in INPUT_SCHEMA], schema=INPUT_SCHEMA)
        lines, sups = work.match_company(es, current, inputs)
        n_companies += 1
        n_lines += inputs.num_rows
        yield from to_union(lines, sups).to_batches(max_chunksize=10_000)

    for b in batches:
        if b.num_rows == 0:
            continue
        t = pa.Table.from_batches([b])
        comp = t["company"].to_pylist()
        start = 0
        for i in range(1, len(comp) + 1):
            if i == len(comp) or comp[i] != comp[start]:
                if comp[start] != current:
                    yield from flush()
                    current, buf = comp[start], []
                buf.append(t.slice(start, i - start))
                start = i
    yield from flush()
    log(f"spark partition {part} done: {n_companies} companies, {n_lines} lines in "
        f"{time.perf_counter() - t0:.1f} s; engine load {'reused' if reused else f'{load_s:.1f} s'} in this worker; "
        f"peak RSS {work.peak_rss_mib():.0f} MiB")


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def make_session(master: str, app_name: str = "relocmatch-batch") -> Any:
    """A SparkSession for the batch: Arrow on, Python workers reused, one BLAS thread each."""
    from matching.batch.work import single_thread_env

    single_thread_env()
    import warnings

    # pyspark 4.3 warns about pandas 3 on import; the batch hands it Arrow only (mapInArrow)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    b = (SparkSession.builder.master(master).appName(app_name)
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .config("spark.python.worker.reuse", "true")
         .config("spark.pyspark.python", sys.executable)
         .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false"))
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH", "RELOCMATCH_DATA",
              "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "RELOCMATCH_TORCH_THREADS", "RELOCMATCH_EMBED_DTYPE"):
        if os.environ.get(k):
            b = b.config(f"spark.executorEnv.{k}", os.environ[k])
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


class SparkEngine:
    """``--engine spark --master local[2]`` (or ``spark://host:7077``, ``yarn``…)."""

    name = "spark"

    def __init__(self, master: str = "local[2]", spark: Any = None, wave_lines: int | None = None) -> None:
        self.master = master
        self.spark = spark
        self.wave_lines = wave_lines or 20_000

    def _waves(self, jobs: list[Any]) -> list[list[Any]]:
        waves, cur, n = [], [], 0
        for j in jobs:
            cur.append(j)
            n += j.inputs.num_rows
            if n >= self.wave_lines:
                waves.append(cur)
                cur, n = [], 0
        if cur:
            waves.append(cur)
        return waves

    def run(self, jobs: list[Any], settings: EngineSettings, out: Path,
            on_done: Callable[[str, dict[str, Any]], None]) -> list[dict[str, Any]]:
        from pyspark.sql import functions as F

        own = self.spark is None
        spark = self.spark or make_session(self.master)
        sc = spark.sparkContext
        failures: list[dict[str, Any]] = []
        try:
            bc = sc.broadcast(asdict(settings))  # the catalog PATH and options, never the catalog
            union_schema = _spark_schema(UNION_SCHEMA)

            def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
                from matching.batch.spark import partition_results

                yield from partition_results(bc.value, batches)

            waves = self._waves(jobs)
            for w, wave in enumerate(waves, start=1):
                t0 = time.perf_counter()
                staging = Path(out) / "_staging" / uuid.uuid4().hex
                lines_n = sum(j.inputs.num_rows for j in wave)
                log(f"spark wave {w}/{len(waves)}: {len(wave)} companies, {lines_n} lines (UI: {sc.uiWebUrl})")
                try:
                    df = spark.createDataFrame(pa.concat_tables([j.inputs for j in wave]))
                    parts = max(1, min(len(wave), 4 * sc.defaultParallelism))
                    res = (df.repartition(parts, "company").sortWithinPartitions("company", "seq")
                           .mapInArrow(fn, union_schema))
                    res.write.parquet(str(staging / "raw"))
                    raw = spark.read.parquet(str(staging / "raw"))
                    for kind, schema, ds in (("line", LINES_SCHEMA, "lines"), ("supplier", SUPPLIERS_SCHEMA, "suppliers")):
                        (raw.filter(F.col("kind") == kind).select(*schema.names)
                         .write.partitionBy("company").parquet(str(staging / ds)))
                except Exception as exc:  # noqa: BLE001 - a failed wave is reported, the next waves go on
                    msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
                    for j in wave:
                        failures.append({"company": j.company, "source": j.marker.get("source"),
                                         "reason": f"spark job failed: {msg}"})
                    shutil.rmtree(staging, ignore_errors=True)
                    continue
                staged = {ds: {unescape(p.name.split("=", 1)[1]): p for p in (staging / ds).glob("company=*")}
                          for ds in ("lines", "suppliers")}
                for j in wave:
                    sl, ss = staged["lines"].get(j.company), staged["suppliers"].get(j.company)
                    if sl is None:
                        failures.append({"company": j.company, "source": j.marker.get("source"),
                                         "reason": "spark wrote no line for this company"})
                        continue
                    lines_t = _read_dir(sl, LINES_SCHEMA)
                    n_sup = _read_dir(ss, SUPPLIERS_SCHEMA).num_rows if ss is not None else 0
                    c = counts(lines_t, n_sup)
                    commit(out, j.company, sl, ss, marker={**j.marker, "counts": c})
                    on_done(j.company, c)
                shutil.rmtree(staging, ignore_errors=True)
                log(f"spark wave {w}/{len(waves)} committed in {time.perf_counter() - t0:.1f} s")
        finally:
            if own:
                spark.stop()
        return failures


def _read_dir(path: Path, schema: pa.Schema) -> pa.Table:
    import pyarrow.dataset as ds

    files = [str(p) for p in sorted(path.glob("*.parquet"))]
    sch = pa.schema([f for f in schema if f.name != "company"])
    return ds.dataset(files, format="parquet", schema=sch).to_table() if files else sch.empty_table()
