"""Keys for what is derived once from the reference bundle and cached on disk.

Why: the classifier's lexical indexes and label tables are built from a dozen reference files.
Hashing those files' bytes (~20 MB, a few tens of ms) says whether a cached build is still the
one of this bundle, without parsing any CSV; parsing them to hash their content cost ~1.5 s of
every start-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_digest(keys: Iterable[str], data_dir: str | Path | None = None, *, extra: Iterable[Path] = (),
                 salt: str = "", missing_ok: bool = False) -> str:
    """SHA-256 (16 hex) over ``salt``, the bytes of the reference files ``keys`` (registry keys of
    ``matching.refdata``) and of the ``extra`` files (code, resource tables); a missing file is
    a DataError naming it, as the loaders would raise (or, with ``missing_ok``, part of the key)."""
    from matching import refdata
    from matching.errors import DataError

    root = refdata.data_dir(data_dir)
    h = hashlib.sha256(salt.encode())
    paths = [(k, root / refdata.ref_file(k).path) for k in keys] + [(str(p), Path(p)) for p in extra]
    for name, path in paths:
        h.update(name.encode() + b"\x00")
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            if missing_ok:
                h.update(b"missing")
                continue
            raise DataError(f"missing or unreadable reference file for {name}", path=path) from None
        h.update(b"\x01")
    return h.hexdigest()[:16]
