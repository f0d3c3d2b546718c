"""Service settings: read from the environment when the app is built, never at import.

Plain pydantic model (no pydantic-settings dependency): ``Settings.from_env()``
reads ``RELOCMATCH_*`` variables; tests build ``Settings(...)`` directly.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: str) -> bool:
    """True when ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """Everything the service can be told; validated once when ``create_app`` runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = "sqlite:///var/relocmatch.sqlite3"
    database_schema: str | None = None  # PostgreSQL only: a schema to put the tables in (tests use one per run)
    catalog: str = "var/catalogs/irep"
    sites: str = "var/sites/cartofriches"  # site register (`relocmatch sites build`); /v1/sites answers 503 without it
    semantic: bool | None = None  # the classifier's embedding channel: None = when the model is installed
    ranker: str | None = None  # ranker JSON from `relocmatch ranker fit` (fitted weights); None = prior weights
    torch_threads: int = Field(1, ge=1, le=64)  # intra-op threads per worker: 1 is far faster under concurrent requests
    host: str = "127.0.0.1"  # where the server listens; key-less mode is refused beyond loopback
    auth: Literal["keys", "none"] = "keys"
    # a store whose schema is behind at start-up: upgraded ("always"; "sqlite": only a SQLite store,
    # one file on this machine) or refused with a message naming `relocmatch db upgrade` ("never";
    # PostgreSQL under "sqlite"). An empty store is always created. See docs/api.md, "Migrations".
    auto_migrate: Literal["sqlite", "always", "never"] = "sqlite"
    # accounts (api/accounts.py): argon2id cost (hashes made with other values are redone at sign-in),
    # lockout after consecutive failures (0 minutes: until an admin unlocks), page sessions' idle and
    # absolute expiry, sign-in attempts per client address and minute (0: no limit)
    password_time_cost: int = Field(3, ge=1, le=50)
    password_memory_kib: int = Field(65536, ge=64, le=4_194_304)
    lockout_attempts: int = Field(5, ge=1, le=1000)
    lockout_minutes: float = Field(15.0, ge=0)
    session_idle_minutes: float = Field(60.0, gt=0)
    session_hours: float = Field(12.0, gt=0)
    signin_per_minute: float = Field(30.0, ge=0)

    # retention (api/retention.py, docs/api.md "Retention, erasure and backup"), in days; 0 keeps that kind:
    # finished jobs with their result and upload, uploads never confirmed, feedback, the audit log.
    # Account sessions are purged once expired, revoked or idle. The service purges every
    # purge_interval_hours (0: never; `relocmatch purge` by hand), the first pass purge_first_after_s after start.
    retention_results_days: float = Field(365.0, ge=0)
    retention_pending_upload_days: float = Field(7.0, ge=0)
    retention_feedback_days: float = Field(730.0, ge=0)
    retention_audit_days: float = Field(730.0, ge=0)
    purge_interval_hours: float = Field(24.0, ge=0)
    purge_first_after_s: float = Field(600.0, ge=0)

    # limits: bodies are refused (413) before being read when they exceed these
    max_request_bytes: int = Field(1_000_000, ge=1_000)
    max_upload_bytes: int = Field(20_000_000, ge=1_000)
    max_sync_lines: int = Field(300, ge=1)
    max_bom_rows: int = Field(50_000, ge=1)  # a large ERP export; the BOM reader itself stops at 100,000 rows
    max_top: int = Field(50, ge=1)
    sync_timeout_s: float = Field(30.0, gt=0)
    # concurrent POST /v1/match requests coalesced into one engine call of at most this many lines (1: off;
    # a bigger request still goes, alone). Batching gains flatten past ~10 lines (embedding 3.5 → 3.4 ms per
    # line from 10 to 20) while smaller calls keep latencies even: p95 at 20 clients, 2 engine processes,
    # 128-154 ms with 10 against 144-163 ms with 64 (docs/api.md)
    batch_max_lines: int = Field(10, ge=1, le=1_000)
    # 0: /v1/match batches run on an engine thread in each worker; N: in N engine processes fed by
    # one queue (balanced whatever the connections; each loads the catalog: api/engine_pool.py)
    engine_processes: int = Field(0, ge=0, le=32)

    # rate limit per key (token bucket); 0 disables. Per worker process, unless redis_url is set:
    # then one bucket per key shared by every process, and key revocations seen by all at once (api/limits.py)
    rate_limit_per_minute: float = Field(600.0, ge=0)
    rate_limit_burst: int = Field(60, ge=1)
    redis_url: str | None = None  # e.g. redis://127.0.0.1:6379/0 (RELOCMATCH_REDIS_URL)
    redis_prefix: str = Field("relocmatch", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")

    # durable jobs
    job_threads: int = Field(1, ge=1, le=8)
    job_heartbeat_s: float = Field(5.0, gt=0)
    job_stale_after_s: float = Field(60.0, gt=0)  # a running job whose heartbeat is older is another dead worker's
    job_max_attempts: int = Field(2, ge=1)  # attempts before an interrupted job is marked failed
    job_poll_s: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _no_keyless_beyond_loopback(self) -> Settings:
        if self.auth == "none" and not is_loopback(self.host):
            raise ValueError(
                f"key-less mode (--no-auth) is only allowed on a loopback host, not {self.host!r}; "
                "create a key with `relocmatch keys create --name NAME` instead"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``RELOCMATCH_<FIELD>`` variables (e.g. RELOCMATCH_DATABASE_URL)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(f"RELOCMATCH_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
