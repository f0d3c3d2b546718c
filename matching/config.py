"""Matching configuration: one frozen, validated object passed to every stage.

Validated at construction so that a bad value fails at the edge (CLI option, API
request) with a message that names the field and what was expected, never deep
inside a stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from matching.errors import ConfigError

TIER_POLICIES = ("regional-first", "boost", "none")
LANGUAGES = ("fr", "en")

# Prior weights of the linear ranker (sum to 1 so that the unfitted score stays in [0, 1]).
# Activity fit dominates: a supplier that carries a producing activity of the product is the
# core evidence; text similarity catches suppliers whose own words name the product.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "activity": 0.60,
        "lexical": 0.10,
        "text": 0.12,
        "products": 0.06,
        "proximity": 0.06,
        "size": 0.06,
        "same_region": 0.0,
    }
)

KNOWN_REGIONS = {
    "01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
}


@dataclass(frozen=True)
class MatchConfig:
    """How the engine matches lines to suppliers.

    - ``top_n``: suppliers kept per line; ``candidate_depth``: candidates scored per line
      (after the cheap pre-rank); ``block_depth``: establishments kept per activity block
      before scoring (pre-ranked by region, buyer distance and size, for 1M catalogs);
      ``lexical_depth``: hits taken from the lexical index.
    - ``tier_policy``: ``regional-first`` puts a supplier of ``region`` first when its score is
      within ``regional_margin`` of the best national one; ``boost`` adds ``boost`` to
      regional scores; ``none`` is pure score order.
    - ``include_wholesale``: also offer distributors (NAF division 46) as a second choice.
    - ``buyer``: commune code or postcode of the buyer, for distances.
    - ``diversify``: share the top-n between the plausible activities of a line (in proportion
      to their squared scores) instead of filling it from the first activity alone; an activity
      takes part when its score is at least ``diversity_min_ratio`` × the best one.
    - ``semantic``: use the embedding channel of the classifier (None = when installed and built).
    - ``semantic_model``: which embedding model: ``minilm`` (English) or ``e5`` (multilingual);
      None = ``$RELOCMATCH_SEMANTIC_MODEL``, else minilm (docs/classify.md, "Semantic model").
    - ``services``: read service lines (a hire, a transport leg, a maintenance contract) as
      services, classified into service activities, instead of the goods they mention.
    - ``abstain``: a line whose credible producing activities have no establishment in the
      catalog comes out ``no_producer`` with the reason (wholesalers only, as such).
    - ``activities_first``: suppliers outside every activity found for the line (kept on their
      words alone) rank below every supplier of those activities; False ranks all by score.
    """

    top_n: int = 10
    candidate_depth: int = 400
    block_depth: int = 3000
    lexical_depth: int = 100
    max_activities: int = 6
    tier_policy: str = "regional-first"
    region: str = "44"
    regional_margin: float = 0.15
    boost: float = 0.1
    include_wholesale: bool = False
    buyer: str | None = None
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    semantic: bool | None = None
    semantic_model: str | None = None
    lang: str = "fr"
    diversify: bool = True
    diversity_min_ratio: float = 0.4
    services: bool = True
    abstain: bool = True
    activities_first: bool = True

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name, lo, hi in (
            ("top_n", 1, 1000),
            ("candidate_depth", 1, 100_000),
            ("block_depth", 1, 1_000_000),
            ("lexical_depth", 0, 100_000),
            ("max_activities", 1, 100),
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                problems.append(f"{name}={v!r}: expected an integer in [{lo}, {hi}]")
        if self.tier_policy not in TIER_POLICIES:
            problems.append(f"tier_policy={self.tier_policy!r}: expected one of {', '.join(TIER_POLICIES)}")
        region = str(self.region).strip() if self.region is not None else ""
        if region not in KNOWN_REGIONS:
            problems.append(f"region={self.region!r}: expected an INSEE région code such as 44 (Grand Est)")
        else:
            object.__setattr__(self, "region", region)
        for name in ("regional_margin", "boost", "diversity_min_ratio"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0.0 <= float(v) <= 1.0:
                problems.append(f"{name}={v!r}: expected a number in [0, 1]")
        if self.semantic_model is not None:
            from matching.products.semantic import MODELS

            if str(self.semantic_model).strip().lower() not in MODELS:
                problems.append(f"semantic_model={self.semantic_model!r}: expected one of {', '.join(MODELS)}")
            else:
                object.__setattr__(self, "semantic_model", str(self.semantic_model).strip().lower())
        if self.lang not in LANGUAGES:
            problems.append(f"lang={self.lang!r}: expected one of {', '.join(LANGUAGES)}")
        if self.buyer is not None and not str(self.buyer).strip():
            object.__setattr__(self, "buyer", None)
        weights = dict(DEFAULT_WEIGHTS)
        if not isinstance(self.weights, Mapping):
            problems.append("weights: expected a mapping feature -> weight")
        else:
            for k, v in self.weights.items():
                if k not in DEFAULT_WEIGHTS:
                    problems.append(f"weights[{k!r}]: unknown feature, expected one of {', '.join(DEFAULT_WEIGHTS)}")
                elif not isinstance(v, int | float) or isinstance(v, bool) or not 0.0 <= float(v) <= 1.0:
                    problems.append(f"weights[{k!r}]={v!r}: expected a number in [0, 1]")
                else:
                    weights[k] = float(v)
            if not problems and sum(weights.values()) <= 0:
                problems.append("weights: at least one weight must be positive")
        if problems:
            raise ConfigError("invalid match configuration: " + "; ".join(problems))
        object.__setattr__(self, "weights", MappingProxyType(weights))

    def with_(self, **changes: Any) -> MatchConfig:
        """A copy with some fields changed (validated again)."""
        if "weights" not in changes:
            changes["weights"] = dict(self.weights)
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "top_n": self.top_n,
            "candidate_depth": self.candidate_depth,
            "block_depth": self.block_depth,
            "lexical_depth": self.lexical_depth,
            "max_activities": self.max_activities,
            "tier_policy": self.tier_policy,
            "region": self.region,
            "regional_margin": self.regional_margin,
            "boost": self.boost,
            "include_wholesale": self.include_wholesale,
            "buyer": self.buyer,
            "weights": dict(self.weights),
            "semantic": self.semantic,
            "semantic_model": self.semantic_model,
            "lang": self.lang,
            "diversify": self.diversify,
            "diversity_min_ratio": self.diversity_min_ratio,
            "services": self.services,
            "abstain": self.abstain,
            "activities_first": self.activities_first,
        }
