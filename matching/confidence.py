"""A calibrated confidence per line: how likely its suppliers hold a right producing activity.

Why: a line read at a product score of 0.11 must not look like one read at 0.9. The engine's
scores are not probabilities (a ranker score of 0.56 means nothing on its own), so a small
logistic regression maps what is known at match time — how sure the product reading is, whether
the written code, the learned model and the lexical channel agree, how clear the producing
activity is, whether the suppliers carry that activity — to the probability that the top-10
suppliers contain a right NAF (NAF-hit@10). It is fitted, cross-validated, on the development
sets only (``examples/devset/fit_confidence.py``) and shipped as a small versioned JSON
(``matching/resources/confidence.json``): read at start-up, never refitted.

Bands (thresholds in the JSON, chosen on development data, see docs/confidence.md): ``high``,
``medium``, ``low``. A ``matched`` line in the low band becomes ``low_confidence``: its suppliers
are kept, flagged "à vérifier", with the reason. ``no_producer`` keeps precedence.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from matching.errors import DataError
from matching.types import Confidence, ConfidenceBand, LineResult

CONFIDENCE_VERSION = "confidence-2"
RESOURCE = Path(__file__).parent / "resources" / "confidence.json"

# What the model reads, in this order (the JSON's ``features`` must match).
FEATURES = (
    "product_score",  # best product's score
    "product_margin",  # best − second product score
    "code_agrees",  # a written code that the text confirms (source given+text)
    "code_unconfirmed",  # a written code the text does not confirm (wrong code, or code alone)
    "model_p",  # the learned model's probability of its best HS6
    "model_agrees",  # the model's best HS6 shares the heading of the best product
    "activity_score",  # best producing activity's score
    "activity_margin",  # best − second producing activity score
    "activities_credible",  # producing activities at ≥ half the best (ambiguity)
    "supplier_score",  # best supplier's ranking score
    "suppliers_in_activity",  # share of the suppliers carrying a producing activity of the line
    "service",  # a service line
    "words",  # log(1 + words of the description)
    "primary",  # a credible producing activity grows or extracts (NAF divisions 01-09)
    "product_primary",  # the official crosswalk routes the best product's code to divisions 01-09 only
    "activity_sites",  # log(1 + catalog establishments of the best producing activity per 10,000)
)

# Plain words for a feature that lowers the confidence (FR, EN), shown in the reason.
_WEAK = {
    "product_score": ("lecture du produit incertaine", "unsure product reading"),
    "product_margin": ("plusieurs produits possibles", "several products possible"),
    "code_agrees": ("pas de code douanier confirmé par le texte", "no customs code confirmed by the text"),
    "code_unconfirmed": ("code douanier non confirmé par le texte", "customs code not confirmed by the text"),
    "model_p": ("modèle appris peu sûr", "learned model unsure"),
    "model_agrees": ("le modèle appris et la recherche lexicale divergent", "learned model and lexical search disagree"),
    "activity_score": ("activité productrice incertaine", "unsure producing activity"),
    "activity_margin": ("plusieurs activités possibles", "several activities possible"),
    "activities_credible": ("plusieurs activités possibles", "several activities possible"),
    "supplier_score": ("fournisseurs peu proches de la ligne", "suppliers weakly related to the line"),
    "suppliers_in_activity": ("fournisseurs hors des activités productrices", "suppliers outside the producing activities"),
    "service": ("prestation de service", "service line"),
    "words": ("description courte", "short description"),
    "primary": ("matière première agricole ou minérale", "raw agricultural or mineral commodity"),
    "product_primary": ("produit brut de l'agriculture ou des mines", "raw product of farming or mining"),
    "activity_sites": ("activité productrice rare dans le catalogue", "producing activity rare in the catalog"),
}

# NAF divisions whose activities grow or extract a commodity rather than make it (the pipeline's
# primary-commodity rule reads the same set).
PRIMARY_DIVISIONS = frozenset({"01", "02", "03", "05", "06", "07", "08", "09"})


def _producing(lr: LineResult) -> list[Any]:
    return [a for a in lr.activities if not (a.wholesale or a.naf.startswith("46"))]


# Suppliers the confidence reads: the list at the engine's default depth, whatever --top asks
# (the model was fitted on top-10 lists).
CONFIDENCE_DEPTH = 10


def _at_depth(lr: LineResult, nafs: set[str]) -> tuple[float, float]:
    """(share of suppliers in a producing activity, best supplier score) at the fixed depth."""
    if lr.depth_stats is not None:
        return float(lr.depth_stats.in_activity_share), float(lr.depth_stats.best_score)
    sups = lr.suppliers[:CONFIDENCE_DEPTH]
    share = float(sum(1 for m in sups if m.supplier.naf in nafs) / len(sups)) if sups else 0.0
    return share, float(max((m.score for m in sups), default=0.0))


def line_features(lr: LineResult, evidence: Mapping[str, Any] | None = None,
                  context: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The model's inputs for one line, from its result, the classifier's evidence (model top)
    and ``context`` (``Matcher.confidence_context``): ``sites``, the catalog's establishments per
    NAF per 10,000 establishments (a share, so that a larger catalog does not shift the scale),
    and ``product_primary``, whether the crosswalk routes the best product to farming or mining only."""
    from matching.index import tokenize

    ps = [p.score for p in lr.products]
    src = lr.products[0].source if lr.products else ""
    coded = bool(lr.line.code or lr.line.code_raw)
    acts = _producing(lr)
    a_scores = sorted((a.score for a in acts), reverse=True)
    best_a = a_scores[0] if a_scores else 0.0
    best_act = max(acts, key=lambda a: a.score) if acts else None
    credible = [a for a in acts if best_a > 0 and a.score >= 0.5 * best_a]
    ctx = context or {}
    sites = ctx.get("sites") or {}
    nafs = {a.naf for a in acts}
    share, best_sup = _at_depth(lr, nafs)
    ev = evidence or {}
    return {
        "product_score": float(ps[0]) if ps else 0.0,
        "product_margin": float(ps[0] - (ps[1] if len(ps) > 1 else 0.0)) if ps else 0.0,
        "code_agrees": float(coded and src == "given+text"),
        "code_unconfirmed": float(coded and src != "given+text"),
        "model_p": float(ev.get("model_p") or 0.0),
        "model_agrees": float(bool(ev.get("model_agree_hs4"))),
        "activity_score": float(best_a),
        "activity_margin": float(best_a - (a_scores[1] if len(a_scores) > 1 else 0.0)),
        "activities_credible": float(sum(1 for s in a_scores if s >= 0.5 * best_a) if best_a > 0 else 0),
        "supplier_score": best_sup,
        "suppliers_in_activity": share,
        "service": float(lr.kind == "service"),
        "words": math.log1p(len(tokenize(lr.line.description))),
        "primary": float(any(a.naf[:2] in PRIMARY_DIVISIONS for a in credible)),
        "product_primary": float(bool(ctx.get("product_primary"))),
        "activity_sites": math.log1p(float(sites.get(best_act.naf, 0.0))) if best_act is not None else 0.0,
    }


@dataclass(frozen=True)
class Linear:
    """A standardised logistic regression: sigmoid(intercept + Σ coef · (x − mean) / scale)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def terms(self, features: tuple[str, ...], feats: Mapping[str, float]) -> dict[str, float]:
        return {f: c * (float(feats.get(f, 0.0)) - m) / (s or 1.0)
                for f, m, s, c in zip(features, self.mean, self.scale, self.coef, strict=True)}

    def probability(self, features: tuple[str, ...], feats: Mapping[str, float]) -> float:
        z = self.intercept + sum(self.terms(features, feats).values())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], n: int, where: str) -> Linear:
        if not all(len(d.get(k) or ()) == n for k in ("mean", "scale", "coef")) or "intercept" not in d:
            raise DataError(f"{where}: mean/scale/coef must each hold {n} numbers, with an intercept")
        return cls(tuple(map(float, d["mean"])), tuple(map(float, d["scale"])), tuple(map(float, d["coef"])),
                   float(d["intercept"]))


@dataclass(frozen=True)
class ConfidenceModel:
    """P(hit) = P(hit | a real product line) × P(the line reads as a real product), + bands.

    ``hit``: fitted on real development lines (target NAF-hit@10). ``readable``: real goods
    lines against made-up ones (gibberish); it stays ≈ 1 on real lines, so their calibration is
    the ``hit`` model's, and it sends a line nothing in the nomenclature recognises to the low band.
    """

    features: tuple[str, ...]
    hit: Linear
    readable: Linear | None
    high: float  # probability ≥ high → "high"
    low: float  # probability < low → "low" (a matched line becomes low_confidence)
    version: str = CONFIDENCE_VERSION
    fit: Mapping[str, Any] | None = None
    read_min: float = 0.0  # a goods line the gate reads as real below this → "low", whatever its probability

    def contributions(self, feats: Mapping[str, float]) -> dict[str, float]:
        """Each feature's term in the two logits, summed (what lowers or raises the confidence)."""
        out = self.hit.terms(self.features, feats)
        if self.readable is not None and not feats.get("service"):
            for f, v in self.readable.terms(self.features, feats).items():
                out[f] += v
        return out

    def probability(self, feats: Mapping[str, float]) -> float:
        """Services skip the gate: the service reader recognised them by a service cue."""
        p = self.hit.probability(self.features, feats)
        gated = self.readable is not None and not feats.get("service")
        return p * (self.readable.probability(self.features, feats) if gated else 1.0)

    def band(self, p: float) -> ConfidenceBand:
        return "high" if p >= self.high else "low" if p < self.low else "medium"

    def unreadable(self, feats: Mapping[str, float]) -> bool:
        """The gate does not read the line as a real product (``read_min``): gibberish, a keyboard
        run, a word the nomenclature does not know. Two questions, two bars: a line that reads as
        no product is low even when the few suppliers it drew look consistent."""
        if self.readable is None or feats.get("service") or self.read_min <= 0.0:
            return False
        return self.readable.probability(self.features, feats) < self.read_min

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "features": list(self.features), "hit": self.hit.to_dict(),
                "readable": self.readable.to_dict() if self.readable is not None else None,
                "bands": {"high": self.high, "low": self.low, "read_min": self.read_min}, "fit": dict(self.fit or {})}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str = "confidence model") -> ConfidenceModel:
        if d.get("version") != CONFIDENCE_VERSION:
            raise DataError(f"{where}: version {d.get('version')!r}, expected {CONFIDENCE_VERSION!r}; "
                            "refit with examples/devset/fit_confidence.py")
        feats = tuple(d.get("features") or ())
        if feats != FEATURES:
            raise DataError(f"{where}: features {list(feats)} differ from matching.confidence.FEATURES; "
                            "refit with examples/devset/fit_confidence.py")
        if not isinstance(d.get("hit"), Mapping):
            raise DataError(f"{where}: no 'hit' model; expected {{mean, scale, coef, intercept}}")
        hit = Linear.from_dict(d["hit"], len(feats), where)
        readable = Linear.from_dict(d["readable"], len(feats), where) if d.get("readable") else None
        bands = d.get("bands") or {}
        high, low = float(bands.get("high", 0.8)), float(bands.get("low", 0.5))
        read_min = float(bands.get("read_min", 0.0))
        if not 0.0 <= low <= high <= 1.0:
            raise DataError(f"{where}: bands low={low} high={high}; expected 0 ≤ low ≤ high ≤ 1")
        if not 0.0 <= read_min <= 1.0:
            raise DataError(f"{where}: bands read_min={read_min}; expected a number in [0, 1]")
        return cls(feats, hit, readable, high, low, str(d["version"]), dict(d.get("fit") or {}), read_min)

    @classmethod
    def neutral(cls) -> ConfidenceModel:
        """A model that puts every line at 0.5 in the medium band: what the fitting script collects
        features under, so that the statuses are the rules' alone (and no stale model need load)."""
        n = len(FEATURES)
        flat = Linear((0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0)
        return cls(FEATURES, flat, None, high=1.0, low=0.0, version=CONFIDENCE_VERSION, fit={"neutral": True})

    @classmethod
    def load(cls, path: str | Path | None = None) -> ConfidenceModel:
        p = Path(path) if path is not None else RESOURCE
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DataError(f"cannot read the confidence model: {exc.strerror}", path=p) from None
        except json.JSONDecodeError as exc:
            raise DataError(f"confidence model is not valid JSON ({exc.msg}, line {exc.lineno})", path=p) from None
        return cls.from_dict(data, where=str(p))


_DEFAULT: ConfidenceModel | None = None
_LOCK = threading.Lock()


def use_model(model: ConfidenceModel | None) -> None:
    """Make ``model`` the process's default (None: read the shipped file again on next use)."""
    global _DEFAULT
    with _LOCK:
        _DEFAULT = model


def default_model() -> ConfidenceModel:
    """The shipped model (read once per process)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            _DEFAULT = ConfidenceModel.load()
        return _DEFAULT


def _reason(model: ConfidenceModel, feats: Mapping[str, float], p: float) -> str:
    """FR ; EN reason of a low-confidence line, naming the two signals that lower it most."""
    contrib = sorted((c, f) for f, c in model.contributions(feats).items() if c < 0)
    seen: list[tuple[str, str]] = []
    for _, f in contrib:
        words = _WEAK[f]
        if words not in seen:
            seen.append(words)
        if len(seen) == 2:
            break
    fr = ", ".join(w[0] for w in seen) or "signaux faibles"
    en = ", ".join(w[1] for w in seen) or "weak signals"
    return (f"confiance faible ({p:.0%} estimés) : fournisseurs à vérifier — {fr} ; "
            f"low confidence ({p:.0%} estimated): check these suppliers — {en}")


def assess(lr: LineResult, evidence: Mapping[str, Any] | None = None, model: ConfidenceModel | None = None,
           context: Mapping[str, Any] | None = None) -> LineResult:
    """``lr`` with its confidence; a matched line in the low band becomes ``low_confidence``
    (suppliers kept, reason added). Skipped and failed lines carry none (nothing was read);
    a line without any candidate is low at 0. ``context``: as ``line_features``."""
    if lr.status in ("skipped", "error"):
        return lr
    if lr.status == "no_candidate":
        return replace(lr, confidence=Confidence(0.0, "low"))
    model = model or default_model()
    feats = line_features(lr, evidence if lr.kind == "goods" else None, context)
    p = model.probability(feats)
    unread = model.unreadable(feats)
    band = "low" if unread else model.band(p)
    out = replace(lr, confidence=Confidence(round(p, 4), band))
    if band == "low" and lr.status == "matched":
        why = (_UNREADABLE if unread else _reason(model, feats, p))
        out = replace(out, status="low_confidence", warnings=tuple(lr.warnings) + (why,))
    return out


_UNREADABLE = ("confiance faible : la ligne ne ressemble à aucun produit de la nomenclature, fournisseurs à vérifier ; "
               "low confidence: the line reads as no product of the nomenclature, check these suppliers")


__all__ = ["CONFIDENCE_DEPTH", "FEATURES", "PRIMARY_DIVISIONS", "ConfidenceModel", "Linear", "assess", "default_model", "line_features", "use_model"]
