"""The supplier page (issue 16, "a supplier page an advisor can act on"), through the real app over
the real IREP catalog: the register's name and address, NAF code and label, commune, département
and région, each citing its source from the catalog's manifest, a link to the public Annuaire des
Entreprises, and a 404 page for a SIRET the catalog does not hold."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings


@pytest.fixture(scope="module")
def lexical_matcher(irep_catalog_dir: Path) -> Any:
    from matching.config import MatchConfig
    from matching.pipeline import Matcher

    return Matcher.from_catalog(irep_catalog_dir, MatchConfig(semantic=False))


@pytest.fixture()
def client(tmp_path: Path, lexical_matcher: Any, irep_catalog_dir: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}", catalog=str(irep_catalog_dir),
                        auth="none", rate_limit_per_minute=0)
    with TestClient(create_app(settings, matcher=lexical_matcher), base_url="http://127.0.0.1") as c:
        yield c


def _rows(html: str) -> dict[str, tuple[str, str]]:
    """field -> (value, source reference) of the page's facts table."""
    out = {}
    for key, value, src in re.findall(
            r'<tr data-field="([a-z_]+)"><th scope="row">[^<]*</th><td>(.*?)</td>\s*<td class="src">(.*?)</td>', html, re.S):
        out[key] = (unescape(re.sub(r"<[^>]+>", "", value)).strip(), unescape(re.sub(r"<[^>]+>", "", src)).strip())
    return out


def _sources(html: str) -> dict[str, str]:
    return {f"[{n}]": unescape(t) for n, t in re.findall(r'<li id="src-(\d+)">([^<]*)</li>', html)}


def test_supplier_page_shows_the_register_fields_with_their_sources(client, lexical_matcher, irep_catalog_dir) -> None:  # type: ignore[no-untyped-def]
    table = lexical_matcher.table
    pick = table[(table["region"] == "44") & table["address"].notna()].iloc[0]
    siret = str(pick["siret"])
    r = client.get(f"/suppliers/{siret}")
    assert r.status_code == 200
    rows, sources = _rows(r.text), _sources(r.text)
    assert rows["siret"][0] == siret and rows["supplier_name"][0] == pick["name"]
    assert rows["address"][0] == pick["address"] and rows["postcode"][0] == pick["postcode"]
    assert rows["naf_code"][0] == pick["naf"] and rows["naf_label"][0]  # a label from the NAF table
    assert rows["commune"][0] == f"{pick['commune']} ({pick['commune_code']})"
    assert rows["departement"][0].startswith(str(pick["departement"]) + " ")  # code and name
    assert rows["region"][0] == "Grand Est"
    manifest = json.loads((irep_catalog_dir / "manifest.json").read_text())
    register = sources[rows["siret"][1]]
    assert "IREP" in register and manifest["sources"][0]["name"] in register
    for field in ("supplier_name", "address", "postcode", "naf_code"):
        assert rows[field][1] == rows["siret"][1], field  # as the register gives them
    assert manifest["reference_data"]["communes"]["edition"] in sources[rows["commune"][1]]
    assert manifest["reference_data"]["regions"]["edition"] in sources[rows["region"][1]]
    assert manifest["reference_data"]["naf"]["edition"] in sources[rows["naf_label"][1]]
    link = re.search(r'<a id="annuaire-link" href="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    assert link == f"https://annuaire-entreprises.data.gouv.fr/etablissement/{siret}"


def test_unknown_or_malformed_siret_gets_a_404_page(client, lexical_matcher) -> None:  # type: ignore[no-untyped-def]
    known = set(lexical_matcher.table["siret"].astype(str))
    unknown = next(f"{n:014d}" for n in range(10**13, 10**13 + 1000) if f"{n:014d}" not in known)
    r = client.get(f"/suppliers/{unknown}")
    assert r.status_code == 404 and "absent du catalogue" in unescape(r.text)
    assert 'data-field="' not in r.text  # no facts invented
    assert f"/etablissement/{unknown}" in r.text  # the public directory may still know it
    assert client.get("/suppliers/12345").status_code == 404
    assert client.get("/suppliers/1234567890123x").status_code == 404


def test_search_rows_link_to_the_supplier_page(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/search", params={"q": "roulements à billes", "region": "44"})
    assert r.status_code == 200
    links = re.findall(r'href="/suppliers/(\d{14})\?', r.text)
    assert links, "the search page links each supplier row to its page"
    assert client.get(f"/suppliers/{links[0]}").status_code == 200


def test_english_page_cites_sources_in_english(client, lexical_matcher) -> None:  # type: ignore[no-untyped-def]
    siret = str(lexical_matcher.table["siret"].iloc[0])
    r = client.get(f"/suppliers/{siret}?lang=en")
    assert r.status_code == 200
    text = " ".join(_sources(r.text).values())
    assert "pollutant release register" in text and "Administrative divisions (COG)" in text


def test_several_installations_under_one_siret_are_listed(client, lexical_matcher) -> None:  # type: ignore[no-untyped-def]
    table = lexical_matcher.table
    counts = table["siret"].astype(str).value_counts()
    siret = str(counts[counts > 1].index[0])
    names = table.loc[table["siret"].astype(str) == siret, "name"].tolist()
    r = client.get(f"/suppliers/{siret}")
    assert r.status_code == 200
    listed = [unescape(x) for x in re.findall(r'<ul class="same-siret">(.*?)</ul>', r.text, re.S)[0].split("<li>")[1:]]
    assert len(listed) == len(names) >= 2 and all(n in li for n, li in zip(names, listed, strict=True))
