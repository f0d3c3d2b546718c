"""Load benchmark of the HTTP API: `relocmatch serve` on 127.0.0.1 (loopback only) over the IREP
catalog, 1 then 2 workers; 20 concurrent httpx clients; POST /v1/match with 1 line and with 20
lines, taken in turn from the 408 distinct lines of examples/devset (no line repeats within the
one-line run, so no cache flatters the figures). Prints requests/s and p50/p95/p99 latency (ms) and the error count.

    .venv/bin/python benchmarks/bench_api.py [--requests-1 400] [--requests-20 100] [--clients 20]

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


async def _scenario(base: str, key: str, n_lines: int, total: int, clients: int, cap_s: float) -> dict:
    lat: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))
    deadline = time.monotonic() + cap_s
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as c:

        async def worker() -> None:
            for i in counter:
                if time.monotonic() > deadline:
                    return
                body = {"lines": _lines(n_lines, i), "region": "44", "top": 10}
                t0 = time.perf_counter()
                try:
                    r = await c.post("/v1/match", json=body)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                lat.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
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
    ap.add_argument("--requests-1", type=int, default=400)
    ap.add_argument("--requests-20", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", default="1,2")
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
          f"semantic={args.semantic}, load avg before={os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'lines':>5} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'server CPU ms/req':>17} {'client CPU ms/req':>17}")
    failed = False
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            log = open(tmp / f"serve-{workers}.log", "w")
            proc = subprocess.Popen(
                [str(BIN / "relocmatch"), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), "--catalog", str(CATALOG), "--log-level", "warning"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                _wait_ready(base, proc, 600)
                # warm every worker (classifier caches, first-request imports)
                asyncio.run(_scenario(base, key, 20, 4 * workers, 2 * workers, 120))
                for n_lines, total in ((1, args.requests_1), (20, args.requests_20)):
                    cpu0, own0 = _group_cpu_s(proc.pid), _own_cpu_s()
                    r = asyncio.run(_scenario(base, key, n_lines, total, args.clients, args.cap_s))
                    server_ms = (_group_cpu_s(proc.pid) - cpu0) * 1000 / max(1, r["requests"])
                    client_ms = (_own_cpu_s() - own0) * 1000 / max(1, r["requests"])
                    print(f"{workers:>7} {n_lines:>5} {r['requests']:>8} {r['errors']:>6} {r['rps']:>7.1f} "
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
