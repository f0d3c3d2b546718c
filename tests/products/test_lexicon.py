"""What the label lexicon says it knows, and the trade-word table it keeps honest."""

from __future__ import annotations

import pytest

from matching.text import load_abbreviations


@pytest.mark.parametrize(
    ("term", "said"),
    [
        ("kugellager", True),  # a label word
        ("schraube", True),  # the labels write "Schrauben"
        ("joint torique", True),  # both words are label words (stop words aside)
        ("rillenkugellager", True),  # a compound of label words
        ("akkuschrauber", False),  # shop-floor German the labels never use
        ("2rs", False),  # a bearing suffix
        ("nema17", False),
        ("", False),
    ],
)
def test_says_means_every_content_word_is_a_label_word(lexicon, term: str, said: bool) -> None:
    assert lexicon.says(term) is said


def test_trade_word_table_holds_only_what_the_nomenclature_cannot_say(lexicon) -> None:
    """An "add" row whose words the labels already use pulls every line that uses them toward the
    lines it was written for (measured: docs/quality.md, "Session 23"); abbreviations ("replace"
    rows) are shorthand and stay."""
    said = [a.term for a in load_abbreviations() if not a.replace and lexicon.says(a.term)]
    assert said == [], f"trade words the labels already say, remove them from abbreviations.csv: {said}"
