"""Accounts (api/accounts.py) against SQLite and the real PostgreSQL (``db`` fixture): argon2id
hashes and re-hashing, no user enumeration, lockout, sessions with idle and absolute expiry,
revocation, and who sees which BOM."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from api.accounts import (
    AccountError,
    AccountPolicy,
    Accounts,
    account_sessions,
    accounts,
    can_see,
    list_api_keys,
    visible_jobs,
)
from api.store import utcnow

PW = "correct horse battery"
FAST = dict(time_cost=1, memory_cost=1024, parallelism=1)  # the rules, not the cost, are under test here


class CountingHasher(PasswordHasher):
    """Counts verifications: the no-enumeration rule is "one argon2 verification whatever the case"."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.verifies = 0

    def verify(self, hash, password):  # noqa: A002
        self.verifies += 1
        return super().verify(hash, password)


@pytest.fixture
def store(db):
    s = db.store()
    s.create_all()
    yield s
    s.dispose()


def _acc(store, **policy):
    return Accounts(store, policy=AccountPolicy(**policy), hasher=CountingHasher(**FAST))


def test_password_is_stored_as_argon2id_and_signs_in(store):
    acc = _acc(store)
    a = acc.create("Alice@Example.ORG ", PW, role="advisor", org="AD Grand Est", name="Alice")
    assert a.email == "alice@example.org" and a.role == "advisor" and a.org == "AD Grand Est"
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(accounts)).one()
    assert row.password_hash.startswith("$argon2id$") and PW not in str(tuple(row))
    got = acc.authenticate("ALICE@example.org", PW)
    assert got.reason == "ok" and got.token and len(got.token) >= 40
    p = acc.session_principal(got.token)
    assert (p.key_id, p.org, p.role) == (a.id, "AD Grand Est", "advisor")
    with store.engine.connect() as conn:  # only the token's sha256 is stored
        sids = conn.execute(sa.select(account_sessions.c.id)).scalars().all()
    assert got.token not in sids and len(sids) == 1 and len(sids[0]) == 64
    audit = store.list_audit()
    assert [x["action"] for x in audit][-1] == "signin" and PW not in str(audit)


@pytest.mark.parametrize(("email", "password", "role", "org", "msg"), [
    ("not-an-email", PW, "advisor", None, "expected an address"),
    ("a@b.fr", "short", "advisor", None, "at least 12 characters"),
    ("a@b.fr", PW, "root", None, "expected one of admin, advisor, company"),
    ("a@b.fr", PW, "company", None, "needs --org"),
])
def test_bad_accounts_are_refused_saying_what_was_expected(store, email, password, role, org, msg):
    with pytest.raises(AccountError, match=msg):
        _acc(store).create(email, password, role=role, org=org)


def test_an_email_has_one_account(store):
    acc = _acc(store)
    acc.create("a@b.fr", PW, role="advisor")
    with pytest.raises(AccountError, match="already exists"):
        acc.create("A@B.FR", PW, role="admin")


def test_unknown_email_and_wrong_password_look_the_same_and_cost_one_verification(store):
    acc = _acc(store)
    acc.create("known@b.fr", PW, role="advisor")
    acc.hasher.hash("warm")  # the dummy hash is made once, lazily: make both cases start equal
    acc._dummy_hash()
    outcomes = []
    for email in ("nobody@b.fr", "known@b.fr"):
        before = acc.hasher.verifies
        got = acc.authenticate(email, "wrong password!!")
        outcomes.append((got.account, got.token, acc.hasher.verifies - before))
    assert outcomes[0] == outcomes[1] == (None, None, 1)
    failed = [x for x in store.list_audit() if x["action"] == "signin.failed"]
    assert "nobody" not in str(failed)  # the typed address of an unknown account is not kept


def test_lockout_after_n_failures_refuses_the_right_password_until_unlocked(store):
    acc = _acc(store, max_failed=3, lockout_s=0)  # 0: until an admin unlocks
    a = acc.create("l@b.fr", PW, role="advisor")
    for _ in range(3):
        assert acc.authenticate("l@b.fr", "wrong password!!").reason == "wrong_password"
    locked = acc.get("l@b.fr")
    assert locked.locked and locked.locked_until is None and locked.failed_attempts == 3
    before = acc.hasher.verifies
    got = acc.authenticate("l@b.fr", PW)
    assert (got.reason, got.token, acc.hasher.verifies - before) == ("locked", None, 1)
    assert [x["action"] for x in store.list_audit(target=a.id)].count("account.locked") == 1
    acc.unlock("l@b.fr", by="admin-test")
    assert acc.authenticate("l@b.fr", PW).reason == "ok"
    assert acc.get("l@b.fr").failed_attempts == 0


def test_a_timed_lock_runs_out_and_the_count_starts_again(store):
    acc = _acc(store, max_failed=2, lockout_s=900)
    acc.create("t@b.fr", PW, role="advisor")
    acc.authenticate("t@b.fr", "wrong password!!")
    acc.authenticate("t@b.fr", "wrong password!!")
    a = acc.get("t@b.fr")
    assert a.locked and a.locked_until > utcnow() + timedelta(seconds=800)
    assert acc.authenticate("t@b.fr", PW).reason == "locked"
    with store._tx() as conn:  # 15 minutes later
        conn.execute(accounts.update().values(locked_until=utcnow() - timedelta(seconds=1)))
    assert not acc.get("t@b.fr").locked
    assert acc.authenticate("t@b.fr", "wrong password!!").reason == "wrong_password"
    assert acc.get("t@b.fr").failed_attempts == 1 and not acc.get("t@b.fr").locked  # counting from zero again
    assert acc.authenticate("t@b.fr", PW).reason == "ok"


def test_disabled_account_is_refused_and_loses_its_sessions(store):
    acc = _acc(store)
    acc.create("d@b.fr", PW, role="company", org="ACME")
    token = acc.authenticate("d@b.fr", PW).token
    assert acc.session_principal(token) is not None
    acc.set_disabled("d@b.fr", True)
    assert acc.session_principal(token) is None
    assert acc.authenticate("d@b.fr", PW).reason == "disabled"
    acc.set_disabled("d@b.fr", False)
    assert acc.authenticate("d@b.fr", PW).reason == "ok"


def test_sessions_expire_when_idle_and_at_their_absolute_limit(store):
    acc = _acc(store, idle_s=600, absolute_s=3600)
    acc.create("s@b.fr", PW, role="advisor")
    idle, absolute, fresh = (acc.authenticate("s@b.fr", PW).token for _ in range(3))
    ids = {t: __import__("hashlib").sha256(t.encode()).hexdigest() for t in (idle, absolute)}
    with store._tx() as conn:
        conn.execute(account_sessions.update().where(account_sessions.c.id == ids[idle]).values(
            last_seen_at=utcnow() - timedelta(seconds=601)))
        conn.execute(account_sessions.update().where(account_sessions.c.id == ids[absolute]).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    assert acc.session_principal(idle) is None
    assert acc.session_principal(absolute) is None
    assert acc.session_principal(fresh) is not None
    assert acc.session_principal("forged-token") is None


def test_sign_out_one_and_everywhere_and_new_password_end_sessions(store):
    acc = _acc(store)
    a = acc.create("o@b.fr", PW, role="advisor")
    t1, t2, t3 = (acc.authenticate("o@b.fr", PW).token for _ in range(3))
    assert acc.revoke_session(t1) and acc.session_principal(t1) is None
    assert acc.session_principal(t2) is not None and acc.live_sessions(a.id) == 2
    assert acc.revoke_all(a.id) == 2
    assert acc.session_principal(t2) is None and acc.session_principal(t3) is None
    t4 = acc.authenticate("o@b.fr", PW).token
    acc.set_password("o@b.fr", "another long password")
    assert acc.session_principal(t4) is None
    assert acc.authenticate("o@b.fr", PW).reason == "wrong_password"
    assert acc.authenticate("o@b.fr", "another long password").reason == "ok"


def test_a_hash_made_with_older_parameters_is_redone_at_sign_in(store):
    old = Accounts(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    old.create("r@b.fr", PW, role="advisor")
    new = Accounts(store, hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))

    def stored():
        with store.engine.connect() as conn:
            return conn.execute(sa.select(accounts.c.password_hash)).scalar_one()

    assert "m=1024,t=1" in stored()
    assert new.authenticate("r@b.fr", PW).reason == "ok"
    assert "m=2048,t=2" in stored()
    assert not new.hasher.check_needs_rehash(stored())
    assert new.authenticate("r@b.fr", PW).reason == "ok"  # the new hash verifies


def test_who_sees_which_bom(store):
    acc = _acc(store)
    admin = acc.create("admin@b.fr", PW, role="admin").principal()
    adv = acc.create("adv@b.fr", PW, role="advisor", org="AD").principal()
    adv2 = acc.create("adv2@b.fr", PW, role="advisor", org="Autre").principal()
    co1 = acc.create("co1@b.fr", PW, role="company", org="AD").principal()
    co2 = acc.create("co2@b.fr", PW, role="company", org="AD").principal()
    lines = [{"row": 1, "description": "vis M3"}]
    jobs = {p.key_id: store.create_job(p, data=b"x", lines=lines, filename=f"{p.name}.csv")
            for p in (adv, adv2, co1, co2)}

    def names(p):
        return sorted(j.filename for j in visible_jobs(store, p))

    assert names(admin) == ["adv2@b.fr.csv", "adv@b.fr.csv", "co1@b.fr.csv", "co2@b.fr.csv"]
    assert names(adv) == ["adv@b.fr.csv", "co1@b.fr.csv", "co2@b.fr.csv"]  # the organisation's, companies' included
    assert names(adv2) == ["adv2@b.fr.csv"]
    assert names(co1) == ["co1@b.fr.csv"]  # only its own, not another company of the same organisation
    j = jobs[co2.key_id]
    assert can_see(adv, j.owner_key_id, j.org) and can_see(admin, j.owner_key_id, j.org)
    assert not can_see(co1, j.owner_key_id, j.org) and not can_see(adv2, j.owner_key_id, j.org)


def test_api_keys_are_listed_without_secrets(store):
    token, p = store.create_key("service", org="AD")
    store.revoke_key(p.key_id)
    keys = list_api_keys(store)
    assert [(k.id, k.name, k.org, k.revoked_at is not None) for k in keys] == [(p.key_id, "service", "AD", True)]
    assert token.split(".", 1)[1] not in str(keys)
