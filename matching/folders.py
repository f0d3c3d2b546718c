"""Putting a freshly built folder (catalog, model artifact, embeddings) in place atomically.

Built next to its target and swapped in by two renames, so an interrupted or failed build leaves
the previous folder usable, and a reader never sees half a folder.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def swap_in(tmp: Path, out_dir: Path) -> None:
    """Put ``tmp`` at ``out_dir``: rename the old one aside, rename the new one in, drop the old
    (restored if the second rename fails)."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
