"""schemathesis hooks for the service's fuzz run (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks).

Two value domains a schema cannot spell out get a generator here, so schema-valid requests are
valid for the server too (``positive_data_acceptance``):

- ``insee-commune-or-postcode`` (the ``buyer`` format): the shape is the schema's pattern, but
  whether a code exists is reference data (about 40,000 codes): sampled from real ones
  (``PLACES``; tests/api/test_fuzz.py checks each resolves).
- ``binary`` (the BOM upload's file part): any bytes are a file, but only a readable spreadsheet
  or text file is a BOM; uploads are generated as CSV or TSV files with a header and free-text
  lines. Unreadable files (422 with the problems) are tested by hand in tests/api and tests/bom.
- ``bom-column-mapping`` (the upload's ``mapping`` field): a JSON object naming columns of that
  file, or nothing; ``bom-sheet-name``: a sheet of that file (a CSV has none: empty).
- ``naf-rev2-subclass`` (the search's ``naf``): real sous-classes (``NAF``, checked like ``PLACES``).
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

PLACES = ("57463", "57000", "67482", "67000", "75056", "75001", "13055", "69123", "2A004", "2B033",
          "51454", "54395", "68224", "10387", "08105", "31555", "33063", "59350", "97411")

NAF = ("28.15Z", "2815Z", "25.62B", "22.29A", "10.71C", "46.69B", "01.11Z", "24.10Z", "20.16Z", "33.12Z")

_WORD = st.text(alphabet=st.characters(categories=("L", "N", "Zs", "P")), min_size=1, max_size=40).filter(
    lambda s: any(ch.isalpha() for ch in s) and not s.strip().lower().startswith(("desc", "code", "réf", "ref")))


@st.composite
def _bom_file(draw: st.DrawFn) -> bytes:
    sep = draw(st.sampled_from([",", ";", "\t"]))
    clean = [w.replace(sep, " ").replace('"', " ").replace("\n", " ").replace("\r", " ") for w in
             draw(st.lists(_WORD, min_size=1, max_size=8))]
    rows = ["Désignation" + sep + "Code"] + [f"{w}{sep}{draw(st.sampled_from(['', '8482.10', '7318', '39']))}"
                                           for w in clean]
    return ("\n".join(rows) + "\n").encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])))


schemathesis.openapi.format("insee-commune-or-postcode", st.sampled_from(PLACES))
MAPPINGS = ("", '{"description": "Désignation"}', '{"description": "Désignation", "code": "Code"}',
            '{"description": "A", "code": 2}')

schemathesis.openapi.format("binary", _bom_file())
schemathesis.openapi.format("bom-column-mapping", st.sampled_from(MAPPINGS))
schemathesis.openapi.format("bom-sheet-name", st.just(""))
schemathesis.openapi.format("naf-rev2-subclass", st.sampled_from(NAF))
