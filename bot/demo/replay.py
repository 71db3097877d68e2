"""Replaying the demo company through the real pipeline in virtual time.

Every delivery goes through AdapterContext.accept (inbox → dispatcher → router → handlers → outbox → sender) —
archive records through adapters.wecom.ingest.ingest_record, as the live archive puller hands them over — the
clock is a VirtualClock moved with Runtime.advance_to so scheduler Ticks fire at their due times between events,
and CRM changes (lead created / stage / won / lost) are written to store.leads at their time, as are the tracked
links reps make with `/链接` before sending them. Deliveries between
two stops are accepted in one transaction: the inbox rows are the same, the run is much faster.

What the bot sends is captured with its virtual send time for the transcript. Nothing here reads the wall clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from adapters.wecom.ingest import ingest_record
from bot.app import Runtime
from bot.clock import VirtualClock
from bot.config import Config, JobSection, OrgSection
from bot.demo.activity import LINK_BASE, Activity, Feed, LeadOp, LinkOp
from bot.demo.company import Company
from bot.demo.seed import load_hooks, run_hooks, write_customers, write_directory, write_lead
from bot.replies import Reply, Target
from prompts import Prompts
from store import leads as lead_store
from store import links as links_store
from store.db import Store

# kv key the demo writes into its database. Why: the demo company is the whole org of that database, so a later
# `salespulse chat --db demo-out/…` run next to a real bot.toml must not add bot.toml's [org] people to it.
DEMO_MARK = "demo.seed"

SENDER_PLATFORMS = ("console", "wecom", "dingtalk", "feishu")


def coarsen_cron(cron: str, every_min: int) -> str:
    """Jobs that run more often than every `every_min` minutes run every `every_min` minutes in the demo.

    The silence and missed-call sweeps run every minute in production; over 90 virtual days that is 260k stops.
    Every 10 minutes keeps the story (alerts land within 10 minutes of their deadline) and the run fast.
    """
    fields = cron.split()
    if len(fields) != 5:
        return cron
    minute = fields[0]
    step = 1 if minute == "*" else int(minute[2:]) if minute.startswith("*/") and minute[2:].isdigit() else None
    if step is not None and step < every_min:
        fields[0] = f"*/{every_min}"
    return " ".join(fields)


def demo_config(base: Config, database: str, data_dir: str, every_min: int = 10) -> Config:
    """The demo's config: the given (default) config with its own database and data folder, the org left to
    the generator, frequent scheduler jobs coarsened, and debrief cards off during the replay."""
    jobs = tuple(dataclasses.replace(j, cron=coarsen_cron(j.cron, every_min)) if isinstance(j, JobSection) else j
                 for j in base.scheduler.jobs)
    return dataclasses.replace(
        base,
        bot=dataclasses.replace(base.bot, database=database, data_dir=data_dir),
        # the tracked links reps send in the demo's chats (bot.demo.activity.LINK_BASE) and the ones /links lists
        server=dataclasses.replace(base.server, public_base_url=LINK_BASE.removesuffix("/d/")),
        scheduler=dataclasses.replace(base.scheduler, jobs=jobs),
        org=OrgSection(),
        # 90 days of generated meetings would each send a debrief card nobody in the generator answers; the story
        # at the end turns debriefs on and plays one meeting → voice debrief (bot/demo/story.py)
        debrief=dataclasses.replace(base.debrief, enabled=False),
        # the retail division's planogram (bot/demo/retail.py) lives in the demo's data folder, not in the cwd
        stores=dataclasses.replace(base.stores, planogram_dir=str(Path(data_dir) / "planograms")),
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """One reply the bot delivered: when (virtual), to whom, what (rendered as on the console)."""

    at: int
    target: Target
    key: str
    text: str
    reply: Reply


@dataclass
class ReplayStats:
    accepted: int = 0
    duplicates: int = 0
    unsupported: int = 0
    lead_changes: int = 0
    links: int = 0
    commands: int = 0
    hooks: list[str] = field(default_factory=list)


class DemoDriver:
    """Owns the runtime of one demo run. `prepare()` → `await replay()` → `await session(script)` → `close()`."""

    def __init__(self, config: Config, store: Store, company: Company, activity: Activity,
                 on_sent: Callable[[Sent], None] | None = None) -> None:
        self.config = config
        self.store = store
        self.company = company
        self.activity = activity
        self.on_sent = on_sent
        self.sent: list[Sent] = []
        self.stats = ReplayStats()
        self.clock = VirtualClock(company.start)
        self.hooks = load_hooks()  # import them before the long replay: a broken hook fails fast
        self.runtime: Runtime | None = None
        self.console: ConsoleAdapter | None = None

    def prepare(self) -> Runtime:
        """Directory, customers and the leads that exist at the window's start, then the runtime (whose handler
        setup() functions see the org)."""
        write_directory(self.store, self.company)
        write_customers(self.store, self.company)
        rt = Runtime(config=self.config, store=self.store, clock=self.clock, deferred_in_thread=False)
        console = ConsoleAdapter(ctx=AdapterContext(self.store, self.config, self.clock, rt.wake),
                                 prompts=Prompts(self.config.bot.locale))

        async def send(target: Target, reply: Reply, key: str) -> str:
            ref = await console.send(target, reply, key)
            item = Sent(self.clock.now_ms(), target, key, console.delivered[-1].text, reply)
            self.sent.append(item)
            if self.on_sent is not None:
                self.on_sent(item)
            return ref

        for platform in SENDER_PLATFORMS:
            rt.add_sender(platform, send)
        self.runtime, self.console = rt, console
        return rt

    async def replay(self, progress: Callable[[int], None] | None = None) -> ReplayStats:
        rt, store, clock, company = self._rt(), self.store, self.clock, self.company
        ctx = self._console().ctx
        await rt.settle()  # registers the scheduler jobs at the window's start
        next_due = rt.scheduler.next_due_at()
        batch: list[Feed] = []

        def flush() -> None:
            if not batch:
                return
            with store.transaction():
                for f in batch:
                    clock.set(f.at)
                    if f.platform == "wecom":  # exactly what the archive puller does with a decrypted record
                        outcome = ingest_record(ctx, f.payload, f.at)
                        new = outcome != "duplicate"
                    else:
                        new = ctx.accept(f.platform, f.external_id, f.payload, f.event,
                                         unsupported_reason=f.unsupported)
                    self.stats.accepted += new
                    self.stats.duplicates += not new
                    self.stats.unsupported += f.unsupported is not None
            batch.clear()

        for n, item in enumerate(self.activity.items, 1):
            must_stop = next_due is not None and next_due <= item.at
            if isinstance(item, LeadOp) and item.op == "close":
                must_stop = True  # the lead's own events are processed while it is still open
            if must_stop:
                flush()
                await rt.advance_to(item.at)
                next_due = rt.scheduler.next_due_at()
            if isinstance(item, LeadOp):
                flush()
                clock.set(item.at)
                with store.transaction():
                    write_lead(store, company.lead(item.lead_id), item.at)
                    if item.touched_at:
                        lead_store.touch(store, item.lead_id, item.touched_at)
                self.stats.lead_changes += 1
            elif isinstance(item, LinkOp):  # what `/链接` writes when the rep makes the link
                flush()
                clock.set(item.at)
                with store.transaction():
                    links_store.create(store, item.code, item.lead_id, item.customer_id, item.document,
                                       item.document, "file", item.created_by, item.at)
                self.stats.links += 1
            else:
                batch.append(item)
            if progress is not None and n % 200 == 0:
                progress(n)
        flush()
        await rt.advance_to(company.now)
        if progress is not None:
            progress(len(self.activity.items))
        rt.services.directory.refresh()
        self.stats.hooks = run_hooks(store, company, self.hooks)
        return self.stats

    async def session(self, script: list[tuple[str, str]], step_ms: int = 60_000) -> None:
        """Scripted chat at the end: each (person id, line) is typed a minute after the previous one."""
        rt, console = self._rt(), self._console()
        for person_id, line in script:
            await rt.advance_to(self.clock.now_ms() + step_ms)
            console.type_line(person_id, line)
            self.stats.commands += 1
            await rt.settle()

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()

    def _rt(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("prepare() first")
        return self.runtime

    def _console(self) -> ConsoleAdapter:
        if self.console is None:
            raise RuntimeError("prepare() first")
        return self.console
