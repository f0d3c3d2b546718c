"""`relocmatch codes ...`: explaining product codes and the activities that produce them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("explain")
def explain(
    code: Annotated[str, typer.Argument(help="An HS/CN/TARIC code as written: 8482.10, '8482 10 10', 'HS 848210'.")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Reference-data directory (default: $RELOCMATCH_DATA).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Show at most this many CPA classes / NAF sous-classes.")] = 25,
) -> None:
    """Canonical form, labels (FR/EN/DE), ancestors, CPA classes, NACE classes and NAF sous-classes of a code.

    Unknown or malformed codes give a one-line message and exit 1.
    """
    with user_errors():
        report = explain_code(code, data, top=top)
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            _print(report)


def explain_code(code: str, data: Path | str | None = None, *, top: int = 25) -> dict[str, Any]:
    """Everything `codes explain` shows, as a JSON-ready dict (raises CodeError/DataError)."""
    from matching.codes import get_crosswalk

    cw = get_crosswalk(data)
    p = cw.canonical(code)
    cpas = cw.cpa_for(p)
    acts = cw.activities_for(p)
    nace: dict[str, dict[str, Any]] = {}
    for a in acts:
        n = next((v[5:] for v in a.via if v.startswith("NACE ")), a.naf[:5])
        entry = nace.setdefault(n, {"nace": n, "label": cw.nace_label(n) or "", "score": a.score, "naf": []})
        entry["score"] = max(entry["score"], a.score)
        entry["naf"].append(a.naf)
    return {
        "input": code,
        "code": p.digits,
        "dotted": p.dotted,
        "system": p.system,
        "zero_padded": p.zero_padded,
        "labels": {lang: cw.labels(p, lang) for lang in ("fr", "en", "de")},
        "ancestors": [{"code": c, "system": s, "label": lab} for c, s, lab in cw.ancestors(p)],
        "route": acts[0].route if acts else None,
        "cpa": [
            {"cpa": c, "label": cw.cpa_label(c, "en"), "label_fr": cw.cpa_label(c, "fr", fallback=False),
             "score": s, "route": r}
            for c, s, r in cpas[:top]
        ],
        "nace": sorted(nace.values(), key=lambda e: -e["score"])[:top],
        "naf": [a.to_dict() for a in acts[:top]],
        "counts": {"cpa": len(cpas), "naf": len(acts)},
    }


def _print(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    c = Console()
    pad = " (leading zero restored)" if r["zero_padded"] else ""
    c.print(f"[bold]{r['system']} {r['dotted']}[/] ({r['code']}){pad}")
    for lang in ("fr", "en", "de"):
        if r["labels"][lang]:
            c.print(f"  {lang.upper()}: {r['labels'][lang]}")
    for a in r["ancestors"]:
        c.print(f"  ⊂ {a['system']} {a['code']}: {a['label']}")
    if not r["naf"]:
        c.print("[yellow]no producing activity found for this code[/]")
        return
    c.print(f"route: {r['route']}")
    if r["cpa"]:
        t = Table(title=f"CPA 2.1 classes ({r['counts']['cpa']})")
        for col in ("cpa", "score", "label"):
            t.add_column(col)
        for x in r["cpa"]:
            t.add_row(x["cpa"], f"{x['score']:.2f}", x["label_fr"] or x["label"] or "")
        c.print(t)
    t = Table(title="NACE classes")
    for col in ("nace", "score", "label", "NAF sous-classes"):
        t.add_column(col)
    for x in r["nace"]:
        t.add_row(x["nace"], f"{x['score']:.2f}", x["label"], ", ".join(x["naf"]))
    c.print(t)
    t = Table(title=f"NAF sous-classes ({r['counts']['naf']})")
    for col in ("naf", "score", "label", "via"):
        t.add_column(col, overflow="fold")
    for x in r["naf"]:
        t.add_row(x["naf"], f"{x['score']:.2f}", x["label"], " → ".join(x["via"]))
    c.print(t)
