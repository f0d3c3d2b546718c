"""The shared normaliser: table-driven cases, and properties that must hold for any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.text import analyze, expand_abbreviations, fold, guess_lang, load_abbreviations, normalize, stem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Gehäuse", "gehause"),
        ("Tôle ÉPAISSE", "tole epaisse"),
        ("Straße", "strasse"),
        ("œillet", "oeillet"),
        ("l’écrou", "l'ecrou"),
    ],
)
def test_fold_lowercases_and_strips_accents(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("roulements", "roulement"),
        ("bearings", "bearing"),
        ("batteries", "batterie"),
        ("battery", "batterie"),
        ("poulies", "poulie"),
        ("poulie", "poulie"),
        ("pulleys", "pulley"),
        ("metaux", "metau"),
        ("metal", "metau"),
        ("tuyaux", "tuyau"),
        ("verre", "verre"),
        ("glass", "glass"),
        ("pvc", "pvc"),
    ],
)
def test_stem_maps_plural_and_singular_together(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    ("line", "must_contain"),
    [
        ("roul. a billes", {"roulement", "bille"}),
        ("Vis CHC M8x30", {"cylindrique", "hexagonale", "creuse"}),
        ("inox A2", {"acier", "inoxydable", "stainless"}),
        ("FR4", {"circuit", "printed"}),
        ("Granulés PEHD", {"polyethylene", "densite"}),
        ("alu", {"aluminium"}),
        ("PP", {"polypropylene"}),
        ("HDPE", {"polyethylene"}),
        # shop-floor words the labels do not use: the table says what they are
        ("Akkuschrauber 18V", {"perceuse", "drill"}),
        ("sauterelle horizontale", {"etau", "clamp"}),
        ("Roulement 6205-2RS", {"etanche", "bearing"}),
    ],
)
def test_purchasing_abbreviations_expand_to_nomenclature_words(line: str, must_contain: set[str]) -> None:
    tokens = set(analyze(line).tokens)
    assert {stem(w) for w in must_contain} <= tokens, tokens


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ("Roulement 6205-2RS C3", ("6205-2rs", "c3")),
        ("Kugellager 608ZZ", ("608zz",)),
        ("Vis CHC M8x30", ("m8x30",)),
        ("Moteur NEMA17", ("nema17",)),
        ("Leiterplatte FR4", ("fr4",)),
        ("Tôle 2mm 12V 30 kg", ()),
    ],
)
def test_part_numbers_are_kept_apart_and_measures_dropped(line: str, parts: tuple[str, ...]) -> None:
    assert analyze(line).parts == parts


@pytest.mark.parametrize(
    ("line", "hint"),
    [("6204-ZZ", "bearing"), ("M10x40", "screw"), ("NEMA23", "stepper"), ("TQFP-32", "integrated"), ("18AWG", "wire")],
)
def test_part_number_shapes_reveal_the_family(line: str, hint: str) -> None:
    assert hint in analyze(line).tokens


@pytest.mark.parametrize(
    ("compound", "head_words"),
    [("Kunststoffkanister 20 l", {"carboy", "bottle"}), ("Lithiumakku 18V", {"accumulateur", "battery"}),
     ("Hochleistungsfrequenzumrichter", {"convertisseur", "static"})],
)
def test_german_compounds_are_read_by_their_head(compound: str, head_words: set[str]) -> None:
    assert {stem(w) for w in head_words} <= set(analyze(compound).tokens)


@pytest.mark.parametrize(
    ("line", "lang"),
    [
        ("Roulement à billes pour moteur", "fr"),
        ("Vis à tête hexagonale en acier", "fr"),
        ("Ball bearing for the motor", "en"),
        ("Stainless steel sheet with film", "en"),
        ("Kugellager für den Motor", "de"),
        ("Sechskantschraube aus Stahl verzinkt", "de"),
        ("6205", None),
    ],
)
def test_language_guess(line: str, lang: str | None) -> None:
    assert guess_lang(line) == lang


def test_stop_words_and_numbers_leave_no_token() -> None:
    assert normalize("de la pour the and der die 12 30 mm") == ""


def test_empty_and_none_give_empty_result() -> None:
    assert analyze(None).text == "" and analyze("").parts == ()


def test_abbreviation_table_is_well_formed_and_mostly_abbreviations() -> None:
    table = load_abbreviations()
    assert len(table) >= 100
    assert all(a.term and a.expansion for a in table)
    # since session 23 the trade words the labels already say are gone (tests/products/test_lexicon.py)
    assert sum(a.replace for a in table) > sum(not a.replace for a in table)


def test_replace_mode_drops_the_abbreviation() -> None:
    text, used = expand_abbreviations("roul. 6205")
    assert "roul" not in text.split() and "roulement" in text and used == ["roul"]


def test_bad_table_row_names_file_and_line(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("term,expansion,mode,domain\nfoo,,add,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t\.csv:2"):
        load_abbreviations(str(p))


@given(st.text(max_size=80))
def test_analyze_never_fails_and_is_stable_on_its_output(s: str) -> None:
    a = analyze(s)
    assert all(t and " " not in t for t in a.tokens)
    # normalising the normalised text without expansion changes nothing (one normaliser, both sides)
    assert analyze(a.text, expand=False).text == analyze(analyze(a.text, expand=False).text, expand=False).text


@pytest.mark.parametrize(
    ("text", "term"),
    [("Visseuses sans fil", "visseuse"), ("Barquettes 500 ml", "barquette"), ("Thermocouples type K", "thermocouple"),
     ("Optocoupleurs CNY17", "optocoupleur")],
)
def test_trade_words_expand_in_the_plural_too(text: str, term: str) -> None:
    _, used = expand_abbreviations(fold(text))
    assert term in used
