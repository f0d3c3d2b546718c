"""Reasons in plain French and English, built from each feature's contribution.

Pure functions: given a supplier, its feature values, their contributions and the line's
activities, say why it is there — and say "missing" when a signal had no evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from matching.types import ActivityGuess, Reason, Supplier

ROUTE_LABELS: Mapping[str, tuple[str, str]] = {
    "cn-cpa": ("table officielle", "official table"),
    "hs6-cn8-expanded": ("table officielle, via les CN8 du SH6", "official table, via the CN8 codes of the HS6"),
    "hs4-cn8-expanded": ("table officielle, via les CN8 du SH4", "official table, via the CN8 codes of the HS4"),
    "cn2021-cpa": ("table officielle CN 2021", "official CN 2021 table"),
    "cn8-sibling": ("table officielle, code CN8 voisin", "official table, neighbouring CN8 code"),
    "hs2-cn8-expanded": ("table officielle, via les CN8 du chapitre", "official table, via the CN8 codes of the chapter"),
    "user": ("activité demandée", "requested activity"),
    "hs2017-conversion": ("table officielle après conversion SH 2022→2017", "official table after HS 2022→2017 conversion"),
    "hs-isic-fallback": ("concordance SH–CITI, approximative", "HS–ISIC concordance, approximate"),
    "text": ("d'après le texte", "from the text"),
    "text-naf": ("d'après le texte et les libellés NAF", "from the text and NAF labels"),
    "lexical": ("d'après le texte", "from the text"),
    "semantic": ("d'après le sens du texte", "from the meaning of the text"),
}

Namer = Callable[[str], str | None]


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt_code(code: str) -> str:
    """CN 84821010 → 8482 10 10, the way customs write it."""
    d = "".join(ch for ch in code if ch.isdigit())
    if len(d) >= 6 and d == code.replace(" ", ""):
        return " ".join([d[:4], d[4:6]] + ([d[6:8]] if len(d) >= 8 else []) + ([d[8:]] if len(d) > 8 else []))
    return code


def _chain(a: ActivityGuess) -> str:
    parts = []
    for step in a.via:
        sys_, _, code = step.partition(" ")
        if sys_.upper() in {"CN", "HS", "SH", "CN8", "HS6", "TARIC"} and code:
            parts.append(f"{sys_} {_fmt_code(code)}")
        else:
            parts.append(step)
    if not parts or a.naf not in parts[-1]:
        parts.append(f"NAF {a.naf}")
    return " → ".join(parts)


def activity_reason(supplier: Supplier, act: ActivityGuess | None, contribution: float, fit: float) -> Reason:
    if act is None or _is_missing(fit):
        return Reason("activity", 0.0, "activité : aucune activité productrice identifiée pour ce produit",
                      "activity: no producing activity identified for this product")
    route_fr, route_en = ROUTE_LABELS.get(act.route, (act.route, act.route))
    chain = _chain(act)
    fr = f"produit {chain} ({route_fr})" if act.via else f"activité {act.naf} « {act.label} » ({route_fr})"
    en = f"product {chain} ({route_en})" if act.via else f"activity {act.naf} “{act.label}” ({route_en})"
    if supplier.naf and supplier.naf != act.naf:
        fr += f" ; établissement codé {supplier.naf}, activité voisine"
        en += f"; establishment coded {supplier.naf}, a neighbouring activity"
    if act.wholesale or act.naf.startswith("46"):
        fr += " ; distributeur (commerce de gros)"
        en += "; distributor (wholesale)"
    return Reason("activity", contribution, fr, en)


def geography_reason(
    supplier: Supplier,
    distance_km: float | None,
    contribution: float,
    *,
    region_name: Namer | None = None,
    departement_name: Namer | None = None,
    buyer_given: bool = False,
) -> Reason:
    parts = []
    if supplier.region:
        parts.append((region_name(supplier.region) if region_name else None) or f"région {supplier.region}")
    if supplier.departement:
        parts.append((departement_name(supplier.departement) if departement_name else None) or supplier.departement)
    if supplier.commune:
        parts.append(supplier.commune.title())
    fr = en = ", ".join(parts) if parts else ""
    if not _is_missing(distance_km):
        fr = f"{fr}, {distance_km:.0f} km" if fr else f"{distance_km:.0f} km"
        en = fr
    elif buyer_given:
        fr += (" ; " if fr else "") + "distance : inconnue (coordonnées manquantes)"
        en += ("; " if en else "") + "distance: unknown (missing coordinates)"
    else:
        fr += (" ; " if fr else "") + "distance : pas de commune acheteur donnée"
        en += ("; " if en else "") + "distance: no buyer commune given"
    return Reason("geography", contribution, fr, en)


def explain(
    supplier: Supplier,
    features: Mapping[str, float],
    contributions: Mapping[str, float],
    activities: Sequence[ActivityGuess],
    *,
    activity_idx: int = -1,
    name_words: Sequence[str] = (),
    product_words: Sequence[str] = (),
    distance_km: float | None = None,
    buyer_given: bool = False,
    region_name: Namer | None = None,
    departement_name: Namer | None = None,
    size_label: Namer | None = None,
) -> tuple[Reason, ...]:
    """Reasons for one supplier, strongest contribution first."""
    act = activities[activity_idx] if 0 <= activity_idx < len(activities) else None
    reasons = [activity_reason(supplier, act, contributions.get("activity", 0.0), features.get("activity", math.nan))]
    text_c = contributions.get("text", 0.0) + contributions.get("lexical", 0.0)
    if name_words:
        words = ", ".join(name_words)
        reasons.append(Reason("text", text_c, f"nom : « {words} »", f"name: “{words}”"))
    elif not _is_missing(features.get("lexical")) and features.get("lexical", 0) > 0:
        reasons.append(Reason("text", text_c, "libellé d'activité proche du texte", "activity label close to the text"))
    else:
        reasons.append(Reason("text", text_c, "nom : aucun mot commun avec la ligne", "name: no word in common with the line"))
    if product_words:
        words = ", ".join(product_words)
        reasons.append(Reason("products", contributions.get("products", 0.0), f"produits : « {words} »", f"products: “{words}”"))
    reasons.append(
        geography_reason(
            supplier,
            distance_km,
            contributions.get("proximity", 0.0) + contributions.get("same_region", 0.0),
            region_name=region_name,
            departement_name=departement_name,
            buyer_given=buyer_given,
        )
    )
    if supplier.size_band and not _is_missing(features.get("size")):
        label = (size_label(supplier.size_band) if size_label else None) or f"tranche {supplier.size_band}"
        reasons.append(Reason("size", contributions.get("size", 0.0), f"effectif : {label}", f"staff: {label}"))
    else:
        reasons.append(Reason("size", 0.0, "effectif : inconnu", "staff: unknown"))
    return tuple(sorted(reasons, key=lambda r: -r.contribution))
