"""`relocmatch catalog build | info | synth`: build and inspect supplier catalogs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from matching.cli._common import user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    files: list[Path] = typer.Argument(..., help="Input file(s): CSV (plain, .gz, .zip) or parquet."),
    source: str = typer.Option(..., "--source", "-s", help="Kind of the input files: sirene, irep or csv."),
    out: Path = typer.Option(..., "--out", "-o", help="Catalog folder to create or replace (atomically)."),
    sections: str | None = typer.Option(None, help="NAF sections to keep, e.g. C (SIRENE default: A-E + division 46)."),
    divisions: str | None = typer.Option(None, help="NAF divisions to keep, e.g. 46,25."),
    regions: str | None = typer.Option(None, help="Région codes to keep, e.g. 44 (Grand Est)."),
    departements: str | None = typer.Option(None, help="Département codes to keep, e.g. 57,67."),
    map_: str | None = typer.Option(None, "--map", help="For --source csv: target=column pairs, e.g. "
                                    "siret=SIRET,name=Raison sociale,naf=APE,commune=Code commune,products=Produits"),
    no_indexes: bool = typer.Option(False, "--no-indexes", help="Skip the matching indexes (table only)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, only the summary."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Build a catalog folder (suppliers.parquet + manifest.json + indexes) from registers."""
    with user_errors():
        from matching.catalog import build_catalog

        rep = build_catalog(
            [(source.strip().lower(), f) for f in files], out, sections=sections, divisions=divisions,
            regions=regions, departements=departements, mapping=map_, progress=not quiet,
            indexes=not no_indexes, data_dir=data,
        )
        m = rep.manifest
        rejected = sum(m["rejected"].values())
        read = sum(s["rows_read"] for s in m["sources"])
        print(f"catalog {out}: {rep.suppliers} suppliers from {read} rows read "
              f"({rejected} rejected, {sum(m['skipped'].values())} skipped by filters, "
              f"{rep.duplicates} duplicates merged); région 44: {m['by_region'].get('44', 0)}"
              f"{'; SYNTHETIC' if m['synthetic'] else ''}")
        for reason, n in m["rejected"].items():
            print(f"  rejected {n:>7}  {reason}")


@app.command("info")
def info(
    dir: Path = typer.Argument(..., help="Catalog folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest and counts as one JSON object."),
) -> None:
    """Show a catalog's manifest: sources, counts by région and NAF division, rejections."""
    with user_errors():
        from matching.catalog import Catalog

        from matching.catalog import catalog_summary

        cat = Catalog.load(dir)
        m = dict(cat.manifest)
        m.update(catalog_summary(cat.table))  # from the table as loaded: older manifests counted 977/978 as régions
        m["dir"] = str(cat.dir)
        if as_json:
            json.dump(m, sys.stdout, indent=2, ensure_ascii=False)
            print()
            return
        print(f"catalog {cat.dir} (schema v{m['schema_version']}, built {m['built_at']})"
              f"{'  [SYNTHETIC: benchmarks only]' if m.get('synthetic') else ''}")
        print(f"suppliers: {m['suppliers']}  with coordinates: {m.get('with_coordinates')}  "
              f"with products: {m.get('with_products')}")
        for s in m["sources"]:
            print(f"source {s['kind']}: {s['name']}  sha256 {s['sha256'][:12]}…  read {s['rows_read']}  "
                  f"kept {s['kept']}  rejected {sum(s['rejected'].values())}")
        print("by région: " + ", ".join(f"{k}={v}" for k, v in m["by_region"].items()))
        if m.get("by_collectivity"):
            print("overseas collectivities (in no région): "
                  + ", ".join(f"{k}={v}" for k, v in m["by_collectivity"].items()))
        top = sorted(m["by_naf_division"].items(), key=lambda kv: -kv[1])[:10]
        print("top NAF divisions: " + ", ".join(f"{k}={v}" for k, v in top))
        for reason, n in m["rejected"].items():
            print(f"rejected {n:>7}  {reason}")


@app.command("synth")
def synth(
    rows: int = typer.Option(1_000_000, "--rows", help="Number of synthetic establishment rows."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv, .csv.gz or .parquet."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Write a SYNTHETIC SIRENE-schema file for benchmarks (never for quality figures)."""
    with user_errors():
        from matching.catalog import synth_sirene

        synth_sirene(rows, out, seed=seed, data_dir=data, progress=not quiet)
        print(f"wrote {rows} synthetic SIRENE rows to {out} (marked synthetic)")
