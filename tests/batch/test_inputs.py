"""INPUT discovery and reading: folder, manifest, Parquet table; errors naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.batch.inputs import BatchInputError, discover, iter_read, read_company
from matching.batch.output import escape, unescape


def test_folder_one_company_per_bom_file(bom_folder: Path) -> None:
    b = discover(bom_folder)
    assert b.kind == "folder"
    assert [c.company for c in b.companies] == sorted(
        ["bancthermique__Nomenclature", "corrupt",
         "plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO)"])
    assert any("README.md" in n for n in b.notes)
    got = {ci.company: (t, why) for ci, t, why in iter_read(b.companies)}
    t, why = got["corrupt"]
    assert t is None and "corrupt.xlsx" in why and "zip" in why
    t, why = got["bancthermique__Nomenclature"]
    from matching.bom import read_bom

    assert why is None and t.num_rows == len(read_bom(bom_folder / "bancthermique__Nomenclature.csv").lines)
    assert set(t["status"].to_pylist()) <= {"ok", "warning", "skipped"}


def test_folder_two_files_for_one_company(tmp_path: Path) -> None:
    (tmp_path / "acme.csv").write_text("description\nvis M3\n")
    (tmp_path / "acme.xlsx").write_bytes(b"x")
    with pytest.raises(BatchInputError, match=r"acme.csv.*acme.xlsx.*company 'acme'"):
        discover(tmp_path)


def test_manifest_errors_name_line_and_column(tmp_path: Path) -> None:
    m = tmp_path / "m.csv"
    m.write_text("company,fichier\nA,a.csv\n")
    with pytest.raises(BatchInputError, match=r"m.csv: line 1: manifest has no column file"):
        discover(m)
    m.write_text("company,file,buyer\nA,a.csv,57463\n,b.csv,\nA,c.csv,\n")
    with pytest.raises(BatchInputError) as e:
        discover(m)
    assert "line 3, column company: empty company" in str(e.value)
    assert "line 4, column company: company 'A' already on line 2" in str(e.value)


def test_manifest_missing_file_is_that_company_only(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("description;code\nroulement à billes;8482.10\n")
    m = tmp_path / "m.csv"
    m.write_text("company,file,buyer\nA,a.csv,57463\nB,nowhere.xlsx,\n")
    b = discover(m)
    res = {ci.company: (t, why) for ci, t, why in iter_read(b.companies)}
    assert res["A"][0] is not None and set(res["A"][0]["buyer"].to_pylist()) == {"57463"}
    assert res["B"][0] is None and "line 3, column file: 'nowhere.xlsx' not found" in res["B"][1]


def test_table_checks(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"company": ["A"], "description": ["vis"]}), p)
    with pytest.raises(BatchInputError, match=r"t.parquet: no column line_id"):
        discover(p)
    pq.write_table(pa.table({"company": ["A", "A", None], "line_id": ["1", "1", "2"],
                             "description": ["vis", "écrou", "x"]}), p)
    with pytest.raises(BatchInputError) as e:
        discover(p)
    assert "line 2, column line_id: line_id '1' of company 'A' already on row 1" in str(e.value)
    assert "line 3, column company: empty company" in str(e.value)
    pq.write_table(pa.table({"company": ["A"], "line_id": [1], "description": [3.5]}), p)
    with pytest.raises(BatchInputError, match=r"column description: type double, expected text"):
        discover(p)


def test_table_values_become_line_warnings(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"company": ["A", "A", "B"], "line_id": [1, 2, 1],
                             "description": ["Roulement à billes", "", "Kreiselpumpe"],
                             "code": ["8482.10", None, "zz"], "annual_value_eur": ["1 200,50", None, "beaucoup"],
                             "origin_country": ["Chine", None, "DE"]}), p)
    b = discover(p)
    a, bb = (read_company(c) for c in b.companies)
    ra = a.to_pylist()
    assert ra[0]["code"] == "848210" and ra[0]["annual_value_eur"] == 1200.5 and ra[0]["origin_country"] == "CN"
    assert ra[1]["status"] == "skipped"
    rb = bb.to_pylist()[0]
    assert rb["status"] == "warning" and "invalid code" in rb["messages"] and "'beaucoup' is not a number" in rb["messages"]


@pytest.mark.parametrize("name", ["acme", "Acme/Metz: 57", "50% = moitié?", "a#b[c]^d'e\"f*g\\h{i}", "Müller GmbH & Co"])
def test_partition_names_escape_like_spark(name: str) -> None:
    esc = escape(name)
    assert "/" not in esc and "=" not in esc and ":" not in esc
    assert unescape(esc) == name
