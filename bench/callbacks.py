"""Callback benchmark: signed, encrypted WeCom callbacks against a real `salespulse serve`, ack latency measured.

    python -m bench.callbacks --rate 200 --seconds 20 --json

Set-up (not timed): a temporary bot.toml and database with WeCom enabled, its outbound API pointed at a local fake
WeCom (adapters/wecom/fake_api.py, in a thread of this process); `salespulse serve` started as a subprocess on
loopback and polled until /healthz answers.
Load (timed): a separate process pre-encrypts rate×seconds distinct text callbacks with wechatpy's own
WeChatCrypto (as WeCom would), then POSTs them open-loop at the given rate — message i leaves at t0 + i/rate
whether or not earlier ones were answered — and records each one's ack latency (request sent → 200 received).
Every callback is a chat message to the bot, so the server also dispatches it, answers it through the outbox and
message/send to the fake while the load runs: the latency includes that contention.

The served bot runs with bot.serve_batch = 10 (the default; --dispatch-batch overrides it): while serving, the
dispatcher handles inbox rows synchronously on the event loop in slices of serve_batch and yields between slices,
so the slice size bounds how long an ack can wait behind it.

Output: {sent, stored, lost, p50_ms, p99_ms, …}; stored = rows in the server's inbox, lost = sent − stored.
Targets on a 2-core machine: p99_ms ≤ 50, lost = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

CORP, TOKEN, SECRET, AGENT = "wwbench", "benchtoken", "bench-secret", 1000002
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
USERS = ("zhangwei", "lina", "wangjl")
PATH = "/wecom/callback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, port: int, api_base: str, dispatch_batch: int = 10) -> Path:
    path = folder / "bot.toml"
    path.write_text(f"""
[bot]
database = "{folder / 'bench.db'}"
data_dir = "{folder / 'data'}"
serve_batch = {dispatch_batch}

[server]
host = "127.0.0.1"
port = {port}
public_base_url = "http://127.0.0.1:{port}"

[wecom]
enabled = true
corp_id = "{CORP}"
agent_id = {AGENT}
secret = "{SECRET}"
token = "{TOKEN}"
encoding_aes_key = "{AES_KEY}"
callback_path = "{PATH}"
api_base_url = "{api_base}"
org_sync_cron = ""

[[org.teams]]
name = "华东一组"
manager = "m1"

[[org.people]]
id = "m1"
name = "王经理"
role = "manager"
team = "华东一组"
wecom_id = "wangjl"

[[org.people]]
id = "r1"
name = "张伟"
role = "rep"
team = "华东一组"
wecom_id = "zhangwei"

[[org.people]]
id = "r2"
name = "李娜"
role = "rep"
team = "华东一组"
wecom_id = "lina"
""", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the load generator (its own process)


def _prepare(n: int, start_s: int) -> list[tuple[str, bytes]]:
    import xmltodict
    from wechatpy.enterprise.crypto import WeChatCrypto

    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP)
    out = []
    for i in range(n):
        ts = str(start_s + i // 200)
        user = USERS[i % len(USERS)]
        text = "/帮助" if i % 10 == 0 else f"客户{i % 97}说价格太贵了，再比较一下（第{i}条）"
        inner = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                 f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content><![CDATA[{text}]]></Content><MsgId>{10_000_000 + i}</MsgId>"
                 f"<AgentID>{AGENT}</AgentID></xml>")
        nonce = f"n{i}"
        fields = xmltodict.parse(crypto.encrypt_message(inner, nonce, ts))["xml"]
        body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID>{AGENT}</AgentID>"
                f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>").encode()
        query = urlencode({"msg_signature": fields["MsgSignature"], "timestamp": ts, "nonce": nonce})
        out.append((query, body))
    return out


async def _drive(url: str, payloads: list[tuple[str, bytes]], rate: float) -> dict:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0

    async def one(query: str, body: bytes) -> None:
        nonlocal errors
        t = time.perf_counter()
        try:
            async with session.post(f"{url}?{query}", data=body) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
        except (TimeoutError, aiohttp.ClientError, OSError):
            errors += 1
            return
        latencies.append((time.perf_counter() - t) * 1000)

    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        tasks = []
        t0 = time.perf_counter()
        for i, (query, body) in enumerate(payloads):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(query, body)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return {"latencies": latencies, "statuses": statuses, "errors": errors, "elapsed_s": elapsed}


def generator(url: str, n: int, rate: float, start_s: int, out: mp.Queue) -> None:
    payloads = _prepare(n, start_s)
    out.put(("ready", None))
    out.put(("done", asyncio.run(_drive(url, payloads, rate))))


# ---------------------------------------------------------------- orchestration


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"salespulse serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("salespulse serve did not become healthy")


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def run(rate: float, seconds: float, drain_s: float = 30.0, dispatch_batch: int = 10) -> dict:
    from adapters.wecom.fake_api import FakeWeComApi

    fake = FakeWeComApi(corp_id=CORP, secret=SECRET)
    api_base = fake.start()
    n = int(rate * seconds)
    with tempfile.TemporaryDirectory(prefix="sp-bench-callbacks-") as tmp:
        folder = Path(tmp)
        port = free_port()
        config = write_config(folder, port, api_base, dispatch_batch)
        log = (folder / "serve.log").open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "-c", str(config), "serve"], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).resolve().parents[1])
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            ctx = mp.get_context("spawn")
            queue: mp.Queue = ctx.Queue()
            worker = ctx.Process(target=generator, args=(url + PATH, n, rate, int(time.time()), queue))
            worker.start()
            kind, _ = queue.get(timeout=300)
            assert kind == "ready"
            kind, result = queue.get(timeout=seconds * 10 + 120)
            worker.join(30)
            db = folder / "bench.db"
            stored = _count(db, "SELECT COUNT(*) FROM inbox WHERE platform = 'wecom'")
            deadline = time.monotonic() + drain_s
            processed = 0
            while time.monotonic() < deadline:
                processed = _count(db, "SELECT COUNT(*) FROM inbox WHERE platform = 'wecom' AND status != 'pending'")
                if processed >= stored:
                    break
                time.sleep(0.5)
            replies = len(fake.calls("/cgi-bin/message/send"))
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            fake.stop()
        lat = result["latencies"]
        acked = result["statuses"].get(200, 0)
        return {
            "sent": n,
            "stored": stored,
            "lost": n - stored,
            "p50_ms": round(_percentile(lat, 50), 2),
            "p99_ms": round(_percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else None,
            "acked_200": acked,
            "non_200": {str(k): v for k, v in result["statuses"].items() if k != 200},
            "client_errors": result["errors"],
            "rate": rate,
            "seconds": seconds,
            "achieved_rate": round(n / result["elapsed_s"], 1) if result["elapsed_s"] else None,
            "processed_after_drain": processed,
            "replies_sent_to_fake": replies,
            "dispatch_batch": dispatch_batch,
            "cpu_count": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="callbacks per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for processing afterwards")
    parser.add_argument("--dispatch-batch", type=int, default=10,
                        help="bot.dispatch_batch of the served bot: inbox rows per synchronous dispatcher pass")
    parser.add_argument("--json", action="store_true", help="print one JSON object (default: a short summary)")
    args = parser.parse_args(argv)
    result = run(args.rate, args.seconds, args.drain, args.dispatch_batch)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"sent {result['sent']}, stored {result['stored']}, lost {result['lost']}, "
              f"ack p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
