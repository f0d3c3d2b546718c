"""`relocmatch serve` (the HTTP API under uvicorn) and `relocmatch keys create|list|revoke`.

The api package (FastAPI, pydantic) is imported inside the commands only, so that
`matching` itself never depends on it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from matching.cli._common import cli_actor, user_errors
from matching.cli._store import STORE_HELP
from matching.errors import ConfigError

keys_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach `serve` and the `keys` group to the root app."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys", help="Manage API keys of the HTTP service.")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (key-less mode only on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (each loads the catalog once).")] = 1,
    engine_processes: Annotated[int, typer.Option(
        min=0, max=32, help="Match /v1/match batches in N separate engine processes fed by one queue (each loads "
        "the catalog; N per worker, so use it with 1 worker); 0: on a thread of each worker. Balanced load "
        "whatever the connections.")] = 0,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="No API keys: a single local user (loopback only).")] = False,
    catalog: Annotated[Path | None, typer.Option(help="Catalog folder (default $RELOCMATCH_CATALOG or var/catalogs/irep).")] = None,
    database_url: Annotated[str | None, typer.Option(help=STORE_HELP)] = None,
    ranker: Annotated[Path | None, typer.Option(help="Ranker JSON from `relocmatch ranker fit` (default $RELOCMATCH_RANKER, else prior weights).")] = None,
    redis_url: Annotated[str | None, typer.Option(
        help="Redis shared by every worker for rate limits and key revocations (default $RELOCMATCH_REDIS_URL; "
        "without it each worker keeps its own).")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Run the HTTP API (uvicorn, JSON access logs with request ids)."""
    with user_errors():
        # Workers are separate processes that build the app from the environment (factory mode):
        # pass the options down as RELOCMATCH_* variables, validated here first.
        # one BLAS/OpenMP thread per worker: requests run concurrently in threads and processes,
        # and nested thread pools on a small machine only thrash (the user's own values win)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        if no_auth:
            os.environ["RELOCMATCH_AUTH"] = "none"
        os.environ["RELOCMATCH_HOST"] = host
        if engine_processes:
            os.environ["RELOCMATCH_ENGINE_PROCESSES"] = str(engine_processes)
        if catalog is not None:
            os.environ["RELOCMATCH_CATALOG"] = str(catalog)
        if database_url is not None:
            os.environ["RELOCMATCH_DATABASE_URL"] = database_url
        if ranker is not None:
            os.environ["RELOCMATCH_RANKER"] = str(ranker)
        if redis_url is not None:
            os.environ["RELOCMATCH_REDIS_URL"] = redis_url
        from pydantic import ValidationError

        from api.settings import Settings

        try:
            settings = Settings.from_env()
        except ValidationError as exc:
            raise ConfigError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from None
        if not Path(settings.catalog).is_dir():
            raise ConfigError(f"{settings.catalog}: no catalog folder (build one with `relocmatch catalog build`)")
        if settings.ranker:
            from matching.rank import LinearRanker

            LinearRanker.load(settings.ranker)  # a bad file fails here, not in every worker
        if workers > 1 and not settings.redis_url:
            import sys

            print(f"note: {workers} workers without RELOCMATCH_REDIS_URL: each keeps its own rate limit (a key gets "
                  f"up to {workers}x its quota) and may accept a revoked key for up to 30 s", file=sys.stderr)
        import uvicorn

        from api.middleware import log_config

        uvicorn.run(
            "api.main:create_app", factory=True, host=host, port=port, workers=workers,
            log_config=log_config(log_level), access_log=False, proxy_headers=False,
            timeout_graceful_shutdown=10,
        )


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who the key is for (a service, a company, an advisor).")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation the key belongs to.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May read the audit log (GET /v1/audit) and erase data.")] = False,
    database_url: Annotated[str | None, typer.Option(help=STORE_HELP)] = None,
) -> None:
    """Create an API key and print it alone on standard output (it is stored hashed: keep it)."""
    with user_errors():
        if not name.strip():
            raise ConfigError("--name must not be empty")
        from matching.cli._store import open_store

        with open_store(database_url, create=True) as store:
            token, _ = store.create_key(name, org, admin=admin, by=cli_actor())
        print(token)


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    database_url: Annotated[str | None, typer.Option(help=STORE_HELP)] = None,
) -> None:
    """Every API key: id (the token starts rmk_<id>.), name, organisation, role, created, last used, revoked.
    Secrets are never stored in clear, so never shown."""
    with user_errors():
        import json

        from api.keys import list_keys
        from matching.cli._store import open_store

        with open_store(database_url) as store:
            rows = [k.to_dict() for k in list_keys(store)]
        if as_json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        t = Table("id", "name", "org", "role", "created", "last used", "revoked")
        for r in rows:
            t.add_row(r["id"], r["name"], r["org"] or "", r["role"], r["created_at"] or "", r["last_used_at"] or "",
                      r["revoked_at"] or "")
        Console(width=max(120, Console().width)).print(t)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `relocmatch keys list`, or the rmk_<id> start of the token).")],
    database_url: Annotated[str | None, typer.Option(help=STORE_HELP)] = None,
    redis_url: Annotated[str | None, typer.Option(
        help="Redis of the running service (default $RELOCMATCH_REDIS_URL): its processes refuse the key at "
        "once; without one, a running service's workers may accept it for up to 30 s more.")] = None,
) -> None:
    """Revoke an API key: the store refuses it from now on, and an audit line says who revoked it."""
    with user_errors():
        from api.keys import get_key, key_id_of
        from matching.cli._store import open_store

        kid = key_id_of(key_id)
        with open_store(database_url) as store:
            row = get_key(store, kid)
            if row is None:
                raise ConfigError(f"no API key with id {kid!r} in the store (`relocmatch keys list` shows them)")
            done = store.revoke_key(kid, by=cli_actor())
        url = redis_url or os.environ.get("RELOCMATCH_REDIS_URL") or None
        if url:
            from api.limits import LimitsUnavailable, publish_revocation_sync

            prefix = os.environ.get("RELOCMATCH_REDIS_PREFIX") or "relocmatch"
            try:
                publish_revocation_sync(url, prefix, kid)
            except LimitsUnavailable as exc:
                raise ConfigError(f"key {kid} is revoked in the store, but {exc}; running workers refuse it "
                                  "within 30 s") from None
        if done:
            print(f"revoked key {kid} ({row.name}){' — running services told through Redis' if url else ''}")
        else:
            print(f"key {kid} ({row.name}) was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
