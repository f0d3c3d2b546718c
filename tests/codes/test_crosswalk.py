"""Crosswalk on the real reference bundle: canonical codes, labels, CPA/NAF routes, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import refdata
from matching.codes import Crosswalk, ParsedCode, code_similarity, get_crosswalk, normalize_naf
from matching.errors import CodeError


@pytest.fixture(scope="session")
def cw(data_dir: Path) -> Crosswalk:
    return get_crosswalk(data_dir)


def nafs(cw: Crosswalk, code: str) -> list[str]:
    return [a.naf for a in cw.activities_for(code)]


@pytest.mark.parametrize(
    ("code", "naf"),
    [("8482.10", "28.15Z"), ("39021000", "20.16Z"), ("4819.10", "17.21A"), ("7318 15 95", "25.94Z")],
)
def test_issue_examples_reach_expected_naf(cw: Crosswalk, code: str, naf: str) -> None:
    assert naf in nafs(cw, code)


def test_cheese_heading_reaches_dairy_and_prefers_cheese_making(cw: Crosswalk) -> None:
    acts = cw.activities_for("0406")
    assert any(a.naf.startswith("10.51") for a in acts)
    # the label overlap ("fromage") puts 10.51C first among the 10.51 sous-classes
    assert acts[0].naf == "10.51C"


def test_get_crosswalk_is_cached_per_directory(data_dir: Path) -> None:
    assert get_crosswalk(data_dir) is get_crosswalk(str(data_dir) + "/")


def test_canonical_checks_existence(cw: Crosswalk) -> None:
    assert cw.canonical("8482 10 10") == ParsedCode("84821010", "CN8", "8482 10 10")
    assert cw.canonical("8482101000").system == "TARIC10"
    with pytest.raises(CodeError, match="unknown CN8 code 99999999"):
        cw.canonical("99999999")
    with pytest.raises(CodeError, match="unknown HS6 code 848270"):
        cw.canonical("8482.70")
    with pytest.raises(CodeError, match="unknown HS4 code 0199"):
        cw.canonical("0199")


def test_canonical_restores_spreadsheet_zero_for_real_code(cw: Crosswalk) -> None:
    p = cw.canonical("4011010")
    assert p.digits == "04011010" and p.zero_padded
    assert cw.labels(p, "fr")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 .HSCN:-x", max_size=14))
def test_canonical_gives_parsed_code_or_code_error(cw: Crosswalk, text: str) -> None:
    try:
        p = cw.canonical(text)
    except CodeError:
        return
    assert cw.labels(p, "en") is not None or cw.labels(p, "fr") is not None


def test_labels_in_three_languages(cw: Crosswalk) -> None:
    fr, en, de = (cw.labels("84821010", lang) for lang in ("fr", "en", "de"))
    assert fr and en and de and len({fr, en, de}) == 3
    assert "Roulements" in (cw.labels("848210", "fr") or "")
    assert cw.labels("848210", "en") == "Ball bearings"  # HS 2022 text
    assert "Kugellager" in (cw.labels("848210", "de") or "")
    # TARIC fragments are joined into a self-contained label, markup removed
    taric = cw.labels("8482101000", "fr") or ""
    assert taric.count(" > ") >= 2 and "|" not in taric
    assert "$" not in (cw.labels("8708", "fr") or "")
    assert cw.labels("99999999") is None


def test_ancestors_walk_up_the_tree(cw: Crosswalk) -> None:
    anc = cw.ancestors("84821010", "en")
    assert [(c, s) for c, s, _ in anc] == [("84", "HS2"), ("8482", "HS4"), ("848210", "HS6")]
    assert all(label for _, _, label in anc)
    assert cw.ancestors("84") == []


def test_cn8_route_uses_official_table(cw: Crosswalk, data_dir: Path) -> None:
    table = refdata.load_cn_cpa(data_dir)
    expected = table.loc[table["cn8"] == "39021000", "cpa"].item()
    cpa = cw.cpa_for("39021000")
    assert cpa == [(expected, 0.95, "cn-cpa")]
    act = cw.activities_for("39021000")[0]
    assert act.via == ("CN 39021000", f"CPA {expected}", f"NACE {expected[:5]}")
    assert act.wholesale is False


def test_cn8_2023_code_missing_from_2022_table_goes_through_siblings(cw: Crosswalk, data_dir: Path) -> None:
    cn23 = set(refdata.load_cn8("fr", data_dir)["code"])
    cn22 = set(refdata.load_cn_cpa(data_dir)["cn8"])
    new = sorted(c for c in cn23 - cn22 if any(x.startswith(c[:6]) for x in cn22))
    assert new, "the bundle has CN 2023 codes absent from the 2022 table"
    acts = cw.activities_for(new[0])
    assert acts and {a.route for a in acts} == {"cn8-sibling"}


def test_taric_code_goes_through_its_cn8(cw: Crosswalk) -> None:
    acts = cw.activities_for("8482101000")
    assert acts[0].naf == "28.15Z" and acts[0].via[0] == "TARIC 8482101000"


def test_hs_levels_expand_with_decreasing_confidence(cw: Crosswalk) -> None:
    cn8 = cw.activities_for("84821010")[0]
    hs6 = cw.activities_for("848210")[0]
    hs4 = cw.activities_for("8482")[0]
    assert (cn8.route, hs6.route, hs4.route) == ("cn-cpa", "hs6-cn8-expanded", "hs4-cn8-expanded")
    assert cn8.score > hs6.score > hs4.score
    hs2 = cw.activities_for("84")
    assert len(hs2) > 10 and hs2[0].route == "hs2-cn8-expanded"


def test_hs2017_code_converted_to_hs2022(cw: Crosswalk, data_dir: Path) -> None:
    corr = refdata.load_hs2022_hs2017(data_dir)
    hs22 = set(cw.hs6_codes())
    old_only = sorted(set(corr["hs2017"]) - hs22)
    assert old_only, "HS 2017 has subheadings deleted in 2022"
    acts = cw.activities_for(old_only[0])
    assert acts and acts[0].route == "hs2017-conversion"
    assert acts[0].via[0] == f"HS2017 {old_only[0]}"


def test_isic_fallback_for_codes_outside_cn(cw: Crosswalk) -> None:
    acts = cw.activities_for("999999")
    assert acts and {a.route for a in acts} == {"hs-isic-fallback"}
    assert all(a.score <= 0.35 for a in acts)


def test_group_level_nace_expands_to_its_classes(cw: Crosswalk, data_dir: Path) -> None:
    table = refdata.load_cn_cpa(data_dir)
    furniture = table.loc[table["cpa"].str.startswith("31.00."), "cn8"]
    assert len(furniture)
    acts = cw.activities_for(furniture.iloc[0])
    assert len(acts) > 1 and all(a.naf.startswith("31.0") for a in acts)


def test_scores_are_confidences_sorted_best_first(cw: Crosswalk) -> None:
    for code in ("84", "0406", "9403", "30049000", "7308"):
        acts = cw.activities_for(code)
        scores = [a.score for a in acts]
        assert all(0 < s <= 1 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert len({a.naf for a in acts}) == len(acts)


def test_naf_and_nace_helpers(cw: Crosswalk) -> None:
    assert len(cw.naf_codes()) == 732
    assert cw.naf_label("28.15Z").startswith("Fabrication d'engrenages")
    assert cw.naf_label("2815Z") == cw.naf_label("28.15Z")
    with pytest.raises(CodeError):
        cw.naf_label("99.99Z")
    assert cw.naf_for_nace("10.51") == ["10.51A", "10.51B", "10.51C", "10.51D"]
    assert "roulements" in cw.nace_notes("28.15").lower()
    assert cw.nace_notes("99.99") == ""
    assert cw.cpa_label("28.15.10", "en") == "Ball or roller bearings"
    assert cw.cpa_label("28.15.10", "fr", fallback=False) is None  # no French 6-digit CPA labels exist
    assert cw.cpa_label("28.15.1", "fr")


def test_tables_for_the_classifier(cw: Crosswalk) -> None:
    t = cw.cn8_table("de")
    assert list(t.columns) == ["code", "description"] and len(t) > 9700
    assert t["code"].str.fullmatch(r"\d{8}").all()
    hs6 = cw.hs6_codes()
    assert len(hs6) > 5600 and all(len(c) == 6 for c in hs6)
    assert cw.cn8_table("de") is t  # cheap after the first call


@pytest.mark.parametrize(
    ("a", "b", "sim"),
    [
        ("84821010", "8482 10 10", 1.0),
        ("84821010", "84821090", 0.75),
        ("848210", "84821090", 0.75),
        ("84821010", "84822000", 0.5),
        ("8482", "8483", 0.25),
        ("8482", "0406", 0.0),
        ("848210", "848210", 1.0),
        ("8482101000", "84821010", 1.0),
    ],
)
def test_code_similarity(a: str, b: str, sim: float) -> None:
    assert code_similarity(a, b) == sim
    assert code_similarity(b, a) == sim
    assert get_crosswalk().code_similarity(a, b) == sim


@pytest.mark.parametrize(("raw", "naf"), [("2815Z", "28.15Z"), ("28.15z", "28.15Z"), ("28 15 Z", "28.15Z")])
def test_normalize_naf(raw: str, naf: str) -> None:
    assert normalize_naf(raw) == naf


def test_normalize_naf_rejects_garbage() -> None:
    with pytest.raises(CodeError, match="expected a sous-classe"):
        normalize_naf("28.1")


def test_coverage_floors(cw: Crosswalk) -> None:
    cov = cw.coverage()
    print(f"\ncoverage CN 2023: {cov['cn2023']['share']:.4%}, HS 2022 HS6: {cov['hs2022_hs6']['share']:.4%}")
    assert cov["cn2023"]["codes"] > 9700 and cov["cn2023"]["share"] >= 0.99
    assert cov["hs2022_hs6"]["codes"] > 5600 and cov["hs2022_hs6"]["share"] >= 0.98


def test_cn2021_code_deleted_in_2022_uses_the_2021_table(cw: Crosswalk, data_dir: Path) -> None:
    cn21 = refdata.load_cn_cpa(data_dir, edition=2021)
    cn22 = set(refdata.load_cn_cpa(data_dir)["cn8"])
    cn23 = set(refdata.load_cn8("fr", data_dir)["code"])
    old = cn21[~cn21["cn8"].isin(cn22 | cn23)]
    assert len(old)
    code, cpa = old.iloc[0]["cn8"], old.iloc[0]["cpa"]
    assert cw.cpa_for(code) == [(cpa, 0.9, "cn2021-cpa")]


def test_nearest_known_falls_back_to_deepest_known_ancestor(cw: Crosswalk) -> None:
    assert cw.nearest_known("84821010") == cw.canonical("84821010")
    p = cw.nearest_known("84821077")  # no such CN8, but HS6 848210 exists
    assert p is not None and (p.digits, p.system) == ("848210", "HS6")
    chapter = cw.nearest_known("0199")
    assert chapter is not None and (chapter.digits, chapter.system) == ("01", "HS2")


def test_chapter_labels_are_not_shouted(cw: Crosswalk) -> None:
    fr = cw.labels("01", "fr") or ""
    assert fr and not fr.isupper() and fr[0].isupper()


def test_concurrent_first_use_builds_consistent_results(data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fresh = Crosswalk(data_dir)  # not the cached instance: indexes are cold
    codes = ["8482.10", "39021000", "0406", "7318 15 95", "84", "4819.10"] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda c: [a.naf for a in fresh.activities_for(c)], codes))
    cached = get_crosswalk(data_dir)
    assert results == [[a.naf for a in cached.activities_for(c)] for c in codes]


@pytest.mark.parametrize(("code", "residual", "specific"), [
    ("28151100", "20.13B", "20.13A"),  # caustic soda: "autres produits chimiques inorganiques", not nuclear fuel
    ("84212300", "28.29B", "28.29A"),  # oil filters: "autres machines d'usage général", not packaging machines
])
def test_a_product_naming_no_specific_sous_classe_goes_to_the_residual_one(cw: Crosswalk, code: str, residual: str,
                                                                         specific: str) -> None:
    scores = {a.naf: a.score for a in cw.activities_for(code)}
    assert scores[residual] > scores[specific]
    assert cw.is_residual_naf(residual) and not cw.is_residual_naf(specific)


def test_a_named_sous_classe_still_wins_over_the_residual_one(cw: Crosswalk) -> None:
    scores = {a.naf: a.score for a in cw.activities_for("04069021")}  # a cheese: 10.51C, not "autres produits laitiers"
    assert max(scores, key=scores.get) == "10.51C"
