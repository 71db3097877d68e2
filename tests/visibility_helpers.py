"""Test data for heatmap, silence and baseline tests: customers, leads and tagged events written straight to the
store the way handlers/tagging.py records them (event row, tag rows, store.leads.touch)."""

from __future__ import annotations

import dataclasses
import itertools
import json

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.config import Config, JobSection, SchedulerSection
from prompts import Prompts
from store import customers as customer_store
from store import events as event_store
from store import leads as lead_store

HOUR = 3_600_000
MINUTE = 60_000
DAY = 24 * HOUR
_seq = itertools.count(1)


def visibility_config(config: Config, data_dir: str, **silence: object) -> Config:
    """Only the silence sweep ticks (every minute), charts under `data_dir`, optional [silence] overrides."""
    return dataclasses.replace(
        config,
        bot=dataclasses.replace(config.bot, data_dir=data_dir),
        scheduler=SchedulerSection(jobs=(JobSection(name="silence_sweep", cron="* * * * *"),)),
        silence=dataclasses.replace(config.silence, **silence),
    )


def make_runtime(store, clock, config) -> Runtime:
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.console = console
    return rt


def add_lead(store, lead_id: str, owner: str | None, created_at: int, *, customer: str = "", title: str = "",
             status: str = "open") -> str:
    cid = f"c-{lead_id}"
    with store.transaction():
        customer_store.upsert(store, cid, customer or f"客户{lead_id}", owner_id=owner, created_at=created_at)
        lead_store.upsert(store, lead_id, cid, owner, title or f"商机{lead_id}", created_at, status=status)
    return lead_id


def record(store, lead_id: str, at: int, *, person: str = "", role: str = "rep", text: str = "",
           kind: str = "text", tags: tuple[tuple[str, str, float], ...] = (("跟进", "销售动作", 1.0),)) -> int:
    """One event on a lead, tagged like the rule engine would, touching the lead when it is a recognisable action."""
    n = next(_seq)
    cid = store.conn.execute("SELECT customer_id FROM leads WHERE id = ?", (lead_id,)).fetchone()[0]
    with store.transaction():
        rowid = event_store.insert(store, (f"test:{n}", "message", "wecom", at, person or f"wm{cid}", person, role,
                                           cid, lead_id, kind, text, "", json.dumps({})))
        event_store.insert_tags(store, [(rowid, tag, cat, w, "test", lead_id, at) for tag, cat, w in tags])
        if tags:
            lead_store.touch(store, lead_id, at)
    return rowid


def alerts_sent(runtime) -> list:
    """Silence alerts delivered, one per (alert, person): an alert that went out inside a grouped card
    (bot/pushes.py) is listed under its own key with the card's target and text."""
    out = []
    for d in runtime.console.delivered:
        if d.key.startswith("silence:"):
            out.append(d)
        elif d.key.startswith("alerts:"):
            keys = runtime.store.conn.execute(
                "SELECT key FROM push_ledger WHERE card = ? AND key LIKE 'silence:%' ORDER BY key", (d.key,))
            out.extend(dataclasses.replace(d, key=k) for (k,) in keys)
    return out
