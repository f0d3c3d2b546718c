"""Load benchmark of the HTTP API: `relocmatch serve` on 127.0.0.1 (loopback only) over the IREP
catalog in three setups (1 worker; 2 workers; 1 worker + 2 engine processes); 20 concurrent clients
send POST /v1/match with 1 line and with 20 lines, taken in turn from the 408 distinct lines of
examples/devset (the 1,000 one-line requests go through them 2.5 times; the service caches no
result nor embedding). Prints requests/s, p50/p95/p99 latency (ms), errors, and the CPU per request
of the server (all its processes) and of the load generator, which shares the same 2 cores
(aiohttp by default, ~0.2 ms per request; httpx ~2 ms).

    .venv/bin/python benchmarks/bench_api.py [--setups 1,2,1x2] [--client aiohttp|httpx] [--requests-1 1000] [--requests-20 60]

Bounded: a fixed request count per scenario and a time cap. The catalog is built into
var/catalogs/irep first if missing (`make catalog`). Target: p95 < 150 ms for one line at
20 clients, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CATALOG = ROOT / "var" / "catalogs" / "irep"
DEVSET = ROOT / "examples" / "devset"


def _devset_lines() -> list[dict]:
    """The 408 distinct labelled lines of the dev set and both hold-outs (text, and code where
    given): every request sends lines the service has not just seen, so no cache flatters it."""
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for name in ("lines.csv", "holdout.csv", "holdout2.csv"):
        with (DEVSET / name).open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                k = (r["description"], r.get("code") or "")
                if k in seen:
                    continue
                seen.add(k)
                d = {"description": r["description"]}
                if r.get("code"):
                    d["code"] = r["code"]
                out.append(d)
    return out


LINES = _devset_lines()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(n: int, request: int) -> list[dict]:
    """The lines of request number ``request``: the next ``n`` dev-set lines, in turn."""
    return [LINES[(request * n + i) % len(LINES)] for i in range(n)]


class _HttpxPost:
    """POST with httpx (what the project's tests use): ~2.3 ms of client CPU per request here."""

    def __init__(self, base: str, headers: dict[str, str], clients: int) -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        self.client = httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits)

    async def post(self, path: str, body: dict) -> tuple[int, str]:
        r = await self.client.post(path, json=body)
        return r.status_code, (r.text[:200] if r.status_code != 200 else "")

    async def close(self) -> None:
        await self.client.aclose()


class _AiohttpPost:
    """POST with aiohttp (C HTTP parser): ~0.15 ms of client CPU per request, so the load generator,
    which shares the server's 2 cores, takes ~2% of them at 150 requests/s instead of ~35%."""

    def __init__(self, base: str, headers: dict[str, str], clients: int) -> None:
        import aiohttp

        self.base = base
        self.client = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=clients),
                                            timeout=aiohttp.ClientTimeout(total=60))

    async def post(self, path: str, body: dict) -> tuple[int, str]:
        async with self.client.post(self.base + path, json=body) as r:
            raw = await r.read()
            return r.status, (raw[:200].decode("utf-8", "replace") if r.status != 200 else "")

    async def close(self) -> None:
        await self.client.close()


CLIENTS = {"aiohttp": _AiohttpPost, "httpx": _HttpxPost}


async def _scenario(base: str, key: str, n_lines: int, total: int, clients: int, cap_s: float,
                    client: str = "aiohttp") -> dict:
    lat: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))
    deadline = time.monotonic() + cap_s
    c = CLIENTS[client](base, {"Authorization": f"Bearer {key}"}, clients)

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            body = {"lines": _lines(n_lines, i), "region": "44", "top": 10}
            t0 = time.perf_counter()
            try:
                status, text = await c.post("/v1/match", body)
                if status != 200:
                    errors.append(f"{status}: {text}")
            except Exception as exc:  # noqa: BLE001 - connection errors are counted, never hidden
                errors.append(repr(exc))
            lat.append((time.perf_counter() - t0) * 1000)

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    finally:
        await c.close()
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {"requests": len(lat), "errors": len(errors), "first_error": errors[0] if errors else None,
            "rps": len(lat) / wall, "p50": q[49], "p95": q[94], "p99": q[98], "wall": wall}


def _group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of one process group: the server's."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat(5), after pid and comm
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def _wait_ready(base: str, proc: subprocess.Popen, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"server not ready after {timeout}s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests-1", type=int, default=1000)
    ap.add_argument("--requests-20", type=int, default=60)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--setups", default="1,2,1x2",
                    help="server setups, comma-separated: W (uvicorn workers, engine on a thread of each) or "
                         "WxE (W workers, E engine processes fed by one queue)")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="aiohttp",
                    help="load generator library (it runs on the same 2 cores as the server)")
    ap.add_argument("--cap-s", type=float, default=120.0, help="time cap per scenario")
    ap.add_argument("--semantic", choices=["default", "false"], default="default")
    args = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("RELOCMATCH_DATA", str((ROOT.parent / "shared" / "data").resolve()))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not (CATALOG / "manifest.json").is_file():
        subprocess.run([str(BIN / "relocmatch"), "catalog", "build", "--source", "irep",
                        str(Path(env["RELOCMATCH_DATA"]) / "establishments" / "irep_etablissements_industriels.csv"),
                        "--out", str(CATALOG)], check=True, env=env)
    tmp = Path(tempfile.mkdtemp(prefix="relocmatch-bench-api-"))
    env["RELOCMATCH_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env["RELOCMATCH_RATE_LIMIT_PER_MINUTE"] = "0"  # measure the service, not the limiter
    if args.semantic == "false":
        env["RELOCMATCH_SEMANTIC"] = "false"
    key = subprocess.run([str(BIN / "relocmatch"), "keys", "create", "--name", "bench"], check=True, env=env,
                         capture_output=True, text=True).stdout.strip()
    print(f"# bench_api: catalog {CATALOG}, {args.clients} concurrent clients, cpus={os.cpu_count()}, "
          f"semantic={args.semantic}, client={args.client}, load avg before={os.getloadavg()[0]:.1f}")
    print(f"{'setup':>7} {'lines':>5} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'server CPU ms/req':>17} {'client CPU ms/req':>17}")
    failed = False
    try:
        for setup in args.setups.split(","):
            workers, _, engines = setup.partition("x")
            workers, engines = int(workers), int(engines or 0)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            log = open(tmp / f"serve-{setup}.log", "w")
            proc = subprocess.Popen(
                [str(BIN / "relocmatch"), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), "--engine-processes", str(engines), "--catalog", str(CATALOG),
                 "--log-level", "warning"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                _wait_ready(base, proc, 600)
                # warm every worker (classifier caches, first-request imports)
                asyncio.run(_scenario(base, key, 20, 4 * max(workers, engines), 2 * max(workers, engines), 120))
                for n_lines, total in ((1, args.requests_1), (20, args.requests_20)):
                    cpu0, own0 = _group_cpu_s(proc.pid), _own_cpu_s()
                    r = asyncio.run(_scenario(base, key, n_lines, total, args.clients, args.cap_s, args.client))
                    server_ms = (_group_cpu_s(proc.pid) - cpu0) * 1000 / max(1, r["requests"])
                    client_ms = (_own_cpu_s() - own0) * 1000 / max(1, r["requests"])
                    print(f"{setup:>7} {n_lines:>5} {r['requests']:>8} {r['errors']:>6} {r['rps']:>7.1f} "
                          f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} {server_ms:>17.1f} {client_ms:>17.1f}",
                          flush=True)
                    if r["errors"]:
                        failed = True
                        print(f"  first error: {r['first_error']}")
            finally:
                os.killpg(proc.pid, signal.SIGTERM)  # our own server's process group only
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                log.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# load avg after={os.getloadavg()[0]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
