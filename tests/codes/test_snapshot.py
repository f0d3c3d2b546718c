"""The crosswalk tables stored once per bundle come back as the same values and types."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.codes import Crosswalk
from matching.codes_snapshot import _Unsupported, decode, encode


def test_encode_decode_round_trip_keeps_types() -> None:
    v = {"a": {("0101", "80"): (4, "Chevaux"), ("0102", "10"): (6, "x")}, "b": frozenset({"x", "y"}),
         "c": ({"k": ["1", "2"]}, {"z": []}), "d": {"s": {"p", "q"}}, "e": [1, 2.5, None, True]}
    out = decode(encode(v))
    assert out == v
    assert isinstance(out["b"], frozenset) and isinstance(out["c"], tuple) and isinstance(out["d"]["s"], set)
    assert isinstance(next(iter(out["a"])), tuple) and isinstance(out["a"][("0101", "80")], tuple)
    with pytest.raises(_Unsupported):
        encode({"x": object()})


def test_a_crosswalk_read_from_the_snapshot_answers_like_one_built_from_the_files(data_dir: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RELOCMATCH_CACHE", str(tmp_path))
    first = Crosswalk(Path(data_dir))  # no snapshot yet: builds from the files, warms and stores
    codes = ["84821010", "848210", "8482", "7318", "94036010", "610910"]
    want = {c: (first.activities_for(c), first.labels(c, "fr"), first.canonical(c)) for c in codes}
    assert list(tmp_path.glob("crosswalk-*/index.json"))
    second = Crosswalk(Path(data_dir))
    got = {c: (second.activities_for(c), second.labels(c, "fr"), second.canonical(c)) for c in codes}
    assert got == want
    assert second._snap is not None and "taric_fr" in second._cache
