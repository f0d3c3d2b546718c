"""Run every benchmarks/bench_*.py as a subprocess and relay its figures.

``bench_batch.py`` (100,000 lines on four engine setups, hours on 2 cores) runs only with
``--with-batch``; run it on its own, scaled with ``--lines``, as docs/batch.md says.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    failed = []
    long_runs = set() if "--with-batch" in sys.argv[1:] else {"bench_batch.py"}
    for script in sorted(here.glob("bench_*.py")):
        if script.name in long_runs:
            print(f"== {script.name}: skipped (--with-batch runs it)", flush=True)
            continue
        print(f"== {script.name}", flush=True)
        rc = subprocess.run([sys.executable, str(script)], check=False).returncode
        if rc != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
