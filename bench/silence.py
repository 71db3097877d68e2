"""Silence-sweep benchmark: one sweep over a database of 1 M leads and 10 M events.

    python -m bench.silence --leads 1000000 --json

Build (once, cached under .bench-cache/silence-<leads>-<events_per_lead>.db, reused while the build marker
matches): 2,000 reps in 200 teams, one customer and one open lead per lead, `events_per_lead` events per lead
(rep and customer turns alternating) spread uniformly over the 180 days before T_END. The silence state is the
one earlier sweeps would have left one minute before T_END (wall-clock 72 h: every deadline computed, every lead
silent by then alerted); the events of the last minute are then applied through store.leads.touch, so the
triggers mark those leads for recomputation exactly as live activity does. Nothing is invented for the sweep:
what it finds is what a real minute of this dataset leaves behind (about 40 touched leads, a few dozen newly
silent ones).

Sweep (timed, in a fresh subprocess so peak RSS is the sweep process's own): handlers.silence.sweep at T_END
with a real Context — recompute the changed deadlines, alert every newly silent lead to rep + manager with the
customer's last three quotes (outbox rows), record the alert. It runs inside a transaction that is rolled back
after timing so the cached database stays reusable; `runs` sweeps are timed, sweep_ms is their median and
sweep_ms_first the first (cold SQLite cache). peak_rss_mb is the subprocess's own peak (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import VirtualClock, to_ms
from bot.config import load_config
from bot.context import Context, Services
from bot.events import Actor, Role, Tick
from bot.org import Directory
from prompts import Prompts
from store import events as event_store
from store import kv
from store import leads as lead_store
from store import org as org_store
from store import silence as silence_store
from store.db import Store, open_store

T_END = to_ms(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
HOUR = 3_600_000
SPAN = 180 * 24 * HOUR
CHUNK = 50_000
REPS, TEAMS = 2000, 200
_VERSION = "v1"


def db_path(cache: Path, leads: int, per_lead: int) -> Path:
    return cache / f"silence-{leads}-{per_lead}.db"


def build(path: Path, leads: int, per_lead: int, seed: int = 7) -> dict:
    """Create the benchmark database (minutes for 1 M leads; done once)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    store = open_store(path)
    conn = store.conn
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    rng = random.Random(seed)
    with store.transaction():
        for t in range(TEAMS):
            org_store.upsert_team(store, f"t{t}", f"团队{t}", f"m{t}")
            org_store.upsert_person(store, f"m{t}", f"主管{t}", "manager", f"t{t}")
        for r in range(REPS):
            org_store.upsert_person(store, f"r{r}", f"销售{r}", "rep", f"t{r % TEAMS}")
    services = _services(store, T_END)
    from handlers import silence

    silence.setup(services)  # records the settings fingerprint, so the sweep process keeps the deadlines
    late: list[tuple[str, int]] = []  # activity of the last minute, applied after the steady state
    quiet_until = T_END - 60_000
    n_events = 0
    for base in range(0, leads, CHUNK):
        customers, lead_rows, events = [], [], []
        for i in range(base, min(leads, base + CHUNK)):
            lead_id, cid, owner = f"L{i}", f"C{i}", f"r{i % REPS}"
            times = sorted(T_END - rng.randrange(SPAN) for _ in range(per_lead))
            created = times[0] - rng.randrange(7 * 24 * HOUR)
            early = [t for t in times if t <= quiet_until]
            late.extend((lead_id, t) for t in times if t > quiet_until)
            customers.append((cid, f"客户{i}", owner, created))
            lead_rows.append((lead_id, cid, owner, f"商机{i}", created, early[-1] if early else None))
            for k, at in enumerate(times):
                customer_turn = k % 2 == 1
                events.append((f"b:{i}:{k}", "message", "wecom", at, f"wm{i}" if customer_turn else owner,
                               "" if customer_turn else owner, "customer" if customer_turn else "rep", cid, lead_id,
                               "text", f"客户第{k}条消息：交期和价格再确认一下" if customer_turn else f"跟进记录{k}",
                               "", "{}"))
        with store.transaction():
            silence_store.bulk_customers_and_leads(store, customers, lead_rows)
            event_store.insert_many_floor(conn, events, [])
        n_events += len(events)
    with store.transaction():
        alerted = silence_store.bulk_steady_state(store, 72 * HOUR, quiet_until)
        for lead_id, at in late:
            lead_store.touch(store, lead_id, at)
        kv.put(store, "bench.silence.built", marker(leads, per_lead))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    store.close()
    return {"build_s": round(time.perf_counter() - started, 1), "events": n_events, "already_alerted": alerted,
            "touched_last_minute": len({lead for lead, _ in late})}


def _services(store: Store, now_ms: int) -> Services:
    config = load_config(None)
    return Services(store=store, config=config, clock=VirtualClock(now_ms), directory=Directory(store),
                    prompts=Prompts(config.bot.locale))


def marker(leads: int, per_lead: int) -> str:
    return f"{_VERSION}:{leads}:{per_lead}:{T_END}"


def is_built(path: Path, leads: int, per_lead: int) -> bool:
    if not path.exists():
        return False
    store = open_store(path)
    try:
        return kv.get(store, "bench.silence.built") == marker(leads, per_lead)
    finally:
        store.close()


def sweep_once(store: Store, services: Services, now_ms: int) -> tuple[float, int, int]:
    """One timed sweep in a transaction that is rolled back: (ms, messages queued, deadlines recomputed)."""
    from handlers import silence

    tick = Tick(event_id=f"tick:silence_sweep:{now_ms}", platform="scheduler", occurred_at=now_ms,
                actor=Actor(platform_id="scheduler", role=Role.BOT), job="silence_sweep", due_at=now_ms)
    ctx = Context(services, tick)
    store.conn.execute("BEGIN IMMEDIATE")
    try:
        pending = len(silence_store.pending(store, 1_000_000))
        started = time.perf_counter()
        sent = silence.sweep(ctx, now_ms)
        elapsed = (time.perf_counter() - started) * 1000
    finally:
        store.conn.execute("ROLLBACK")
    return elapsed, sent, pending


def run_sweep(path: Path, runs: int) -> dict:
    """In the child process: open the cached database and time `runs` sweeps at T_END."""
    store = open_store(path)
    services = _services(store, T_END)
    from handlers import silence

    silence.setup(services)
    timings, sent, pending = [], 0, 0
    for _ in range(runs):
        ms, sent, pending = sweep_once(store, services, T_END)
        timings.append(ms)
    plans = silence_store.explain_sweep(store, T_END)
    store.close()
    return {"sweep_ms": round(statistics.median(timings), 2), "sweep_ms_first": round(timings[0], 2),
            "messages_queued": sent, "deadlines_recomputed": pending,
            "peak_rss_mb": peak_rss_mb(), "plans": plans}


def peak_rss_mb() -> float:
    """This process's peak resident set: VmHWM, which starts afresh at exec (ru_maxrss would also count the
    parent's peak, kept across fork + exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.silence", description=__doc__.split("\n")[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--events-per-lead", type=int, default=10)
    ap.add_argument("--cache", default=".bench-cache")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--sweep-only", default="", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args(argv)
    if args.sweep_only:
        print(json.dumps(run_sweep(Path(args.sweep_only), args.runs)))
        return 0
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = db_path(cache, args.leads, args.events_per_lead)
    built: dict = {"reused_cache": True}
    if args.rebuild or not is_built(path, args.leads, args.events_per_lead):
        if not args.json:
            print(f"building {path} ({args.leads} leads × {args.events_per_lead} events) …", file=sys.stderr)
        built = {"reused_cache": False, **build(path, args.leads, args.events_per_lead)}
    child = subprocess.run([sys.executable, "-m", "bench.silence", "--sweep-only", str(path), "--runs",
                            str(args.runs)], capture_output=True, text=True, check=False)
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return child.returncode
    swept = json.loads(child.stdout.strip().splitlines()[-1])
    store = open_store(path)
    leads, events = lead_store.count(store), event_store.count(store)
    store.close()
    result = {"leads": leads, "events": events, "sweep_ms": swept["sweep_ms"], "peak_rss_mb": swept["peak_rss_mb"],
              "sweep_ms_first": swept["sweep_ms_first"], "messages_queued": swept["messages_queued"],
              "deadlines_recomputed": swept["deadlines_recomputed"], "targets": {"sweep_ms": 100, "peak_rss_mb": 300},
              "query_plans": swept["plans"], **built}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
