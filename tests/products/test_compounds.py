"""The German compound splitter over the CN/TARIC German label vocabulary, table-driven."""

from __future__ import annotations

import pytest

from matching.products.compounds import CompoundSplitter, head_counts, label_vocabulary

SPLITS = [
    ("Werkzeugkoffer", ("werkzeug", "koffer")),
    ("Rohrzange", ("rohr", "zange")),
    ("Stahlregal", ("stahl", "regal")),
    ("Edelstahlblech", ("edelstahl", "blech")),
    ("Kupferrohr", ("kupfer", "rohr")),
    ("Hydraulikschlauch", ("hydraulik", "schlauch")),
    ("Zahnriemen", ("zahn", "riemen")),
    ("Pappbecher", ("papp", "becher")),
    ("Kunststoffbecher", ("kunststoff", "becher")),
    ("Holzpalette", ("holz", "palette")),
    ("Glasflasche", ("glas", "flasche")),
    ("Gummidichtung", ("gummi", "dichtung")),
    ("Aluminiumprofil", ("aluminium", "profil")),
    ("Fensterglas", ("fenster", "glas")),
    ("Ölfilter", ("ol", "filter")),
    ("Blechschraube", ("blech", "schraube")),
    ("Verpackungsfolie", ("verpackung", "folie")),
]
HEADS = [  # only the head matters
    ("Raddrehzahlsensor", "sensor"),
    ("Sechskantschraube", "schraube"),
    ("Kegelrollenlager", "lager"),
    ("Schraubenschlüssel", "schlussel"),
    ("Druckluftschlauch", "schlauch"),
    ("Schrumpfschlauch", "schlauch"),
    ("Dichtungsring", "ring"),
]
UNSPLIT = ["Lager", "Messing", "Verband", "Kugellager", "Gabelstapler", "Schrauben", "Kreiselpumpe"]


@pytest.mark.parametrize(("word", "parts"), SPLITS, ids=[w for w, _ in SPLITS])
def test_splits(lexicon, word, parts) -> None:  # noqa: ANN001
    assert lexicon.splitter.split(word) == parts


@pytest.mark.parametrize(("word", "head"), HEADS, ids=[w for w, _ in HEADS])
def test_heads(lexicon, word, head) -> None:  # noqa: ANN001
    assert lexicon.splitter.head(word) == head


@pytest.mark.parametrize("word", UNSPLIT)
def test_words_the_labels_use_whole_stay_whole(lexicon, word) -> None:  # noqa: ANN001
    from matching.text import fold

    assert lexicon.splitter.split(word) == (fold(word),)


def test_small_vocabulary_rules() -> None:
    counts = label_vocabulary(["Schrauben aus Stahl", "Stahlrohre", "Rohre aus Kupfer", "Muttern und Schrauben",
                               "Lochzangen", "Zuckerzangen", "Beißzangen", "Zucker", "Loch",
                               "Schweißzangen", "Schweißen"])
    assert "aus" not in counts and counts["schrauben"] == 2
    extra = head_counts(counts)
    assert "zangen" in extra  # a head the labels use only inside compounds (Loch|zangen, Zucker|zangen, Schweiß|zangen)
    s = CompoundSplitter(counts, extra=extra)
    assert s.split("Stahlschrauben") == ("stahl", "schrauben")
    assert s.split("Kupferrohr") == ("kupfer", "rohr")
    assert s.split("Rohrzange") == ("rohr", "zange")
    assert s.split("Xylophon") == ("xylophon",)  # unknown: left whole
    assert s.split("") == ()
