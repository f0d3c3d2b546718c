"""A hand-made result in the contract shape (matching.results.result_to_dict), for page tests
that must not depend on the engine: two regional suppliers, one national-only line, one line
without a candidate, one line in error."""

from __future__ import annotations

from typing import Any


def _sup(rank: int, siret: str, name: str, dep: str, region: str, tier: str, score: float, dist: float | None) -> dict[str, Any]:
    return {
        "rank": rank, "siret": siret, "name": name, "naf": "28.15Z", "commune": "Commune " + dep,
        "commune_code": None, "postcode": None, "departement": dep, "region": region, "tier": tier,
        "distance_km": dist, "score": score, "activity": "28.15Z", "size_band": None, "source": "irep",
        "reasons": [
            {"signal": "activity", "contribution": 0.4, "text": "fabrique des roulements (NAF 28.15Z)",
             "text_en": "makes bearings (NAF 28.15Z)"},
            {"signal": "proximity", "contribution": 0.1, "text": "à 12 km de l'acheteur", "text_en": "12 km from the buyer"},
        ],
        "features": {},
    }


def sample_result() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "catalog": {"source": "irep"},
        "engine": {},
        "lines": [
            {
                "line": 3, "sheet": None, "status": "matched",
                "input": {"description": "Roulements à billes 625ZZ", "code": "84821010", "code_raw": "8482.10.10",
                          "origin_country": "CN", "annual_value_eur": 6000.0},
                "errors": [], "warnings": [],
                "priority": {"score": 0.9, "text": "Vulnérabilité 0.90 : origine hors UE (CN)",
                             "text_en": "Vulnerability 0.90: non-EU origin (CN)"},
                "products": [{"code": "84821010", "system": "CN8", "label": "Roulements à billes", "score": 0.9, "source": "given"}],
                "activities": [{"naf": "28.15Z", "label": "Fabrication d'engrenages", "score": 0.8, "route": "cn-cpa", "via": [], "wholesale": False}],
                "suppliers": [
                    _sup(1, "11111111100011", "Roulements de Moselle", "57", "44", "regional", 0.87, 12.3),
                    _sup(2, "22222222200022", "Billes d'Alsace", "67", "44", "regional", 0.80, 140.0),
                    _sup(3, "33333333300033", "Roulements du Rhône", "69", "84", "national", 0.78, None),
                ],
            },
            {
                "line": 4, "sheet": None, "status": "matched",
                "input": {"description": "Tôle inox", "code": None, "code_raw": None, "origin_country": None,
                          "annual_value_eur": 2000.0},
                "errors": [], "warnings": [], "products": [], "activities": [],
                "suppliers": [_sup(1, "44444444400044", "Aciers de Paris", "75", "11", "national", 0.6, 300.0)],
            },
            {
                "line": 5, "sheet": None, "status": "no_candidate",
                "input": {"description": "Écran OLED 0,96 pouce", "code": None, "code_raw": None,
                          "origin_country": "CN", "annual_value_eur": 2000.0},
                "errors": [], "warnings": [], "products": [], "activities": [], "suppliers": [],
            },
            {
                "line": 1, "sheet": None, "status": "skipped",
                "input": {"description": "Nomenclature machine", "code": None, "code_raw": None, "annual_value_eur": None},
                "errors": [], "warnings": ["title row before the header"], "products": [], "activities": [], "suppliers": [],
            },
            {
                "line": 6, "sheet": None, "status": "error",
                "input": {"description": "", "code": None, "code_raw": "xx", "annual_value_eur": None},
                "errors": ["code 'xx' is not a product code"], "warnings": [], "products": [], "activities": [], "suppliers": [],
            },
        ],
        "summary": {"lines": 4, "matched": 2, "no_candidate": 1, "error": 1, "with_regional": 1},
    }
