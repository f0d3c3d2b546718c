"""`relocmatch sites build | info | match`: site registers and relocation projects ranked against them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    files: list[Path] = typer.Argument(..., help="Input file(s) of the given kind."),
    source: str = typer.Option(..., "--source", "-s", help="cartofriches, csv (a région's list) or geojson."),
    out: Path = typer.Option(..., "--out", "-o", help="Register folder to create or replace (atomically)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Build a site register (sites.parquet + manifest.json) from a site list."""
    with user_errors():
        from matching.sites import build_register

        rep = build_register([(source.strip().lower(), f) for f in files], out, data_dir=data)
        m = rep.manifest
        read = sum(s["rows_read"] for s in m["sources"])
        c = m["caveats"]
        print(f"site register {out}: {rep.sites} sites from {read} rows read ({sum(m['rejected'].values())} rejected); "
              f"région 44: {m['by_region'].get('44', 0)}; unverified {c['unverified']}, with a project "
              f"{c['has_project']}, placeholder surface {c['surface_is_placeholder']}")
        for reason, n in m["rejected"].items():
            print(f"  rejected {n:>7}  {reason}")


@app.command("info")
def info(
    dir: Path = typer.Argument(..., help="Site register folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show a register's manifest: sources, counts by région / type / status, caveats, rejections."""
    with user_errors():
        from matching.sites import SiteRegister

        reg = SiteRegister.load(dir)
        m = dict(reg.manifest)
        if as_json:
            json.dump(m, sys.stdout, indent=2, ensure_ascii=False)
            print()
            return
        print(f"site register {reg.dir} (schema v{m['schema_version']}, built {m['built_at']}): {m['sites']} sites")
        for s in m["sources"]:
            print(f"source {s['kind']}: {s['name']}  read {s['rows_read']}  kept {s['kept']}  "
                  f"rejected {sum(s['rejected'].values())}")
        print("by région: " + ", ".join(f"{k}={v}" for k, v in m["by_region"].items()))
        print("by type: " + ", ".join(f"{k}={v}" for k, v in m["by_type"].items()))
        print("by status: " + ", ".join(f"{k}={v}" for k, v in m["by_status"].items()))
        print("caveats: " + ", ".join(f"{k}={v}" for k, v in m["caveats"].items()))
        for reason, n in m["rejected"].items():
            print(f"rejected {n:>7}  {reason}")


@app.command("match")
def match(
    project: Path = typer.Argument(..., help="Relocation project JSON (schema: docs/sites.md)."),
    sites: Path = typer.Option(..., "--sites", help="Site register folder (`relocmatch sites build`)."),
    bom_result: Path | None = typer.Option(None, "--bom-result", help="Result JSON of `relocmatch match --format json` "
                                           "for the project's BOM: sites near its French suppliers rank higher."),
    top: int = typer.Option(10, "--top", min=1, max=200, help="Sites to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    lang: str = typer.Option("fr", "--lang", help="Language of the printed reasons: fr or en."),
    out: Path | None = typer.Option(None, "--out", help="Also write the ranked sites to .csv, .xlsx or .json."),
) -> None:
    """Rank the register's sites for a project: hard constraints filter, a score explains the order."""
    with user_errors():
        from matching.sites.match import export_sites, match_sites, read_bom_result
        from matching.sites.project import read_project

        proj = read_project(project)
        bom = read_bom_result(bom_result) if bom_result else None
        from matching.sites import SiteRegister

        from matching.sites import SiteError
        from matching.sites.project import ProjectError

        reg = SiteRegister.load(sites)
        try:
            res = match_sites(proj, reg, bom_result=bom, top=top)
        except ProjectError as exc:  # name the file as well as the field
            raise SiteError(f"{project}: {exc}") from None
        if out:
            export_sites(res, out, lang=lang)
        if as_json:
            json.dump(res, sys.stdout, indent=2, ensure_ascii=False)
            print()
            return
        p = res["project"]
        print(f"projet : {p['activity_naf']} {p['activity_label']} ; {p['surface_text']} ; zone {p['area_text']}")
        print(f"{res['candidates']} sites respectent les contraintes sur {res['register']['sites']} "
              f"({', '.join(f'{k}: {v}' for k, v in res['excluded'].items()) or 'aucun exclu'})")
        key = "text_en" if lang == "en" else "text"
        for s in res["sites"]:
            print(f"{s['rank']:>2}. {s['score']:.3f}  {s['site_id']}  {s['name'][:60]}  ({s['commune']}, {s['departement']})")
            for r in s["reasons"]:
                print(f"      - {r[key]}")
        if out:
            print(f"écrit : {out}")
