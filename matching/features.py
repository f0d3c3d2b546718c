"""Named features over the candidate table, each in [0, 1] with NaN for missing evidence.

Each feature reads like a splink comparison: a name, a human label used in explanations,
and a function. The output is one pair-indexed DataFrame ``(line_id, siret)`` with one
column per feature plus a few evidence columns the explanations need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from matching.index import tokenize
from matching.retrieve import Candidates, CatalogArrays, TableColumns, haversine_km, proximity_from_km


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
def _words(text: str) -> tuple[frozenset[str], str]:
    """A supplier name's (or products') word set and its words joined by spaces, which is what
    RapidFuzz compares; cached: the same suppliers recur across lines."""
    toks = tokenize(text)
    return frozenset(toks), " ".join(toks)


def _similarity(line_text: str, line_set: set[str], name_text: str, name_set: frozenset[str]) -> tuple[float, list[str]]:
    """RapidFuzz token-set similarity of the line and a supplier's own words (both non-empty),
    with the shared words; texts are the words joined by spaces."""
    shared = sorted(line_set & name_set)
    if not shared:
        # typo-tolerant partial credit, but only for close spellings (roulemnts ~ roulements)
        s = fuzz.token_set_ratio(line_text, name_text, score_cutoff=80) / 100.0
        return (0.5 * s, []) if s else (0.0, [])
    return fuzz.token_set_ratio(line_text, name_text) / 100.0, shared


def _text_features(toks: list[str], names: list[str], prods: list[str]) -> tuple[np.ndarray, list[list[str]], np.ndarray, list[list[str]]]:
    """Name similarity and declared-product overlap of each candidate, with the shared words."""
    n = len(names)
    text = np.zeros(n)
    name_words: list[list[str]] = []
    products = np.full(n, np.nan)
    product_words: list[list[str]] = []
    tokset = set(toks)
    line_text = " ".join(toks)
    seen: dict[str, tuple[float, list[str]]] = {}  # one establishment name often has several sites
    for i in range(n):
        name = names[i]
        hit_name = seen.get(name)
        if hit_name is None:
            name_set, name_text = _words(name)
            hit_name = _similarity(line_text, tokset, name_text, name_set) if toks and name_set else (0.0, [])
            seen[name] = hit_name
        text[i] = hit_name[0]
        name_words.append(list(hit_name[1]))
        if prods[i].strip():
            hit = sorted(tokset & _words(prods[i])[0])
            products[i] = len(hit) / len(tokset) if tokset else np.nan
            product_words.append(hit)
        else:
            product_words.append([])
    if not toks:
        text[:] = np.nan
    return text, name_words, products, product_words


def feature_columns(
    tokens: Sequence[str],
    cands: Candidates,
    arrays: CatalogArrays,
    *,
    region: str,
    buyer: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The feature and evidence columns of one line's candidates (aligned on ``cands.rows``),
    as plain arrays and lists: what ``compute_features`` frames, without building a frame
    (the matcher's hot path). ``arrays`` must come from ``CatalogArrays.from_table``."""
    rows = cands.rows
    n = len(rows)
    toks = list(dict.fromkeys(tokens))
    columns = arrays.columns
    if columns is None:
        raise ValueError("CatalogArrays without columns: build it with CatalogArrays.from_table")

    def col(name: str) -> list[str]:
        return columns.strings(name, rows) if name in columns else [""] * n

    text, name_words, products, product_words = _text_features(toks, col("name"), col("products"))

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

    return {
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
    }


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
    if arrays.columns is None:
        arrays = replace(arrays, columns=TableColumns(table))
    data = feature_columns(tokens, cands, arrays, region=region, buyer=buyer)
    n = len(cands.rows)
    cols = arrays.columns
    sirets = cols.strings("siret", cands.rows) if "siret" in cols else [str(r) for r in cands.rows]
    return pd.DataFrame(data, index=pd.MultiIndex.from_arrays([[line_id] * n, sirets], names=["line_id", "siret"]))


def tie_keys(
    X: dict[str, Any], cands: Candidates, arrays: CatalogArrays, products: Sequence[Any], activities: Sequence[Any],
) -> dict[str, np.ndarray]:
    """What can order candidates of equal score (``rank.TIE_CRITERIA``), higher is better, NaN unknown.

    - ``own_words``: the supplier's own words against the line (name similarity + declared products);
    - ``product_words``: words of the product its activity was reached from (the CN8/HS label, in
      French and English) found in its name or declared products, e.g. "bearing" for ball bearings;
    - ``distance``: minus the km to the buyer (NaN without a buyer);
    - ``size``: the size feature (NaN when the register has no size band).
    """
    from matching.explain import _product_en, cited_product

    rows = cands.rows
    n = len(rows)
    own = np.nan_to_num(np.asarray(X["text"], dtype=float)) + np.nan_to_num(np.asarray(X["products"], dtype=float))
    label_words: dict[int, frozenset[str]] = {}
    for ai, act in enumerate(activities):
        p = cited_product(act, products)
        if p is not None:
            label_words[ai] = _words(f"{p.label} {_product_en(p.code, '')}")[0]
    prod = np.zeros(n)
    if label_words and n:
        columns = arrays.columns
        names = columns.strings("name", rows) if columns is not None and "name" in columns else [""] * n
        decl = columns.strings("products", rows) if columns is not None and "products" in columns else [""] * n
        for i in range(n):
            words = label_words.get(int(cands.activity_idx[i]))
            if words:
                prod[i] = len(words & (_words(names[i])[0] | _words(decl[i])[0]))
    return {"own_words": own, "product_words": prod, "distance": -np.asarray(X["distance_km"], dtype=float),
            "size": np.asarray(X["size"], dtype=float)}
