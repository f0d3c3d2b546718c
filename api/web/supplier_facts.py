"""What the supplier page says about one establishment, and where each fact comes from (issue 16,
"a supplier page an advisor can act on").

The catalog keeps, per establishment, what its register gave (SIRET, name, NAF code, address,
postcode, size band) and what the build derived from reference data (the commune found from the
register's postcode and town name, its département and région in the Code officiel
géographique; the NAF label from INSEE's nomenclature). The catalog's manifest names the register
file and every reference table with its edition: each fact on the page cites one of them.
Contact details, legal status and officers are not in any register the catalog is built from:
the page links to the public Annuaire des Entreprises, by SIRET.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ANNUAIRE_URL = "https://annuaire-entreprises.data.gouv.fr/etablissement/{siret}"

# the registers a catalog is built from (matching.catalog.sources.SOURCE_KINDS), in plain words
REGISTER_NAMES: dict[str, tuple[str, str]] = {
    "irep": ("Registre IREP des émissions polluantes (Géorisques)", "IREP pollutant release register (Géorisques)"),
    "sirene": ("Base SIRENE des établissements (INSEE)", "INSEE SIRENE establishment register"),
    "csv": ("Annuaire régional (fichier CSV)", "Regional directory (CSV file)"),
}


@dataclass(frozen=True)
class Source:
    ref: int  # the number the page shows next to each fact
    text: str


@dataclass(frozen=True)
class Fact:
    key: str  # the i18n label key of the field (siret, activity, address, ...)
    value: str
    source: int | None  # a Source.ref, None when nothing is known


@dataclass(frozen=True)
class SupplierFacts:
    facts: tuple[Fact, ...]
    sources: tuple[Source, ...]
    annuaire_url: str


def same_siret_entries(table: Any, siret: str) -> list[dict[str, str]]:
    """Every catalog row under ``siret`` (IREP lists several installations of one site under one
    SIRET, e.g. a quarry and its plant), as name + NAF; the page shows the first one's fields."""
    if table is None or "siret" not in getattr(table, "columns", ()):
        return []
    rows = table[table["siret"].astype(str) == siret]
    cols = [c for c in ("name", "naf") if c in rows.columns]
    return [{c: "" if r[c] is None else str(r[c]) for c in cols} for _, r in rows[cols].iterrows()]


def annuaire_url(siret: str) -> str:
    return ANNUAIRE_URL.format(siret=siret)


def _register_text(kind: str | None, manifest: Mapping[str, Any], lang: str) -> str:
    names = REGISTER_NAMES.get(kind or "", (kind or "?", kind or "?"))
    files = [str(s.get("name")) for s in manifest.get("sources") or []
             if isinstance(s, Mapping) and s.get("kind") == kind and s.get("name")]
    built = str(manifest.get("built_at") or "")[:10]
    label = names[1] if lang == "en" else names[0]
    parts = [label]
    if files:
        parts.append(", ".join(files))
    if built:
        parts.append(("catalog built " if lang == "en" else "catalogue construit le ") + built)
    return " — ".join(parts)


def _reference_text(key: str, manifest: Mapping[str, Any], what: tuple[str, str], lang: str) -> str | None:
    ref = (manifest.get("reference_data") or {}).get(key)
    if not isinstance(ref, Mapping):
        return None
    edition = ref.get("edition") or ref.get("path") or key
    return f"{what[1]}: {edition}" if lang == "en" else f"{what[0]} : {edition}"


def supplier_facts(supplier: Mapping[str, Any], manifest: Mapping[str, Any] | None, *, lang: str = "fr",
                   naf_label: Callable[[str], str] = lambda _c: "", dep_name: Callable[[str], str] = lambda _c: "",
                   region_name: Callable[[str], str] = lambda c: c) -> SupplierFacts:
    """The page's rows (field, value, source number) and the numbered sources, from one catalog
    row (``api.engine.supplier``) and the catalog's manifest."""
    manifest = manifest or {}
    sources: list[Source] = []

    def cite(text: str | None) -> int | None:
        if not text:
            return None
        for s in sources:
            if s.text == text:
                return s.ref
        sources.append(Source(len(sources) + 1, text))
        return len(sources)

    register = cite(_register_text(supplier.get("source"), manifest, lang))
    cog = ("Découpage administratif (COG)", "Administrative divisions (COG)")
    commune_src = cite(_reference_text("communes", manifest, cog, lang))
    dep_src = cite(_reference_text("departements", manifest, cog, lang))
    reg_src = cite(_reference_text("regions", manifest, cog, lang))
    naf_src = cite(_reference_text("naf", manifest, ("Nomenclature NAF", "NAF nomenclature"), lang))

    def val(k: str) -> str:
        v = supplier.get(k)
        return "" if v is None else str(v).strip()

    facts: list[Fact] = [Fact("siret", val("siret"), register), Fact("supplier_name", val("name"), register)]
    naf = val("naf")
    if naf:
        facts.append(Fact("naf_code", naf, register))
        label = naf_label(naf)
        if label:
            facts.append(Fact("naf_label", label, naf_src))
    if val("address"):
        facts.append(Fact("address", val("address"), register))
    if val("postcode"):
        facts.append(Fact("postcode", val("postcode"), register))
    if val("commune"):
        code = val("commune_code")
        facts.append(Fact("commune", val("commune") + (f" ({code})" if code else ""), commune_src))
    if val("departement"):
        d = val("departement")
        facts.append(Fact("departement", f"{d} {dep_name(d)}".strip(), dep_src))
    if val("region"):
        facts.append(Fact("region", region_name(val("region")) or val("region"), reg_src))
    elif val("collectivity"):
        facts.append(Fact("collectivity", val("collectivity"), commune_src))
    if val("size_band"):
        facts.append(Fact("size_band", val("size_band"), register))
    used = {f.source for f in facts}
    kept = tuple(s for s in sources if s.ref in used)
    renumber = {s.ref: i + 1 for i, s in enumerate(kept)}
    return SupplierFacts(
        facts=tuple(Fact(f.key, f.value, renumber.get(f.source) if f.source else None) for f in facts),
        sources=tuple(Source(renumber[s.ref], s.text) for s in kept),
        annuaire_url=annuaire_url(val("siret")),
    )
