"""Named features over the candidate table, each in [0, 1] with NaN for missing evidence.

Each feature reads like a splink comparison: a name, a human label used in explanations,
and a function. The output is one pair-indexed DataFrame ``(line_id, siret)`` with one
column per feature plus a few evidence columns the explanations need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from matching.index import tokenize
from matching.retrieve import Candidates, CatalogArrays, haversine_km, proximity_from_km


@dataclass(frozen=True)
class Feature:
    name: str
    label_fr: str
    label_en: str


FEATURES: tuple[Feature, ...] = (
    Feature("activity", "activité productrice du produit", "producing activity of the product"),
    Feature("lexical", "mots de la ligne dans la fiche du fournisseur", "line words in the supplier record"),
    Feature("text", "nom du fournisseur proche du texte", "supplier name close to the text"),
    Feature("products", "produits déclarés par le fournisseur", "products declared by the supplier"),
    Feature("proximity", "distance à l'acheteur", "distance to the buyer"),
    Feature("size", "taille de l'établissement", "size of the establishment"),
    Feature("same_region", "dans la région choisie", "in the chosen region"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
EVIDENCE_COLUMNS = ("row", "activity_idx", "lexical_raw", "distance_km", "name_words", "product_words", "channels")


@lru_cache(maxsize=262_144)
def _words(text: str) -> tuple[str, ...]:
    """Tokens of a supplier's name or products, cached: the same suppliers recur across lines."""
    return tuple(tokenize(text))


def _name_similarity(line_tokens: list[str], name_tokens: Sequence[str]) -> tuple[float, list[str]]:
    """RapidFuzz token-set similarity of the line and a supplier's own words, with shared words."""
    if not line_tokens or not name_tokens:
        return 0.0, []
    shared = sorted(set(line_tokens) & set(name_tokens))
    if not shared:
        # typo-tolerant partial credit, but only for close spellings (roulemnts ~ roulements)
        s = fuzz.token_set_ratio(" ".join(line_tokens), " ".join(name_tokens), score_cutoff=80) / 100.0
        return (0.5 * s, []) if s else (0.0, [])
    return fuzz.token_set_ratio(" ".join(line_tokens), " ".join(name_tokens)) / 100.0, shared


def compute_features(
    line_id: int,
    tokens: Sequence[str],
    cands: Candidates,
    table: pd.DataFrame,
    arrays: CatalogArrays,
    *,
    region: str,
    buyer: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """The feature frame of one line's candidates, indexed by ``(line_id, siret)``."""
    rows = cands.rows
    n = len(rows)
    toks = list(dict.fromkeys(tokens))

    def col(name: str) -> list[str]:
        if name not in table.columns:
            return [""] * n
        return [v if isinstance(v, str) else "" for v in table[name].iloc[rows].tolist()]

    names, prods = col("name"), col("products")
    sirets = col("siret") if "siret" in table.columns else [str(r) for r in rows]

    text = np.zeros(n)
    name_words: list[list[str]] = []
    products = np.full(n, np.nan)
    product_words: list[list[str]] = []
    tokset = set(toks)
    for i in range(n):
        s, shared = _name_similarity(toks, _words(names[i]))
        text[i] = s
        name_words.append(shared)
        if prods[i].strip():
            pt = set(_words(prods[i]))
            hit = sorted(tokset & pt)
            products[i] = len(hit) / len(tokset) if tokset else np.nan
            product_words.append(hit)
        else:
            product_words.append([])
    if not toks:
        text[:] = np.nan

    top = cands.lexical.max() if n else 0.0
    lexical = cands.lexical / top if top > 0 else (np.zeros(n) if toks else np.full(n, np.nan))

    if buyer is not None:
        km = haversine_km(buyer[0], buyer[1], arrays.lat[rows], arrays.lon[rows])
        proximity = proximity_from_km(km)
    else:
        km = np.full(n, np.nan)
        proximity = np.full(n, np.nan)
    reg = arrays.region[rows] if n else np.zeros(0, dtype=object)
    same_region = np.where(reg == "", np.nan, (reg == region).astype(float))

    frame = pd.DataFrame(
        {
            "activity": cands.activity,
            "lexical": lexical,
            "text": text,
            "products": products,
            "proximity": proximity,
            "size": arrays.size[rows] if n else np.zeros(0),
            "same_region": same_region,
            "row": rows,
            "activity_idx": cands.activity_idx,
            "lexical_raw": cands.lexical,
            "distance_km": km,
            "name_words": name_words,
            "product_words": product_words,
            "channels": cands.channels,
        },
        index=pd.MultiIndex.from_arrays([[line_id] * n, sirets], names=["line_id", "siret"]),
    )
    return frame
