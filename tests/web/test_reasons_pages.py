"""Issue 16 on the pages: plain reasons with the codes in a toggle, tie notes, "autres pistes",
and "no buyer commune" said once above the list. Rendered from what the engine really produces
(hand-made catalog and classifier of tests/engine/test_reasons_ties.py), no app."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from api.web import views
from matching.results import line_result_to_dict, result_to_dict
from matching.types import BomLine

_path = Path(__file__).resolve().parents[1] / "engine" / "test_reasons_ties.py"
_spec = importlib.util.spec_from_file_location("engine_reasons_ties", _path)
_mod = importlib.util.module_from_spec(_spec)
sys.modules["engine_reasons_ties"] = _mod
_spec.loader.exec_module(_mod)


def _bom_html(lang: str, **cfg) -> str:
    res = _mod._matcher(_mod._table(), region="84", **cfg).match([BomLine(row=2, description="roulement à billes")])
    ctx = views.base_context(lang=lang, region="84", csrf="tok", nav="boms", current_url="/boms/j1")
    ctx.update(views.results_context(result_to_dict(res), lang=lang, region="84"))
    ctx.update({"job_id": "j1", "filename": "bom.xlsx", "flash": None})
    return views.render("bom_results.html", ctx)


def test_bom_page_says_reasons_plainly_with_codes_in_a_toggle_and_tie_notes():
    html = _bom_html("fr")
    assert "roulements à billes (NC 8482 10 10) → fabrication d&#39;engrenages" in html
    assert re.search(r"<details class=\"reason-codes small\"><summary>codes</summary><code>CN 8482 10 10 → CPA 28.15.10",
                     html)
    assert "même score : classés par produit cité dans son nom" in html
    assert html.count("pas de commune acheteur donnée") == 1  # once above the list, not per row
    assert re.search(r"data-other-activities><strong>Autres pistes.*?22.11Z", html, re.S)


def test_bom_page_in_english_and_with_a_buyer():
    html = _bom_html("en")
    assert "ball bearings with greatest external diameter" in html
    assert "same score: ordered by product named in its name" in html
    assert html.count("no buyer commune given") == 1
    assert "Other leads" in html
    assert "no buyer commune given" not in _bom_html("en", buyer="57463")


def test_search_page_says_no_buyer_once_and_shows_other_leads():
    lr = _mod._matcher(_mod._table()).match_one(BomLine(row=1, description="roulement à billes"))
    ctx = views.base_context(lang="fr", current_url="/search", current_query={"q": "roulement à billes"})
    ctx.update({"q": "roulement à billes", "code": "", "buyer": "", "result": line_result_to_dict(lr), "searched": True,
                "error": None, "matched_for": {}})
    html = views.render("search.html", ctx)
    assert html.count("pas de commune acheteur donnée") == 1
    assert "Autres pistes" in html and "30.92Z" in html
    assert "<summary>codes</summary>" in html


def test_pages_show_first_the_product_the_reasons_cite():
    res = _mod._matcher(_mod._table()).match([BomLine(row=23, description="Tube acier D30 L100")])
    ctx = views.base_context(lang="fr", region="44", csrf="tok", nav="boms", current_url="/boms/j1")
    ctx.update(views.results_context(result_to_dict(res), lang="fr", region="44"))
    ctx.update({"job_id": "j1", "filename": "bom.xlsx", "flash": None})
    html = views.render("bom_results.html", ctx)
    understood = re.search(r"<strong>Produit compris.*?</p>", html, re.S)
    assert understood, html[:2000]
    assert understood.group(0).index("73049000") < understood.group(0).index("73030090")
