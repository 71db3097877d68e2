"""Test company for coaching: customers with industry / size / product, their WeCom keys, and chat messages fed
through the real pipeline (archive-style Messages, as the tagging tests do)."""

from __future__ import annotations

import dataclasses
import itertools

from bot.config import Config, JobSection, SchedulerSection
from bot.events import Actor, Message
from store import customers as customer_store
from store import leads as lead_store

HOUR = 3_600_000
MINUTE = 60_000
DAY = 24 * HOUR
_n = itertools.count(1)
REP_WECOM = {"r1": "zhangwei", "r2": "lina", "r3": "r3", "m1": "wangjl"}


def coaching_config(config: Config, data_dir: str, **coaching: object) -> Config:
    """Only the coach sweep ticks; no quiet hours unless asked."""
    return dataclasses.replace(
        config,
        bot=dataclasses.replace(config.bot, data_dir=data_dir),
        scheduler=SchedulerSection(jobs=(JobSection(name="coach_sweep", cron="*/10 * * * *"),)),
        coaching=dataclasses.replace(config.coaching, **{"quiet_hours": "", **coaching}),
    )


def add_customer(store, cid: str, name: str, owner: str, lead_id: str, created_at: int, *, industry: str = "制造业",
                 size: str = "中型", product: str = "GW-300", stage: str = "需求确认") -> None:
    with store.transaction():
        customer_store.upsert(store, cid, name, industry=industry, size=size, owner_id=owner, created_at=created_at)
        customer_store.add_key(store, "external_id", f"wm{cid}", cid)
        lead_store.upsert(store, lead_id, cid, owner, f"{name}-{product}项目", created_at, stage=stage,
                          product=product)


def set_stage(store, lead_id: str, stage: str, status: str = "open", closed_at: int | None = None) -> None:
    with store.transaction():
        store.conn.execute("UPDATE leads SET stage = ?, status = ?, closed_at = ? WHERE id = ?",
                           (stage, status, closed_at, lead_id))


def say(runtime, cid: str, rep: str, who: str, text: str, at: int, *, raw: bool = False) -> str:
    """`who` = 'customer' or 'rep': one chat line between customer `cid` and rep `rep`, accepted into the inbox
    (`raw`: with the event itself as the stored platform payload, as an archive record carries the words)."""
    n = next(_n)
    eid = f"wecom:coach{n}"
    wecom = REP_WECOM.get(rep, rep)
    if who == "customer":
        ev = Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id=f"wm{cid}"), text=text,
                     recipients=(wecom,), conversation_id=f"wm{cid}|{wecom}")
    else:
        ev = Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id=wecom), text=text,
                     recipients=(f"wm{cid}",), conversation_id=f"wm{cid}|{wecom}")
    runtime.console.ctx.accept("wecom", f"coach-{n}", ev.to_dict() if raw else {"t": "test"}, ev)
    return eid


def sent(runtime, prefix: str) -> list:
    return [d for d in runtime.console.delivered if d.key.startswith(prefix)]
