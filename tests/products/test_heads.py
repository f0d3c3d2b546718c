"""The head-noun parser, table-driven in French, English and German (phrases written for the test)."""

from __future__ import annotations

import pytest

from matching.products.heads import parse

# (line, head, words that must be in the core, {modifier kind: words that must be there})
FR = [
    ("poignée de porte laiton", "poignee", {"porte"}, {"material": {"laiton"}}),
    ("gobelets carton (carton de 1000)", "gobelets", set(), {"material": {"carton"}, "pack": {"carton de 1000"}}),
    ("capteur ABS roue AV", "capteur", {"roue"}, {"material": {"abs"}, "position": {"av"}}),
    ("Roulement à billes 6205 2RS", "roulement", {"billes"}, {"part": {"2rs"}}),
    ("Vis CHC M8x30 inox A2 (boîte de 100)", "vis", set(), {"material": {"inox"}, "size": {"m8x30"}, "pack": {"boite de 100"}}),
    ("Filtre à air pour compresseur", "filtre", {"air"}, {"purpose": {"compresseur"}}),
    ("pièces pour moteur", "moteur", set(), {"generic": {"pieces"}}),
    ("Tube acier galvanisé Ø 25 x 2 mm", "tube", set(), {"material": {"acier", "galvanise"}, "size": {"ø25"}}),
    ("Tôle alu 2mm 1000x2000", "tole", set(), {"material": {"alu"}, "size": {"2mm", "1000x2000"}}),
    ("acier inox 304L", "acier", set(), {"material": {"inox"}}),
    ("Bouchons plastique PE lot de 50", "bouchons", set(), {"material": {"pe", "plastique"}, "pack": {"lot de 50"}}),
    ("Charnière de meuble en laiton nickelé", "charniere", {"meuble"}, {"material": {"laiton"}}),
    ("Courroie trapézoïdale caoutchouc SPZ 1250", "courroie", {"trapezoidale"}, {"material": {"caoutchouc"}}),
    ("Sac de ciment 25 kg", "sac", {"ciment"}, {}),
    ("Flexible hydraulique DN10 2 tresses", "flexible", {"hydraulique"}, {"size": {"dn10"}}),
    ("Câble électrique cuivre 3G1,5 (rouleau de 50 m)", "cable", {"electrique"}, {"material": {"cuivre"}, "pack": {"rouleau de 50 m"}}),
    ("Gants de protection nitrile taille 9", "gants", {"protection"}, {}),
    # a container noun of the packing headings' labels is a pack after the product, the product first
    ("engrais NPK 15-15-15 sac 50 kg", "engrais", {"npk"}, {"pack": {"sac 50 kg"}}),
    ("amidon de blé natif 25 kg sac", "amidon", {"ble"}, {"pack": {"25 kg sac"}}),
    ("huile de coupe soluble bidon 20 l", "huile", {"coupe"}, {"pack": {"bidon 20 l"}}),
    ("flacon 250 ml verre ambré", "flacon", set(), {"material": {"verre"}}),
]
EN = [
    ("brass door handle", "handle", {"door"}, {"material": {"brass"}}),
    ("paper cups 8 oz (case of 1000)", "cups", set(), {"material": {"paper"}, "pack": {"case of 1000"}}),
    ("ABS WHEEL SPEED SENSOR FRONT LEFT", "sensor", {"wheel", "speed"}, {"material": {"abs"}, "position": {"front", "left"}}),
    ("Ball bearing 6204-ZZ", "bearing", {"ball"}, {"part": {"6204-zz"}}),
    ("box of 100 stainless screws M6", "screws", set(), {"material": {"stainless"}, "pack": {"box of 100"}, "size": {"m6"}}),
    ("Spare parts for pump", "pump", set(), {"generic": {"parts"}}),
    ("copper pipe 22mm", "pipe", set(), {"material": {"copper"}, "size": {"22mm"}}),
    ("Steel storage rack galvanized", "rack", {"storage"}, {"material": {"steel", "galvanized"}}),
    ("Air filter for compressor", "filter", {"air"}, {"purpose": {"compressor"}}),
    ("Plastic cable ties 200 mm, pack of 100", "ties", {"cable"}, {"material": {"plastic"}, "pack": {"pack of 100"}}),
    ("Rubber gasket for flange DN50", "gasket", set(), {"material": {"rubber"}, "purpose": {"flange"}}),
    ("Wooden pallet 1200x800", "pallet", set(), {"material": {"wooden"}, "size": {"1200x800"}}),
    ("Glass bottles 75 cl", "bottles", set(), {"material": {"glass"}}),
    ("hex bolt M10x40 zinc plated 8.8 DIN 933", "bolt", {"hex"}, {"material": {"zinc"}, "size": {"m10x40"}}),
    ("Cotton work gloves with leather palm", "gloves", {"work"}, {"material": {"cotton"}, "feature": {"palm"}}),
    ("Extruded aluminium profile 40x40", "profile", {"extruded"}, {"material": {"aluminium"}, "size": {"40x40"}}),
]
DE = [
    ("Stahlregal verzinkt", "regal", set(), {"material": {"stahl", "verzinkt"}}),
    ("Werkzeugkoffer leer", "koffer", {"werkzeug"}, {}),
    ("Rohrzange 250 mm", "zange", {"rohr"}, {"size": {"250", "mm"}}),
    ("Kunststoffbecher 0,2 l", "becher", set(), {"material": {"kunststoff"}}),
    ("Hydraulikschlauch DN 10", "schlauch", {"hydraulik"}, {"size": {"dn10"}}),
    ("Edelstahlblech 1.4301 2mm", "blech", set(), {"material": {"edelstahl"}}),
    ("Sechskantschraube DIN 933 M10x40 verzinkt", "schraube", set(), {"material": {"verzinkt"}, "size": {"m10x40"}}),
    ("Ersatzteile für Kreiselpumpe", "kreiselpumpe", set(), {"generic": {"ersatzteile"}}),
    ("Kupferrohr 22 mm", "rohr", set(), {"material": {"kupfer"}}),
    ("Türgriff Messing", "turgriff", set(), {"material": {"messing"}}),
    ("Zahnriemen für Förderband", "zahnriemen", set(), {"purpose": {"forderband"}}),
    ("Holzpalette 1200x800", "palette", set(), {"material": {"holz"}, "size": {"1200x800"}}),
    ("Glasflaschen 0,75 l (Karton mit 12)", "flaschen", set(), {"material": {"glas"}, "pack": {"karton mit 12"}}),
    ("Gummidichtung für Flansch", "gummidichtung", set(), {"material": {"gummi"}, "purpose": {"flansch"}}),
    ("Aluminiumprofil 40x40 eloxiert", "profil", set(), {"material": {"aluminium"}, "size": {"40x40"}}),
    ("Pappbecher weiß 200 ml", "becher", set(), {"material": {"papp"}} ),
    ("Verpackungsfolie transparent", "folie", {"verpackung"}, {}),
    # the product comes first, what it is for or made of after; an acronym or adjective is no head
    ("Bleistift HB", "bleistift", set(), {}),
    ("Luftfilter Motor Traktor", "luftfilter", {"motor", "traktor"}, {}),
    ("Reihenklemme 2,5 mm² Hutschiene", "klemme", {"reihen"}, {}),
    ("Plane Polyestergewebe 650 g/m²", "plane", set(), {}),
    ("Verzinkte Stahlschrauben M8", "schrauben", set(), {"material": {"stahl"}, "size": {"m8"}}),
    ("Elektrische Heizpatrone 230 V", "patrone", {"heiz"}, {}),
    ("Gipspulver Sack 25 kg", "pulver", {"gips"}, {"pack": {"sack 25 kg"}}),
    ("Kalkhydrat 25 kg Säcke", "hydrat", set(), {"pack": {"25 kg sacke"}}),
    ("Dosen 500 ml Weißblech", "dosen", set(), {}),
]


def _check(p, head, core, mods) -> None:  # noqa: ANN001
    assert p.head == head, (p.text, p.head, p.core, p.modifiers)
    assert core <= set(p.core), (p.text, p.core)
    for kind, words in mods.items():
        assert words <= set(p.modifiers.get(kind, ())), (p.text, kind, p.modifiers)
    # a modifier never is the head, and material words never sit in the core
    assert p.head not in p.modifiers.get("material", ())
    assert not set(p.core) & set(p.modifiers.get("material", ()))


@pytest.mark.parametrize(("text", "head", "core", "mods"), FR, ids=[r[0] for r in FR])
def test_french_heads(lexicon, text, head, core, mods) -> None:  # noqa: ANN001
    p = parse(text, lexicon=lexicon)
    assert p.lang == "fr"
    _check(p, head, core, mods)


@pytest.mark.parametrize(("text", "head", "core", "mods"), EN, ids=[r[0] for r in EN])
def test_english_heads(lexicon, text, head, core, mods) -> None:  # noqa: ANN001
    p = parse(text, lexicon=lexicon)
    assert p.lang == "en"
    _check(p, head, core, mods)


@pytest.mark.parametrize(("text", "head", "core", "mods"), DE, ids=[r[0] for r in DE])
def test_german_heads(lexicon, text, head, core, mods) -> None:  # noqa: ANN001
    p = parse(text, lexicon=lexicon)
    assert p.lang == "de"
    _check(p, head, core, mods)


def test_language_decides_the_head_position(lexicon) -> None:  # noqa: ANN001
    # the same three words: French reads the first noun, English the last
    assert parse("poignee porte laiton", lang="fr", lexicon=lexicon).head == "poignee"
    assert parse("door handle brass", lang="en", lexicon=lexicon).head == "handle"


def test_empty_and_material_only() -> None:
    assert parse("").head == ""
    assert parse(None).core == ()
    p = parse("Laiton", lang="fr")
    assert p.head == "laiton" and p.head_is_material


def test_container_nouns_come_from_the_packing_labels(lexicon) -> None:  # noqa: ANN001
    from matching.products.lexicon import container_nouns

    got = container_nouns([("fr", "Boîtes, sacs, pochettes, cornets et autres emballages en papier, carton; cartonnages"),
                           ("en", "Folding cartons, boxes and cases, of non-corrugated paper"),
                           ("de", "Säcke und Beutel zu Verpackungszwecken"),
                           ("fr", "D'une contenance de 50 l ou plus")])
    assert {"boites", "boite", "sacs", "sac", "pochettes", "cornets", "cartons", "boxes", "cases", "sacke", "sack",
            "beutel"} <= got
    # a catch-all item, a complement, what follows ";" and a preposition-led label name no container
    assert not got & {"autres", "emballages", "papier", "cartonnages", "folding", "contenance", "zu"}
    # built into the lexicon from the reference data
    assert {"sac", "sack", "bidon", "flacon", "beutel", "drums"} <= lexicon.containers
    assert not {"tube", "papier", "autres"} & lexicon.containers  # "Tuben" gives no "tube": a French label word


def test_a_trailing_container_is_the_english_head(lexicon) -> None:  # noqa: ANN001
    assert parse("glass jars 500 ml", lang="en", lexicon=lexicon).head == "jars"
    assert "sac 25 kg" in parse("farine de blé sac 25 kg", lang="fr", lexicon=lexicon).modifiers["pack"]
