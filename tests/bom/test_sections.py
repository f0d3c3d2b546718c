"""Lone-description rows: items of a code-less purchase list, not section titles."""

from __future__ import annotations

from matching.bom import read_bom


def _read(text: str):  # type: ignore[no-untyped-def]
    return read_bom(text.encode("utf-8"), filename="list.csv")


def test_code_less_half_of_a_purchase_list_are_items() -> None:
    rows = ["description,code"]
    for i in range(10):
        rows.append(f"article numero {i}," + ("8482.10" if i % 2 else ""))
    res = _read("\n".join(rows) + "\n")
    descs = [ln.description for ln in res.items]
    assert len(descs) == 10
    assert not [ln for ln in res.lines if ln.status == "skipped" and "section" in " ".join(ln.messages)]


def test_trailing_lone_description_is_an_item() -> None:
    res = _read("description,code\nroulements à billes,8482.10\nvis inox,7318.15\ncacao en fèves,\n")
    assert [ln.description for ln in res.items][-1] == "cacao en fèves"


def test_marked_sections_stay_sections() -> None:
    res = _read("description,code\n# Mécanique\nroulements à billes,8482.10\nÉlectrique :\ncâble cuivre,8544.49\n")
    assert [ln.description for ln in res.items] == ["roulements à billes", "câble cuivre"]
    sections = [ln.row for ln in res.lines if ln.status == "skipped" and "section" in " ".join(ln.messages)]
    assert sections == [2, 4]
