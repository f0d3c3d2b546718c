"""Reference-data registry, loaders and bundle check, on the real bundle and broken copies."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from matching import refdata
from matching.errors import DataError


def test_data_dir_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(refdata.ENV_VAR, raising=False)
    with pytest.raises(DataError, match="RELOCMATCH_DATA"):
        refdata.data_dir()
    with pytest.raises(DataError, match="does not exist"):
        refdata.data_dir(tmp_path / "nope")


def test_every_registry_file_checks_ok_on_real_bundle(data_dir: Path) -> None:
    checks = refdata.check_bundle(data_dir)
    assert {c.key for c in checks} == {f.key for f in refdata.REGISTRY}
    bad = [c for c in checks if c.status != "ok"]
    assert bad == []
    for c in checks:
        assert c.rows is not None and c.rows >= refdata.ref_file(c.key).min_rows


def test_loaders_are_cached_per_directory(data_dir: Path) -> None:
    assert refdata.load_naf(data_dir) is refdata.load_naf(str(data_dir))


def test_hs_loader_drops_total_row(data_dir: Path) -> None:
    hs = refdata.load_hs2022(data_dir)
    assert "TOTAL" not in set(hs["hscode"]) and set(hs["level"]) == {"2", "4", "6"}
    assert hs["hscode"].str.len().isin([2, 4, 6]).all()


def test_bom_and_trailing_space_headers_are_cleaned(data_dir: Path) -> None:
    assert list(refdata.load_nace_cpa(data_dir).columns) == ["nace", "cpa"]
    assert list(refdata.load_cn_cpa(data_dir, edition=2021).columns) == ["cn8", "cpa"]


def test_na_strings_become_empty_and_notes_keep_newlines(data_dir: Path) -> None:
    nace = refdata.load_nace("fr", data_dir)
    assert not (nace[["Include", "Include_Also", "Exclude"]] == "NA").any().any()
    assert len(nace) == 996  # one row per record: quoted notes did not split rows
    cpa = refdata.load_cpa(data_dir)
    assert cpa["Include"].str.contains("\n").any()  # multi-line notes kept inside their cell
    assert len(cpa) == 5522


def test_codes_keep_leading_zeros(data_dir: Path) -> None:
    assert refdata.load_communes(data_dir)["code"].iloc[0] == "01001"
    assert "01" in set(refdata.load_departements(data_dir)["code"])
    assert "2A" in set(refdata.load_departements(data_dir)["code"])
    assert refdata.load_cn8("fr", data_dir)["code"].iloc[0].startswith("0")
    assert refdata.load_regions(data_dir).set_index("code").loc["44", "nom"] == "Grand Est"


def test_commune_coordinates_are_floats_with_nan_for_unknown(data_dir: Path) -> None:
    df = refdata.load_communes_coords(data_dir)
    metz = df.set_index("code_insee").loc["57463"]
    assert math.isclose(metz["mairie_latitude"], 49.119718)
    assert df["mairie_latitude"].isna().any()


def test_taric_loader_splits_code_and_suffix(data_dir: Path) -> None:
    t = refdata.load_taric("de", data_dir)
    assert t["code10"].str.fullmatch(r"\d{10}").all()
    assert set(t["suffix"]) >= {"10", "80"}
    assert set(t["hier_pos"]) == {2, 4, 6, 8, 10}


def test_tranches_effectifs_dict(data_dir: Path) -> None:
    t = refdata.load_tranches_effectifs(data_dir)
    assert len(t) == 16 and "salariés" in t["11"]


def test_check_bundle_reports_missing_files(tmp_path: Path) -> None:
    checks = refdata.check_bundle(tmp_path)
    required = [c for c in checks if c.required]
    assert required and all(c.status == "missing" for c in required)
    assert all(c.status == "optional-missing" for c in checks if not c.required)


def _copy_bundle(src: Path, dst: Path) -> Path:
    for spec in refdata.REGISTRY:
        target = dst / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / spec.path, target)
    return dst


def test_check_bundle_reports_lost_leading_zeros(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_bundle(data_dir, tmp_path / "bundle")
    path = root / "cn8/cn8_2023_fr.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0] + "".join(x[1:] if x.startswith("0") else x for x in lines[1:]), encoding="utf-8")
    by_key = {c.key: c for c in refdata.check_bundle(root)}
    bad = by_key["cn8_fr"]
    assert bad.status == "malformed" and "leading zeros" in bad.problem and "line 2" in bad.problem
    assert by_key["cn8_en"].status == "ok"


def test_check_bundle_reports_missing_column_and_short_file(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_bundle(data_dir, tmp_path / "bundle")
    (root / "naf/naf_rev2_5levels_fr.csv").write_text("NIV5,LIB\n01.11Z,x\n", encoding="utf-8")
    regions = root / "geo/regions_decoupage_administratif.csv"
    regions.write_text(regions.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    by_key = {c.key: c for c in refdata.check_bundle(root)}
    assert by_key["naf"].status == "malformed" and "missing column" in by_key["naf"].problem
    assert by_key["regions"].status == "malformed" and "expected at least" in by_key["regions"].problem
    with pytest.raises(DataError, match="naf_rev2_5levels_fr.csv"):
        refdata.load_naf(root)
