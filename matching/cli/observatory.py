"""`relocmatch observatory report` and `relocmatch potential`: the relocation observatory.

`observatory report` computes every indicator (shares of imported value with a regional /
national / no alternative, relocations by tier against the plan's 500, breakdowns by
sector, chapter, origin, company and month) from follow-up records and writes a
multi-sheet XLSX. Records come from the service's store (by default the one `relocmatch serve`
uses: `RELOCMATCH_DATABASE_URL`, else `var/relocmatch.sqlite3`; `--db URL` to name another) or
from CSV files (`--lines`, `--events`).

`potential` ranks product classes of a set of BOMs by imported value where a regional
supply base exists in a catalog.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from matching.cli._common import user_errors
from matching.cli._store import SCHEMA_HELP, STORE_HELP, open_store
from matching.errors import RelocmatchError

app = typer.Typer(no_args_is_help=True)


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="XLSX file to write, e.g. report.xlsx.")],
    db: Annotated[
        str | None, typer.Option("--db", help=STORE_HELP)
    ] = None,
    db_schema: Annotated[str | None, typer.Option("--db-schema", help=SCHEMA_HELP)] = None,
    lines: Annotated[Path | None, typer.Option("--lines", help="CSV of tracked lines (company,line,code,origin_country,annual_value_eur,buyer_naf,best_tier,...).")] = None,
    events: Annotated[Path | None, typer.Option("--events", help="CSV of follow-up events (company,line,date,stage,reason,supplier_siret,supplier_tier,value_moved_eur).")] = None,
    company: Annotated[list[str] | None, typer.Option("--company", help="Restrict to this company (repeat for a group). Default: the whole programme.")] = None,
    target: Annotated[int, typer.Option("--target", min=1, help="Relocations the plan aims at.")] = 500,
) -> None:
    """Write the observatory's indicators to a multi-sheet XLSX (and print the headline figures)."""
    from matching import observatory as obs

    with user_errors():
        if db and (lines or events):
            raise RelocmatchError("give either --db or --lines/--events, not both")
        if lines and events:
            tracked, followups = obs.read_tracked_lines(lines), obs.read_followups(events)
        elif lines or events:
            raise RelocmatchError("give both --lines CSV and --events CSV (or neither: the service's store)")
        site_choices = None
        if not (lines and events):
            import api.store as st  # the API store owns the tables
            from api.site_choices import list_choices  # chosen sites (issue 15): one more sheet

            with open_store(db, db_schema) as store:
                store.create_all()  # a store without tracked lines gives an empty report, not an error
                tracked, followups = st.obs_records(store)
                site_choices = list_choices(store)
        ind = obs.compute_indicators(tracked, followups, companies=company or None, target=target)
        path = obs.write_report(ind, out)
        if site_choices is not None:
            from matching.sites.observatory import append_sites_sheet, site_breakdown

            append_sites_sheet(path, site_breakdown(site_choices))
        s = ind.summary()
        print(
            f"{s['scope']}: {s['lines']} lines, imported value {s['imported_value_eur']:,.0f} EUR; "
            f"regional {_pct(s['share_regional'])}, national {_pct(s['share_national'])}, none {_pct(s['share_none'])}; "
            f"relocations {s['relocations']}/{s['target']} ({_pct(s['progress'])}), "
            f"value moved {s['value_moved_eur']:,.0f} EUR ({_pct(s['share_relocated'])})"
        )
        print(f"wrote {path}", file=sys.stderr)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def potential_cmd(
    boms: Annotated[list[Path], typer.Argument(help="BOM files (CSV, XLSX, ODS, JSON).", exists=False)],
    catalog: Annotated[Path, typer.Option("--catalog", help="Catalog folder built by `relocmatch catalog build`.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the table to .csv or .xlsx.")] = None,
    region: Annotated[str, typer.Option("--region", help="Region code of the territory (INSEE; Grand Est = 44).")] = "44",
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 20,
    data: Annotated[Path | None, typer.Option("--data", help="Reference-data directory (default: $RELOCMATCH_DATA).")] = None,
) -> None:
    """Territorial strengths: imported value by product class (HS4) set against the producing
    establishments in France and in the region; products with a regional base first."""
    with user_errors():
        from matching.bom import read_bom
        from matching.catalog import Catalog
        from matching.codes import get_crosswalk
        from matching.potential import add_labels, potential

        cat = Catalog.load(catalog)
        cw = get_crosswalk(data)
        lines = [read_bom(p).items for p in boms]
        table = add_labels(potential(lines, cat, cw, region=region), cw)
        _print_table(table, top)
        a = table.attrs
        print(
            f"{len(table)} product classes from {sum(len(x) for x in lines)} lines; left out: "
            f"{a['unclassified_lines']} without a code ({a['unclassified_value_eur']:,.0f} EUR), "
            f"{a['french_origin_lines_left_out']} of French origin",
            file=sys.stderr,
        )
        if out is not None:
            _write(table, out)
            print(f"wrote {out}", file=sys.stderr)


def _print_table(table, top: int) -> None:  # noqa: ANN001 - a DataFrame
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Relocation potential (region {table.attrs.get('region')})")
    heads = {"rank": "#", "hs4": "HS4", "label": "product", "imported_value_eur": "imported EUR",
             "top_origin": "origin", "activities": "NAF", "establishments_fr": "estab. FR",
             "establishments_region": "in region"}
    for c, head in heads.items():
        if c == "label":
            t.add_column(head, overflow="ellipsis", no_wrap=True, max_width=40)
        else:
            t.add_column(head, justify="right" if c.startswith(("imported", "establishments", "rank")) else "left")
    for _, r in table.head(top).iterrows():
        v = r["imported_value_eur"]
        t.add_row(
            str(r["rank"]), r["hs4"], r["label"] if isinstance(r["label"], str) else "", "?" if v != v else f"{v:,.0f}", r["top_origin"] if isinstance(r["top_origin"], str) else "",
            r["activities"] or "", str(r["establishments_fr"]), str(r["establishments_region"]),
        )
    Console().print(t)


def _write(table, out: Path) -> None:  # noqa: ANN001 - a DataFrame
    from matching.export import neutralise

    df = table.copy()
    for c in ("label", "activities", "top_origin", "hs4"):
        df[c] = df[c].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        df.to_excel(out, index=False, sheet_name="Potential")
    elif suffix == ".csv":
        df.to_csv(out, index=False)
    else:
        raise RelocmatchError(f"{out}: unknown output format {suffix!r}; expected .csv or .xlsx")


def register(root: typer.Typer) -> None:
    """Attach `observatory` (sub-typer) and `potential` (top-level verb) to the root app."""
    root.add_typer(app, name="observatory", help="Relocation observatory: follow-up indicators and reports.")
    root.command("potential")(potential_cmd)
