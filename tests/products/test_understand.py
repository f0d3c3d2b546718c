"""The entry point: head-noun scoring changes what a modifier can do, and the per-line evidence."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def stages(data_dir: Path, products_models: Path):  # noqa: ANN201
    from matching.products.artifacts import load
    from matching.products.understand import ProductUnderstanding

    art = load(products_models, data_dir)
    full = ProductUnderstanding(data_dir, artifact=art, semantic=False)
    lexical = ProductUnderstanding(data_dir, artifact=art, semantic=False, use_model=False, use_heads=False)
    return full, lexical


def test_same_api_as_the_classifier(stages) -> None:  # noqa: ANN001
    full, _ = stages
    r = full.classify("Roulement à billes 6205 2RS")
    assert r.products and r.products[0].code.startswith("8482")
    assert "model" in r.channels_used and "heads" in r.channels_used
    assert full.activities_for_line(r.products, "Roulement à billes 6205 2RS")[0].naf == "28.15Z"
    given = full.classify("Roulement à billes", "8482.10")
    assert given.products[0].source == "given+text"


def test_understand_gives_the_evidence(stages) -> None:  # noqa: ANN001
    full, _ = stages
    u = full.understand("Stahlregal verzinkt")
    assert u.head == "regal" and "stahl" in u.modifiers["material"] and u.lang == "de"
    assert u.model_top and 0 < u.model_top[0][1] <= 1
    assert u.top_score == u.result.products[0].score and u.margin >= 0
    assert isinstance(u.agree_hs4, bool)
    many = full.understand_many(["Kugellager 608ZZ", ""], [None, "8482.10"])
    assert many[1].result.products[0].code == "848210" and many[1].head == ""


def test_material_alone_does_not_choose_the_chapter(stages) -> None:  # noqa: ANN001
    # the head reading ranks the product's chapter higher than the words alone do
    full, lexical = stages

    def rank(clf, text: str, prefix: str) -> int:  # noqa: ANN001
        codes = [p.code for p in clf.classify(text, top_k=10).products]
        return next((i for i, c in enumerate(codes) if c.startswith(prefix)), 99)

    assert rank(full, "Stahlregal verzinkt", "9403") <= rank(lexical, "Stahlregal verzinkt", "9403")
    assert rank(full, "gobelets carton (carton de 1000)", "4823") <= rank(lexical, "gobelets carton (carton de 1000)", "4823")


@pytest.mark.parametrize(("word", "vocab", "expected"), [
    ("feile", {"feilen", "raspeln"}, "feilen"),  # the labels' plural
    ("zange", {"zangen"}, "zangen"),
    ("kugeln", {"kugel"}, "kugel"),  # the query's plural, the labels' singular
    ("regale", {"regal"}, "regal"),
    ("bohrer", {"feilen"}, None),  # nothing to inflect towards
    ("vis", {"visen"}, "visen"),
])
def test_inflected_form_reaches_the_labels_german_plural(word: str, vocab: set[str], expected: str | None) -> None:
    from matching.classify import inflected_form

    assert inflected_form(word, frozenset(vocab)) == expected


@pytest.mark.parametrize(("text", "heading", "within"), [
    ("Seitenschneider-Zange 160", "820320", 1),  # "Zange" meets the labels' "Zangen"
    ("Dreikantfeile 150 mm", "820310", 2),  # the compound's head "Feile" meets "Feilen"
])
def test_a_german_head_in_the_singular_finds_its_heading(stages, text: str, heading: str, within: int) -> None:  # noqa: ANN001
    full, _ = stages
    codes = [p.code for p in full.classify(text, top_k=5).products]
    assert any(c.startswith(heading) for c in codes[:within]), codes
