"""Pages and pictures rendered from a fixed result-contract dict (no app, no engine)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from api.web import charts, views

_spec = importlib.util.spec_from_file_location("web_sample_result", Path(__file__).with_name("sample_result.py"))
_mod = importlib.util.module_from_spec(_spec)
sys.modules["web_sample_result"] = _mod
_spec.loader.exec_module(_mod)
sample_result = _mod.sample_result

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def base(data_dir):
    return charts.load_map_base(str(data_dir))


def test_value_shares_weight_lines_by_annual_value_and_skip_errors():
    s = charts.value_shares(sample_result())
    assert s.basis == "value"
    assert (s.regional, s.national, s.none, s.total) == (6000.0, 2000.0, 2000.0, 10000.0)
    assert s.share("regional") == pytest.approx(0.6)


def test_value_shares_fall_back_to_line_counts_without_values():
    r = sample_result()
    for ln in r["lines"]:
        ln["input"]["annual_value_eur"] = None
    s = charts.value_shares(r)
    assert s.basis == "lines" and (s.regional, s.national, s.none) == (1.0, 1.0, 1.0)


def test_supplier_counts_are_distinct_sirets_per_departement():
    r = sample_result()
    r["lines"][1]["suppliers"].append(dict(r["lines"][0]["suppliers"][0]))  # same siret twice
    assert charts.supplier_counts_by_departement(r) == {"57": 1, "67": 1, "69": 1, "75": 1}


def test_map_is_valid_accessible_svg_with_one_circle_per_departement(base):
    svg = str(charts.supplier_map_svg({"57": 4, "67": 1, "69": 2, "75": 1}, base, lang="fr"))
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Fournisseurs proposés par département"
    assert "Grand Est" in root.find(f"{SVG}desc").text
    circles = root.findall(f"{SVG}circle")
    assert len(circles) == 4
    # Moselle (57, Grand Est) is highlighted, Rhône (69) is not; Metz is east of Lyon and north of it
    by_title = {c.find(f"{SVG}title").text.split(" (")[0]: c for c in circles}
    assert "map-dot-region" in by_title["Moselle"].get("class")
    assert "map-dot-region" not in by_title["Rhône"].get("class")
    assert float(by_title["Moselle"].get("cy")) < float(by_title["Rhône"].get("cy"))
    assert float(by_title["Moselle"].get("cx")) > float(by_title["Paris"].get("cx"))
    # area proportional to count: the 4-supplier circle is bigger than the 1-supplier one
    assert float(by_title["Moselle"].get("r")) > float(by_title["Bas-Rhin"].get("r"))


def test_map_outline_has_hundreds_of_land_dots_and_grand_est_dots(base):
    assert len(base.dots) > 800
    assert sum(1 for d in base.dots if d[2] == "44") > 50
    assert "75" in base.anchors  # Paris has no mairie point in the file; the fallback covers it


def test_map_lists_overseas_departements_as_text(base):
    svg = str(charts.supplier_map_svg({"971": 2}, base, lang="en"))
    assert "Outside mainland: Guadeloupe (2)" in svg
    assert "<circle" not in svg


def test_bar_svg_segments_match_shares():
    shares = charts.value_shares(sample_result())
    root = ET.fromstring(str(charts.value_bar_svg(shares, lang="fr")))
    segs = {r.get("class"): float(r.get("width")) for r in root.findall(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert segs["bar-regional"] == pytest.approx(0.6 * 560, abs=0.1)
    assert segs["bar-national"] == pytest.approx(0.2 * 560, abs=0.1)
    assert segs["bar-none"] == pytest.approx(0.2 * 560, abs=0.1)


def _results_html(lang: str) -> str:
    ctx = views.base_context(lang=lang, region="44", csrf="tok", nav="boms", current_url="/boms/j1")
    ctx.update(views.results_context(sample_result(), lang=lang, region="44"))
    ctx.update({"job_id": "j1", "filename": "bom.xlsx", "flash": None})
    return views.render("bom_results.html", ctx)


def test_results_page_groups_lines_marks_missing_alternatives_and_has_feedback_forms():
    html = _results_html("fr")
    assert html.count('<article class="line') == 4  # the skipped title row is not a line
    assert "1 lignes du fichier ignorées" in html and "title row before the header" in html
    assert 'data-summary="lines">4<' in html and 'data-summary="error">1<' in html
    assert 'id="line-3"' in html and "has-regional" in html
    assert re.search(r'class="line no-candidate".*?Aucune alternative française trouvée', html, re.S)
    assert re.search(r'class="line error".*?code \'xx\' is not a product code', html.replace("&#39;", "'"), re.S)
    assert 'data-summary="with_regional">1<' in html
    assert 'data-summary="share">80 %<' in html  # (6000 + 2000) / 10000
    # one feedback form per proposed supplier, each carrying the CSRF token
    assert html.count('<form class="fb"') == 4
    assert html.count('name="csrf" value="tok"') == 4
    assert "/boms/j1/export.xlsx" in html and "/boms/j1/export.csv" in html
    assert "Roulements de Moselle" in html and "fabrique des roulements" in html
    assert 'data-priority="0.9"' in html and "origine hors UE (CN)" in html  # line priority, explained
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_results_page_in_english_uses_english_reasons():
    html = _results_html("en")
    assert '<html lang="en">' in html
    assert "makes bearings (NAF 28.15Z)" in html and "No French alternative found" in html
    assert "non-EU origin (CN)" in html


def test_search_page_escapes_the_query():
    ctx = views.base_context(lang="fr", current_url="/search", current_query={"q": "<script>"})
    ctx.update({"q": "<script>alert(1)</script>", "code": "", "buyer": "", "result": None, "searched": True,
                "error": None, "matched_for": {}})
    html = views.render("search.html", ctx)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert '<option value="44" selected>Grand Est</option>' in html


def test_results_lines_come_by_pages_while_summary_and_map_cover_all_lines():
    r = sample_result()
    ctx1 = views.results_context(r, lang="fr", region="44", page=1, per_page=2)
    ctx2 = views.results_context(r, lang="fr", region="44", page=2, per_page=2)
    assert (ctx1["pages"], ctx1["page_first"], ctx1["page_last"]) == (2, 1, 2)
    assert [v["line"]["line"] for v in ctx1["line_views"]] == [3, 4]
    assert [v["line"]["line"] for v in ctx2["line_views"]] == [5, 6]
    assert ctx1["summary"] == ctx2["summary"] and ctx1["summary"]["lines"] == 4
    assert ctx1["dep_rows"] == ctx2["dep_rows"] and len(ctx1["dep_rows"]) == 4
    assert views.results_context(r, lang="fr", region="44", page=99, per_page=2)["page"] == 2
    ctx = views.base_context(lang="fr", csrf="tok", current_url="/boms/j1")
    ctx.update(ctx2)
    ctx.update({"job_id": "j1", "filename": "b.csv", "flash": None})
    html = views.render("bom_results.html", ctx)
    assert '<a aria-current="page" href="?page=2#lines-h">2</a>' in html
    assert 'id="line-5"' in html and 'id="line-3"' not in html
