"""Fixtures of the classify tests: a fake keyword encoder and classifiers built once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# Each keyword group is one dimension of the fake embedding space; a text's vector has a 1
# in every dimension whose keywords it contains, plus a small constant so no row is zero.
KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("ball bearing", "gizmo"),
    ("screw", "bolt"),
    ("printed circuit",),
    ("cheese",),
    ("polyethylene",),
)


def keyword_encoder(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in for the sentence model: shared keywords ⇒ high cosine."""
    out = np.full((len(texts), len(KEYWORDS) + 1), 0.01, dtype=np.float32)
    for i, t in enumerate(texts):
        low = t.lower()
        for j, group in enumerate(KEYWORDS):
            if any(k in low for k in group):
                out[i, j] = 1.0
    return out


@pytest.fixture(scope="session")
def fake_classifier(data_dir: Path):
    """The real nomenclature with the fake encoder as semantic channel."""
    from matching.classify import ProductClassifier

    return ProductClassifier(data_dir, encoder=keyword_encoder)


@pytest.fixture(scope="session")
def lexical_classifier(data_dir: Path):
    from matching.classify import get_classifier

    return get_classifier(data_dir, semantic=False)


@pytest.fixture(scope="session")
def devset() -> list[dict[str, str]]:
    import csv

    path = Path(__file__).parents[2] / "examples" / "devset" / "lines.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
