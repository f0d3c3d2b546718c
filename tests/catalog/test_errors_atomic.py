"""Malformed inputs give one clear line (or per-row rejections), never a traceback; builds are atomic."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from matching.catalog import Catalog, build_catalog, sha256_file
from matching.errors import CatalogError


@pytest.fixture()
def good_catalog(irep_csv, tmp_path, data_dir):
    out = tmp_path / "cat"
    build_catalog([("irep", irep_csv)], out, progress=False, indexes=False, data_dir=data_dir)
    return out


def _truncated_gzip(src, dst, keep_bytes=30_000):
    with open(src, "rb") as fi:
        data = gzip.compress(fi.read())
    dst.write_bytes(data[:keep_bytes])
    return dst


def test_wrong_columns_is_one_clear_error(tmp_path, data_dir):
    bad = tmp_path / "wrong.csv"
    bad.write_text("id,raison_sociale,ville\n1,ACME,METZ\n", encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        build_catalog([("sirene", bad)], tmp_path / "c", progress=False, data_dir=data_dir)
    msg = str(exc.value)
    assert "missing column(s)" in msg and "activitePrincipaleEtablissement" in msg and str(bad) in msg
    assert "\n" not in msg


@pytest.mark.parametrize("keep_bytes", [15, 30_000, 400_000])
def test_truncated_gzip_is_one_clear_error(irep_csv, tmp_path, data_dir, keep_bytes):
    bad = _truncated_gzip(irep_csv, tmp_path / "irep.csv.gz", keep_bytes)
    with pytest.raises(CatalogError, match="truncated or corrupt"):
        build_catalog([("irep", bad)], tmp_path / "c", progress=False, data_dir=data_dir)


def test_bad_naf_and_unknown_commune_are_counted_per_row(sirene_sample, tmp_path, data_dir):
    df = pd.read_csv(sirene_sample, dtype=str, keep_default_na=False).head(30)
    df.loc[df.index[0], "activitePrincipaleEtablissement"] = "47.1X"
    df.loc[df.index[1], "activitePrincipaleEtablissement"] = "99.99Z"
    df.loc[df.index[2], "codeCommuneEtablissement"] = "38999"
    df.loc[df.index[3], "codeCommuneEtablissement"] = ""
    df.loc[df.index[4], "siret"] = "1234"
    src = tmp_path / "mixed.csv"
    df.to_csv(src, index=False)
    rep = build_catalog([("sirene", src)], tmp_path / "c", sections="G", progress=False, data_dir=data_dir)
    r = rep.sources[0]
    assert r.rejected["invalid NAF code (not a NAF rév. 2 sous-classe)"] == 2
    assert r.rejected["unknown commune code"] == 1
    assert r.rejected["missing commune code (foreign or unknown address)"] == 1
    assert r.rejected["invalid SIRET (expected 14 digits)"] == 1
    assert rep.suppliers == 25
    assert "line 6: invalid SIRET (expected 14 digits)" in r.examples
    assert any(e.startswith("line 2: invalid NAF") for e in r.examples)  # first data row is file line 2


def test_failed_rebuild_leaves_previous_catalog_intact(good_catalog, irep_csv, tmp_path, data_dir):
    before = sha256_file(good_catalog / "suppliers.parquet")
    manifest_before = (good_catalog / "manifest.json").read_text()
    bad = _truncated_gzip(irep_csv, tmp_path / "irep.csv.gz")
    with pytest.raises(CatalogError):
        build_catalog([("irep", bad)], good_catalog, progress=False, data_dir=data_dir)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        build_catalog([("sirene", wrong)], good_catalog, progress=False, data_dir=data_dir)
    cat = Catalog.load(good_catalog)
    assert len(cat) >= 9800
    assert sha256_file(good_catalog / "suppliers.parquet") == before
    assert (good_catalog / "manifest.json").read_text() == manifest_before
    leftovers = [p.name for p in good_catalog.parent.iterdir() if p.name.startswith(".cat.")]
    assert leftovers == []


def test_failure_while_writing_indexes_leaves_previous_catalog(good_catalog, irep_csv, data_dir, monkeypatch):
    before = sha256_file(good_catalog / "suppliers.parquet")

    def boom(table, out_dir):
        raise KeyboardInterrupt  # an interrupted build (Ctrl-C) at the last step

    monkeypatch.setattr("matching.index.build_catalog_indexes", boom)
    with pytest.raises(KeyboardInterrupt):
        build_catalog([("irep", irep_csv)], good_catalog, progress=False, data_dir=data_dir)
    assert sha256_file(good_catalog / "suppliers.parquet") == before
    assert Catalog.load(good_catalog).manifest["suppliers"] >= 9800
    assert [p.name for p in good_catalog.parent.iterdir() if p.name.startswith(".cat.")] == []


def test_successful_rebuild_replaces_the_catalog(good_catalog, sirene_sample, data_dir):
    build_catalog([("sirene", sirene_sample)], good_catalog, sections="G", progress=False, indexes=False,
                  data_dir=data_dir)
    cat = Catalog.load(good_catalog)
    assert len(cat) == 973 and set(cat.table["source"]) == {"sirene"}


def test_refuses_to_overwrite_a_folder_that_is_not_a_catalog(irep_csv, tmp_path, data_dir):
    d = tmp_path / "precious"
    d.mkdir()
    (d / "thesis.txt").write_text("do not delete")
    with pytest.raises(CatalogError, match="not a catalog folder"):
        build_catalog([("irep", irep_csv)], d, progress=False, data_dir=data_dir)
    assert (d / "thesis.txt").read_text() == "do not delete"


def test_load_rejects_non_catalog_and_other_schema_versions(good_catalog, tmp_path):
    with pytest.raises(CatalogError, match="not a catalog folder"):
        Catalog.load(tmp_path)
    with pytest.raises(CatalogError, match="no such catalog folder"):
        Catalog.load(tmp_path / "nope")
    m = json.loads((good_catalog / "manifest.json").read_text())
    m["schema_version"] = 999
    (good_catalog / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(CatalogError, match="schema version 999"):
        Catalog.load(good_catalog)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--source", "sirene", "{wrong}"], "missing column(s)"),
        (["--source", "irep", "{gz}"], "truncated or corrupt"),
        (["--source", "bogus", "{wrong}"], "unknown source kind"),
        (["--source", "irep", "{missing}"], "no such file"),
        (["--source", "sirene", "--sections", "C9", "{wrong}"], "not a NAF section"),
        (["--source", "csv", "{wrong}"], "needs --map"),
        (["--source", "csv", "--map", "siret=a,nom=b", "{wrong}"], "unknown target"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(args, expect, cli, good_catalog, irep_csv, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    gz = _truncated_gzip(irep_csv, tmp_path / "t.csv.gz")
    subst = {"{wrong}": str(wrong), "{gz}": str(gz), "{missing}": str(tmp_path / "missing.csv")}
    argv = [subst.get(a, a) for a in args]
    code, out, err = cli("catalog", "build", *argv, "--out", good_catalog, "--quiet")
    assert code == 1
    assert expect in err and "Traceback" not in err + out
    assert err.strip().count("\n") == 0 and err.startswith("error: ")
    assert Catalog.load(good_catalog).manifest["suppliers"] >= 9800


def test_cli_info_on_a_non_catalog(cli, tmp_path):
    code, out, err = cli("catalog", "info", tmp_path, "--json")
    assert code == 1 and err.startswith("error: ") and "not a catalog folder" in err


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400) | st.text(max_size=400).map(lambda s: s.encode("utf-8")),
       kind=st.sampled_from(["sirene", "irep"]))
def test_arbitrary_bytes_give_a_catalog_error_never_a_crash(content, kind, tmp_path_factory, data_dir):
    d = tmp_path_factory.mktemp("fuzz")
    src = d / "input.csv"
    src.write_bytes(content)
    try:
        build_catalog([(kind, src)], d / "cat", progress=False, indexes=False, data_dir=data_dir)
    except CatalogError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
    assert not any(p.name.startswith(".cat.") for p in d.iterdir())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.text(max_size=16), st.text(max_size=8), st.text(max_size=8)), max_size=8))
def test_sirene_rows_with_arbitrary_cells_are_kept_or_counted(rows, tmp_path_factory, data_dir):
    d = tmp_path_factory.mktemp("fuzzrows")
    src = d / "s.csv"
    df = pd.DataFrame(rows, columns=["siret", "activitePrincipaleEtablissement", "codeCommuneEtablissement"])
    df.to_csv(src, index=False)
    try:
        rep = build_catalog([("sirene", src)], d / "cat", sections="A,B,C,D,E,G", progress=False, indexes=False,
                            data_dir=data_dir)
    except CatalogError as exc:
        assert "no supplier kept" in str(exc) or "cannot read" in str(exc) or "malformed" in str(exc)
        return
    r = rep.sources[0]
    assert r.kept + sum(r.rejected.values()) + sum(r.skipped.values()) == r.rows_read


def test_leftovers_of_killed_builds_are_cleaned_and_explained(good_catalog, irep_csv, data_dir):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = good_catalog.parent / f".cat.building-{dead}-deadbeef"
    stale.mkdir()
    (stale / "suppliers.parquet").write_bytes(b"partial")
    build_catalog([("irep", irep_csv)], good_catalog, progress=False, indexes=False, data_dir=data_dir)
    assert not stale.exists()
    # a kill between the two renames of the swap: the load error says where the old catalog is
    aside = good_catalog.parent / ".cat.old-1-x"
    good_catalog.rename(aside)
    with pytest.raises(CatalogError, match="interrupted build left the previous catalog"):
        Catalog.load(good_catalog)
