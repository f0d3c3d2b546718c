"""The crosswalk's lookup tables, built once per reference bundle and stored as JSON.

Why: the first line of every process built them from the CSV files (the TARIC tree walked into
25,000 self-contained labels, the CN→CPA prefix counts, the NAF indexes...), ~1 s of a one-line
``relocmatch match``. They depend only on the reference files and on the code that builds them,
so a process warms them once on typical codes, stores them in ``<cache>/crosswalk-<key>/``
(key: the bytes of those files, of ``codes.py`` and of the text tables) and later processes
read them back. A table not in the snapshot is built as before, on first use.

Values are plain dicts, lists, tuples, sets and frozensets of strings and numbers, encoded with
type tags so that they come back as the same types (tuple keys included); anything else is left
out of the snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

SNAPSHOT_VERSION = "xw-2"
SOURCES = ("cn8_fr", "cn8_en", "cn8_de", "taric_fr", "taric_en", "taric_de", "hs2022", "cn2022_cpa21",
           "cn2021_cpa21", "nace2_cpa21", "nace2_cpa21_fr", "cpa_en", "naf", "nace_fr", "nace_en",
           "hs2022_hs2017_corr", "hs_isic4")
# Codes whose lookups warm the tables a line needs (a CN8, an HS6, an HS4, labels, activities).
WARM_CODES = ("84821010", "848210", "8482", "73181595", "940360")


class _Unsupported(Exception):
    pass


def encode(v: Any) -> Any:
    """A JSON value with type tags; raises _Unsupported for anything else (left out)."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            return {"d": {k: encode(x) for k, x in v.items()}}
        if all(isinstance(k, tuple) for k in v):
            return {"dt": [[list(k), encode(x)] for k, x in v.items()]}
        raise _Unsupported
    if isinstance(v, frozenset):
        return {"fs": sorted(v)}
    if isinstance(v, set):
        return {"s": sorted(v)}
    if isinstance(v, tuple):
        return {"t": [encode(x) for x in v]}
    if isinstance(v, list):
        return {"l": [encode(x) for x in v]}
    raise _Unsupported


def decode(v: Any) -> Any:
    """The value ``encode`` gave (same types: tuple keys, sets, frozensets)."""
    if not isinstance(v, dict):
        return v
    (tag, x), = v.items()
    if tag == "d":
        return {k: decode(y) for k, y in x.items()}
    if tag == "dt":
        return {tuple(k): _leaf_tuple(y) for k, y in x}
    if tag == "fs":
        return frozenset(x)
    if tag == "s":
        return set(x)
    if tag == "t":
        return tuple(decode(y) for y in x)
    return [decode(y) for y in x]


def _leaf_tuple(y: Any) -> Any:
    """decode(), fast for the common value of tuple-keyed tables: a tuple of plain values."""
    if isinstance(y, dict) and "t" in y and not any(isinstance(e, dict) for e in y["t"]):
        return tuple(y["t"])
    return decode(y)


def folder_for(root: Path) -> Path:
    from matching import codes, text
    from matching.embed import cache_dir
    from matching.refcache import files_digest

    key = files_digest(SOURCES, root, salt=SNAPSHOT_VERSION, missing_ok=True,
                       extra=(Path(codes.__file__), Path(text.__file__), *sorted(text.RESOURCES.glob("*.csv"))))
    return cache_dir() / f"crosswalk-{key}"


class Stored(dict):
    """name → file of one stored table; ``pop(name)`` reads and decodes it (one file per table:
    a line reads only the tables it uses)."""

    def pop(self, name: str, *default: Any) -> Any:  # type: ignore[override]
        path = super().pop(name, None)
        if path is None:
            if default:
                return default[0]
            raise KeyError(name)
        return json.loads(Path(path).read_text(encoding="utf-8"))


def read(root: Path) -> Stored | None:
    """The stored tables for this bundle, or None when none are stored."""
    try:
        folder = folder_for(root)
        names = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Stored({n: str(folder / f) for n, f in names.items()})


def write(root: Path, cache: dict[str, Any]) -> None:
    """Store the encodable entries of a warmed crosswalk cache (atomically; a read-only cache is fine)."""
    entries = {}
    for name, value in cache.items():
        try:
            entries[name] = encode(value)
        except _Unsupported:
            continue
    folder = folder_for(root)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        names = {}
        for i, (name, enc) in enumerate(entries.items()):
            names[name] = f"t{i}.json"
            (tmp / names[name]).write_text(json.dumps(enc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        (tmp / "index.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
        from matching.classify import _prune_old_indexes

        _prune_old_indexes(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
