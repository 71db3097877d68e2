"""Hostile-traffic benchmark: thousands of valid, replayed and hostile requests per platform against a live
`salespulse serve` on 127.0.0.1, with WeCom, DingTalk (HTTP mode) and Feishu (HTTP mode) enabled at once.

    python -m bench.fuzz --json                 # 10,000 requests per platform
    python -m bench.fuzz --requests 2000 --json

Set-up (not timed): a temporary bot.toml and database; the platforms' outbound APIs point at one catch-all fake in
a thread of this process (so valid messages are answered for real); `salespulse serve` is started as a subprocess
and polled until /healthz answers; 200 warm-up requests per platform, then the server's RSS is read.
Load: per platform, requests from bench/fuzz_requests.py — about 10 % valid, 5 % replays, 5 % authentic but oddly
shaped, the rest hostile (wrong / stale / absurd signatures and timestamps, junk headers, bit-flipped and truncated
ciphertext, deeply nested and non-JSON bodies, bodies over the limit, captured signatures on other bodies) — sent
by `--concurrency` clients; each request's latency is timed from send to the full answer.
After: the server's RSS again, its inbox read directly.

Output: {"requests", "valid_sent", "valid_stored_once", "invalid_stored", "status_5xx", "p99_ms", "rss_growth_mb",
"rss_growth_last_round_mb", "rss_samples_mb", "per_platform", "load_avg"}. rss_growth_mb is over the measured
run; SQLite's page cache (store/db.py CACHE_KIB, 12 MiB per connection) fills as authentic odd payloads (some 100 KB) grow the
database, so the last round (2,000 more per platform) tells a leak (keeps growing) from a filled cache (flat). invalid_stored = inbox rows that are neither a valid message nor one of the authentic
odd shapes sent. Targets: invalid_stored 0, status_5xx 0, p99_ms ≤ 50, rss_growth_mb ≤ 20; valid_stored_once =
valid_sent. server.max_body_bytes is 256 KiB here (not 1 MiB) so "over the limit" bodies do not dominate the run.
The machine may be shared: load_avg says how busy it was; latencies under load are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.callbacks import free_port
from bench.fuzz_requests import BUILDERS

LIMIT = 262_144
MIX = (["valid"] * 10 + ["replay"] * 5 + ["odd_shape"] * 5
       + ["wrong_sig", "stale", "huge_ts", "garbage_header", "no_headers", "deep_json", "not_json", "over_limit",
          "bitflip", "truncate", "forged_replay"] * 7 + ["deep_json", "not_json", "garbage_header"])


def write_config(folder: Path, port: int, fake: str) -> Path:
    path = folder / "bot.toml"
    path.write_text(f"""
[bot]
database = "{folder / 'fuzz.db'}"
data_dir = "{folder / 'data'}"

[server]
host = "127.0.0.1"
port = {port}
public_base_url = "http://127.0.0.1:{port}"
max_body_bytes = {LIMIT}

[wecom]
enabled = true
corp_id = "wwfuzz"
agent_id = 1000002
secret = "fuzz-secret"
token = "fuzztoken"
encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
api_base_url = "{fake}"
org_sync_cron = ""

[dingtalk]
enabled = true
mode = "http"
client_id = "ding-fuzz"
client_secret = "ding-fuzz-secret"
api_base_url = "{fake}"
oapi_base_url = "{fake}"
org_sync_cron = ""

[feishu]
enabled = true
mode = "http"
app_id = "cli_fuzz"
app_secret = "feishu-fuzz-secret"
encrypt_key = "fuzz-encrypt-key"
verification_token = "fuzz-vt"
domain = "{fake}"
org_sync_cron = ""

[[org.teams]]
name = "华东一组"
manager = "m1"

[[org.people]]
id = "m1"
name = "王经理"
role = "manager"
team = "华东一组"

[[org.people]]
id = "r1"
name = "张伟"
role = "rep"
team = "华东一组"
wecom_id = "zhangwei"
dingtalk_id = "zhangwei"
feishu_id = "ou_zhangwei"
""", encoding="utf-8")
    return path


# ---------------------------------------------------------------- one fake for every platform's outbound API

ANSWER = {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success", "access_token": "fuzz-token", "expires_in": 7200,
          "accessToken": "fuzz-token", "expireIn": 7200, "tenant_access_token": "fuzz-token", "expire": 7200,
          "processQueryKey": "q", "msgid": "m", "data": {"message_id": "om_fuzz"}}


def start_fake() -> tuple[str, threading.Event]:
    from aiohttp import web

    port = free_port()
    stop = threading.Event()
    ready = threading.Event()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(ANSWER)

    def serve() -> None:
        async def main() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", answer)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.2)
            await runner.cleanup()

        asyncio.run(main())

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    return f"http://127.0.0.1:{port}", stop


# ---------------------------------------------------------------- the server

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(config: Path) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())",
                             "-c", str(config), "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(config.with_name("serve.log"), "wb"))  # noqa: SIM115


async def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"salespulse serve exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("salespulse serve did not become healthy")


# ---------------------------------------------------------------- the load

async def blast(url: str, builder, n: int, seed: int, concurrency: int) -> dict:
    import aiohttp

    rng = random.Random(seed)
    plan = [(rng.choice(MIX), rng.getrandbits(32)) for _ in range(n)]
    latencies: list[float] = []
    status_5xx = errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for step in plan:
        queue.put_nowait(step)
    lock = asyncio.Lock()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal status_5xx, errors
        while not queue.empty():
            kind, s = queue.get_nowait()
            async with lock:  # builders keep state (ids, last valid request): build one at a time
                req = builder.build(kind, s)
            t = time.perf_counter()
            try:
                async with session.request(req.method, url + req.path, data=req.body, headers=req.headers,
                                           skip_auto_headers=("Content-Type",)) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError):
                errors += 1  # the server closing a refused oversized upload is expected
                continue
            latencies.append((time.perf_counter() - t) * 1000)
            builder.answered(req, status)
            if status >= 500:
                status_5xx += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    latencies.sort()
    return {"requests": n, "status_5xx": status_5xx, "connection_closed": errors, "latencies": latencies}


def inbox_rows(db: Path, platform: str) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT external_id FROM inbox WHERE platform = ?", (platform,))}


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


async def run(n: int, concurrency: int, seed: int) -> dict:
    from bot.config import load_config

    folder = Path(tempfile.mkdtemp(prefix="salespulse-fuzz-"))
    fake, stop_fake = start_fake()
    port = free_port()
    config_path = write_config(folder, port, fake)
    config = load_config(str(config_path))
    url = f"http://127.0.0.1:{port}"
    proc = start_server(config_path)
    try:
        await wait_healthy(url, proc)
        now_ms = lambda: int(time.time() * 1000)  # noqa: E731 (the live server runs on the wall clock)
        builders = {name: cls(config, now_ms) for name, cls in BUILDERS.items()}
        for builder in builders.values():  # warm-up: every code path once, not measured
            await blast(url, builder, 200, seed + 1, concurrency)
        await asyncio.sleep(1.0)
        rss_before = rss_mb(proc.pid)
        samples = [round(rss_before, 1)]
        per: dict[str, dict] = {}
        for i, (name, builder) in enumerate(builders.items()):
            result = await blast(url, builder, n, seed + 10 + i, concurrency)
            per[name] = result
            samples.append(round(rss_mb(proc.pid), 1))
        await asyncio.sleep(3.0)  # let the dispatcher finish the valid messages
        rss_after = rss_mb(proc.pid)
        # one more round of 2,000 per platform: a leak keeps growing, a cache that has filled does not
        for i, (name, builder) in enumerate(builders.items()):
            extra = await blast(url, builder, 2000, seed + 20 + i, concurrency)
            per[name]["requests"] += extra["requests"]
            per[name]["status_5xx"] += extra["status_5xx"]
            per[name]["connection_closed"] += extra["connection_closed"]
        await asyncio.sleep(3.0)
        rss_final = rss_mb(proc.pid)
        samples += [round(rss_after, 1), round(rss_final, 1)]
        out_per: dict[str, dict] = {}
        total_lat: list[float] = []
        for name, builder in builders.items():
            rows = inbox_rows(folder / "fuzz.db", name)
            valid_ids = builder.valid_ids
            others = rows - valid_ids
            result = per[name]
            total_lat.extend(result["latencies"])
            out_per[name] = {"requests": result["requests"], "valid_sent": len(valid_ids),
                             "valid_stored_once": len(valid_ids & rows),
                             "invalid_stored": max(0, len(others) - builder.odd_sent),
                             "odd_sent": builder.odd_sent, "status_5xx": result["status_5xx"],
                             "connection_closed": result["connection_closed"],
                             "p50_ms": pct(result["latencies"], 0.5), "p99_ms": pct(result["latencies"], 0.99)}
        total_lat.sort()
        return {
            "requests": sum(p["requests"] for p in out_per.values()),
            "valid_sent": sum(p["valid_sent"] for p in out_per.values()),
            "valid_stored_once": sum(p["valid_stored_once"] for p in out_per.values()),
            "invalid_stored": sum(p["invalid_stored"] for p in out_per.values()),
            "status_5xx": sum(p["status_5xx"] for p in out_per.values()),
            "p99_ms": pct(total_lat, 0.99),
            "rss_growth_mb": round(rss_after - rss_before, 1),
            "rss_growth_last_round_mb": round(rss_final - rss_after, 1),
            "rss_samples_mb": samples,
            "per_platform": out_per,
            "concurrency": concurrency,
            "load_avg": [round(x, 2) for x in os.getloadavg()],
            "traceback_in_log": "Traceback" in (folder / "serve.log").read_text(errors="replace"),
            "log_bytes": (folder / "serve.log").stat().st_size,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        stop_fake.set()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=10_000, help="requests per platform (default 10,000)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = p.parse_args(argv)
    result = asyncio.run(run(args.requests, args.concurrency, args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    ok = (result["invalid_stored"] == 0 and result["status_5xx"] == 0
          and result["valid_stored_once"] == result["valid_sent"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
