"""Properties of the synthetic query generator and of the nomenclature corpus."""

from __future__ import annotations

from collections import Counter

from matching.products.corpus import clean, is_other, path_text, taric_paths
from matching.products.synth import NOISE_TYPES, strip_accents, synthesize

LABELS = [
    ("83021000", "fr", "Charnières de tous genres, y.c. les paumelles et pentures, en métaux communs"),
    ("83021000", "en", "Hinges of all kinds, of base metal"),
    ("83021000", "de", "Scharniere aller Art, aus unedlen Metallen"),
    ("73181595", "de", "Schrauben und Bolzen aus Eisen oder Stahl, mit Kopf"),
    ("84821010", "fr", "Roulements à billes, d'un diamètre extérieur n'excédant pas 30 mm"),
    ("39241000", "en", "Tableware and kitchenware, of plastics"),
] * 60


def test_deterministic_for_a_seed() -> None:
    a = synthesize(LABELS, seed=7, per_text=3)
    b = synthesize(LABELS, seed=7, per_text=3)
    c = synthesize(LABELS, seed=8, per_text=3)
    assert [q.text for q in a] == [q.text for q in b]
    assert [q.text for q in a] != [q.text for q in c]


def test_every_noise_type_occurs_and_codes_are_kept() -> None:
    qs = synthesize(LABELS, seed=1, per_text=4)
    ops = Counter(o for q in qs for o in q.ops)
    missing = [t for t in NOISE_TYPES if not ops[t]]
    assert not missing, f"noise types never applied: {missing}"
    assert {q.code for q in qs} == {c for c, _, _ in LABELS}
    assert all(q.text.strip() for q in qs)
    # the originals are kept, and most rewrites differ from their label
    originals = {t for _, _, t in LABELS}
    rewrites = [q for q in qs if q.ops]
    assert sum(q.text not in originals for q in rewrites) > 0.9 * len(rewrites)


def test_noise_types_do_what_they_say() -> None:
    qs = synthesize(LABELS, seed=3, per_text=4)
    for q in qs:
        if "upper" in q.ops:
            assert q.text == q.text.upper()
        if "accents" in q.ops:
            assert q.text == strip_accents(q.text)
    # "Schrauben und Bolzen aus Eisen" → "... Eisenbolzen"
    assert any("eisenbolzen" in q.text.lower() for q in qs if "compound" in q.ops)


def test_corpus_paths_read_other_through_ancestors() -> None:
    rows = [
        ("8302000000", "80", 4, "", "Garnitures, ferrures et articles similaires en métaux communs"),
        ("8302410000", "10", 6, "- ", "autres garnitures, ferrures et articles similaires"),
        ("8302410000", "80", 6, "- - ", "pour bâtiments"),
        ("8302411000", "80", 8, "- - - ", "pour portes"),
        ("8302419000", "80", 8, "- - - ", "autres"),
    ]
    paths = dict(taric_paths(rows))
    assert "8302410000" in paths and len(paths) == 3  # the grouping row (suffix 10) is an ancestor only
    assert path_text(paths["8302411000"]) == "Garnitures, autres garnitures, ferrures et articles similaires, pour bâtiments, pour portes"
    # "autres" means its parent's path
    assert path_text(paths["8302419000"]).endswith("pour bâtiments")
    assert is_other("autres") and is_other("Other") and is_other("andere") and not is_other("autres garnitures de portes")
    assert clean("Vis (à l'excl. des vis à bois), en acier") == "Vis, en acier"
    assert clean("Garnitures (sauf serrures)") == "Garnitures"
