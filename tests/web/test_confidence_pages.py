"""The BOM results and search pages show each line's confidence as a badge, flag a
low_confidence line "à vérifier" and count it in the summary (hand-made contract dicts)."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

from api.web import views

_spec = importlib.util.spec_from_file_location("web_sample_result_conf", Path(__file__).with_name("sample_result.py"))
_mod = importlib.util.module_from_spec(_spec)
sys.modules["web_sample_result_conf"] = _mod
_spec.loader.exec_module(_mod)


def _with_confidence() -> dict:
    r = copy.deepcopy(_mod.sample_result())
    lines = [ln for ln in r["lines"] if ln["status"] == "matched" and ln.get("suppliers")]
    lines[0]["confidence"] = {"probability": 0.97, "band": "high"}
    low = lines[-1]
    low["status"] = "low_confidence"
    low["confidence"] = {"probability": 0.31, "band": "low"}
    return r


def _bom_html(r: dict, lang: str) -> str:
    ctx = views.base_context(lang=lang, region="44", csrf="tok", nav="boms", current_url="/boms/j1")
    ctx.update(views.results_context(r, lang=lang, region="44"))
    ctx.update({"job_id": "j1", "filename": "bom.xlsx", "flash": None})
    return views.render("bom_results.html", ctx)


def test_bom_page_has_a_confidence_badge_per_line_and_flags_low_ones():
    html = _bom_html(_with_confidence(), "fr")
    assert 'data-confidence="high"' in html and "Confiance : élevée · 97 %" in html
    assert 'data-confidence="low"' in html and "faible · 31 %" in html
    assert "data-low-confidence" in html and "fournisseurs à vérifier" in html
    assert 'data-summary="low_confidence">1<' in html
    en = _bom_html(_with_confidence(), "en")
    assert "Confidence: high · 97 %" in en and "Low confidence: check these suppliers" in en


def test_bom_page_without_confidence_shows_no_badge():
    html = _bom_html(copy.deepcopy(_mod.sample_result()), "fr")  # results stored before the field existed
    assert "data-confidence" not in html and "data-low-confidence" not in html


def test_search_page_shows_the_confidence():
    line = next(ln for ln in _with_confidence()["lines"] if ln["status"] == "low_confidence")
    ctx = views.base_context(lang="fr", current_url="/search", current_query={"q": "x"})
    ctx.update({"q": "x", "code": "", "buyer": "", "result": line, "searched": True, "error": None,
                "matched_for": {}, "region": "44"})
    html = views.render("search.html", ctx)
    assert 'data-confidence="low"' in html and "data-low-confidence" in html
