"""Top-level verbs `relocmatch match`, `search` and `evaluate` (the matching engine's edge).

Thin: parse options → MatchConfig → Matcher → print or export. Heavy imports happen
inside the commands so that `relocmatch --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from matching.cli._common import user_errors

FORMATS = ("json", "csv", "xlsx")


def _short(text: str | None, n: int) -> str:
    t = (text or "").replace("\n", " ").strip()
    return t if len(t) <= n else t[: n - 1] + "…"


def _config(region: str, buyer: str | None, top: int, policy: str, wholesale: bool, no_semantic: bool, lang: str = "fr"):  # noqa: ANN202
    from matching.config import MatchConfig

    return MatchConfig(region=region, buyer=buyer, top_n=top, tier_policy=policy, include_wholesale=wholesale,
                       semantic=False if no_semantic else None, lang=lang)


def _best(lr, tier: str) -> str:  # noqa: ANN001
    for m in lr.suppliers:
        if m.tier == tier:
            s = m.supplier
            where = s.departement or "?"
            km = f", {m.distance_km:.0f} km" if m.distance_km is not None else ""
            return f"{_short(s.name, 28)} ({s.naf}, {where}{km}) {m.score:.2f}"
    return "—"


BAND_FR = {"high": "élevée", "medium": "moyenne", "low": "faible"}
_BAND_STYLE = {"high": "green", "medium": "yellow", "low": "red"}


def confidence_cell(lr) -> str:  # noqa: ANN001
    """'élevée 0.97' coloured by band, '—' when the line carries none (skipped, error)."""
    c = lr.confidence
    if c is None:
        return "—"
    return f"[{_BAND_STYLE[c.band]}]{BAND_FR[c.band]} {c.probability:.2f}[/]"


_STATUS_FR = {"matched": "trouvé", "low_confidence": "à vérifier", "no_candidate": "sans candidat",
              "skipped": "ignorée", "error": "erreur"}


def _status_cell(lr) -> str:  # noqa: ANN001
    """The status in words (the JSON keeps the contract's names), most telling first: a narrow
    column shows its start."""
    word = _STATUS_FR.get(lr.status, lr.status)
    if lr.errors:
        return f"{word} : {lr.errors[0]}"
    if lr.status == "no_producer":
        return "sans prestataire" if lr.kind == "service" else "sans producteur français"
    return word


def _reason_cell(lr) -> str | None:  # noqa: ANN001
    """Why a skipped or candidate-less line has no product: shown in the product column (which it
    leaves empty), where it has room; the status column says only what happened."""
    if lr.status in ("skipped", "no_candidate") and lr.warnings and not lr.errors:
        from rich.markup import escape

        return f"[dim]{escape(_short(str(lr.warnings[-1]), 120))}[/dim]"
    return None


_FLEX = (("description", 3), ("produit", 2), ("activité", 2), ("régional", 3), ("national", 3), ("statut", 2))


def _columns(width: int, top: int) -> list[tuple[str, int, dict]]:
    """Fixed widths that fill ``width`` (at most 200): line number and confidence fixed, the text
    columns share the rest by weight; 2 characters of padding per column."""
    fixed = {"ligne": 6, "confiance": 13}
    room = max(min(width, 200) - 2 * (len(fixed) + len(_FLEX)) - sum(fixed.values()), 6 * len(_FLEX))
    total = sum(w for _, w in _FLEX)
    flex = {name: max(6, room * w // total) for name, w in _FLEX}
    flex["description"] += room - sum(flex.values())
    cols: list[tuple[str, int, dict]] = [("ligne", fixed["ligne"], {"justify": "right"})]
    for name, _ in _FLEX[:3]:
        cols.append((name, flex[name], {}))
    cols.append(("confiance", fixed["confiance"], {}))
    for name, _ in _FLEX[3:]:
        label = f"1er {name}" if name in ("régional", "national") else name
        cols.append((label, flex[name], {}))
    return cols


def print_summary(result, console, top: int = 10, *, out: Path | None = None) -> None:  # noqa: ANN001
    """The per-line table and the totals, readable in a terminal of 120 columns or more.

    Why truncate: a wrapped 8-column row becomes five screen lines and the table stops being
    a table; each cell keeps one line (ellipsis) and the full texts are in the file written
    (``--out``), which the last line names."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="relocmatch — meilleurs fournisseurs par ligne", box=box.SIMPLE_HEAD, pad_edge=False,
              padding=(0, 1), expand=False)
    for col, width, kw in _columns(console.width, top):
        t.add_column(col, width=width, overflow="ellipsis", no_wrap=True, **kw)
    for lr in result.lines:
        p = lr.product or (lr.products[0] if lr.products else None)  # the one the reasons cite
        a = lr.activities[0] if lr.activities else None
        t.add_row(
            str(lr.line.row),
            ("(prestation) " if lr.kind == "service" else "") + escape(_short(lr.line.description, 60)),
            _reason_cell(lr) or (f"{p.code} {_short(p.label, 40)}" if p else "—"),
            f"{a.naf} {_short(a.label, 30)}" if a else "—",
            confidence_cell(lr),
            _best(lr, "regional"),
            _best(lr, "national"),
            _short(_status_cell(lr), 80),
        )
    console.print(t)
    console.print(f"1er régional / 1er national : le premier fournisseur de la région et hors région dans le top {top}")
    if not ((result.engine or {}).get("config") or {}).get("buyer"):
        from matching.explain import NO_BUYER_NOTE

        console.print(NO_BUYER_NOTE[0])  # once for the table, not on every supplier's reasons
    s = result.summary
    share = s.get("value_share_regional")
    bands = s.get("confidence") or {}
    console.print(
        f"{s['lines']} lignes : {s['matched']} avec fournisseurs, {s.get('low_confidence', 0)} à vérifier "
        f"(confiance faible), {s['no_candidate']} sans candidat, "
        f"{s.get('no_producer', 0)} sans producteur français, {s.get('services', 0)} prestations de service, "
        f"{s['skipped']} ignorées, {s['error']} en erreur ; {s['with_regional']} avec un fournisseur de la région"
        + (f" ({share:.0%} de la valeur importée)" if share is not None else "")
    )
    if bands:
        console.print(f"confiance : {bands.get('high', 0)} élevée, {bands.get('medium', 0)} moyenne, "
                      f"{bands.get('low', 0)} faible (probabilité estimée qu'un bon fournisseur soit dans la liste)",
                      style="dim")
    console.print(f"textes complets dans {out}" if out is not None else
                  "textes tronqués : --out FICHIER.xlsx (ou .csv/.json) écrit les textes complets", style="dim")
    eng = result.engine
    if eng and not eng.get("semantic"):
        console.print("canal sémantique : non utilisé (lexical seulement)", style="dim")


def match(
    bom: Path = typer.Argument(..., help="BOM / purchase-list file (CSV, XLSX, ODS, JSON)."),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder built by `relocmatch catalog build`."),
    region: str = typer.Option("44", "--region", help="Région shown first (INSEE code; 44 = Grand Est)."),
    buyer: str | None = typer.Option(None, "--buyer", help="Buyer's commune code (INSEE) or postcode, for distances."),
    top: int = typer.Option(10, "--top", help="Suppliers per line."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="json, csv or xlsx (default: from --out, else a table)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the result to this file."),
    map_: str | None = typer.Option(None, "--map", help="Override BOM columns: description=B,code=C,... (unit_price= for none)."),
    sheet: str | None = typer.Option(None, "--sheet", help="Workbook sheet to read."),
    policy: str = typer.Option("regional-first", "--policy", help="Tier policy: regional-first, boost or none."),
    wholesale: bool = typer.Option(False, "--wholesale", help="Also offer distributors (NAF 46) as a second choice."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="Lexical channels only (no embedding model)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ranker: Path | None = typer.Option(None, "--ranker", envvar="RELOCMATCH_RANKER",
                                       help="Ranker JSON from `relocmatch ranker fit` (default: prior weights)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Match every line of a BOM to French suppliers, région first; print a summary, export the result."""
    with user_errors():
        from rich.console import Console

        from matching.bom import read_bom
        from matching.cli.bom import _parse_map
        from matching.errors import ConfigError
        from matching.memory import freeze_long_lived
        from matching.pipeline import Matcher
        from matching.results import export_result, result_to_dict

        if fmt is None and out is not None:
            fmt = out.suffix.lower().lstrip(".") or "json"
        if fmt is not None and fmt not in FORMATS:
            raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
        config = _config(region, buyer, top, policy, wholesale, no_semantic)
        err = Console(stderr=True)
        bom_res = read_bom(bom, mapping=_parse_map(map_), sheet=sheet)
        lines = bom_res.lines
        err.print(f"{bom.name}: {len(lines)} lignes lues ({len(bom_res.items)} articles)", style="dim")
        with err.status("chargement du catalogue et du modèle…"):
            matcher = Matcher.from_catalog(catalog, config, data_dir=data, ranker_path=ranker)
            freeze_long_lived()  # no full GC pass over the catalog every few hundred lines (matching/memory.py)
        if quiet or not lines:
            result = matcher.match(lines)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("rapprochement", total=len(lines))
                result = matcher.match(lines, progress=lambda i, n: bar.update(task, completed=i))
        if out is not None:
            export_result(result, out, fmt or "json", lang=config.lang)
        if fmt == "json" and out is None:
            sys.stdout.write(json.dumps(result_to_dict(result), ensure_ascii=False, indent=2) + "\n")
            return
        if fmt in ("csv", "xlsx") and out is None:
            if fmt == "xlsx":
                raise ConfigError("--format xlsx needs --out FILE")
            export_result(result, sys.stdout, "csv", lang=config.lang)
            return
        con = Console()
        if not con.is_terminal:
            con = Console(width=200)
        print_summary(result, con, top, out=out)
        if out is not None:
            err.print(f"résultat écrit dans {out}")


def search(
    text: str = typer.Argument(..., help="Product description, e.g. 'roulements à billes'."),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    code: str | None = typer.Option(None, "--code", help="HS/CN code, e.g. 8482.10."),
    naf: str | None = typer.Option(None, "--naf", help="Force the activity (NAF sous-classe, e.g. 28.15Z)."),
    region: str = typer.Option("44", "--region", help="Région shown first."),
    buyer: str | None = typer.Option(None, "--buyer", help="Buyer's commune code or postcode."),
    top: int = typer.Option(10, "--top", help="Suppliers to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the line result as JSON."),
    lang: str = typer.Option("fr", "--lang", help="Language of the reasons: fr or en."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="Lexical channels only."),
    ranker: Path | None = typer.Option(None, "--ranker", envvar="RELOCMATCH_RANKER",
                                       help="Ranker JSON from `relocmatch ranker fit` (default: prior weights)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Search suppliers for one product description (and/or code)."""
    with user_errors():
        from rich.console import Console
        from matching.pipeline import Matcher
        from matching.results import line_result_to_dict

        config = _config(region, buyer, top, "regional-first", False, no_semantic, lang)
        matcher = Matcher.from_catalog(catalog, config, data_dir=data, ranker_path=ranker)
        lr = matcher.search(text, code=code, naf=naf, top=top)
        if as_json:
            sys.stdout.write(json.dumps(line_result_to_dict(lr), ensure_ascii=False, indent=2) + "\n")
            return
        con = Console()
        if not con.is_terminal:
            con = Console(width=160)
        # the product the suppliers' reasons cite first, then the classifier's other readings
        shown = [lr.product] if lr.product is not None else []
        products = shown + [p for p in lr.products if not shown or p.code != shown[0].code]
        for p in products[:3]:
            con.print(f"produit  {p.code} ({p.system}) {p.label}  [dim]{p.score:.2f} {p.source}[/dim]", highlight=False)
        for a in lr.activities[:3]:
            con.print(f"activité {a.naf} {a.label}  [dim]{a.score:.2f} {a.route}[/dim]", highlight=False)
        if lr.other_activities:
            others = ", ".join(a.naf for a in lr.other_activities[:5])
            con.print(f"[dim]autres pistes : {others}[/dim]" if lang != "en" else f"[dim]other leads: {others}[/dim]",
                      highlight=False)
        for w in lr.warnings:
            con.print(f"[yellow]attention[/yellow] {w}")
        if lr.suppliers and buyer is None:
            from matching.explain import NO_BUYER_NOTE

            con.print(NO_BUYER_NOTE[1 if lang == "en" else 0])  # once, not on every supplier's reasons
        for m in lr.suppliers:
            s = m.supplier
            con.print(f"[bold]{m.rank:>2}.[/bold] [{'green' if m.tier == 'regional' else 'cyan'}]{m.tier:8}[/] "
                      f"{m.score:.2f}  [bold]{s.name}[/bold] — NAF {s.naf} — {s.commune or '?'} ({s.departement or '?'})"
                      f" — SIRET {s.siret}", highlight=False)
            for r in m.reasons:
                if r.contribution > 0 or r.signal in ("activity", "geography"):
                    con.print(f"      · {r.text_en if lang == 'en' and r.text_en else r.text}", highlight=False)
        if lr.confidence is not None:
            c = lr.confidence
            con.print(f"confiance : {BAND_FR[c.band]} ({c.probability:.2f})", highlight=False)
        if lr.status != "matched":
            con.print(f"statut : {lr.status}")


def evaluate(
    labels: Path = typer.Argument(..., help="Labelled lines CSV: id,lang,description,code,...,hs6,naf"),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    as_json: bool = typer.Option(False, "--json", help="Print all metrics as JSON."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="Lexical channels only."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Skip the BM25 baseline."),
    limit: int | None = typer.Option(None, "--limit", help="Evaluate only the first N lines."),
    fit_on: Path | None = typer.Option(None, "--fit-on", help="Fit the ranker on these labelled lines first "
                                       "(same CSV format), then evaluate on LABELS."),
    ranker: Path | None = typer.Option(None, "--ranker", envvar="RELOCMATCH_RANKER",
                                       help="Ranker JSON from `relocmatch ranker fit` (default: prior weights)."),
    data: Path | None = typer.Option(None, "--data", help="Reference-data folder (default $RELOCMATCH_DATA)."),
) -> None:
    """Measure product, activity and supplier quality on labelled lines, side by side with BM25."""
    with user_errors():
        from matching.evaluate import fit_ranker, format_report, load_labels, run_evaluation
        from matching.pipeline import Matcher

        rows = load_labels(labels)[: limit or None]
        config = _config("44", None, 10, "regional-first", False, no_semantic)
        matcher = Matcher.from_catalog(catalog, config, data_dir=data, ranker_path=ranker)
        if fit_on is not None:
            matcher.ranker = fit_ranker(matcher, load_labels(fit_on))
        report = run_evaluation(matcher, rows, baseline=not no_baseline)
        report["ranker"] = matcher.ranker.to_dict()
        if as_json:
            sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
            return
        sys.stdout.write(format_report(report) + "\n")


def register(app: typer.Typer) -> None:
    """Attach `match`, `search` and `evaluate` to the root app."""
    app.command("match")(match)
    app.command("search")(search)
    app.command("evaluate")(evaluate)
