"""Fixtures of the product-understanding tests: the label lexicon, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def lexicon(data_dir: Path):
    from matching.products.lexicon import Lexicon

    return Lexicon.from_refdata(data_dir)
