"""The relocation observatory: follow-up records and the indicators computed from them.

Why: the Région's plan must know which relocations happened, why others failed and
how far it is from its target of 500. Nothing here is typed in by hand: every figure
is a pure function of two kinds of records,

* ``TrackedLine`` -- one imported BOM line of one company, with its annual value,
  origin, product code, the buyer's sector and the best domestic alternative the
  matching found for it (``"regional"``, ``"national"`` or ``None``);
* ``FollowUp`` -- the dated history of what happened to that line
  (proposed → contacted → quote → contracted | abandoned with a reason).

Indicators take plain DataFrames (``lines_frame`` / ``followups_frame``) so the CLI,
the API and a notebook share one implementation. Missing values stay missing: a line
with no known value is counted, never valued at 0.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from matching.errors import BomError, RelocmatchError, RowProblem

if TYPE_CHECKING:  # pandas is imported lazily: `import matching` stays light
    import pandas as pd

Stage = Literal["proposed", "contacted", "quote", "contracted", "abandoned"]
AbandonReason = Literal["price", "capacity", "quality", "lead_time", "certification", "other"]
AltTier = Literal["regional", "national"]

STAGES: tuple[str, ...] = ("proposed", "contacted", "quote", "contracted", "abandoned")
ABANDON_REASONS: tuple[str, ...] = ("price", "capacity", "quality", "lead_time", "certification", "other")
TIERS: tuple[str, ...] = ("regional", "national")
PLAN_TARGET = 500  # relocations the regional plan aims at

# Which stage may follow which. The funnel only moves forward; an advisor may record a
# later step without the intermediate ones (a buyer who asks for a quote straight away
# was obviously contacted), but never go back. contracted and abandoned are final.
ALLOWED_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"proposed", "contacted", "quote", "contracted", "abandoned"}),
    "proposed": frozenset({"contacted", "quote", "contracted", "abandoned"}),
    "contacted": frozenset({"quote", "contracted", "abandoned"}),
    "quote": frozenset({"contracted", "abandoned"}),
    "contracted": frozenset(),
    "abandoned": frozenset(),
}

_SIRET_RE = re.compile(r"^\d{14}$")

STAGE_LABELS_FR = {
    "proposed": "proposé",
    "contacted": "contacté",
    "quote": "devis",
    "contracted": "contractualisé",
    "abandoned": "abandonné",
}
REASON_LABELS_FR = {
    "price": "prix",
    "capacity": "capacité",
    "quality": "qualité",
    "lead_time": "délai",
    "certification": "certification",
    "other": "autre",
}


class FollowUpError(RelocmatchError, ValueError):
    """A follow-up event is not allowed (bad transition, missing supplier, unknown reason...)."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class TrackedLine:
    """One imported line of one company's BOM, as the observatory sees it.

    ``best_tier`` is the best domestic alternative the matching found: ``"regional"``
    if at least one supplier in the region, ``"national"`` if only elsewhere in France,
    ``None`` if none. ``buyer_naf`` is the buying company's NAF code (``"28.15Z"``).
    """

    company: str
    line: int
    annual_value_eur: float | None = None
    origin_country: str | None = None
    code: str | None = None
    buyer_naf: str | None = None
    best_tier: AltTier | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.company:
            raise FollowUpError("a tracked line needs a company identifier")
        if self.best_tier is not None and self.best_tier not in TIERS:
            raise FollowUpError(f"best_tier {self.best_tier!r}: expected one of {TIERS} or None")
        if self.annual_value_eur is not None and not self.annual_value_eur >= 0:
            raise FollowUpError(f"annual value {self.annual_value_eur!r}: expected a number >= 0 or None")


@dataclass(frozen=True)
class FollowUpEvent:
    """One dated step of a follow-up. ``contracted`` names the supplier retained and the
    annual value moved; ``abandoned`` says why, from a short fixed list."""

    stage: Stage
    on: date
    reason: AbandonReason | None = None
    supplier_siret: str | None = None
    supplier_tier: AltTier | None = None
    value_moved_eur: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise FollowUpError(f"stage {self.stage!r}: expected one of {', '.join(STAGES)}")
        if not isinstance(self.on, date):
            raise FollowUpError(f"event date {self.on!r}: expected a date")
        if self.stage == "abandoned":
            if self.reason not in ABANDON_REASONS:
                raise FollowUpError(
                    f"abandoned with reason {self.reason!r}: expected one of {', '.join(ABANDON_REASONS)}"
                )
        elif self.reason is not None:
            raise FollowUpError(f"a reason ({self.reason!r}) is only recorded when a line is abandoned")
        if self.stage == "contracted":
            if not self.supplier_siret or not _SIRET_RE.match(self.supplier_siret):
                raise FollowUpError(
                    f"contracted with supplier SIRET {self.supplier_siret!r}: expected the 14 digits of the retained establishment"
                )
            if self.supplier_tier not in TIERS:
                raise FollowUpError(f"contracted with tier {self.supplier_tier!r}: expected 'regional' or 'national'")
            if self.value_moved_eur is None or not self.value_moved_eur >= 0:
                raise FollowUpError(
                    f"contracted with value moved {self.value_moved_eur!r}: expected the annual value in EUR (>= 0)"
                )
        if self.supplier_siret is not None and not _SIRET_RE.match(self.supplier_siret):
            raise FollowUpError(f"supplier SIRET {self.supplier_siret!r}: expected 14 digits")
        if self.supplier_tier is not None and self.supplier_tier not in TIERS:
            raise FollowUpError(f"supplier tier {self.supplier_tier!r}: expected 'regional' or 'national'")


@dataclass(frozen=True)
class FollowUp:
    """The history of one (company, BOM line): events in date order, validated on entry."""

    company: str
    line: int
    events: tuple[FollowUpEvent, ...] = ()

    def __post_init__(self) -> None:
        stage: str | None = None
        last: date | None = None
        for i, ev in enumerate(self.events):
            _check_step(stage, last, ev, where=f"{self.company} line {self.line}, event {i + 1}")
            stage, last = ev.stage, ev.on

    @property
    def stage(self) -> str | None:
        """Current stage, None before anything was proposed."""
        return self.events[-1].stage if self.events else None

    @property
    def final(self) -> FollowUpEvent | None:
        """The contracted/abandoned event, if the follow-up is closed."""
        if self.events and self.events[-1].stage in ("contracted", "abandoned"):
            return self.events[-1]
        return None

    def advance(self, event: FollowUpEvent) -> FollowUp:
        """Return a new FollowUp with ``event`` appended; raise FollowUpError if not allowed."""
        last = self.events[-1].on if self.events else None
        _check_step(self.stage, last, event, where=f"{self.company} line {self.line}")
        return replace(self, events=self.events + (event,))


def _check_step(stage: str | None, last: date | None, ev: FollowUpEvent, *, where: str) -> None:
    allowed = ALLOWED_TRANSITIONS[stage]
    if ev.stage not in allowed:
        exp = ", ".join(s for s in STAGES if s in allowed) or "nothing (the follow-up is closed)"
        raise FollowUpError(f"{where}: cannot go from {stage or 'start'} to {ev.stage}; expected {exp}")
    if last is not None and ev.on < last:
        raise FollowUpError(f"{where}: event dated {ev.on.isoformat()} is before the previous one ({last.isoformat()})")


def can_transition(current: str | None, new: str) -> bool:
    """True when ``new`` may follow ``current`` (None = nothing recorded yet)."""
    return new in ALLOWED_TRANSITIONS.get(current, frozenset())


def best_tier_of(suppliers: Iterable[Mapping[str, Any] | Any]) -> AltTier | None:
    """Best domestic alternative among a line's suppliers (result dicts or SupplierMatch)."""
    tiers = {(s.get("tier") if isinstance(s, Mapping) else getattr(s, "tier", None)) for s in suppliers}
    if "regional" in tiers:
        return "regional"
    if "national" in tiers:
        return "national"
    return None


def tracked_lines_from_result(
    result: Mapping[str, Any], *, company: str, buyer_naf: str | None = None
) -> list[TrackedLine]:
    """Turn a match result (the JSON contract of ARCHITECTURE.md) into tracked lines.

    Lines in error keep their value (they are imported) with no alternative found.
    """
    out: list[TrackedLine] = []
    for ln in result.get("lines", []):
        inp = ln.get("input") or {}
        out.append(
            TrackedLine(
                company=company,
                line=int(ln.get("line") or inp.get("row") or 0),
                annual_value_eur=_float_or_none(inp.get("annual_value_eur")),
                origin_country=_country(inp.get("origin_country")),
                code=inp.get("code") or _first_code(ln.get("products")),
                buyer_naf=buyer_naf,
                best_tier=best_tier_of(ln.get("suppliers") or []),
                description=inp.get("description") or "",
            )
        )
    return out


def _country(raw: Any) -> str | None:
    """A line's origin as ISO-2 (the observatory counts by country): 'Allemagne' -> 'DE'; free text
    that names no country -> None. A BOM line's origin is free text (up to 60 characters), a tracked
    line's is a country code (its store column holds 8)."""
    from matching.bom.values import parse_country

    return parse_country(raw) if isinstance(raw, str) and raw.strip() else None


def _first_code(products: Sequence[Mapping[str, Any]] | None) -> str | None:
    return products[0].get("code") if products else None


def _float_or_none(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


# --------------------------------------------------------------------------- CSV I/O

LINE_COLUMNS = ("company", "line", "description", "code", "origin_country", "annual_value_eur", "buyer_naf", "best_tier")
EVENT_COLUMNS = ("company", "line", "date", "stage", "reason", "supplier_siret", "supplier_tier", "value_moved_eur", "note")


def read_tracked_lines(path: str | Path) -> list[TrackedLine]:
    """Read tracked lines from a CSV (columns LINE_COLUMNS); report every bad row at once."""
    rows, problems = _read_csv(path, required=("company", "line"))
    out: list[TrackedLine] = []
    for n, r in rows:
        try:
            value = r.get("annual_value_eur", "").strip()
            tier = (r.get("best_tier") or "").strip().lower()
            out.append(
                TrackedLine(
                    company=r["company"].strip(),
                    line=int(r["line"]),
                    description=r.get("description", "") or "",
                    code=(r.get("code") or "").strip() or None,
                    origin_country=(r.get("origin_country") or "").strip().upper() or None,
                    annual_value_eur=float(value) if value else None,
                    buyer_naf=(r.get("buyer_naf") or "").strip() or None,
                    best_tier=None if tier in ("", "none") else tier,  # type: ignore[arg-type]
                )
            )
        except (ValueError, FollowUpError) as exc:
            problems.append(RowProblem(row=n, column=None, message=str(exc)))
    if problems:
        raise BomError("invalid tracked lines", path=str(path), problems=problems)
    return out


def read_followups(path: str | Path) -> list[FollowUp]:
    """Read dated events (columns EVENT_COLUMNS), group them per (company, line) in date
    order and validate each history; every bad row is reported, not just the first."""
    rows, problems = _read_csv(path, required=("company", "line", "date", "stage"))
    grouped: dict[tuple[str, int], list[tuple[int, FollowUpEvent]]] = {}
    for n, r in rows:
        try:
            value = (r.get("value_moved_eur") or "").strip()
            ev = FollowUpEvent(
                stage=r["stage"].strip().lower(),  # type: ignore[arg-type]
                on=date.fromisoformat(r["date"].strip()),
                reason=(r.get("reason") or "").strip().lower() or None,  # type: ignore[arg-type]
                supplier_siret=(r.get("supplier_siret") or "").strip() or None,
                supplier_tier=(r.get("supplier_tier") or "").strip().lower() or None,  # type: ignore[arg-type]
                value_moved_eur=float(value) if value else None,
                note=r.get("note", "") or "",
            )
            grouped.setdefault((r["company"].strip(), int(r["line"])), []).append((n, ev))
        except (ValueError, FollowUpError) as exc:
            problems.append(RowProblem(row=n, column=None, message=str(exc)))
    out: list[FollowUp] = []
    for (company, line), evs in grouped.items():
        # stable sort by date, then by funnel order for same-day events
        evs.sort(key=lambda t: (t[1].on, STAGES.index(t[1].stage)))
        try:
            out.append(FollowUp(company=company, line=line, events=tuple(e for _, e in evs)))
        except FollowUpError as exc:
            problems.append(RowProblem(row=evs[-1][0], column=None, message=str(exc)))
    if problems:
        raise BomError("invalid follow-up events", path=str(path), problems=problems)
    return out


def _read_csv(path: str | Path, *, required: Sequence[str]) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    p = Path(path)
    if not p.is_file():
        raise BomError("file not found", path=str(p))
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise BomError(f"missing column(s) {', '.join(missing)}; expected at least {', '.join(required)}", path=str(p))
        rows = [(i + 2, {k: (v or "") for k, v in r.items() if k}) for i, r in enumerate(reader)]
    return rows, []


# --------------------------------------------------------------------------- frames


def lines_frame(lines: Iterable[TrackedLine]) -> pd.DataFrame:
    """One row per tracked line, with the derived keys indicators group by
    (``naf_division``, ``hs2``, ``alternative``: regional/national/none)."""
    import pandas as pd

    rows = [
        {
            "company": ln.company,
            "line": ln.line,
            "description": ln.description,
            "code": ln.code,
            "origin_country": ln.origin_country,
            "annual_value_eur": ln.annual_value_eur,
            "buyer_naf": ln.buyer_naf,
            "best_tier": ln.best_tier,
        }
        for ln in lines
    ]
    df = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
    df["annual_value_eur"] = df["annual_value_eur"].astype("float64")
    df["line"] = df["line"].astype("int64")
    df["alternative"] = df["best_tier"].fillna("none")
    df["naf_division"] = df["buyer_naf"].map(lambda s: s[:2] if isinstance(s, str) and len(s) >= 2 else None)
    df["hs2"] = df["code"].map(lambda s: s[:2] if isinstance(s, str) and len(s) >= 2 else None)
    return df


def followups_frame(followups: Iterable[FollowUp]) -> pd.DataFrame:
    """One row per follow-up with its current stage, the dates of each step reached, and
    for closed ones the supplier/tier/value (contracted) or reason (abandoned)."""
    import pandas as pd

    rows = []
    for fu in followups:
        row: dict[str, Any] = {"company": fu.company, "line": fu.line, "stage": fu.stage}
        for s in STAGES:
            row[f"{s}_on"] = next((pd.Timestamp(e.on) for e in fu.events if e.stage == s), pd.NaT)
        fin = fu.final
        row["reason"] = fin.reason if fin else None
        row["supplier_siret"] = fin.supplier_siret if fin else None
        row["supplier_tier"] = fin.supplier_tier if fin else None
        row["value_moved_eur"] = fin.value_moved_eur if fin and fin.stage == "contracted" else None
        rows.append(row)
    cols = ["company", "line", "stage", *[f"{s}_on" for s in STAGES], "reason", "supplier_siret", "supplier_tier", "value_moved_eur"]
    df = pd.DataFrame(rows, columns=cols)
    df["value_moved_eur"] = df["value_moved_eur"].astype("float64")
    df["line"] = df["line"].astype("int64")
    for s in STAGES:
        df[f"{s}_on"] = pd.to_datetime(df[f"{s}_on"])
    return df


def scope(df: pd.DataFrame, companies: Iterable[str] | None) -> pd.DataFrame:
    """Restrict a frame to one company or a group (None = the whole programme)."""
    if companies is None:
        return df
    keep = {companies} if isinstance(companies, str) else set(companies)
    return df[df["company"].isin(keep)]


# --------------------------------------------------------------------------- indicators


def _joined(lines: pd.DataFrame, fus: pd.DataFrame) -> pd.DataFrame:
    return lines.merge(fus, on=["company", "line"], how="left", validate="one_to_one")


def alternative_shares(lines: pd.DataFrame) -> dict[str, float | int | None]:
    """Share of imported value (lines with a known value) whose best domestic alternative is
    regional / national / none; shares are None when no value is known."""
    known = lines[lines["annual_value_eur"].notna()]
    total = float(known["annual_value_eur"].sum())
    out: dict[str, float | int | None] = {
        "lines": int(len(lines)),
        "lines_with_value": int(len(known)),
        "imported_value_eur": total,
    }
    for alt in ("regional", "national", "none"):
        v = float(known.loc[known["alternative"] == alt, "annual_value_eur"].sum())
        out[f"value_{alt}_eur"] = v
        out[f"share_{alt}"] = v / total if total > 0 else None
    return out


def relocated_shares(lines: pd.DataFrame, fus: pd.DataFrame) -> dict[str, float | int | None]:
    """What was actually relocated (contracted): value moved by tier of the retained
    supplier, as a share of the imported value of the lines in scope."""
    j = _joined(lines, fus)
    total = float(lines["annual_value_eur"].sum())  # NaN (unknown value) skipped
    c = j[j["stage"] == "contracted"]
    out: dict[str, float | int | None] = {
        "relocations": int(len(c)),
        "value_moved_eur": float(c["value_moved_eur"].sum()),
        "share_relocated": float(c["value_moved_eur"].sum()) / total if total > 0 else None,
    }
    for t in TIERS:
        ct = c[c["supplier_tier"] == t]
        out[f"relocations_{t}"] = int(len(ct))
        out[f"value_moved_{t}_eur"] = float(ct["value_moved_eur"].sum())
        out[f"share_relocated_{t}"] = float(ct["value_moved_eur"].sum()) / total if total > 0 else None
    return out


def funnel(lines: pd.DataFrame, fus: pd.DataFrame) -> dict[str, int]:
    """Number of lines at each current stage (``not_followed`` = no record yet)."""
    j = _joined(lines, fus)
    out = {"not_followed": int(j["stage"].isna().sum())}
    for s in STAGES:
        out[s] = int((j["stage"] == s).sum())
    return out


def target_progress(lines: pd.DataFrame, fus: pd.DataFrame, *, target: int = PLAN_TARGET) -> dict[str, float | int]:
    """Relocations contracted against the plan's target (500 by default)."""
    n = int((_joined(lines, fus)["stage"] == "contracted").sum())
    return {"relocations": n, "target": target, "progress": n / target, "remaining": max(target - n, 0)}


def abandon_reasons(lines: pd.DataFrame, fus: pd.DataFrame) -> pd.DataFrame:
    """Abandoned follow-ups per reason (every reason listed, zero included: it is a count)."""
    import pandas as pd

    j = _joined(lines, fus)
    a = j[j["stage"] == "abandoned"]
    counts = a["reason"].value_counts()
    return pd.DataFrame(
        {
            "reason": list(ABANDON_REASONS),
            "label_fr": [REASON_LABELS_FR[r] for r in ABANDON_REASONS],
            "abandoned": [int(counts.get(r, 0)) for r in ABANDON_REASONS],
        }
    )


def breakdown(lines: pd.DataFrame, fus: pd.DataFrame, by: str) -> pd.DataFrame:
    """Indicators per group: ``by`` is ``"naf_division"`` (buyer sector), ``"hs2"`` (product
    chapter), ``"origin_country"`` or ``"company"``. Lines whose key is unknown are grouped
    under ``"?"`` so totals still add up. Sorted by imported value, largest first."""
    import numpy as np
    import pandas as pd

    j = _joined(lines, fus)
    key = j[by].fillna("?").astype(object)
    v = j["annual_value_eur"]
    contracted = j["stage"] == "contracted"
    parts = pd.DataFrame(
        {
            by: key,
            "lines": 1,
            "imported_value_eur": v.fillna(0.0),
            "_regional": v.where(j["alternative"] == "regional", 0.0).fillna(0.0),
            "_national": v.where(j["alternative"] == "national", 0.0).fillna(0.0),
            "_none": v.where(j["alternative"] == "none", 0.0).fillna(0.0),
            "relocations": contracted.astype("int64"),
            "value_moved_eur": j["value_moved_eur"].where(contracted, 0.0).fillna(0.0),
            "abandoned": (j["stage"] == "abandoned").astype("int64"),
        }
    )
    out = parts.groupby(by, sort=True).sum().reset_index()
    total = out["imported_value_eur"].where(out["imported_value_eur"] > 0, np.nan)  # no known value: no share
    for name, col in (("share_regional", "_regional"), ("share_national", "_national"), ("share_none", "_none")):
        out[name] = out[col] / total
    out["share_relocated"] = out["value_moved_eur"] / total
    out = out[[by, "lines", "imported_value_eur", "share_regional", "share_national", "share_none",
               "relocations", "value_moved_eur", "share_relocated", "abandoned"]]
    if out.empty:
        return out
    return out.sort_values(["imported_value_eur", by], ascending=[False, True], kind="stable").reset_index(drop=True)


def monthly(lines: pd.DataFrame, fus: pd.DataFrame) -> pd.DataFrame:
    """Evolution by calendar month: lines proposed, contracted (count, by tier, value moved)
    and abandoned in that month, plus the cumulative relocations. Months without any
    event inside the covered span are listed with zeros (they are counts)."""
    import pandas as pd

    j = _joined(lines, fus)
    j = j[j["stage"].notna()]
    dates = pd.concat([j[f"{s}_on"] for s in STAGES]).dropna()
    cols = [
        "month", "proposed", "contracted", "contracted_regional", "contracted_national",
        "value_moved_eur", "abandoned", "cumulative_relocations",
    ]
    if dates.empty:
        return pd.DataFrame(columns=cols)
    months = pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M")

    def per_month(mask_col: str, frame: pd.DataFrame, value: str | None = None) -> pd.Series:
        f = frame[frame[mask_col].notna()]
        key = f[mask_col].dt.to_period("M")
        s = f.groupby(key)[value].sum() if value else f.groupby(key).size()
        return s.reindex(months, fill_value=0)

    contracted = j[j["stage"] == "contracted"]
    out = pd.DataFrame(
        {
            "month": [str(m) for m in months],
            "proposed": per_month("proposed_on", j).to_numpy().astype("int64"),
            "contracted": per_month("contracted_on", contracted).to_numpy().astype("int64"),
            "contracted_regional": per_month("contracted_on", contracted[contracted["supplier_tier"] == "regional"]).to_numpy().astype("int64"),
            "contracted_national": per_month("contracted_on", contracted[contracted["supplier_tier"] == "national"]).to_numpy().astype("int64"),
            "value_moved_eur": per_month("contracted_on", contracted, "value_moved_eur").to_numpy().astype("float64"),
            "abandoned": per_month("abandoned_on", j[j["stage"] == "abandoned"]).to_numpy().astype("int64"),
        }
    )
    out["cumulative_relocations"] = out["contracted"].cumsum()
    return out[cols]


@dataclass(frozen=True)
class Indicators:
    """Every indicator for one scope (a company, a group, or the programme when None)."""

    scope: tuple[str, ...] | None
    alternatives: dict[str, Any]
    relocated: dict[str, Any]
    target: dict[str, Any]
    funnel: dict[str, int]
    reasons: Any  # DataFrame
    by_sector: Any
    by_chapter: Any
    by_origin: Any
    by_company: Any
    by_month: Any
    lines: Any = field(repr=False, default=None)
    followups: Any = field(repr=False, default=None)

    def summary(self) -> dict[str, Any]:
        """Flat dict of the headline figures (for JSON and the report's first sheet)."""
        return {
            "scope": "programme" if self.scope is None else ", ".join(self.scope),
            **self.alternatives,
            **self.relocated,
            "target": self.target["target"],
            "progress": self.target["progress"],
            "remaining": self.target["remaining"],
            **{f"funnel_{k}": v for k, v in self.funnel.items()},
        }


def compute_indicators(
    lines: Iterable[TrackedLine] | pd.DataFrame,
    followups: Iterable[FollowUp] | pd.DataFrame,
    *,
    companies: Iterable[str] | str | None = None,
    target: int = PLAN_TARGET,
) -> Indicators:
    """All indicators for a scope. Follow-ups must refer to tracked lines; an orphan is an
    error (its value would silently be missing from every share)."""
    import pandas as pd

    ldf = lines if isinstance(lines, pd.DataFrame) else lines_frame(lines)
    fdf = followups if isinstance(followups, pd.DataFrame) else followups_frame(followups)
    keys = set(zip(ldf["company"], ldf["line"]))
    orphans = [(c, n) for c, n in zip(fdf["company"], fdf["line"]) if (c, n) not in keys]
    if orphans:
        raise FollowUpError(f"follow-ups for unknown lines: {orphans[:5]}; expected every follow-up to match a tracked (company, line)")
    sc = None if companies is None else ((companies,) if isinstance(companies, str) else tuple(companies))
    ldf, fdf = scope(ldf, sc), scope(fdf, sc)
    return Indicators(
        scope=sc,
        alternatives=alternative_shares(ldf),
        relocated=relocated_shares(ldf, fdf),
        target=target_progress(ldf, fdf, target=target),
        funnel=funnel(ldf, fdf),
        reasons=abandon_reasons(ldf, fdf),
        by_sector=breakdown(ldf, fdf, "naf_division"),
        by_chapter=breakdown(ldf, fdf, "hs2"),
        by_origin=breakdown(ldf, fdf, "origin_country"),
        by_company=breakdown(ldf, fdf, "company"),
        by_month=monthly(ldf, fdf),
        lines=ldf,
        followups=fdf,
    )


# --------------------------------------------------------------------------- report


def write_report(ind: Indicators, out: str | Path) -> Path:
    """Write the indicators to a multi-sheet XLSX. Text cells that a spreadsheet would
    execute (=, +, -, @ ...) are neutralised so a company name cannot run as a formula."""
    import pandas as pd

    from matching.export import neutralise

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = pd.DataFrame({"indicator": list(ind.summary().keys()), "value": list(ind.summary().values())})
    fdf = ind.followups.copy()
    for s in STAGES:
        fdf[f"{s}_on"] = fdf[f"{s}_on"].dt.date
    sheets = {
        "Summary": summary,
        "By sector": ind.by_sector,
        "By chapter": ind.by_chapter,
        "By origin": ind.by_origin,
        "By company": ind.by_company,
        "By month": ind.by_month,
        "Abandon reasons": ind.reasons,
        "Lines": ind.lines,
        "Follow-ups": fdf,
    }
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df = df.copy()
            for col in df.columns:
                if df[col].dtype == object or str(df[col].dtype).startswith(("string", "str")):
                    df[col] = df[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
            df.to_excel(xw, sheet_name=name, index=False)
    return out
