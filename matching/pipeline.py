"""The Matcher: the only place that knows the order of the stages.

line → products (classifier) → activities (crosswalk + text) → candidates (activity block ∪
lexical) → features → scores (LinearRanker) → tier policy → explained SupplierMatch.
Every input line comes out with a status; one line failing never stops the others.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


from matching.config import MatchConfig
from matching.confidence import CONFIDENCE_DEPTH, PRIMARY_DIVISIONS, assess
from matching.errors import ConfigError, RelocmatchError
from matching.explain import cited_product, explain
from matching.features import FEATURE_NAMES, feature_columns, tie_keys
from matching.line_checks import line_checks
from matching.index import CatalogIndex, load_catalog_index, naf_labels, tokenize
from matching.rank import (
    LinearRanker,
    activities_first,
    activity_levels,
    activity_quotas,
    break_ties,
    credible_split,
    diversify,
    feature_matrix,
    tie_notes,
    tier_order,
)
from matching.results import MatchResult, summarise
from matching.retrieve import Candidates, CatalogArrays, retrieve
from matching.types import ActivityGuess, BomLine, DepthStats, LineResult, Supplier, SupplierMatch

ENGINE_VERSION = "0.1"
# A line abstains (no_producer) only when its best producing activity scores at least this:
# below, the reading itself is unsure and the other readings' suppliers are ranked instead.
_ABSTAIN_MIN_SCORE = 0.4
# A primary-commodity reading abstains from this score: lower than the general bar because the
# rule already asks more (every producing activity of the best product's code is in section A/B,
# and the line's best producer is one of them); at 0.4, raw cocoa beans read at 0.38 got ten
# chocolate makers. Chosen on the development sets (docs/quality.md, session 10).
PRIMARY_ABSTAIN_MIN_SCORE = 0.2
# PRIMARY_DIVISIONS (matching.confidence): the NACE divisions of sections A (01–03) and B (05–09),
# the activities that grow or extract a primary commodity rather than make it.
# A primary activity with at most this many establishments in the catalog counts as absent for a
# primary commodity (0 = only when none; see docs/quality.md, session 5, for what 1 does).
PRIMARY_MAX_ESTABLISHMENTS = 1
# Mining's catch-all classes (08.99Z "autres activités extractives n.c.a." produces 24 HS subheadings,
# 08.91Z 11) hold quarries and mines of other minerals: having sites under the class does not mean
# having one for this mineral. A mining class that the crosswalk routes at least this many subheadings
# to, with at most this many catalog sites per subheading, counts as absent when no site's name or
# products names the line's product (docs/quality.md, session 20).
CATCHALL_MIN_SUBHEADINGS = 10
CATCHALL_MAX_SITES_PER_SUBHEADING = 2
MINING_DIVISIONS = frozenset({"05", "06", "07", "08", "09"})
Progress = Callable[[int, int], None]

_SUPPLIER_FIELDS = (
    "siret", "name", "naf", "commune_code", "commune", "departement", "region", "lat", "lon", "size_band",
    "products", "address", "postcode", "source",
)


def _clean(v: Any) -> Any:
    if v is None:
        return None
    try:
        if v != v:  # NaN / pd.NA-safe
            return None
    except (TypeError, ValueError):
        return None
    return v


def _line_key(line: BomLine) -> tuple[str, str | None]:
    return ((line.description or "").strip(), line.code or line.code_raw)


def _contiguous(table: Any) -> Any:
    """The table with each Arrow-backed column in one chunk: taking 10 rows of a 1M-row
    chunked column costs ~3 ms per column, of a contiguous one a few µs."""
    import pandas as pd

    cols = {}
    for c in table.columns:
        arr = table[c].array
        pa_arr = getattr(arr, "_pa_array", None)
        if pa_arr is not None and getattr(pa_arr, "num_chunks", 1) > 1:
            cols[c] = pd.Series(type(arr)(pa_arr.combine_chunks()), index=table.index, name=c)
        else:
            cols[c] = table[c]
    return pd.DataFrame(cols, index=table.index)


def _size_labels(data_dir: str | Path | None) -> dict[str, str]:
    import csv

    from matching.refdata import data_dir as _dd

    try:
        path = _dd(data_dir) / "sirene" / "tranches_effectifs_labels.csv"
        with path.open(encoding="utf-8") as fh:
            return {r["code"]: r["libelle"] for r in csv.DictReader(fh)}
    except (RelocmatchError, OSError, KeyError):
        return {}


def shown_product(products: Sequence[Any], lead: ActivityGuess | None) -> Any:
    """The product shown for a line: the one its first supplier's activity was reached from (what
    that supplier's reasons cite), else the classifier's first. ``products`` keeps the classifier's
    order (its evidence, scored); pages, the console table and exports show this one."""
    p = cited_product(lead, products)
    if p is not None:
        return p
    return products[0] if products else None


class Matcher:
    """Matches BOM lines against one loaded catalog with one classifier and one config."""

    def __init__(
        self,
        table: Any,
        *,
        classifier: Any,
        config: MatchConfig | None = None,
        index: CatalogIndex | None = None,
        manifest: dict[str, Any] | None = None,
        geo: Any = None,
        ranker: LinearRanker | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        self.table = _contiguous(table.reset_index(drop=True))
        self.config = config or MatchConfig()
        self.classifier = classifier
        self.manifest = dict(manifest or {})
        if index is None:
            import tempfile

            from matching.index import build_catalog_indexes

            tmp = tempfile.mkdtemp(prefix="relocmatch-index-")
            build_catalog_indexes(self.table, tmp)
            index = load_catalog_index(tmp, self.table)
        self.index = index
        self.arrays = CatalogArrays.from_table(self.table)
        self.geo = geo
        self.ranker = ranker or LinearRanker(weights=dict(self.config.weights))
        self._size_labels = _size_labels(data_dir)
        self._buyer_cache: dict[str, tuple[float, float] | None] = {}
        self._columns = [c for c in _SUPPLIER_FIELDS if c in self.table.columns]
        self.buyer = self._resolve_buyer(self.config.buyer)
        self._data_dir = data_dir
        self._services: Any = None
        nafs, counts = np.unique(self.arrays.naf, return_counts=True)
        self._naf_count = dict(zip(nafs.tolist(), counts.tolist()))  # establishments per NAF: who is absent
        total = max(1, int(counts.sum()))
        # the same per 10,000 establishments: what the confidence reads (a share, not a count)
        self.naf_sites = {k: 1e4 * v / total for k, v in self._naf_count.items()}
        self._site_words: dict[str, frozenset[str]] = {}  # NAF → words of its sites' names (site_words)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_catalog(
        cls,
        catalog_dir: str | Path,
        config: MatchConfig | None = None,
        *,
        data_dir: str | Path | None = None,
        classifier: Any = None,
        ranker_path: str | Path | None = None,
    ) -> Matcher:
        """Load a catalog built by ``relocmatch catalog build`` (index built lazily if absent).

        ``ranker_path``: a ranker JSON written by ``relocmatch ranker fit`` (fitted weights);
        default the prior weights of ``config``. The library never reads the environment for
        it: the CLI and the API pass ``RELOCMATCH_RANKER`` / ``--ranker`` down.
        """
        from matching.catalog import Catalog

        config = config or MatchConfig()
        ranker = LinearRanker.load(ranker_path) if ranker_path else None
        catalog = Catalog.load(catalog_dir)
        index = load_catalog_index(catalog_dir, catalog.table)
        if classifier is None:
            from matching.products.understand import pipeline_classifier

            classifier = pipeline_classifier(data_dir, semantic=config.semantic, semantic_model=config.semantic_model)
        try:
            from matching.geo import get_geo

            geo = get_geo(data_dir)
        except RelocmatchError:
            geo = None
        return cls(catalog.table, classifier=classifier, config=config, index=index,
                   manifest=dict(catalog.manifest), geo=geo, data_dir=data_dir, ranker=ranker)

    def with_config(self, config: MatchConfig) -> Matcher:
        """This matcher under another config, sharing catalog, index and classifier (nothing copied).

        Why: a service applies each request's région, buyer and top-n without touching the
        matcher other requests use; the buyer is resolved here, so a bad one fails early.
        """
        import copy

        m = copy.copy(self)
        m.config = config
        m.buyer = self._resolve_buyer(config.buyer)
        if config.weights != self.config.weights:
            m.ranker = LinearRanker(weights=dict(config.weights))
        return m

    # -- helpers -------------------------------------------------------------------------------
    def _resolve_buyer(self, buyer: str | None) -> tuple[float, float] | None:
        if not buyer:
            return None
        if buyer in self._buyer_cache:
            return self._buyer_cache[buyer]
        if self.geo is None:
            raise ConfigError(f"buyer {buyer!r}: no geography data loaded to locate it")
        info = self.geo.resolve(str(buyer).strip())
        if info is None:
            raise ConfigError(f"buyer {buyer!r}: not a known commune code (INSEE) or postcode")
        if info.lat is None or info.lon is None:
            ll = None
        else:
            ll = (float(info.lat), float(info.lon))
        self._buyer_cache[buyer] = ll
        return ll

    def suppliers(self, rows: Sequence[int]) -> list[Supplier]:
        """Supplier records of catalog rows (one take per column, straight on the column arrays)."""
        rows = list(rows)
        cols = {c: self.arrays.columns.values(c, rows) for c in self._columns}
        out = []
        for i in range(len(rows)):
            vals = {c: _clean(cols[c][i]) for c in self._columns}
            for c in self._columns:
                v = vals.get(c)
                if v is None:
                    continue
                vals[c] = float(v) if c in ("lat", "lon") else str(v)
            for c in ("siret", "name", "naf"):
                vals[c] = vals.get(c) or ""
            out.append(Supplier(**vals))
        return out

    def supplier(self, row: int) -> Supplier:
        return self.suppliers([row])[0]

    def _namers(self) -> dict[str, Any]:
        g = self.geo
        return {
            "region_name": g.region_name if g is not None else None,
            "departement_name": g.departement_name if g is not None else None,
            "size_label": self._size_labels.get,
        }

    def _classify_many(self, lines: Sequence[BomLine]) -> list[Any]:
        texts = [ln.description or "" for ln in lines]
        codes = [ln.code or ln.code_raw for ln in lines]
        if hasattr(self.classifier, "classify_many"):
            try:
                return list(self.classifier.classify_many(texts, codes))
            except Exception:  # noqa: BLE001 - fall back to one line at a time, errors kept per line
                pass
        out: list[Any] = []
        for t, c in zip(texts, codes, strict=True):
            try:
                out.append(self.classifier.classify(t, c))
            except Exception as exc:  # noqa: BLE001
                out.append(exc)
        return out

    def _read_service(self, line: BomLine, goods: Sequence[Any] = ()) -> Any:
        """The line's service reading (None for goods); the service classifier loads on first use.
        ``goods``: the goods reading of the same line, for the service classes defined by what they
        serve (repair of machinery, of electrical equipment, ...)."""
        if not self.config.services:
            return None
        if self._services is None:
            from matching.products.services import get_service_classifier

            self._services = get_service_classifier(self._data_dir)
        return self._services.read(line.description or "", goods=tuple(goods), semantic=self.config.semantic is not False,
                                   has_code=bool(line.code or line.code_raw))

    def primary_commodity_absent(self, products: Sequence[Any], activities: Sequence[ActivityGuess],
                                 text: str = "") -> list[ActivityGuess] | None:
        """The primary activities (NACE sections A/B) that produce the line's best product, when the
        product is a primary commodity and the catalog holds at most ``PRIMARY_MAX_ESTABLISHMENTS``
        establishments of them (one flax farm is no supply base for raw cotton), else None.

        Why apart from ``absent_producers``: raw cocoa beans or natural latex also read, from
        neighbouring codes and from the text, as chocolate or synthetic rubber makers, which are
        credible by score but do not produce the raw commodity. The nomenclature says what the
        product is: when every producing activity the crosswalk gives for the best product's code
        is in sections A/B, only those activities can produce it. The reading must be confident
        (the best producer of the line is one of them, scoring ``PRIMARY_ABSTAIN_MIN_SCORE`` or more).
        With the line's ``text``, a catch-all mining class whose few sites do not name the product
        counts as absent too (``unnamed_catchall``; the text is tokenized only when a line gets there).
        """
        if not products or not activities:
            return None
        code = getattr(products[0], "code", None)
        if not code:
            return None
        own = Matcher._crosswalk_producers(self, code)
        if not own or any(a.naf[:2] not in PRIMARY_DIVISIONS for a in own):
            return None
        producers = [a for a in activities if not (a.wholesale or a.naf.startswith("46"))]
        if not producers:
            return None
        best = max(producers, key=lambda a: a.score)
        own_nafs = {a.naf for a in own}
        if best.naf not in own_nafs or best.score < PRIMARY_ABSTAIN_MIN_SCORE:
            return None
        primary = [a for a in producers if a.naf in own_nafs and a.score >= 0.5 * best.score]
        if all(self._naf_count.get(a.naf, 0) <= PRIMARY_MAX_ESTABLISHMENTS for a in primary):
            return primary
        # called through the class: the rule tests give a namespace holding only counts and site words
        if text and best.score >= _ABSTAIN_MIN_SCORE and Matcher.unnamed_catchall(self, primary, tokenize(text)):
            return primary
        return None

    def unnamed_catchall(self, primary: Sequence[ActivityGuess], words: Sequence[str]) -> bool:
        """True when every activity of ``primary`` is a catch-all mining class with few catalog sites
        (``CATCHALL_MIN_SUBHEADINGS``, ``CATCHALL_MAX_SITES_PER_SUBHEADING``) and none of those sites'
        names or product texts shares a word with the line: 24 quarries under 08.99Z, none of
        which names graphite, are no supply base for natural graphite; "TALC de LUZENAC" is one
        for talc."""
        from matching.codes import get_crosswalk

        if not primary or any(a.naf[:2] not in MINING_DIVISIONS for a in primary):
            return False
        try:
            breadth = get_crosswalk(self._data_dir).subheadings_per_naf()
        except RelocmatchError:
            return False
        wanted = {w for w in words if len(w) >= 4}
        for a in primary:
            n, width = self._naf_count.get(a.naf, 0), breadth.get(a.naf, 0)
            if width < CATCHALL_MIN_SUBHEADINGS or n > CATCHALL_MAX_SITES_PER_SUBHEADING * width:
                return False
            if wanted & self.site_words(a.naf):
                return False
        return True

    def site_words(self, naf: str) -> frozenset[str]:
        """The words of the names and product texts of the catalog's establishments under ``naf``."""
        cache = self._site_words
        if naf not in cache:
            rows = np.flatnonzero(self.arrays.naf == naf).tolist()
            texts = [self.arrays.columns.strings(col, rows) for col in ("name", "products") if col in self.table.columns]
            cache[naf] = frozenset(w for col in texts for t in col for w in tokenize(t))
        return cache[naf]

    def absent_producers(self, activities: Sequence[ActivityGuess]) -> list[ActivityGuess] | None:
        """The credible producing activities when NONE of them has an establishment in the
        catalog (the line has no French producer here), else None.

        Credible: a producer (not a division-46 wholesaler) whose score is at least half the
        best producer's, the same cut the labels use. Only a confident reading abstains (best
        producer at ``_ABSTAIN_MIN_SCORE`` or more): an unsure one ranks its other readings.
        """
        producers = [a for a in activities if not (a.wholesale or a.naf.startswith("46"))]
        if not producers:
            return None
        best = max(a.score for a in producers)
        if best < _ABSTAIN_MIN_SCORE:  # an unsure reading: rank what the other readings give instead
            return None
        credible = [a for a in producers if a.score >= 0.5 * best]
        if any(self._naf_count.get(a.naf, 0) > 0 for a in credible):
            return None
        return credible

    def _prefetch_text_activities(self, lines: Sequence[BomLine]) -> None:
        """The text activities of a chunk's new lines in one sparse product (each line then finds
        its own in the classifier's cache); a failure here is left to each line to report."""
        prefetch = getattr(self.classifier, "prefetch_text_activities", None)
        if prefetch is None:
            return
        try:
            prefetch([ln.description or "" for ln in lines])
        except Exception:  # noqa: BLE001 - the per-line path raises it again, as that line's error
            pass

    # -- the stages, in order ------------------------------------------------------------------
    def retrieve_for(
        self,
        line: BomLine,
        products: Sequence[Any],
        activities: Sequence[ActivityGuess],
        *,
        config: MatchConfig | None = None,
        buyer: tuple[float, float] | None = None,
    ) -> tuple[list[str], Candidates]:
        """The retrieval stage alone (query words, candidates): used by ranking and by the evaluation."""
        config = config or self.config
        tokens = tokenize(line.description)
        if len(tokens) < 2 and products:
            tokens += tokenize(products[0].label)
        return tokens, retrieve(tokens, activities, self.index, self.arrays, config, buyer=buyer)

    def _rank_line(
        self,
        line: BomLine,
        products: Sequence[Any],
        activities: Sequence[ActivityGuess],
        warnings: Sequence[str],
        config: MatchConfig,
        buyer: tuple[float, float] | None,
    ) -> LineResult:
        absent = None
        if config.abstain:
            absent = self.absent_producers(activities) or self.primary_commodity_absent(
                products, activities, line.description or "")
        if absent is not None:
            return self._no_producer(line, products, activities, absent, warnings, config, buyer)
        tokens, cands = self.retrieve_for(line, products, activities, config=config, buyer=buyer)
        if len(cands) == 0:
            why = ("aucun fournisseur du catalogue ne porte ces activités ni ces mots"
                   if activities or tokens else "ni code ni texte exploitable")
            return LineResult(line=line, status="no_candidate", products=tuple(products),
                              activities=tuple(activities), warnings=tuple(warnings) + (why,))
        X = feature_columns(tokens, cands, self.arrays, region=config.region, buyer=buyer)  # no frame: per-line cost
        scores, contrib = self.ranker.score_and_contributions(X)
        ccols = list(self.ranker.feature_names)
        kms = X["distance_km"]
        name_words, product_words = X["name_words"], X["product_words"]
        regional = self.arrays.region[cands.rows] == config.region
        order = tier_order(scores, regional, config)
        credible_nafs = {a.naf for a in credible_split(activities)[0]}
        credible = np.array([a.naf in credible_nafs for a in activities], dtype=bool)
        # The description's reading behind a written code it does not support ranks after the
        # code's producers (still in the list, still credible: see classify.CODE_HEDGE).
        second = self._second_reading(products, activities)
        levels = activity_levels(cands.activity_idx, credible & ~second)
        if config.activities_first and len(activities):
            order = activities_first(order, cands.activity_idx, credible)
        groups = regional.astype(int) * 3 + levels  # ties never cross a tier or an activity level
        keys = tie_keys(X, cands, self.arrays, products, activities)
        order = break_ties(order, scores, groups, keys)
        ranked = order
        order = self._cut(ranked, cands.activity_idx, activities, config, config.top_n)
        if second.any():  # the slots stay shared; the second reading's producers move below the code's
            order = activities_first(order, cands.activity_idx, credible & ~second)
        # The confidence reads the list the engine returns at its fixed depth, whatever --top asks.
        at_depth = order if config.top_n == CONFIDENCE_DEPTH else self._cut(
            ranked, cands.activity_idx, activities, config, CONFIDENCE_DEPTH)
        notes = tie_notes(order, scores, groups, keys)
        namers = self._namers()
        feats = feature_matrix(X, FEATURE_NAMES)
        matches = []
        sups = self.suppliers([int(cands.rows[i]) for i in order])
        for rank, i in enumerate(order.tolist(), start=1):
            sup = sups[rank - 1]
            fvals = {k: float(feats[i, j]) for j, k in enumerate(FEATURE_NAMES)}
            cvals = {k: float(contrib[i, j]) for j, k in enumerate(ccols)}
            km = kms[i]
            ai = int(cands.activity_idx[i])
            reasons = explain(
                sup, fvals, cvals, activities, activity_idx=ai,
                name_words=name_words[i], product_words=product_words[i],
                distance_km=None if math.isnan(km) else float(km), buyer_given=buyer is not None,
                products=products, other_lead=0 <= ai < len(activities) and not credible[ai], **namers,
            )
            matches.append(SupplierMatch(
                rank=rank, supplier=sup, tier="regional" if regional[i] else "national",
                score=float(scores[i]), distance_km=None if math.isnan(km) else float(km),
                activity=activities[ai].naf if 0 <= ai < len(activities) else None,
                reasons=reasons, features={k: (None if math.isnan(v) else v) for k, v in fvals.items()},
                tie_note=notes[rank - 1],
            ))
        lead = next((activities[int(cands.activity_idx[i])] for i in order.tolist() if cands.activity_idx[i] >= 0), None)
        shown, others = credible_split(activities)
        producing = {a.naf for a in shown if not (a.wholesale or a.naf.startswith("46"))}
        depth_nafs = self.arrays.columns.values("naf", [int(cands.rows[i]) for i in at_depth.tolist()])
        share = sum(1 for n in depth_nafs if _clean(n) in producing) / len(depth_nafs) if len(depth_nafs) else 0.0
        depth = DepthStats(share, float(max((scores[i] for i in at_depth.tolist()), default=0.0)))
        return LineResult(line=line, status="matched", products=tuple(products),
                          product=shown_product(products, lead or (shown[0] if shown else None)),
                          activities=shown, other_activities=others, suppliers=tuple(matches), warnings=tuple(warnings),
                          depth_stats=depth)

    def _second_reading(self, products: Sequence[Any], activities: Sequence[ActivityGuess]) -> np.ndarray:
        """Per activity: True when it comes only from the description's reading of a line whose
        written code the description does not support (source ``given`` ahead of the text)."""
        flags = np.zeros(len(activities), dtype=bool)
        if not products or getattr(products[0], "source", None) != "given" or not getattr(products[0], "code", None):
            return flags
        from matching.codes import get_crosswalk

        try:
            own = {a.naf for a in get_crosswalk(self._data_dir).activities_for(products[0].code)}
        except Exception:  # noqa: BLE001 - a code the crosswalk cannot route: nothing to keep ahead
            return flags
        if own:
            flags[:] = [a.naf not in own and a.route != "text" for a in activities]
        return flags

    @staticmethod
    def _cut(order: np.ndarray, activity_idx: np.ndarray, activities: Sequence[ActivityGuess],
             config: MatchConfig, depth: int) -> np.ndarray:
        """The first ``depth`` of ``order``, shared between the plausible activities when asked."""
        if not config.diversify:
            return order[:depth]
        producers = [a.score if not (a.wholesale or a.naf.startswith("46")) else 0.0 for a in activities]
        quotas = activity_quotas(np.array(producers), depth, min_ratio=config.diversity_min_ratio)
        return diversify(order, activity_idx, quotas, depth)

    def _no_producer(
        self,
        line: BomLine,
        products: Sequence[Any],
        activities: Sequence[ActivityGuess],
        absent: Sequence[ActivityGuess],
        warnings: Sequence[str],
        config: MatchConfig,
        buyer: tuple[float, float] | None,
    ) -> LineResult:
        """No establishment of the catalog carries the activities that make this product: say so,
        and offer the activity's wholesalers (division 46) only as what they are."""
        what = ", ".join(f"{a.naf} {a.label}" for a in absent[:3])
        if any(a.route == "service" for a in absent):
            why = (f"aucun prestataire de ce service dans le catalogue ({what}) ; "
                   "the catalog holds no provider of this service")
        elif all(a.naf[:2] in PRIMARY_DIVISIONS for a in absent):
            n = sum(self._naf_count.get(a.naf, 0) for a in absent)
            if any(self._naf_count.get(a.naf, 0) > PRIMARY_MAX_ESTABLISHMENTS for a in absent):
                why = (f"aucun producteur français dans le catalogue : produit primaire (extraction, NACE section B) ; "
                       f"les {n} établissements du catalogue sous l'activité productrice ({what}), classe "
                       "fourre-tout, exploitent d'autres minéraux : aucun ne nomme ce produit ; "
                       "a primary commodity with no French producer in the catalog")
            else:
                held = "aucun établissement" if n == 0 else f"{n} établissement(s) seulement"
                why = (f"aucun producteur français dans le catalogue : produit primaire (agriculture ou extraction, "
                       f"NACE section A/B), {held} du catalogue pour l'activité productrice ({what}) ; "
                       "a primary commodity with no French producer in the catalog")
        else:
            why = (f"aucun producteur français dans le catalogue : aucun établissement n'exerce l'activité "
                   f"productrice ({what}) ; no French producer of this product in the catalog")
        wholesale = [a for a in activities if a.wholesale or a.naf.startswith("46")]
        wholesale = [a for a in wholesale if self._naf_count.get(a.naf, 0) > 0]
        if wholesale:
            lr = self._rank_line(line, products, wholesale, tuple(warnings) + (why, "grossistes seulement (distribution, pas production)"),
                                 replace(config, abstain=False), buyer)
            suppliers = tuple(m for m in lr.suppliers if m.activity in {a.naf for a in wholesale})
            shown, others = credible_split(activities)
            return replace(lr, status="no_producer", activities=shown, other_activities=others, suppliers=suppliers)
        shown, others = credible_split(activities)
        return LineResult(line=line, status="no_producer", products=tuple(products),
                          product=shown_product(products, absent[0] if absent else None),
                          activities=shown, other_activities=others, warnings=tuple(warnings) + (why,))

    def _one(
        self,
        line: BomLine,
        cls_result: Any,
        config: MatchConfig,
        buyer: tuple[float, float] | None,
        activity_cache: dict[Any, list[ActivityGuess]] | None = None,
    ) -> LineResult:
        if line.status == "skipped":
            return LineResult(line=line, status="skipped", warnings=tuple(line.messages))
        skip_reason, checks = line_checks(line)
        if skip_reason is not None:  # "300", "+SUM(1,2)": not a product, no code to fall back on
            return LineResult(line=line, status="skipped", warnings=tuple(line.messages) + checks + (skip_reason,))
        try:
            if isinstance(cls_result, BaseException):
                raise cls_result
            if not (line.description or "").strip() and not (line.code or line.code_raw):
                return LineResult(line=line, status="no_candidate",
                                  warnings=tuple(line.messages) + ("ligne sans description ni code",))
            service = self._read_service(line, getattr(cls_result, "products", ()))
            if service is not None and service.products:
                warnings = list(line.messages) + [f"prestation de service (« {service.evidence} ») : "
                                                   "classée dans les activités de service, pas dans les biens cités"]
                if line.code:
                    warnings.append(f"code douanier {line.code_raw or line.code} non utilisé : une prestation n'a pas de code SH")
                lr = self._rank_line(line, list(service.products), list(service.activities), warnings, config, buyer)
                return replace(lr, kind="service")
            products = list(cls_result.products)
            warnings = list(line.messages) + list(checks) + list(cls_result.warnings)
            key = _line_key(line)
            activities = activity_cache.get(key) if activity_cache is not None else None
            if activities is None:
                activities = list(self.classifier.activities_for_line(products, line.description or ""))
                if activity_cache is not None:
                    activity_cache[key] = activities
            return self._rank_line(line, products, activities, warnings, config, buyer)
        except Exception as exc:  # noqa: BLE001 - one bad line must not stop a BOM
            return LineResult(line=line, status="error", errors=(f"{type(exc).__name__}: {exc}",),
                              warnings=tuple(line.messages))

    def _judged(self, lr: LineResult, cls_result: Any) -> LineResult:
        """The line with its calibrated confidence (``matching.confidence``: low → low_confidence)."""
        evidence = None if cls_result is None or isinstance(cls_result, BaseException) else getattr(
            cls_result, "evidence", None)
        return assess(lr, evidence, context=self.confidence_context(lr))

    def confidence_context(self, lr: LineResult) -> dict[str, Any]:
        """What the confidence reads beyond the line's result: the catalog's share of each NAF
        and whether the official crosswalk routes the best product to farming or mining only
        (the nomenclature saying "a raw commodity", as ``primary_commodity_absent`` reads it)."""
        return {"sites": self.naf_sites, "product_primary": self._product_primary(lr.products)}

    def _product_primary(self, products: Sequence[Any]) -> bool:
        code = getattr(products[0], "code", None) if products else None
        if not code or getattr(products[0], "system", "") == "CPA":
            return False
        own = self._crosswalk_producers(code)
        return bool(own) and all(a.naf[:2] in PRIMARY_DIVISIONS for a in own)

    def _crosswalk_producers(self, code: str) -> list[Any]:
        """The activities the official crosswalk gives for ``code`` ([] when it cannot route it)."""
        from matching.codes import get_crosswalk

        try:
            return list(get_crosswalk(self._data_dir).activities_for(code))
        except Exception:  # noqa: BLE001 - a code the crosswalk cannot route: no primary reading
            return []

    def _engine_info(self, channels: set[str], seconds: float) -> dict[str, Any]:
        return {
            "version": ENGINE_VERSION,
            "channels": sorted(channels),
            "semantic": "semantic" in channels,
            "semantic_model": getattr(self.classifier, "semantic_model", None) if "semantic" in channels else None,
            "config": self.config.to_dict(),
            "ranker": self.ranker.to_dict(),
            "index": self.index.manifest,
            "seconds": round(seconds, 3),
        }

    # -- public API ------------------------------------------------------------------------------
    def match(self, lines: Sequence[BomLine], *, progress: Progress | None = None, chunk: int = 128) -> MatchResult:
        """Match every line; each comes out with a status (matched/low_confidence/no_producer/
        no_candidate/skipped/error) and a calibrated confidence.

        Lines are classified in batches (the semantic channel embeds a batch at once), each
        distinct (description, code) once: purchasing files repeat lines.
        """
        return self.match_many([lines], progress=progress, chunk=chunk)[0]

    def match_many(
        self, groups: Sequence[Sequence[BomLine]], *, progress: Progress | None = None, chunk: int = 128
    ) -> list[MatchResult]:
        """Match several independent line lists in one pass: one result per list, as ``match`` gives it.

        Why: a service coalesces concurrent requests; the lines of all of them are classified in
        one batch (one BERT forward, one sparse product) instead of one call each. Summaries and
        vulnerability priorities stay per list: a request never sees another one's lines.
        """
        t0 = time.perf_counter()
        flat = [ln for g in groups for ln in g]
        out, channels_of = self._match_flat(flat, progress, chunk)
        seconds = time.perf_counter() - t0
        from matching.vulnerability import score_lines  # which lines matter most (origin, value, concentration)

        results, pos = [], 0
        for g in groups:
            part = out[pos : pos + len(g)]
            pos += len(g)
            channels: set[str] = set()
            for ln in g:
                channels.update(channels_of.get(_line_key(ln), ()))
            results.append(MatchResult(catalog=self.manifest, lines=part, summary=summarise(part),
                                       engine=self._engine_info(channels, seconds),
                                       priorities=score_lines([lr.line for lr in part])))
        return results

    def _match_flat(
        self, lines: Sequence[BomLine], progress: Progress | None, chunk: int
    ) -> tuple[list[LineResult], dict[Any, tuple[str, ...]]]:
        """Every line's result, in order, and the channels each (description, code) used."""
        out: list[LineResult] = []
        channels_of: dict[Any, tuple[str, ...]] = {}
        classified: dict[Any, Any] = {}
        activity_cache: dict[Any, list[ActivityGuess]] = {}
        done: dict[Any, LineResult] = {}
        n = len(lines)
        for start in range(0, n, chunk):
            part = lines[start : start + chunk]
            new: dict[Any, BomLine] = {}
            for ln in part:
                k = _line_key(ln)
                if ln.status != "skipped" and k not in classified and k not in new:
                    new[k] = ln
            if new:
                self._prefetch_text_activities(list(new.values()))
                res = self._classify_many(list(new.values()))
                for k, c in zip(new, res, strict=True):
                    classified[k] = c
                    if not isinstance(c, BaseException):
                        channels_of[k] = tuple(getattr(c, "channels_used", ()) or ())
            for j, ln in enumerate(part):
                key = _line_key(ln)
                prev = done.get(key) if ln.status != "skipped" else None
                if prev is not None:  # same description and code: same suppliers, this line's own messages
                    own = prev.warnings[len(prev.line.messages):]
                    out.append(replace(prev, line=ln, warnings=tuple(ln.messages) + line_checks(ln)[1] + tuple(own)))
                else:
                    c = classified.get(key) if ln.status != "skipped" else None
                    lr = self._judged(self._one(ln, c, self.config, self.buyer, activity_cache), c)
                    if (lr.status in ("matched", "low_confidence", "no_candidate") and lr.warnings[: len(ln.messages)] == tuple(ln.messages)
                            and not line_checks(ln)[1]):
                        done[key] = lr
                    out.append(lr)
                if progress is not None:
                    progress(start + j + 1, n)
        return out, channels_of

    def match_one(self, line: BomLine) -> LineResult:
        """Match a single line (same stages as ``match``)."""
        if line.status == "skipped":
            return self._one(line, None, self.config, self.buyer)
        try:
            c: Any = self.classifier.classify(line.description or "", line.code or line.code_raw)
        except Exception as exc:  # noqa: BLE001
            c = exc
        return self._judged(self._one(line, c, self.config, self.buyer), c)

    def search(
        self,
        text: str,
        *,
        code: str | None = None,
        region: str | None = None,
        naf: str | None = None,
        buyer: str | None = None,
        top: int = 10,
    ) -> LineResult:
        """Free-text search (``naf`` forces the activity instead of classifying the text)."""
        changes: dict[str, Any] = {"top_n": top}
        if region is not None:
            changes["region"] = region
        if buyer is not None:
            changes["buyer"] = buyer
        config = self.config.with_(**changes)
        ll = self._resolve_buyer(config.buyer) if config.buyer != self.config.buyer else self.buyer
        parsed_code = None
        if code:
            from matching.codes import parse_code

            parsed_code = parse_code(code).digits
        line = BomLine(row=1, description=text or "", code=parsed_code, code_raw=code)
        if naf:
            label = naf_labels().get(naf)
            if label is None and naf not in self.index.naf_codes:
                raise ConfigError(f"naf {naf!r}: not a NAF rév. 2 sous-classe (expected e.g. 28.15Z)")
            act = ActivityGuess(naf=naf, label=label or naf, score=1.0, route="user", via=())
            try:
                products = list(self.classifier.classify(text, parsed_code).products) if (text or code) else []
            except Exception:  # noqa: BLE001
                products = []
            return self._judged(self._rank_line(line, products, [act], [], config, ll), None)
        try:
            c: Any = self.classifier.classify(text or "", parsed_code)
        except Exception as exc:  # noqa: BLE001
            c = exc
        return self._judged(self._one(line, c, config, ll), c)


__all__ = ["Matcher", "MatchResult"]
