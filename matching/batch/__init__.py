"""A whole programme's purchase lists against one catalog: ``relocmatch batch``.

- ``inputs``: INPUT (folder of BOMs, manifest CSV, Parquet lines table) → companies and lines;
- ``work``: what one worker does (the Matcher loaded once per process; one company matched);
- ``engine``: the engine interface and the runner (skip complete companies, summary);
- ``local``: the embedded default, a process pool; ``spark``: Apache Spark (``mapInArrow``);
- ``output``: OUT layout, atomic per-company commits, completion markers, summary.csv;
- ``diff``: the register refresh, new regional suppliers per company between two runs.
"""

from matching.batch.engine import BatchReport, make_engine, run_batch
from matching.batch.work import EngineSettings

__all__ = ["BatchReport", "EngineSettings", "make_engine", "run_batch"]
