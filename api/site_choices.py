"""Chosen sites of tracked relocations: one small table beside the observatory's.

Why a module of its own: ``api/store.py`` is shared by several areas; this table only needs the
store's engine and metadata. A row snapshots what the observatory counts (site type,
département, région, hectares) so the report does not depend on the register it was picked
from. Visibility follows the observatory's: the local principal sees everything, a key with an
organisation sees its organisation's rows, a key without one its own.

Schema change for the lead: table ``obs_site_choices`` (created by ``Store.create_all`` since it
is on ``api.store.metadata``); no Alembic migration is written here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from api.store import LOCAL_KEY_ID, Principal, Store, metadata, utcnow

obs_site_choices = sa.Table(
    "obs_site_choices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("company", sa.String(200), nullable=False, index=True),
    sa.Column("site_id", sa.String(200), nullable=False),
    sa.Column("site_name", sa.String(500), nullable=True),
    sa.Column("site_type", sa.String(40), nullable=False),
    sa.Column("departement", sa.String(3), nullable=False),
    sa.Column("region", sa.String(3), nullable=False),
    sa.Column("surface_m2", sa.Float, nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("chosen_on", sa.Date, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("org", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("company", name="uq_obs_site_choice_company"),
)


def _visible(q: Any, owner: Principal | None) -> Any:
    if owner is None or owner.key_id == LOCAL_KEY_ID:
        return q
    if owner.org:
        return q.where(obs_site_choices.c.org == owner.org)
    return q.where(obs_site_choices.c.owner_key_id == owner.key_id)


def record_choice(store: Store, owner: Principal, company: str, site: dict[str, Any], *, on: date,
                  note: str = "", surface_m2: float | None = None) -> dict[str, Any]:
    """Record (or replace) the site a company's relocation chose; PermissionError when another
    organisation already recorded one for that company."""
    obs_site_choices.create(store.engine, checkfirst=True)
    values = {"company": company, "site_id": site["site_id"], "site_name": site.get("name"),
              "site_type": site["site_type"], "departement": site["departement"], "region": site["region"],
              "surface_m2": float(surface_m2 if surface_m2 is not None else site["surface_m2"]),
              "source": site["source"], "chosen_on": on, "note": note, "owner_key_id": owner.key_id,
              "org": owner.org, "created_at": utcnow()}
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(obs_site_choices.c.owner_key_id, obs_site_choices.c.org)
                           .where(obs_site_choices.c.company == company)).first()
        if row is not None:
            same = owner.key_id == LOCAL_KEY_ID or row.owner_key_id == owner.key_id or (owner.org and row.org == owner.org)
            if not same:
                raise PermissionError(f"the relocation of {company} is tracked by another organisation")
            conn.execute(obs_site_choices.update().where(obs_site_choices.c.company == company).values(**values))
        else:
            conn.execute(obs_site_choices.insert().values(**values))
    return {k: values[k] for k in ("company", "site_id", "site_name", "site_type", "departement", "region",
                                   "surface_m2", "source", "chosen_on", "note")}


def list_choices(store: Store, owner: Principal | None = None) -> list[dict[str, Any]]:
    """Every visible chosen site, by company."""
    obs_site_choices.create(store.engine, checkfirst=True)
    cols = [obs_site_choices.c[k] for k in ("company", "site_id", "site_name", "site_type", "departement", "region",
                                             "surface_m2", "source", "chosen_on", "note")]
    q = _visible(sa.select(*cols), owner).order_by(obs_site_choices.c.company)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
