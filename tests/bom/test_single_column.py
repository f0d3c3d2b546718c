"""Issue 14, defect 2: a one-column list headed by a header word reads that word as its header.

With a single column there is no second header cell to go by, so the whole text of the first
non-blank row decides: a header word the reader knows (FR/EN/DE) is the header, anything else
is an item (a list of bare descriptions has no header).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.bom import read_bom
from matching.cli import app


@pytest.mark.parametrize("word", ["Description", "Désignation", "Bezeichnung", "Libellé", "DESIGNATION"])
def test_header_word_alone_is_the_header(word: str) -> None:
    read = read_bom(f"{word}\nroulements à billes\nvis inox M8\n".encode(), filename="list.csv")
    assert read.layout.header_row == 1
    assert read.layout.columns == {"description": word}
    assert [ln.description for ln in read.items] == ["roulements à billes", "vis inox M8"]
    assert read.rows[0].kind == "header" and read.rows[0].status == "skipped"


def test_one_column_without_header_keeps_every_row_as_an_item() -> None:
    read = read_bom(b"roulements a billes\nvis inox M8\n", filename="list.csv")
    assert read.layout.header_row is None
    assert [ln.description for ln in read.items] == ["roulements a billes", "vis inox M8"]


def test_a_header_word_below_the_first_row_is_not_the_header() -> None:
    read = read_bom(b"vis\nDescription\n", filename="list.csv")
    assert read.layout.header_row is None and len(read.items) == 2


def test_bom_inspect_shows_the_header(tmp_path: Path) -> None:
    f = tmp_path / "list.csv"
    f.write_text("Description\nroulements à billes\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["bom", "inspect", str(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["layout"]["header_row"] == 1
    assert [ln["description"] for ln in out["lines"] if ln["status"] != "skipped"] == ["roulements à billes"]
