"""Similar-scene push benchmark: latency from a live customer objection's arrival to the push in the outbox, with
100,000 snippets in the library.

    python -m bench.coach --json            # {"snippets", "pushes", "p50_ms", "p99_ms", …}

Build (not timed): a company of 3 teams × 10 reps, 3,000 customers over 制造业 / 零售连锁 / SaaS in three sizes with
one open lead each (product lines per industry), and `--snippets` snippets spread over the seven objections and
their strategies, written in bulk with outcomes drawn per rep and strategy (some reps better than others), then
the rank table computed as the sweep would (`rank_refresh_s` reports how long that took).

Timed, per event: a customer's WeCom chat line carrying an objection is accepted into the inbox exactly as the
archive puller does (AdapterContext.accept: raw payload + event, unique key, commit), then the real Dispatcher of
a bot.app.Runtime with every router in bot.app.ROUTER_MODULES drains it (tagging stores and tags it, the
classifier labels it, coaching ranks and writes the push to the outbox, all in the dispatcher's transaction),
and the outbox row is checked. Each event is on another lead, so the per-lead rate limit never hides the work.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from adapters.base import AdapterContext
from bot.app import Runtime
from bot.clock import VirtualClock
from bot.config import OrgSection, PersonSection, TeamSection, load_config
from bot.events import Actor, Message
from handlers.coaching import library
from handlers.conversation.labels import OBJECTIONS, STRATEGIES
from store import coaching as coach_store
from store import customers as customer_store
from store import leads as lead_store
from store.db import open_store

T_NOW = 1_780_000_000_000  # 2026-05-28, a Thursday afternoon in Shanghai
DAY = 86_400_000
INDUSTRIES = {"制造业": ("GW-300", "QC-8", "EMS-2"), "零售连锁": ("POS-5", "会员云"), "SaaS": ("CRM标准版", "客服云")}
SIZES = ("小型", "中型", "大型")
LINES = {
    "price_inquiry": ("{n}台的话单价多少钱？", "这个大概什么价位"),
    "price_objection": ("太贵了，预算不够", "价格能不能再便宜点，老板说今年钱紧"),
    "competitor": ("别家便宜两成", "人家友商报价比你们低"),
    "delivery_concern": ("三周真能交货吗", "交期能保证吗，我们月底要用"),
    "quality_trust": ("你们系统稳定吗，有点担心", "质量靠谱吗"),
    "hesitation": ("我们再比较一下", "要跟老板商量商量"),
    "after_sales": ("坏了售后怎么处理", "保修几年"),
}


def org(teams: int, reps: int) -> OrgSection:
    team_rows = tuple(TeamSection(name=f"销售{t + 1}组", manager=f"m{t}") for t in range(teams))
    people = [PersonSection(id=f"m{t}", name=f"经理{t}", role="manager", team=f"销售{t + 1}组", wecom_id=f"m{t}")
              for t in range(teams)]
    people += [PersonSection(id=f"r{i}", name=f"销售{i}", role="rep", team=f"销售{i % teams + 1}组", wecom_id=f"r{i}")
               for i in range(reps)]
    return OrgSection(teams=team_rows, people=tuple(people))


def build(store, rt: Runtime, n_snippets: int, customers: int, reps: int, rng: random.Random) -> float:
    team_of = {p.id: p.team_id for p in rt.services.directory.people.values()}
    facts = []
    with store.transaction():
        for c in range(customers):
            industry = rng.choice(list(INDUSTRIES))
            size, product = rng.choice(SIZES), rng.choice(INDUSTRIES[industry])
            owner = f"r{c % reps}"
            cid = f"C{c:05d}"
            customer_store.upsert(store, cid, f"客户{c:05d}有限公司", industry=industry, size=size, owner_id=owner)
            customer_store.add_key(store, "external_id", f"wm{cid}", cid)
            lead_store.upsert(store, f"L{c:05d}", cid, owner, f"项目{c}", T_NOW - 200 * DAY, stage="需求确认",
                              product=product)
            facts.append((cid, industry, size, product, owner))
    skill = {(f"r{i}", s): rng.uniform(0.3, 0.8) for i in range(reps) for s in STRATEGIES}
    rows, cells = [], []
    for i in range(1, n_snippets + 1):
        cid, industry, size, product, owner = facts[rng.randrange(customers)]
        objection = rng.choice(OBJECTIONS)
        strategy = rng.choice(STRATEGIES)
        at = T_NOW - rng.randrange(15, 365) * DAY
        outcome = "advanced" if rng.random() < skill[(owner, strategy)] else rng.choice(("stalled", "lost"))
        text = rng.choice(LINES[objection]).format(n=rng.randint(2, 50))
        rows.append((i, f"bench:{i}", "chat", f"L{cid[1:]}", cid, team_of.get(owner) or "", owner, objection, strategy,
                     text, "我们去年帮一家同行客户把交付周期缩短了三成，他们现在每月复购。", "他们现在每月复购。",
                     "[]", float(rng.randint(5, 600)), "", industry, size, product, at, "需求确认", at, outcome, at))
        cells.append((i, objection, strategy, owner, int(outcome == "advanced"), industry, at, 0))
    with store.transaction():
        coach_store.insert_snippets_bulk(store, rows, cells)
    t0 = time.perf_counter()
    with store.transaction():
        library.refresh_rank(store)
    return time.perf_counter() - t0


def run(n_snippets: int, events: int, seed: int = 11) -> dict:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="sp-bench-coach-"))
    base = load_config(None)
    config = dataclasses.replace(base, org=org(3, 30),
                                 bot=dataclasses.replace(base.bot, database=str(tmp / "b.db"), data_dir=str(tmp)),
                                 coaching=dataclasses.replace(base.coaching, quiet_hours=""))
    store = open_store(tmp / "b.db")
    clock = VirtualClock(T_NOW)
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    ctx = AdapterContext(store, config, clock, rt.wake)
    customers = 3000
    refresh_s = build(store, rt, n_snippets, customers, 30, rng)
    latencies: list[float] = []
    pushes = 0
    for k in range(events):
        c = k % customers
        cid = f"C{c:05d}"
        owner = f"r{c % 30}"
        objection = OBJECTIONS[k % len(OBJECTIONS)]
        text = rng.choice(LINES[objection]).format(n=rng.randint(2, 50))
        at = T_NOW + k * 1000
        clock.set(at)
        ev = Message(event_id=f"wecom:bench{k}", platform="wecom", occurred_at=at, actor=Actor(platform_id=f"wm{cid}"),
                     text=text, recipients=(owner,), conversation_id=f"wm{cid}|{owner}")
        t0 = time.perf_counter()
        ctx.accept("wecom", f"bench-{k}", {"msg": text}, ev)
        rt.dispatcher.drain()
        found = store.conn.execute("SELECT COUNT(*) FROM outbox WHERE source_event_id = ? AND idempotency_key LIKE"
                                   " 'coach:%'", (ev.event_id,)).fetchone()[0]
        latencies.append((time.perf_counter() - t0) * 1000)
        pushes += found
    rt.close()
    store.close()
    latencies.sort()
    return {"snippets": n_snippets, "pushes": pushes, "events": events,
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "max_ms": round(latencies[-1], 2), "rank_refresh_s": round(refresh_s, 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--snippets", type=int, default=100_000)
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = run(args.snippets, args.events, args.seed)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for k, v in result.items():
            print(f"{k:>16}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
