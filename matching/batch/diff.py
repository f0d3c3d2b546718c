"""The monthly register refresh: which regional suppliers a company gets now that it did not before.

``relocmatch catalog build`` (new SIRENE stock) → ``relocmatch batch`` into a new OUT →
``relocmatch batch-diff OLD_OUT NEW_OUT --out DIFF``. Compared per company on the SIRETs
proposed in the regional tier (any line): new ones (with the lines they are proposed for) and
those no longer proposed (closed, moved, or outranked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matching.batch.output import all_markers, read_dataset
from matching.errors import ConfigError

NEW_COLUMNS = ("company", "siret", "name", "naf", "commune", "departement", "best_rank", "best_score",
               "lines", "line_ids", "descriptions")
SUMMARY_COLUMNS = ("company", "in_old", "in_new", "regional_old", "regional_new", "new_regional", "gone_regional",
                   "lines_gaining_regional", "lines_losing_regional")


def _regional(out: Path, region: str) -> dict[str, dict[str, list[dict[str, Any]]]]:
    sups = read_dataset(out, "suppliers").to_pylist()
    by: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in sups:
        if r["region"] == region:
            by.setdefault(r["company"], {}).setdefault(r["siret"], []).append(r)
    return by


def _lines_with_regional(out: Path) -> dict[str, set[str]]:
    t = read_dataset(out, "lines").select(["company", "line_id", "n_regional"]).to_pylist()
    by: dict[str, set[str]] = {}
    for r in t:
        if (r["n_regional"] or 0) > 0:
            by.setdefault(r["company"], set()).add(r["line_id"])
    return by


def diff_runs(old: str | Path, new: str | Path, out: str | Path, *, region: str = "44") -> dict[str, Any]:
    """Write DIFF/summary.csv (per company) and DIFF/new_regional_suppliers.csv; return the totals."""
    from matching import export

    old, new, out = Path(old), Path(new), Path(out)
    for p in (old, new):
        if not (p / "_done").is_dir():
            raise ConfigError(f"{p}: not a batch output folder (no _done/ markers; run `relocmatch batch` first)")
    old_c = {m["company"] for m in all_markers(old)}
    new_c = {m["company"] for m in all_markers(new)}
    ro, rn = _regional(old, region), _regional(new, region)
    lo, ln = _lines_with_regional(old), _lines_with_regional(new)
    descs = {(r["company"], r["line_id"]): r["description"]
             for r in read_dataset(new, "lines").select(["company", "line_id", "description"]).to_pylist()}
    new_rows, summary = [], []
    gone_total = 0
    for c in sorted(old_c | new_c):
        o, n = ro.get(c, {}), rn.get(c, {})
        added = sorted(set(n) - set(o)) if c in old_c else []
        gone = sorted(set(o) - set(n)) if c in new_c else []
        gone_total += len(gone)
        for s in added:
            recs = sorted(n[s], key=lambda r: (r["rank"], r["line_id"]))
            best = recs[0]
            lids = sorted({r["line_id"] for r in recs})
            new_rows.append({
                "company": c, "siret": s, "name": best["name"], "naf": best["naf"], "commune": best["commune"],
                "departement": best["departement"], "best_rank": best["rank"], "best_score": best["score"],
                "lines": len(lids), "line_ids": " ".join(lids),
                "descriptions": " | ".join(str(descs.get((c, i)) or "") for i in lids[:5]),
            })
        summary.append({
            "company": c, "in_old": c in old_c, "in_new": c in new_c, "regional_old": len(o), "regional_new": len(n),
            "new_regional": len(added), "gone_regional": len(gone),
            "lines_gaining_regional": len(ln.get(c, set()) - lo.get(c, set())) if c in old_c and c in new_c else 0,
            "lines_losing_regional": len(lo.get(c, set()) - ln.get(c, set())) if c in old_c and c in new_c else 0,
        })
    out.mkdir(parents=True, exist_ok=True)
    export.write_csv(new_rows, out / "new_regional_suppliers.csv", list(NEW_COLUMNS))
    export.write_csv(summary, out / "summary.csv", list(SUMMARY_COLUMNS))
    return {"companies": len(summary), "new_pairs": len(new_rows),
            "companies_with_new": len({r["company"] for r in new_rows}), "gone_pairs": gone_total}
