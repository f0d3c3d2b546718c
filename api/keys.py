"""API keys as an operator sees them (``relocmatch keys list|revoke``, the admin page): never a
secret, never a hash.

"Last used" is the time of the key's latest audit line (an upload, a read, an export, a
deletion, feedback: ``api/audit.py``); a key that only ever called ``/v1/match`` or
``/v1/search`` has none. The store has no per-request "last seen" column: writing one on every
request would cost a database write per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from api.store import KEY_PREFIX, Store, _utc, api_keys, audit_log


@dataclass(frozen=True)
class KeyRow:
    id: str
    name: str
    org: str | None
    admin: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def prefix(self) -> str:
        """The public start of the token (``rmk_<id>.``): what a user can match against their key."""
        return f"{KEY_PREFIX}{self.id}."

    @property
    def role(self) -> str:
        return "admin" if self.admin else "service"

    def to_dict(self) -> dict[str, Any]:
        def iso(dt: datetime | None) -> str | None:
            return dt.isoformat(timespec="seconds") if dt else None

        return {"id": self.id, "prefix": self.prefix, "name": self.name, "org": self.org, "role": self.role,
                "admin": self.admin, "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at), "state": "revoked" if self.revoked_at else "active"}


def list_keys(store: Store) -> list[KeyRow]:
    """Every API key, oldest first, with the time of its latest audited use."""
    last = (sa.select(audit_log.c.actor, sa.func.max(audit_log.c.at).label("at"))
            .where(audit_log.c.actor.like("key:%")).group_by(audit_log.c.actor)).subquery()
    q = (sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.org, api_keys.c.admin, api_keys.c.created_at,
                   api_keys.c.revoked_at, last.c.at.label("last_used_at"))
         .select_from(api_keys.outerjoin(last, last.c.actor == sa.literal("key:") + api_keys.c.id))
         .order_by(api_keys.c.created_at, api_keys.c.id))
    with store.engine.connect() as conn:
        return [KeyRow(r.id, r.name, r.org, bool(r.admin), _utc(r.created_at), _utc(r.last_used_at),  # type: ignore[arg-type]
                       _utc(r.revoked_at)) for r in conn.execute(q)]


def key_id_of(given: str) -> str:
    """The key id in what a user typed: ``0123abcd...``, ``rmk_0123abcd...`` or a whole token (the
    secret after the dot is ignored, never used)."""
    s = given.strip()
    if s.startswith(KEY_PREFIX):
        s = s[len(KEY_PREFIX):]
    return s.split(".", 1)[0]


def get_key(store: Store, key_id: str) -> KeyRow | None:
    return next((k for k in list_keys(store) if k.id == key_id), None)
