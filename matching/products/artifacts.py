"""The products artifact: everything learned, built once into a versioned folder with a manifest.

Why: like the supplier catalog, the trained model and the label lexicon are built by a command
(``relocmatch products build --out var/models/products``) and only loaded at start-up, never
refitted. The manifest records the artifact and feature versions, checksums of the reference
files it was built from, sizes, build time and training counts, so a stale or missing folder is
a clear error naming the folder and the command that builds it.

Default folder: ``$RELOCMATCH_MODELS/products``, else ``var/models/products`` in the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.folders import swap_in
from matching.errors import DataError

ARTIFACT_VERSION = "products-1"
ENV_VAR = "RELOCMATCH_MODELS"
# The reference files the artifact is built from (their checksums go into the manifest).
SOURCES = tuple(f"cn8/cn8_2023_{lang}.csv" for lang in ("fr", "en", "de")) + tuple(
    f"cn8/cn_taric_goods_nomenclature_{lang}.csv" for lang in ("fr", "en", "de")) + ("hs/hs2022_harmonized-system.csv",)


def default_folder() -> Path:
    """``$RELOCMATCH_MODELS/products``, else ``var/models/products`` at the project root."""
    root = os.environ.get(ENV_VAR)
    if root:
        return Path(root).expanduser() / "products"
    return Path(__file__).resolve().parents[2] / "var" / "models" / "products"


def _build_command(folder: Path) -> str:
    return f"relocmatch products build --out {folder}"


class ArtifactError(DataError):
    """The products artifact is missing, incomplete or stale (the message says how to rebuild it)."""


@dataclass(frozen=True)
class BuildConfig:
    """What a build trains on; the defaults are the shipped model (``chapters`` limits a test build)."""

    seed: int = 12
    per_text: int = 1  # synthetic rewrites per label text
    max_per_class: int = 40  # samples kept per HS6 (big headings would otherwise dominate)
    dim: int = 48
    epochs: int = 3
    batch: int = 1024
    lr: float = 0.02
    chapters: tuple[str, ...] = ()  # restrict to these HS chapters ("84", "85"): tests only
    threads: int = 2


def source_checksums(data_dir: str | Path | None = None) -> dict[str, str]:
    from matching.refdata import data_dir as _dd

    root = _dd(data_dir)
    out = {}
    for rel in SOURCES:
        p = root / rel
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[rel] = h.hexdigest()[:16]
    return out


def build(out: str | Path | None = None, data_dir: str | Path | None = None, *, config: BuildConfig | None = None,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the artifact into ``out`` (atomically: a temporary folder renamed at the end); returns the manifest."""
    from matching.products.corpus import build_corpus
    from matching.products.lexicon import Lexicon
    from matching.products.model import FEATURE_VERSION, Featurizer, train
    from matching.products.synth import synthesize

    cfg = config or BuildConfig()
    folder = Path(out) if out is not None else default_folder()
    t0 = time.perf_counter()
    import torch

    torch.set_num_threads(max(1, cfg.threads))
    lexicon = Lexicon.from_refdata(data_dir)
    corpus = build_corpus(data_dir)
    if cfg.chapters:
        corpus = [x for x in corpus if x.code[:2] in cfg.chapters]
    t_corpus = time.perf_counter()
    log(f"corpus: {len(corpus)} label texts ({time.perf_counter() - t0:.0f}s)")
    queries = synthesize([(x.code, x.lang, x.text) for x in corpus], seed=cfg.seed, per_text=cfg.per_text)
    rng = random.Random(cfg.seed)
    by: dict[str, list] = defaultdict(list)
    for q in queries:
        by[q.code[:6]].append(q)
    classes = sorted(by)
    sample = []
    for h in classes:
        qs = by[h]
        sample.extend(qs if len(qs) <= cfg.max_per_class else rng.sample(qs, cfg.max_per_class))
    pos = {h: i for i, h in enumerate(classes)}
    log(f"synthetic queries: {len(queries)} generated, {len(sample)} kept over {len(classes)} HS6 classes "
        f"({time.perf_counter() - t0:.0f}s)")
    feat = Featurizer(lexicon)
    X = feat.matrix([q.text for q in sample], [q.lang for q in sample])
    y = np.array([pos[q.code[:6]] for q in sample])
    t_feat = time.perf_counter()
    log(f"features: {X.shape[0]} × {X.shape[1]}, {X.nnz} non-zeros ({t_feat - t0:.0f}s)")
    model, stats = train(X, y, classes, dim=cfg.dim, epochs=cfg.epochs, batch=cfg.batch, lr=cfg.lr, seed=cfg.seed, log=log)

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shapes = model.save(tmp / "model")
    lexicon.save(tmp / "lexicon.json")
    from collections import Counter

    manifest = {
        "artifact": "relocmatch-products",
        "version": ARTIFACT_VERSION,
        "feature_version": FEATURE_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - t0, 1),
        "timings_seconds": {"corpus": round(t_corpus - t0, 1), "synthesis_and_features": round(t_feat - t_corpus, 1),
                            "training": stats.get("train_seconds")},
        "sources": source_checksums(data_dir),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.__dict__.items()},
        "model": shapes,
        "training": {
            "label_texts": len(corpus),
            "label_texts_by_kind": dict(Counter(x.kind for x in corpus)),
            "label_texts_by_lang": dict(Counter(x.lang for x in corpus)),
            "synthetic_generated": len(queries),
            "samples": int(X.shape[0]),
            "classes": len(classes),
            **{k: v for k, v in stats.items() if k != "train_seconds"},
        },
        "files": {},
    }
    for p in sorted(tmp.rglob("*")):
        if p.is_file():
            manifest["files"][str(p.relative_to(tmp))] = p.stat().st_size
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    swap_in(tmp, folder)
    log(f"products artifact written to {folder} in {manifest['build_seconds']}s")
    return manifest


@dataclass
class ProductsArtifact:
    """The loaded artifact: model, lexicon, featurizer and manifest."""

    folder: Path
    manifest: dict[str, Any]
    model: Any  # matching.products.model.ProductModel
    lexicon: Any  # matching.products.lexicon.Lexicon
    featurizer: Any  # matching.products.model.Featurizer


def read_manifest(folder: str | Path | None = None) -> dict[str, Any]:
    folder = Path(folder) if folder is not None else default_folder()
    path = folder / "manifest.json"
    if not path.is_file():
        raise ArtifactError(f"no products artifact (manifest.json missing); build it with `{_build_command(folder)}` "
                            f"(or `make models`)", path=folder)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"unreadable manifest ({exc}); rebuild with `{_build_command(folder)}`", path=path) from None


def check(folder: str | Path | None = None, data_dir: str | Path | None = None) -> dict[str, Any]:
    """The manifest, after checking version, feature version, files and source checksums."""
    from matching.products.model import FEATURE_VERSION

    folder = Path(folder) if folder is not None else default_folder()
    m = read_manifest(folder)
    cmd = _build_command(folder)
    if m.get("version") != ARTIFACT_VERSION or m.get("feature_version") != FEATURE_VERSION:
        raise ArtifactError(f"stale products artifact: built as {m.get('version')}/{m.get('feature_version')}, this code "
                            f"expects {ARTIFACT_VERSION}/{FEATURE_VERSION}; rebuild with `{cmd}`", path=folder)
    for rel, size in m.get("files", {}).items():
        p = folder / rel
        if not p.is_file() or p.stat().st_size != size:
            raise ArtifactError(f"incomplete products artifact: {rel} missing or of the wrong size; rebuild with `{cmd}`",
                                path=folder)
    now = source_checksums(data_dir)
    changed = [k for k, v in now.items() if m.get("sources", {}).get(k) != v]
    if changed:
        raise ArtifactError(f"stale products artifact: reference file(s) changed since it was built ({', '.join(changed)}); "
                            f"rebuild with `{cmd}`", path=folder)
    return m


def load(folder: str | Path | None = None, data_dir: str | Path | None = None) -> ProductsArtifact:
    """Load a built artifact (checked first: a missing or stale one raises ArtifactError)."""
    from matching.products.lexicon import Lexicon
    from matching.products.model import Featurizer, ProductModel

    folder = Path(folder) if folder is not None else default_folder()
    m = check(folder, data_dir)
    try:
        model = ProductModel.load(folder / "model")
        lexicon = Lexicon.load(folder / "lexicon.json")
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"products artifact cannot be loaded ({exc}); rebuild with `{_build_command(folder)}`",
                            path=folder) from None
    return ProductsArtifact(folder, m, model, lexicon, Featurizer(lexicon))
