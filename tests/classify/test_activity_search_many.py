"""Text activities of many lines in one sparse product: the same guesses as one line at a time."""

from __future__ import annotations

import csv
from pathlib import Path

DEVSET = Path(__file__).resolve().parents[2] / "examples" / "devset" / "lines.csv"


def test_search_many_gives_what_one_at_a_time_gives(data_dir) -> None:  # type: ignore[no-untyped-def]
    from matching.classify import _ActivityIndex

    with DEVSET.open(encoding="utf-8") as fh:
        texts = [r["description"] for r in csv.DictReader(fh)][:120]
    texts += ["", "   ", texts[0], "zzzz qqqq"]  # empty, blank, a repeat, no known word
    alone_index = _ActivityIndex(data_dir)
    alone = [alone_index.search(t, top_k=5) for t in texts]
    batched_index = _ActivityIndex(data_dir)
    together = batched_index.search_many(texts, top_k=5)
    assert together == alone
    assert sum(bool(g) for g in alone) > 100 and alone[-4] == [] and alone[-1] == []
    # later single searches are served from the cache the batch filled, with the same answers
    assert [batched_index.search(t, top_k=5) for t in texts] == alone
    from matching.text import analyze

    assert len(batched_index._cache) == len({analyze(t).text for t in texts} - {""})  # one entry per analysed text


def test_cache_is_bounded(data_dir) -> None:  # type: ignore[no-untyped-def]
    from matching.classify import _ActivityIndex

    from matching.text import analyze

    idx = _ActivityIndex(data_dir)
    idx._cache_size = 3
    texts = ["roulements à billes", "vis inox", "carton ondulé", "peinture époxy", "palettes bois"]
    idx.search_many(texts, top_k=5)
    assert [q for q, _ in idx._cache] == [analyze(t).text for t in texts[-3:]]  # the oldest went first
