"""The calibrated per-line confidence: the shipped model, its monotony in the evidence, the
low_confidence status end to end (CLI), the export columns and the 120-column console table."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from matching.confidence import FEATURES, ConfidenceModel, assess, default_model
from matching.errors import DataError
from matching.types import BomLine, LineResult

NONSENSE = "qxv zzkr brumf"  # not one of the fitting script's made-up lines


@pytest.fixture(scope="module")
def lexical_matcher(irep_catalog_dir, data_dir):
    from matching.config import MatchConfig
    from matching.pipeline import Matcher

    return Matcher.from_catalog(irep_catalog_dir, MatchConfig(semantic=False), data_dir=data_dir)


def _line(desc: str, code: str | None = None, row: int = 1) -> BomLine:
    return BomLine(row=row, description=desc, code=(code or "").replace(".", "") or None, code_raw=code)


def _blind_sets() -> set[str]:
    """The sets kept blind (examples/devset/report_all.BLIND_SETS), read without importing the script."""
    import ast
    from pathlib import Path

    src = (Path(__file__).parents[2] / "examples" / "devset" / "report_all.py").read_text(encoding="utf-8")
    node = next(n for n in ast.parse(src).body if isinstance(n, ast.Assign) and n.targets[0].id == "BLIND_SETS")
    return set(ast.literal_eval(node.value))


def test_shipped_model_is_versioned_and_has_bands_in_order():
    m = default_model()
    assert m.features == FEATURES
    assert 0.0 < m.low < m.high < 1.0
    assert m.fit and m.fit["target"] == "naf_hit@10"
    blind = _blind_sets()
    assert {"blind14", "blind15"} <= blind
    assert not set(m.fit["sets"]) & blind  # never fitted on the blind sets


def _activity_line(naf: str, second: str = "10.82Z", ratio: float = 0.25) -> LineResult:
    from matching.types import ActivityGuess, ProductGuess

    return LineResult(line=_line("Fèves de cacao fermentées"), status="matched",
                      products=(ProductGuess("18010000", "CN8", "", 0.7, "text"),),
                      activities=(ActivityGuess(naf, "", 0.8, "cn-cpa"), ActivityGuess(second, "", 0.8 * ratio, "cn-cpa")))


def test_features_say_a_primary_activity_and_how_rare_it_is_in_the_catalog():
    import math

    from matching.confidence import line_features

    sites = {"sites": {"01.27Z": 0.5, "10.82Z": 40.0}}
    farm = line_features(_activity_line("01.27Z"), None, sites)
    assert farm["primary"] == 1.0 and farm["activity_sites"] == pytest.approx(math.log1p(0.5))
    plant = line_features(_activity_line("10.82Z", "01.27Z"), None, sites)
    assert plant["primary"] == 0.0 and plant["activity_sites"] == pytest.approx(math.log1p(40.0))
    # a primary activity at half the best score or more is credible: the line may be the raw commodity
    assert line_features(_activity_line("10.82Z", "01.27Z", 0.6), None, sites)["primary"] == 1.0
    assert line_features(_activity_line("10.82Z"), None, None)["activity_sites"] == 0.0  # no catalog: none


@pytest.mark.parametrize(("code", "primary"), [("18010000", True), ("26020000", True), ("18063100", False),
                                               ("84821010", False)])
def test_context_says_when_the_crosswalk_routes_a_product_to_farming_or_mining_only(lexical_matcher, code, primary):
    from matching.types import ProductGuess

    lr = LineResult(line=_line("x"), status="matched", products=(ProductGuess(code, "CN8", "", 0.5, "text"),))
    ctx = lexical_matcher.confidence_context(lr)
    assert ctx["product_primary"] is primary and ctx["sites"] is lexical_matcher.naf_sites


def test_catalog_sites_are_a_share_per_10000(lexical_matcher):
    sites = lexical_matcher.naf_sites
    assert sum(sites.values()) == pytest.approx(1e4)
    naf, n = max(lexical_matcher._naf_count.items(), key=lambda kv: kv[1])
    assert sites[naf] == pytest.approx(1e4 * n / len(lexical_matcher.table))


def test_neutral_model_puts_every_line_in_the_medium_band():
    m = ConfidenceModel.neutral()
    feats = {f: 0.3 for f in FEATURES}
    assert m.probability(feats) == 0.5 and m.band(0.5) == "medium" and m.band(0.01) == "medium"


def test_model_json_errors_say_what_is_wrong():
    d = default_model().to_dict()
    with pytest.raises(DataError, match="version"):
        ConfidenceModel.from_dict({**d, "version": "confidence-0"})
    with pytest.raises(DataError, match="features"):
        ConfidenceModel.from_dict({**d, "features": ["product_score"]})
    with pytest.raises(DataError, match="bands"):
        ConfidenceModel.from_dict({**d, "bands": {"high": 0.4, "low": 0.6}})
    assert ConfidenceModel.from_dict(d).probability({f: 0.5 for f in FEATURES}) == pytest.approx(
        default_model().probability({f: 0.5 for f in FEATURES}))


def test_skipped_and_failed_lines_carry_no_confidence_and_no_candidate_is_low():
    line = _line("x")
    assert assess(LineResult(line=line, status="skipped")).confidence is None
    assert assess(LineResult(line=line, status="error")).confidence is None
    nc = assess(LineResult(line=line, status="no_candidate"))
    assert nc.confidence.band == "low" and nc.confidence.probability == 0.0 and nc.status == "no_candidate"


# Lines whose description reads as their code: a code the text does not confirm is a risk the confidence
# weighs ("Pompe centrifuge 3 kW" reads as fans without the trade-word row session 23 removed).
@pytest.mark.parametrize(("text", "code"), [("Vis à tête hexagonale M8x30 acier", "7318.15"), ("roulement à billes", "8482.10"),
                                            ("Ressort de compression acier", "7320.20"), ("Kugellager 6204", "8482.10")])
def test_a_correct_code_raises_the_confidence(lexical_matcher, text, code):
    without, with_code = lexical_matcher.match([_line(text), _line(text, code, 2)]).lines
    assert with_code.confidence.probability > without.confidence.probability
    assert with_code.confidence.band == "high"


def test_nonsense_line_is_low_confidence_with_suppliers_kept_and_a_reason(lexical_matcher):
    real, junk = lexical_matcher.match([_line("Roulement à billes 6204 2RS"), _line(NONSENSE, row=2)]).lines
    assert real.status == "matched" and real.confidence.band == "high"
    assert junk.status == "low_confidence" and junk.confidence.band == "low"
    assert junk.confidence.probability < default_model().low < real.confidence.probability
    assert junk.suppliers  # kept, flagged for review
    reason = junk.warnings[-1]
    assert "confiance faible" in reason and "à vérifier" in reason and "low confidence" in reason


def test_no_producer_keeps_precedence_over_low_confidence(lexical_matcher):
    (cocoa,) = lexical_matcher.match([_line("Fèves de cacao brutes", "1801.00")]).lines
    assert cocoa.status == "no_producer" and cocoa.confidence is not None


def test_summary_counts_low_confidence_and_bands(lexical_matcher):
    res = lexical_matcher.match([_line("Roulement à billes"), _line(NONSENSE, row=2), _line("300", row=3)])
    s = res.summary
    assert s["low_confidence"] == 1
    assert sum(s["confidence"].values()) == 2  # the skipped "300" carries none
    assert s["confidence"]["low"] >= 1


def test_export_has_the_confidence_columns(lexical_matcher):
    from matching.results import FLAT_COLUMNS, export_result, flatten

    res = lexical_matcher.match([_line("Roulement à billes"), _line(NONSENSE, row=2)])
    rows = flatten(res)
    assert "confidence" in FLAT_COLUMNS and "confidence_probability" in FLAT_COLUMNS
    by_status = {r["status"]: r for r in rows}
    assert by_status["matched"]["confidence"] == "high"
    assert by_status["low_confidence"]["confidence"] == "low"
    assert 0.0 <= by_status["low_confidence"]["confidence_probability"] < 0.5
    buf = io.StringIO()
    export_result(res, buf, "csv")
    table = list(csv.DictReader(io.StringIO(buf.getvalue().lstrip("\ufeff"))))
    assert {r["confidence"] for r in table} == {"high", "low"}


def test_console_table_fits_120_columns_and_names_the_file(lexical_matcher, tmp_path):
    from rich.console import Console

    from matching.cli.match import print_summary

    long = ("Roulement à billes étanche 6204-2RS C3 graisse haute température pour moteur de convoyeur "
            "ligne d'emballage n°3 atelier B")
    res = lexical_matcher.match([_line(long), _line(NONSENSE, row=2), _line("Vis CHC M6x20 inox A2", row=3)])
    con = Console(width=120, record=True, color_system=None)
    out = tmp_path / "r.xlsx"
    print_summary(res, con, 10, out=out)
    text = con.export_text()
    lines = text.splitlines()
    assert max(len(x) for x in lines) <= 120
    assert "confiance" in text and "élevée" in text and "faible" in text
    assert "à vérifier" in text
    assert long not in text and "…" in text  # truncated in the table...
    assert f"textes complets dans {out}" in " ".join(text.split())  # ...complete in the file
    table_rows = [x for x in lines if re.match(r"^\s*[123]\s{2,}\S", x)]
    assert len(table_rows) == 3  # one screen line per BOM line, no wrapping
    assert "1er régional" in text and "1er national" in text  # headers whole, explained under the table
    assert "le premier fournisseur de la région" in text


def test_the_file_the_table_names_holds_the_full_texts(lexical_matcher, tmp_path):
    import openpyxl

    from matching.results import export_result

    long = ("Roulement à billes étanche 6204-2RS C3 graisse haute température pour moteur de convoyeur "
            "ligne d'emballage n°3 atelier B")
    out = tmp_path / "r.xlsx"
    export_result(lexical_matcher.match([_line(long)]), out, "xlsx")
    ws = openpyxl.load_workbook(out).active
    assert long in {c.value for row in ws.iter_rows() for c in row}


def test_a_skipped_line_shows_its_reason_in_the_table(lexical_matcher):
    from rich.console import Console

    from matching.cli.match import print_summary

    res = lexical_matcher.match([_line("+SUM(1,2)"), _line("Vis CHC M6x20 inox A2", row=2)])
    con = Console(width=120, record=True, color_system=None)
    print_summary(res, con, 10)
    row = next(x for x in con.export_text().splitlines() if re.match(r"^\s*1\s{2,}", x))
    assert "ignorée" in row and "formule" in row  # the reason where the product would be


runner = CliRunner()


def test_cli_json_carries_confidence_and_low_confidence_status(tmp_path, irep_catalog_dir):
    from matching.cli import app

    bom = tmp_path / "b.csv"
    bom.write_text(f"Désignation;Code douanier;Quantité\nRoulement à billes;8482.10;10\n{NONSENSE};;5\n"
                   "Vis CHC M6x20 inox A2;;200\n", encoding="utf-8")
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--no-semantic", "--quiet",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    lines = {ln["input"]["description"]: ln for ln in d["lines"]}
    assert lines["Roulement à billes"]["status"] == "matched"
    assert lines["Roulement à billes"]["confidence"]["band"] == "high"
    junk = lines[NONSENSE]
    assert junk["status"] == "low_confidence" and junk["confidence"]["band"] == "low" and junk["suppliers"]
    assert d["summary"]["low_confidence"] == 1


def test_confidence_does_not_depend_on_how_many_suppliers_are_asked(lexical_matcher):
    """The model reads the list at its fixed depth (10): --top 3, 5 or 25 give the same confidence
    (session 4's demo line 10, "Poignées", read 0.52 with --top 5 and 0.48 with 10)."""
    from dataclasses import replace

    from matching.confidence import CONFIDENCE_DEPTH

    lines = [_line(t, c, i) for i, (t, c) in enumerate(
        [("Poignées", None), ("Roulement à billes", None), ("Moteur", None), ("Vis CHC M8x20 inox", None),
         ("Tube acier D30 L100", "7304.90"), ("Clavette", None)], start=1)]
    base = lexical_matcher.config
    by_top = {}
    for top in (3, 5, CONFIDENCE_DEPTH, 25):
        lexical_matcher.config = replace(base, top_n=top)
        try:
            res = lexical_matcher.match(lines).lines
        finally:
            lexical_matcher.config = base
        assert all(len(r.suppliers) <= top for r in res)
        by_top[top] = [(r.status, r.confidence.probability) for r in res]
    assert by_top[3] == by_top[5] == by_top[CONFIDENCE_DEPTH] == by_top[25]
    # and the share read is the one of the ten suppliers a top-10 run returns
    lexical_matcher.config = replace(base, top_n=3)
    try:
        (short,) = lexical_matcher.match([lines[0]]).lines
    finally:
        lexical_matcher.config = base
    (full,) = lexical_matcher.match([lines[0]]).lines
    nafs = {a.naf for a in full.activities if not (a.wholesale or a.naf.startswith("46"))}
    expected = sum(1 for m in full.suppliers if m.supplier.naf in nafs) / len(full.suppliers)
    assert short.depth_stats.in_activity_share == pytest.approx(expected)
    assert short.depth_stats.best_score == pytest.approx(max(m.score for m in full.suppliers))


def test_a_line_the_gate_reads_as_no_product_is_low_whatever_its_probability():
    from dataclasses import replace

    m = default_model()
    assert m.read_min > 0 and m.readable is not None
    feats = {f: m.hit.mean[i] for i, f in enumerate(FEATURES)} | {"service": 0.0}
    strict = replace(m, read_min=1.0)  # every goods line under the bar
    assert strict.unreadable(feats) and not m.unreadable(feats)
    assert not strict.unreadable(feats | {"service": 1.0})  # a service line skips the gate
    lr = LineResult(line=_line("wiriqe dokeba"), status="matched")
    out = assess(lr, None, strict)
    assert out.status == "low_confidence" and out.confidence.band == "low"
    assert "aucun produit de la nomenclature" in out.warnings[-1]
    with pytest.raises(DataError, match="read_min"):
        ConfidenceModel.from_dict({**m.to_dict(), "bands": {"high": 0.9, "low": 0.35, "read_min": 2}})
