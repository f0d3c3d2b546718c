"""Advisor pages: time to build the BOM results page (context + template + SVG map/bar).

Synthetic result in the contract shape (fixed seed): N lines x 10 suppliers spread over the
metropolitan départements. Measures the server-side cost only (no browser, no network), and the
HTML size, since every proposed supplier carries a feedback form. Prints one figure per line.
Run: RELOCMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_web.py
"""

from __future__ import annotations

import random
import time

from api.web import charts, views

DEPS = ["57", "67", "68", "54", "88", "51", "10", "08", "75", "69", "13", "59", "33", "31", "44", "35", "74", "38"]
GE = {"57", "67", "68", "54", "88", "51", "10", "08", "52", "55"}


def result(n_lines: int, seed: int = 3) -> dict:
    rnd = random.Random(seed)
    lines = []
    for i in range(n_lines):
        sups = []
        for r in range(rnd.choice([0, 3, 10, 10, 10])):
            dep = rnd.choice(DEPS)
            sups.append({
                "rank": r + 1, "siret": f"{rnd.randrange(10**13, 10**14)}", "name": f"Établissement {i}-{r}",
                "naf": "28.15Z", "commune": "Commune", "departement": dep, "region": "44" if dep in GE else "11",
                "tier": "regional" if dep in GE else "national", "distance_km": rnd.random() * 600,
                "score": rnd.random(), "reasons": [{"signal": "activity", "text": "fabrique ce produit (NAF 28.15Z)",
                                                     "text_en": "makes this product"}] * 4,
            })
        lines.append({"line": i + 2, "status": "matched" if sups else "no_candidate",
                      "input": {"description": f"article {i}", "annual_value_eur": rnd.random() * 1e4},
                      "errors": [], "warnings": [], "suppliers": sups,
                      "products": [{"code": "84821010", "system": "CN8", "label": "Roulements à billes"}],
                      "activities": [{"naf": "28.15Z", "label": "Fabrication d'engrenages"}]})
    return {"lines": lines, "summary": {}}


def main() -> None:
    t0 = time.perf_counter()
    charts.load_map_base()
    print(f"map base (read + project reference geography, once per process): {time.perf_counter() - t0:.3f} s")
    views.naf_labels()
    for n in (40, 200, 1000):
        r = result(n)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ctx = views.base_context(lang="fr", csrf="x" * 32, current_url="/boms/x")
            ctx.update(views.results_context(r, lang="fr", region="44"))
            ctx.update({"job_id": "0" * 32, "filename": "bench.xlsx", "flash": None})
            html = views.render("bom_results.html", ctx)
            best = min(best, time.perf_counter() - t0)
        print(f"results page, {n} lines x <=10 suppliers: {best * 1000:.0f} ms, {len(html) / 1024:.0f} KiB HTML")


if __name__ == "__main__":
    main()
