"""Build an automatic cross-language evaluation set from the CN8 labels.

For a fixed random sample of CN8 codes (seed 2023), each label is cut down to its
head words the way a buyer would shorten it (first clause, exclusion clauses and
figures dropped, at most N words), in DE, EN and FR. The classifier must find the
code's HS6/HS4 back from that short text. Because the full labels are in the index,
only the shortened form is a fair test; DE queries are the most telling (the English
model cannot help them). Output has the columns of ``lines.csv`` (naf left empty).

    RELOCMATCH_DATA=../shared/data .venv/bin/python examples/devset/make_crosslang.py [--n 300]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
_PAREN = re.compile(r"\([^()]*(?:\([^()]*\)[^()]*)*\)")
_NUM = re.compile(r"[<>=≤≥]+\s*[\d,.]+\s*\S*|\b\d[\d,.]*\s*%?")


def shorten(label: str, max_words: int) -> str:
    """Head words of a nomenclature label: no parentheses, no figures, first clause only."""
    t = _PAREN.sub(" ", label)
    t = re.split(r"[,;:]", t)[0]
    t = _NUM.sub(" ", t)
    words = t.split()
    return " ".join(words[:max_words]).strip(" -")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--out", type=Path, default=HERE / "crosslang.csv")
    args = ap.parse_args(argv)

    from matching import refdata

    labels = {lang: refdata.load_cn8(lang).set_index("code")["description"].to_dict() for lang in ("fr", "en", "de")}
    codes = sorted(labels["fr"])
    rng = random.Random(args.seed)
    sample = rng.sample(codes, args.n)
    rows = []
    for i, code in enumerate(sample, 1):
        lang = ("de", "en", "fr")[i % 3]
        q = shorten(labels[lang].get(code, ""), max_words=5 if lang != "de" else 3)
        if len(q) < 3:
            continue
        rows.append({"id": f"X{i:03d}", "lang": lang, "description": q, "code": "", "origin_country": "",
                     "annual_value_eur": "", "hs6": code[:6], "naf": "", "notes": f"cn8={code}"})
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} queries to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
