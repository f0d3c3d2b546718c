"""Locating the reference-data bundle (RELOCMATCH_DATA) and its files.

The project never ships these files; it reads them from a data directory.
Loaders for each file live here too (added by the foundation work), cached once
per process.
"""

from __future__ import annotations

import os
from pathlib import Path

from matching.errors import DataError

ENV_VAR = "RELOCMATCH_DATA"


def data_dir(override: str | Path | None = None) -> Path:
    """The reference-data directory: ``override``, else ``$RELOCMATCH_DATA``.

    Raises DataError when neither is set or the directory does not exist.
    """
    raw = override if override is not None else os.environ.get(ENV_VAR)
    if not raw:
        raise DataError(
            f"no reference-data directory: pass --data DIR or set {ENV_VAR} "
            "(e.g. export RELOCMATCH_DATA=../shared/data)"
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise DataError("reference-data directory does not exist or is not a directory", path=path)
    return path
