"""Advisor and company accounts: passwords, roles, organisations, server-side sessions, lockout.

Why a module of its own: API keys (``api.store``) stay the way services authenticate; accounts are
how people sign in to the pages. An account's principal is an ordinary ``Principal`` whose
``key_id`` is the account id (``acc_…``) and whose ``role`` is set, so every table that records an
owner (uploads, jobs, feedback, audit) works unchanged.

- Passwords: argon2id through ``argon2-cffi``'s ``PasswordHasher`` (RFC 9106 low-memory profile by
  default: t=3, m=64 MiB, p=4; cost configurable). A hash made with older parameters is re-hashed
  at the next successful sign-in.
- No user enumeration: an unknown email, a wrong password, a locked and a disabled account get the
  same answer, and each costs exactly one argon2 verification (a dummy hash for unknown emails).
- Lockout: ``max_failed`` consecutive failures lock the account for ``lockout_s`` seconds
  (0: until an admin unlocks it); a success resets the count.
- Sessions: a random 256-bit token in the (signed) cookie, only its sha256 in the database; each
  has an idle and an absolute expiry; sign-out revokes one, "sign out everywhere", disabling the
  account or setting a new password revokes them all.
- Visibility (``can_see`` / ``visible_jobs``): admins see everything; a company account only what it
  uploaded itself; an advisor (or an API key) their organisation's, or their own without one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.store import LOCAL_KEY_ID, Job, Principal, Store, _utc, api_keys, metadata, utcnow

Role = Literal["admin", "advisor", "company"]
ROLES: tuple[str, ...] = ("admin", "advisor", "company")
ACCOUNT_PREFIX = "acc_"
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # bounds the work a sign-in costs (argon2 hashes the whole input)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
TOUCH_EVERY_S = 60.0  # a session's last_seen_at is written at most once a minute

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # acc_<16 hex>; the owner id of what the account creates
    sa.Column("email", sa.String(254), nullable=False, unique=True),  # stored lower-cased
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("org", sa.String(200), nullable=True, index=True),
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id PHC string (salt and parameters inside)
    sa.Column("failed_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),  # NULL with locked_at set: until an admin unlocks
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_signin_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

account_sessions = sa.Table(
    "account_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie's token, never the token
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),  # absolute expiry
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str | None
    role: str
    org: str | None
    failed_attempts: int
    locked: bool
    locked_until: datetime | None
    disabled: bool
    created_at: datetime
    last_signin_at: datetime | None

    def principal(self) -> Principal:
        return Principal(key_id=self.id, name=self.name or self.email, org=self.org, role=self.role)


@dataclass(frozen=True)
class AccountPolicy:
    """Lockout and session rules (``Settings`` fields of the same meaning, in seconds here)."""

    max_failed: int = 5
    lockout_s: float = 900.0  # 0: locked until an admin unlocks
    idle_s: float = 3600.0
    absolute_s: float = 12 * 3600.0

    @classmethod
    def from_settings(cls, settings: Any) -> AccountPolicy:
        return cls(max_failed=settings.lockout_attempts, lockout_s=settings.lockout_minutes * 60.0,
                   idle_s=settings.session_idle_minutes * 60.0, absolute_s=settings.session_hours * 3600.0)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. ``reason`` is for the audit log only: callers show one
    message whatever it is (no user enumeration)."""

    account: Account | None
    reason: Literal["ok", "unknown", "wrong_password", "locked", "disabled"]
    token: str | None = None


class AccountError(ValueError):
    """A refused account operation (bad email, weak password, unknown account, ...), with what was expected."""


def normalise_email(email: str) -> str:
    e = (email or "").strip().lower()
    if len(e) > 254 or not _EMAIL.match(e):
        raise AccountError(f"email {email!r}: expected an address like name@example.org")
    return e


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters expected")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password: at most {MAX_PASSWORD} characters")


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _account(r: Any, now: datetime | None = None) -> Account:
    now = now or utcnow()
    locked_at, until = _utc(r.locked_at), _utc(r.locked_until)
    locked = locked_at is not None and (until is None or until > now)
    return Account(
        id=r.id, email=r.email, name=r.name, role=r.role, org=r.org, failed_attempts=r.failed_attempts or 0,
        locked=locked, locked_until=until if locked else None, disabled=r.disabled_at is not None,
        created_at=_utc(r.created_at),  # type: ignore[arg-type]
        last_signin_at=_utc(r.last_signin_at),
    )


class Accounts:
    """Account operations over a ``Store`` (its engine and its audit log). Thread-safe."""

    def __init__(self, store: Store, *, policy: AccountPolicy | None = None, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.policy = policy or AccountPolicy()
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, store: Store, settings: Any) -> Accounts:
        return cls(store, policy=AccountPolicy.from_settings(settings),
                   hasher=PasswordHasher(time_cost=settings.password_time_cost,
                                         memory_cost=settings.password_memory_kib))

    # -- managing accounts ---------------------------------------------------------------------
    def create(self, email: str, password: str, *, role: str, org: str | None = None, name: str | None = None,
               by: str | None = None) -> Account:
        """A new enabled account; AccountError on a bad email/role/password or an email in use."""
        e = normalise_email(email)
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        check_password(password)
        if role == "company" and not (org or "").strip():
            raise AccountError("a company account needs --org (the organisation whose advisors follow it)")
        now = utcnow()
        aid = ACCOUNT_PREFIX + secrets.token_hex(8)
        phash = self.hasher.hash(password)
        try:
            with self.store._tx() as conn:
                conn.execute(accounts.insert().values(
                    id=aid, email=e, name=(name or "").strip() or None, role=role, org=(org or "").strip() or None,
                    password_hash=phash, failed_attempts=0, password_changed_at=now, created_at=now))
                self.store._audit(conn, by, "account.create", aid, {"role": role, "org": (org or "").strip() or None})
        except sa.exc.IntegrityError:
            raise AccountError(f"an account with email {e} already exists") from None
        got = self.get(e)
        assert got is not None
        return got

    def get(self, email_or_id: str) -> Account | None:
        col = accounts.c.id if email_or_id.startswith(ACCOUNT_PREFIX) else accounts.c.email
        key = email_or_id if col is accounts.c.id else email_or_id.strip().lower()
        with self.store.engine.connect() as conn:
            r = conn.execute(sa.select(accounts).where(col == key)).first()
        return _account(r) if r is not None else None

    def _require(self, email_or_id: str) -> Account:
        a = self.get(email_or_id)
        if a is None:
            raise AccountError(f"no account {email_or_id!r}")
        return a

    def list(self) -> list[Account]:
        now = utcnow()
        with self.store.engine.connect() as conn:
            return [_account(r, now) for r in conn.execute(sa.select(accounts).order_by(accounts.c.email))]

    def set_disabled(self, email_or_id: str, disabled: bool, *, by: str | None = None) -> Account:
        """Disable (and end every session of) or re-enable an account."""
        a = self._require(email_or_id)
        with self.store._tx() as conn:
            conn.execute(accounts.update().where(accounts.c.id == a.id).values(disabled_at=utcnow() if disabled else None))
            if disabled:
                self._revoke_all(conn, a.id)
            self.store._audit(conn, by, "account.disable" if disabled else "account.enable", a.id, None)
        return self._require(a.id)

    def set_password(self, email_or_id: str, password: str, *, by: str | None = None) -> Account:
        """A new password; every open session of the account ends; the lockout is cleared."""
        check_password(password)
        a = self._require(email_or_id)
        phash = self.hasher.hash(password)
        with self.store._tx() as conn:
            conn.execute(accounts.update().where(accounts.c.id == a.id).values(
                password_hash=phash, password_changed_at=utcnow(), failed_attempts=0, locked_at=None, locked_until=None))
            self._revoke_all(conn, a.id)
            self.store._audit(conn, by, "account.set_password", a.id, None)
        return self._require(a.id)

    def unlock(self, email_or_id: str, *, by: str | None = None) -> Account:
        a = self._require(email_or_id)
        with self.store._tx() as conn:
            conn.execute(accounts.update().where(accounts.c.id == a.id).values(
                failed_attempts=0, locked_at=None, locked_until=None))
            self.store._audit(conn, by, "account.unlock", a.id, None)
        return self._require(a.id)

    # -- signing in ----------------------------------------------------------------------------
    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _verify(self, phash: str, password: str) -> bool:
        try:
            return self.hasher.verify(phash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def authenticate(self, email: str, password: str) -> SignIn:
        """Check an email and password; on success open a session (``SignIn.token``).

        Exactly one argon2 verification whatever the case (unknown email: a dummy hash), so the
        answer and its time do not tell whether an address has an account."""
        e = (email or "").strip().lower()[:254]
        password = (password or "")[:MAX_PASSWORD]
        now = utcnow()
        with self.store.engine.connect() as conn:
            r = conn.execute(sa.select(accounts).where(accounts.c.email == e)).first()
        if r is None:
            self._verify(self._dummy_hash(), password)
            self.store.audit(None, "signin.failed", None, {"reason": "unknown"})  # the typed address is not kept
            return SignIn(None, "unknown")
        acct = _account(r, now)
        ok = self._verify(r.password_hash, password)
        if acct.disabled or acct.locked:
            reason: Literal["locked", "disabled"] = "disabled" if acct.disabled else "locked"
            self.store.audit(acct.id, "signin.refused", acct.id, {"reason": reason})
            return SignIn(None, reason)
        if not ok:
            self._fail(acct, now)
            return SignIn(None, "wrong_password")
        values: dict[str, Any] = {"failed_attempts": 0, "locked_at": None, "locked_until": None, "last_signin_at": now}
        if self.hasher.check_needs_rehash(r.password_hash):  # parameters changed since it was hashed
            values["password_hash"] = self.hasher.hash(password)
        token = secrets.token_urlsafe(32)
        with self.store._tx() as conn:
            conn.execute(accounts.update().where(accounts.c.id == acct.id).values(**values))
            conn.execute(account_sessions.delete().where(account_sessions.c.expires_at < now))  # housekeeping
            conn.execute(account_sessions.insert().values(
                id=_token_id(token), account_id=acct.id, created_at=now, last_seen_at=now,
                expires_at=now + timedelta(seconds=self.policy.absolute_s)))
            self.store._audit(conn, acct.id, "signin", acct.id, {"rehashed": "password_hash" in values})
        return SignIn(self._require(acct.id), "ok", token)

    def _fail(self, acct: Account, now: datetime) -> None:
        """Count one failure (atomically); lock the account when the count reaches the limit."""
        with self.store._tx() as conn:
            if acct.failed_attempts and _utc(conn.execute(sa.select(accounts.c.locked_at).where(
                    accounts.c.id == acct.id)).scalar()) is not None:
                # a lock that has run out: the count starts again
                conn.execute(accounts.update().where(accounts.c.id == acct.id).values(
                    failed_attempts=0, locked_at=None, locked_until=None))
            conn.execute(accounts.update().where(accounts.c.id == acct.id).values(
                failed_attempts=accounts.c.failed_attempts + 1))
            n = conn.execute(sa.select(accounts.c.failed_attempts).where(accounts.c.id == acct.id)).scalar_one()
            detail: dict[str, Any] = {"reason": "wrong_password", "failures": n}
            if n >= self.policy.max_failed:
                until = now + timedelta(seconds=self.policy.lockout_s) if self.policy.lockout_s > 0 else None
                conn.execute(accounts.update().where(accounts.c.id == acct.id).values(locked_at=now, locked_until=until))
                self.store._audit(conn, acct.id, "account.locked", acct.id,
                                  {"until": until.isoformat(timespec="seconds") if until else "admin unlock"})
            self.store._audit(conn, acct.id, "signin.failed", acct.id, detail)

    # -- sessions ------------------------------------------------------------------------------
    def session_principal(self, token: str) -> Principal | None:
        """The principal of a live session token, else None (unknown, revoked, idle or absolute
        expiry passed, account disabled). Refreshes the idle clock."""
        if not token or len(token) > 200:
            return None
        sid = _token_id(token)
        now = utcnow()
        q = sa.select(account_sessions.c.last_seen_at, account_sessions.c.expires_at, account_sessions.c.revoked_at,
                      accounts).select_from(account_sessions.join(accounts, accounts.c.id == account_sessions.c.account_id)
                                            ).where(account_sessions.c.id == sid)
        with self.store.engine.connect() as conn:
            r = conn.execute(q).first()
        if r is None or r.revoked_at is not None or r.disabled_at is not None:
            return None
        last = _utc(r.last_seen_at)
        if now >= _utc(r.expires_at) or (now - last).total_seconds() > self.policy.idle_s:  # type: ignore[operator]
            return None
        if (now - last).total_seconds() > TOUCH_EVERY_S:  # type: ignore[operator]
            with self.store._tx() as conn:
                conn.execute(account_sessions.update().where(account_sessions.c.id == sid).values(last_seen_at=now))
        return _account(r, now).principal()

    def revoke_session(self, token: str) -> bool:
        with self.store._tx() as conn:
            n = conn.execute(account_sessions.update().where(
                account_sessions.c.id == _token_id(token), account_sessions.c.revoked_at.is_(None)).values(
                revoked_at=utcnow())).rowcount
        return bool(n)

    def revoke_all(self, account_id: str, *, by: str | None = None) -> int:
        """End every session of an account ("sign out everywhere"); the number ended."""
        with self.store._tx() as conn:
            n = self._revoke_all(conn, account_id)
            self.store._audit(conn, by or account_id, "sessions.revoke_all", account_id, {"sessions": n})
        return n

    def _revoke_all(self, conn: Any, account_id: str) -> int:
        return conn.execute(account_sessions.update().where(
            account_sessions.c.account_id == account_id, account_sessions.c.revoked_at.is_(None)).values(
            revoked_at=utcnow())).rowcount

    def live_sessions(self, account_id: str) -> int:
        now = utcnow()
        idle_cut = now - timedelta(seconds=self.policy.idle_s)
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(account_sessions).where(
                account_sessions.c.account_id == account_id, account_sessions.c.revoked_at.is_(None),
                account_sessions.c.expires_at > now, account_sessions.c.last_seen_at > idle_cut)).scalar_one()


# -- API keys, for the admin page (the CLI has `relocmatch keys`) ---------------------------------


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    org: str | None
    created_at: datetime
    revoked_at: datetime | None


def list_api_keys(store: Store) -> list[KeyInfo]:
    """Every API key (id, name, organisation, dates), never a secret or a hash."""
    q = sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.org, api_keys.c.created_at, api_keys.c.revoked_at
                  ).order_by(api_keys.c.created_at)
    with store.engine.connect() as conn:
        return [KeyInfo(r.id, r.name, r.org, _utc(r.created_at), _utc(r.revoked_at))  # type: ignore[arg-type]
                for r in conn.execute(q)]


# -- who sees which BOM --------------------------------------------------------------------------


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and getattr(principal, "role", None) == "admin"


def can_see(principal: Principal, owner_key_id: str, org: str | None) -> bool:
    """Object-level rule of the pages: admins everything; a company account only its own uploads;
    an advisor or a key its organisation's (its own when it has none)."""
    role = getattr(principal, "role", None)
    if role == "admin" or owner_key_id == principal.key_id:
        return True
    if role == "company":
        return False
    return bool(principal.org) and org == principal.org


def visible_jobs(store: Store, principal: Principal, *, limit: int = 200) -> list[Job]:
    """The jobs ``principal`` may list (the same rule as ``can_see``)."""
    role = getattr(principal, "role", None)
    if role == "admin":
        return store.list_jobs(limit=limit)
    if role != "company" and principal.org and principal.key_id != LOCAL_KEY_ID:
        return store.list_jobs(org=principal.org, limit=limit)
    return store.list_jobs(owner=principal, limit=limit)


def accounts_of(app: Any) -> Accounts:
    """The app's Accounts (built on first use from its store and settings)."""
    state = app.state
    acc = getattr(state, "accounts", None)
    if acc is None or acc.store is not state.store:
        acc = Accounts.from_settings(state.store, state.settings)
        state.accounts = acc
    return acc
