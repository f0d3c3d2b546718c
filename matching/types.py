"""The vocabulary shared by every stage: frozen dataclasses at the boundaries.

Numbers convention: every score/similarity/confidence is a float in [0, 1];
"no evidence" is ``None`` (or NaN inside feature frames), never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

LineStatus = Literal["ok", "warning", "skipped"]
ResultStatus = Literal["matched", "low_confidence", "no_candidate", "no_producer", "skipped", "error"]
ConfidenceBand = Literal["high", "medium", "low"]
LineKind = Literal["goods", "service"]
Tier = Literal["regional", "national"]


@dataclass(frozen=True)
class BomLine:
    """One input row as understood from a BOM file or an API call.

    ``row`` is the original 1-based row number in the file (or the position in a
    request), ``sheet`` the sheet name for workbooks. ``code`` is the canonical
    digits when the written code parsed, ``code_raw`` what the file said.
    """

    row: int
    description: str = ""
    code: str | None = None
    code_raw: str | None = None
    origin_country: str | None = None
    annual_value_eur: float | None = None
    quantity: float | None = None
    unit: str | None = None
    reference: str | None = None
    supplier: str | None = None
    sheet: str | None = None
    status: LineStatus = "ok"
    messages: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["messages"] = list(self.messages)
        return d


@dataclass(frozen=True)
class ProductGuess:
    """A candidate product code for a line (CN8 preferred, else HS6/HS4)."""

    code: str  # canonical digits, e.g. "84821010"
    system: str  # "CN8" | "HS6" | "HS4" | "HS2" | "TARIC10"
    label: str
    score: float  # [0, 1]
    source: str  # "given" | "text" | "given+text"


@dataclass(frozen=True)
class ActivityGuess:
    """A NAF sous-classe that produces (or distributes) a product, with how we know."""

    naf: str  # "28.15Z"
    label: str
    score: float  # confidence [0, 1]
    route: str  # "cn-cpa" | "hs6-cn8-expanded" | "hs2017-conversion" | "hs-isic-fallback" | "text" | ...
    via: tuple[str, ...] = ()  # human-readable chain, e.g. ("CN 84821010", "CPA 28.15.10", "NACE 28.15")
    wholesale: bool = False  # division 46: a distributor, not a producer

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["via"] = list(self.via)
        return d


@dataclass(frozen=True)
class Supplier:
    """One establishment of the catalog (a SIRENE establishment or equivalent)."""

    siret: str
    name: str
    naf: str
    commune_code: str | None = None
    commune: str | None = None
    departement: str | None = None
    region: str | None = None
    lat: float | None = None
    lon: float | None = None
    size_band: str | None = None  # INSEE tranche d'effectifs code
    products: str | None = None  # free-text product keywords, when a directory gives them
    address: str | None = None
    postcode: str | None = None
    source: str | None = None
    collectivity: str | None = None  # overseas collectivity (977, 978...) when in no région (region None)


@dataclass(frozen=True)
class Reason:
    """One signal's contribution to a supplier's score, in plain words."""

    signal: str
    contribution: float
    text: str  # French (default language of the product)
    text_en: str = ""
    detail: str = ""  # the code chain behind a plain reason (CN → CPA → NACE → NAF), French
    detail_en: str = ""


@dataclass(frozen=True)
class SupplierMatch:
    rank: int
    supplier: Supplier
    tier: Tier
    score: float
    distance_km: float | None = None
    activity: str | None = None  # the NAF through which it was matched
    reasons: tuple[Reason, ...] = ()
    features: dict[str, float | None] = field(default_factory=dict)
    # (French, English) when it shares its score with a neighbour: what ordered them
    tie_note: tuple[str, str] | None = None


@dataclass(frozen=True)
class Confidence:
    """How far a line's answer can be trusted: the estimated probability that its suppliers hold
    a right producing activity (calibrated on labelled lines, ``matching.confidence``) and its band."""

    probability: float  # [0, 1]
    band: ConfidenceBand

    def to_dict(self) -> dict[str, Any]:
        return {"probability": round(self.probability, 3), "band": self.band}


@dataclass(frozen=True)
class DepthStats:
    """The supplier list at the confidence's fixed depth: the share carrying a producing
    activity of the line, and the best supplier score in it."""

    in_activity_share: float
    best_score: float


@dataclass(frozen=True)
class LineResult:
    line: BomLine
    status: ResultStatus
    products: tuple[ProductGuess, ...] = ()
    activities: tuple[ActivityGuess, ...] = ()
    suppliers: tuple[SupplierMatch, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    kind: LineKind = "goods"  # "service": a bought service, classified into service activities
    # activities far below the best one: shown apart ("autres pistes"), not as the line's activities
    other_activities: tuple[ActivityGuess, ...] = ()
    # the product shown for the line: the one its first supplier's reasons cite (None: products[0])
    product: ProductGuess | None = None
    confidence: Confidence | None = None  # None only where nothing was read (skipped, error)
    # what the confidence reads of the supplier list at the engine's fixed depth (10), so that
    # --top never changes a line's confidence (None: read the suppliers returned)
    depth_stats: DepthStats | None = None
