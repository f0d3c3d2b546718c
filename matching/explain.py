"""Reasons in plain French and English, built from each feature's contribution.

Pure functions: given a supplier, its feature values, their contributions and the line's
activities, say why it is there — and say "missing" when a signal had no evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from matching.types import ActivityGuess, ProductGuess, Reason, Supplier

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
# Said once above a supplier list when no buyer commune was given (no row carries it).
NO_BUYER_NOTE = ("distance : pas de commune acheteur donnée", "distance: no buyer commune given")


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


# How a customs code is written in each language: the French say SH (système harmonisé) and NC
# (nomenclature combinée) for what English calls HS and CN.
_SYSTEM_WORDS: Mapping[str, tuple[str, str]] = {"HS": ("SH", "HS"), "SH": ("SH", "HS"), "HS6": ("SH", "HS"),
                                                "CN": ("NC", "CN"), "CN8": ("NC", "CN"), "TARIC": ("TARIC", "TARIC")}


def cited_code(act: ActivityGuess | None) -> tuple[str, str] | None:
    """(system, digits) of the customs code an activity's chain starts from, e.g. ("CN", "73049000");
    None for a text-only activity. The one place that reads it, so that the product shown for a
    line and the reasons of its suppliers name the same code."""
    if act is None:
        return None
    for step in act.via:
        sys_, _, code = step.partition(" ")
        digits = "".join(ch for ch in code if ch.isdigit())
        if sys_.upper() in _SYSTEM_WORDS and digits and digits == code.replace(" ", ""):
            return sys_.upper(), digits
    return None


def cited_product(act: ActivityGuess | None, products: Sequence[ProductGuess]) -> ProductGuess | None:
    """The line's product an activity was reached from (same code, else the longest code that
    begins it or that it begins), or None when the activity came from the text alone."""
    cited = cited_code(act)
    if cited is None:
        return None
    digits = cited[1]
    best: ProductGuess | None = None
    for p in products:
        if p.code == digits:
            return p
        if (p.code.startswith(digits) or digits.startswith(p.code)) and (best is None or len(p.code) > len(best.code)):
            best = p
    return best


def plain_label(label: str | None, limit: int = 80) -> str:
    """A nomenclature label as words in a sentence: the last level of "a > b", without the
    exclusions in brackets, lower-cased first letter (not for an acronym), cut at ``limit``."""
    t = (label or "").split(" > ")[-1].strip()
    t = re.sub(r"\s*[\(\[](?:à l'excl|à l’excl|sauf|excl|other than|excluding|not )[^\)\]]*[\)\]]", "", t,
               flags=re.IGNORECASE).strip(" ,;")
    if len(t) > 1 and t[0].isupper() and not t[1].isupper():
        t = t[0].lower() + t[1:]
    if len(t) > limit:
        t = t[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;") + "…"
    return t


@lru_cache(maxsize=1)
def _english_labels() -> dict[str, str]:
    """English labels of CN8 codes, HS headings and NACE classes from the reference bundle
    (empty when it is not installed: the English text then quotes the French label)."""
    import csv

    from matching.errors import RelocmatchError
    from matching.refdata import data_dir

    out: dict[str, str] = {}
    try:
        root = data_dir(None)
    except RelocmatchError:
        return out
    sources = (("cn8/cn8_2023_en.csv", "code", "description", "CN"), ("hs/hs2022_harmonized-system.csv", "hscode",
               "description", "HS"), ("nace/nace2_en.csv", "nace2", "NAME", "NACE"))
    for rel, key, val, kind in sources:
        try:
            with (root / rel).open(encoding="utf-8-sig") as fh:
                for row in csv.DictReader(fh):
                    k = (row.get(key) or "").strip()
                    if k:
                        out[f"{kind}:{k}"] = (row.get(val) or "").strip()
        except (OSError, csv.Error):
            continue
    return out


def _product_en(code: str, fallback: str) -> str:
    labels = _english_labels()
    return labels.get(f"CN:{code}") or labels.get(f"HS:{code[:6]}" if len(code) >= 6 else f"HS:{code}") or fallback


def _activity_en(naf: str, fallback: str) -> str:
    return _english_labels().get(f"NACE:{naf[:5]}") or fallback


def _found_list(found: Sequence[ActivityGuess]) -> str:
    producers = [a for a in found if not (a.wholesale or a.naf.startswith("46"))] or list(found)
    return ", ".join(a.naf for a in producers[:3]) + (" …" if len(producers) > 3 else "")


def _kept_on(name_words: Sequence[str], product_words: Sequence[str]) -> tuple[str, str]:
    if name_words:
        w = ", ".join(name_words)
        return f"retenu sur le nom : « {w} »", f"kept on its name: “{w}”"
    if product_words:
        w = ", ".join(product_words)
        return f"retenu sur ses produits : « {w} »", f"kept on its products: “{w}”"
    return "retenu sur les mots de sa fiche", "kept on the words of its record"


def activity_reason(
    supplier: Supplier,
    act: ActivityGuess | None,
    contribution: float,
    fit: float,
    *,
    products: Sequence[ProductGuess] = (),
    found: Sequence[ActivityGuess] = (),
    name_words: Sequence[str] = (),
    product_words: Sequence[str] = (),
    other_lead: bool = False,
) -> Reason:
    """Why the supplier's activity fits, in plain words (product → activity, and how we know);
    the code chain goes to ``detail``. A supplier outside every activity found says so, and on
    which of its words it was kept (never "no activity identified" when some were)."""
    if act is None or _is_missing(fit):
        if found:
            kept_fr, kept_en = _kept_on(name_words, product_words)
            nafs = _found_list(found)
            code = f" ; établissement codé {supplier.naf}" if supplier.naf else ""
            code_en = f"; establishment coded {supplier.naf}" if supplier.naf else ""
            return Reason("activity", 0.0, f"hors des activités productrices trouvées ({nafs}) ; {kept_fr}{code}",
                          f"outside the producing activities found ({nafs}); {kept_en}{code_en}")
        return Reason("activity", 0.0, "activité : aucune activité productrice identifiée pour ce produit",
                      "activity: no producing activity identified for this product")
    route_fr, route_en = ROUTE_LABELS.get(act.route, (act.route, act.route))
    chain = _chain(act)
    naf_fr = plain_label(act.label, 160) or act.naf
    naf_en = plain_label(_activity_en(act.naf, act.label), 160) or act.naf
    cited = cited_code(act)
    if cited is not None:
        sys_fr, sys_en = _SYSTEM_WORDS.get(cited[0], (cited[0], cited[0]))
        prod = cited_product(act, products)
        label_fr = plain_label(prod.label, 100) if prod is not None else ""
        label_en = plain_label(_product_en(cited[1], prod.label if prod is not None else ""), 100)
        code_txt = _fmt_code(cited[1])
        what_fr = f"{label_fr} ({sys_fr} {code_txt})" if label_fr else f"produit {sys_fr} {code_txt}"
        what_en = f"{label_en} ({sys_en} {code_txt})" if label_en else f"product {sys_en} {code_txt}"
    else:
        what_fr = what_en = ""
    fr = f"{what_fr} → {naf_fr} (NAF {act.naf}), {route_fr}" if what_fr else f"{naf_fr} (NAF {act.naf}), {route_fr}"
    en = f"{what_en} → {naf_en} (NAF {act.naf}), {route_en}" if what_en else f"{naf_en} (NAF {act.naf}), {route_en}"
    if supplier.naf and supplier.naf != act.naf:
        fr += f" ; établissement codé {supplier.naf}, activité voisine"
        en += f"; establishment coded {supplier.naf}, a neighbouring activity"
    if act.wholesale or act.naf.startswith("46"):
        fr += " ; distributeur (commerce de gros)"
        en += "; distributor (wholesale)"
    if other_lead:
        best = max((float(a.score) for a in found), default=float(act.score))
        fr += f" ; autre piste : activité peu probable pour ce produit (score {act.score:.2f}, la meilleure {best:.2f})"
        en += f"; other lead: an unlikely activity for this product (score {act.score:.2f}, the best {best:.2f})"
    detail_fr = f"{chain} ({route_fr})" if act.via else f"NAF {act.naf} ({route_fr})"
    detail_en = f"{chain} ({route_en})" if act.via else f"NAF {act.naf} ({route_en})"
    return Reason("activity", contribution, fr, en, detail=detail_fr, detail_en=detail_en)


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
    # no buyer commune: said once above the list (``NO_BUYER_NOTE``), not on every supplier
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
    products: Sequence[ProductGuess] = (),
    other_lead: bool = False,
) -> tuple[Reason, ...]:
    """Reasons for one supplier, strongest contribution first (``other_lead``: its activity is
    one of the line's other leads, far below the best, and the reason says so)."""
    act = activities[activity_idx] if 0 <= activity_idx < len(activities) else None
    reasons = [activity_reason(supplier, act, contributions.get("activity", 0.0), features.get("activity", math.nan),
                               products=products, found=activities, name_words=name_words,
                               product_words=product_words, other_lead=other_lead)]
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
