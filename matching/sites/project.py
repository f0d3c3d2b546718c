"""A relocation project: the activity to place, the land it needs, where, and what is non-negotiable.

The JSON schema is this pydantic model (``Project.model_json_schema()``; documented in
``docs/sites.md``). ``resolve_project`` turns it into what the matcher needs: the activity as a
NAF sous-classe (a code is checked against NAF rév. 2; free text goes through the understanding
stage, ``matching.classify.activities_from_text``), the surface range in m², the départements of
the search area. Wrong input raises ``ProjectError`` naming the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matching.sites.sources import SiteError

MAX_SURFACE_M2 = 100_000_000.0  # 10,000 ha: larger than any site in France's inventory (74 km²)
_NAF_RE = re.compile(r"^\s*\d{2}\s*\.?\s*\d{2}\s*[A-Za-z]\s*$")


class ProjectError(SiteError, ValueError):
    """A project field is wrong: the message starts with the field's path."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class Constraints(BaseModel):
    """Hard constraints: a site that fails one is not returned (the result counts why)."""

    model_config = ConfigDict(extra="forbid")

    industrial_zoning: bool = Field(False, description="Only sites in an activity zone (UX, UE, UI, UY, UZ, AUX…)")
    rail_within_km: float | None = Field(None, gt=0, le=200, description="Rail network within this distance")
    not_polluted: bool = Field(False, description="Soil pollution known to be absent or unlikely")
    pollution_known: bool = Field(False, description="Soil pollution status known (any value but 'inconnue')")
    available_now: bool = Field(False, description="Confirmed brownfield without a project (not a 'potential' one)")
    verified_only: bool = Field(False, description="Only sites verified by Cerema, a local observatory or the région")
    exclude_with_project: bool = Field(True, description="Drop sites that already have a project or are reconverted")
    allow_placeholder_surface: bool = Field(False, description="Keep Fonds Friches sites whose surface is a placeholder")
    max_oversize: float = Field(1.0, ge=0, le=20, description="Accept sites up to surface_max × (1 + this)")


class Wishes(BaseModel):
    """Soft preferences: they move sites up or down, never out."""

    model_config = ConfigDict(extra="forbid")

    rail: bool = Field(False, description="Rail access matters: doubles the rail weight")
    supplier_radius_km: float = Field(50.0, gt=0, le=500, description="'Near' for the supply-chain share")
    near_commune: str | None = Field(None, description="INSEE code of a commune to stay close to (current plant)")
    site_types: list[str] = Field(default_factory=list, description="Preferred site types (industrielle, logistique…)")


class Project(BaseModel):
    """A relocation project (input JSON of `relocmatch sites match` and POST /v1/sites/match)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    activity: str = Field(..., min_length=1, max_length=500, description="NAF code (28.96Z) or free text")
    surface_m2_min: float | None = Field(None, description="Surface needed, lower bound (m²)")
    surface_m2_max: float | None = Field(None, description="Surface needed, upper bound (m²)")
    surface_ha_min: float | None = Field(None, description="Or the lower bound in hectares")
    surface_ha_max: float | None = Field(None, description="Or the upper bound in hectares")
    region: str | None = Field(None, description="INSEE région code, e.g. 44 (Grand Est)")
    departements: list[str] | None = Field(None, description="Département codes, e.g. [\"57\", \"54\"]")
    constraints: Constraints = Field(default_factory=Constraints)
    wishes: Wishes = Field(default_factory=Wishes)


@dataclass(frozen=True)
class ResolvedProject:
    project: Project
    activity_naf: str
    activity_label: str
    activity_route: str  # "code" or "text"
    activity_alternatives: tuple[tuple[str, str, float], ...]
    surface_min: float
    surface_max: float
    departements: frozenset[str] | None
    near: tuple[str, str, float, float] | None  # (code, name, lat, lon)

    @property
    def activity_class(self) -> str:
        """``industrial`` (NAF divisions 05–39), ``logistics`` (46, 49–53) or ``other``."""
        div = int(self.activity_naf[:2])
        if 5 <= div <= 39:
            return "industrial"
        if div == 46 or 49 <= div <= 53:
            return "logistics"
        return "other"


def parse_project(data: Any) -> Project:
    """A project from a dict; ProjectError naming the first bad field."""
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        field = ".".join(str(p) for p in e.get("loc", ())) or "project"
        raise ProjectError(field, e.get("msg", "invalid value")) from None


def read_project(path: Path | str) -> Project:
    """A project from a JSON file; errors name the file and the field."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SiteError(f"{p}: cannot read the project: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SiteError(f"{p}: not valid JSON: {exc}") from None
    try:
        return parse_project(data)
    except ProjectError as exc:
        raise SiteError(f"{p}: {exc}") from None


def _surface(p: Project) -> tuple[float, float]:
    m2 = (p.surface_m2_min, p.surface_m2_max)
    ha = (p.surface_ha_min, p.surface_ha_max)
    if any(v is not None for v in m2) and any(v is not None for v in ha):
        raise ProjectError("surface_ha_min", "give the surface in m² or in ha, not both")
    unit, scale, (lo, hi) = ("m2", 1.0, m2) if any(v is not None for v in m2) else ("ha", 10_000.0, ha)
    if lo is None and hi is None:
        raise ProjectError("surface_m2_min", "the surface needed is required (surface_m2_min/max or surface_ha_min/max)")
    for name, v in ((f"surface_{unit}_min", lo), (f"surface_{unit}_max", hi)):
        if v is not None and not (v > 0 and v * scale <= MAX_SURFACE_M2):
            raise ProjectError(name, f"{v:g} is not a possible surface (expected > 0 and ≤ {MAX_SURFACE_M2 / scale:g})")
    lo_m2 = lo * scale if lo is not None else 0.0
    hi_m2 = hi * scale if hi is not None else max(lo_m2 * 2.0, lo_m2)
    if hi is not None and lo is not None and hi < lo:
        raise ProjectError(f"surface_{unit}_max", f"{hi:g} is below surface_{unit}_min {lo:g}")
    return lo_m2, hi_m2


def resolve_project(p: Project, *, data_dir: Any = None, geo: Any = None) -> ResolvedProject:
    """Check a project against the reference data; ProjectError naming the field on any problem."""
    from matching.codes import get_crosswalk, normalize_naf
    from matching.errors import CodeError
    from matching.geo import get_geo

    geo = geo or get_geo(data_dir)
    lo, hi = _surface(p)
    act = p.activity.strip()
    alternatives: tuple[tuple[str, str, float], ...] = ()
    if _NAF_RE.match(act):
        try:
            naf = normalize_naf(act)
            label = get_crosswalk(data_dir).naf_label(naf)
        except CodeError:
            raise ProjectError("activity", f"unknown NAF code {act!r}: not a NAF rév. 2 sous-classe") from None
        route = "code"
    else:
        from matching.classify import activities_from_text

        guesses = [g for g in activities_from_text(act, top_k=3, data_dir=data_dir) if g.score > 0]
        if not guesses:
            raise ProjectError("activity", f"no NAF activity recognised in {act!r}: give a NAF code such as 28.96Z")
        naf, label, route = guesses[0].naf, guesses[0].label, "text"
        alternatives = tuple((g.naf, g.label, float(g.score)) for g in guesses)
    deps: set[str] | None = None
    if p.region is not None:
        reg = p.region.strip()
        if geo.region_name(reg) is None:
            raise ProjectError("region", f"unknown région code {p.region!r} (expected an INSEE code such as 44)")
        deps = {d for d, r in geo.departements().items() if r == reg}
    if p.departements:
        known = geo.departements()
        chosen = set()
        for i, d in enumerate(p.departements):
            code = str(d).strip().upper()
            code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
            if code not in known:
                raise ProjectError(f"departements.{i}", f"unknown département code {d!r}")
            if p.region is not None and known[code] != p.region.strip():
                raise ProjectError(f"departements.{i}", f"département {code} is not in région {p.region}")
            chosen.add(code)
        deps = chosen
    near = None
    if p.wishes.near_commune:
        info = geo.commune(p.wishes.near_commune)
        if info is None or info.lat is None:
            raise ProjectError("wishes.near_commune", f"unknown commune {p.wishes.near_commune!r} (expected an INSEE code)")
        near = (info.code, info.name, float(info.lat), float(info.lon))
    from matching.sites.sources import SITE_TYPES, site_type_of

    for i, t in enumerate(p.wishes.site_types):
        if site_type_of(t) not in SITE_TYPES or (site_type_of(t) == "autre" and t.strip().lower() != "autre"):
            raise ProjectError(f"wishes.site_types.{i}", f"unknown site type {t!r}; expected one of {', '.join(SITE_TYPES)}")
    return ResolvedProject(project=p, activity_naf=naf, activity_label=label, activity_route=route,
                           activity_alternatives=alternatives, surface_min=lo, surface_max=hi,
                           departements=frozenset(deps) if deps is not None else None, near=near)
