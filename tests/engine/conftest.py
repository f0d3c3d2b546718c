"""Engine fakes: a tiny hand-made catalog and a keyword classifier (no model, no crosswalk)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pytest

from matching.types import ActivityGuess, ProductGuess

ROWS = [
    # siret, name, naf, commune, departement, region, lat, lon, size_band, products
    ("10000000000001", "ROULEMENTS DE L'EST", "28.15Z", "METZ", "57", "44", 49.119, 6.176, "22", ""),
    ("10000000000002", "SKF FRANCE", "28.15Z", "SAINT-CYR-SUR-LOIRE", "37", "24", 47.40, 0.66, "42", "roulements à billes"),
    ("10000000000003", "NTN BEARINGS", "28.15Z", "ANNECY", "74", "84", 45.90, 6.12, "41", ""),
    ("10000000000004", "MECANIQUE VOSGIENNE", "25.62B", "EPINAL", "88", "44", 48.17, 6.45, "12", ""),
    ("10000000000005", "USINAGE LYONNAIS", "25.62B", "LYON", "69", "84", 45.76, 4.83, "21", ""),
    ("10000000000006", "PLASTIQUES DU RHIN", "22.29A", "STRASBOURG", "67", "44", 48.57, 7.75, "21", "granulés, injection"),
    ("10000000000007", "TOLERIE NORMANDE", "25.11Z", "ROUEN", "76", "28", 49.44, 1.10, None, ""),
    ("10000000000008", "DISTRI ROULEMENTS", "46.69B", "NANCY", "54", "44", 48.69, 6.18, "11", ""),
    ("10000000000009", "BOULANGERIE DUPONT", "10.71C", "PARIS", "75", "11", 48.85, 2.35, "01", ""),
    ("10000000000010", "DECOLLETAGE SAVOIE", "25.62A", "CLUSES", "74", "84", 46.06, 6.58, "31", ""),
]


def make_table() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=["siret", "name", "naf", "commune", "departement", "region", "lat", "lon",
                                     "size_band", "products"])
    df["siren"] = df["siret"].str[:9]
    df["commune_code"] = None
    df["postcode"] = None
    df["source"] = "test"
    return df


@dataclass
class FakeResult:
    products: list
    warnings: list = field(default_factory=list)
    channels_used: tuple = ("lexical",)


KEYWORDS = {
    "roulement": (ProductGuess("84821010", "CN8", "Roulements à billes", 0.9, "text"),
                  [ActivityGuess("28.15Z", "Fabrication d'engrenages et d'organes mécaniques de transmission", 0.9,
                                 "cn-cpa", ("CN 84821010", "CPA 28.15.10")),
                   ActivityGuess("46.69B", "Commerce de gros de fournitures et équipements industriels divers", 0.5,
                                 "cn-cpa", (), True)]),
    "usinage": (ProductGuess("84669400", "CN8", "Parties de machines", 0.6, "text"),
                [ActivityGuess("25.62B", "Mécanique industrielle", 0.8, "text")]),
    "granul": (ProductGuess("39011010", "CN8", "Polyéthylène", 0.7, "text"),
               [ActivityGuess("22.29A", "Fabrication de pièces techniques à base de matières plastiques", 0.7, "text")]),
}


class FakeClassifier:
    """Keyword classifier: enough to drive every engine stage without the real model."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on

    def classify(self, text, code=None, *, top_k=10):
        if self.fail_on and self.fail_on in (text or ""):
            raise RuntimeError("boom")
        t = (text or "").lower()
        prods = [p for k, (p, _) in KEYWORDS.items() if k in t]
        return FakeResult(prods)

    def classify_many(self, texts, codes):
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError("batch boom")
        return [self.classify(t, c) for t, c in zip(texts, codes, strict=True)]

    def activities_for_line(self, products, text):
        acts = []
        for k, (p, a) in KEYWORDS.items():
            if any(p.code == q.code for q in products):
                acts.extend(a)
        return acts


@pytest.fixture()
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture()
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()
