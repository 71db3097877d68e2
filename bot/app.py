"""Wiring: the one place that lists every handler router and every platform adapter, and the runtime loops.

Order of ROUTER_MODULES matters: observers run in this order for every event, then the first matching handler
answers. Help comes last so it only catches what nobody else claimed.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.context import Services
from bot.deferred import DeferredRunner, LaneLimits
from bot.dispatcher import Dispatcher
from bot.media import MediaFetchers
from bot.org import Directory, load_org_section
from bot.router import CompiledRouter, Router
from bot.scheduler import TickScheduler
from bot.sender import OutboxSender
from prompts import Prompts
from store import inbox as inbox_store
from store.db import Store

log = logging.getLogger("salespulse.app")

DAY_MS = 86_400_000
PRUNE_EVERY_MS = 3_600_000  # how often `serve` applies bot.inbox_retention_days
PRUNE_CHUNK = 2_000  # rows deleted per transaction; the loop yields between chunks so HTTP acks stay fast

# Every capability, in routing order. A new capability is one line here.
ROUTER_MODULES: tuple[str, ...] = (
    "handlers.tagging",
    "handlers.conversation.observe",
    "handlers.coaching",
    "handlers.timeline",
    "handlers.silence",
    "handlers.baseline",
    "handlers.calls",
    "handlers.links",
    "handlers.digests",
    "handlers.forecast",
    "handlers.forecast.approval",  # 批准 / 驳回 on a rep's large forecast change
    "handlers.stores",
    "handlers.views",
    "handlers.practice",
    "handlers.debrief",
    "handlers.voice",  # after every flow that answers voice transcripts (debriefs, practice): its answer is the fallback
    "handlers.help",
)


# Platform adapters and other edges, built by `salespulse serve` when their bot.toml section is enabled.
# name: "module:Class"; the class takes (AdapterContext) and follows adapters/base.py.
ADAPTERS: dict[str, str] = {
    "telephony": "adapters.telephony:TelephonyAdapter",
    "links": "adapters.links:LinkAdapter",
    "stores": "adapters.wifi:WifiProbeAdapter",  # the Wi-Fi probe webhook, served when [stores] wifi_token is set
    "dingtalk": "adapters.dingtalk.adapter:DingTalkAdapter",
    "feishu": "adapters.feishu.adapter:FeishuAdapter",
    "wecom": "adapters.wecom.adapter:WeComAdapter",
}


def handler_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in ROUTER_MODULES]


def build_router(modules: list[ModuleType]) -> CompiledRouter:
    root = Router("root")
    root.include(*(m.router for m in modules))
    return root.compile()


@dataclass
class Runtime:
    """Everything one bot process runs: dispatcher, deferred jobs, outbox sender and tick scheduler."""

    config: Config
    store: Store
    clock: Clock
    senders: dict[str, Callable[..., Any]] = field(default_factory=dict)
    deferred_in_thread: bool = True

    def __post_init__(self) -> None:
        load_org_section(self.store, self.config.org)
        self.services = Services(store=self.store, config=self.config, clock=self.clock,
                                 directory=Directory(self.store), prompts=Prompts(self.config.bot.locale))
        # where handlers fetch a message's media (voice notes); adapters and the console register their platform
        self.media: MediaFetchers = self.services.extras.setdefault("media", MediaFetchers())
        modules = handler_modules()
        for module in modules:
            setup = getattr(module, "setup", None)
            if setup is not None:
                setup(self.services)
        self.router = build_router(modules)
        self.dispatcher = Dispatcher(self.services, self.router)
        # handlers' housekeeping (`prune(services, now_ms)`, e.g. voice-note retention), run with the inbox's
        self._pruners = [m.prune for m in modules if callable(getattr(m, "prune", None))]
        lanes = {"speech": LaneLimits(workers=self.config.asr.workers, in_flight=self.config.asr.queue_size)}
        self.deferred = DeferredRunner(self.services, self.router.jobs, in_thread=self.deferred_in_thread,
                                       lanes=lanes, on_events=self.wake)
        self.sender = OutboxSender(self.store, self.clock, self.config.outbox, self.senders)
        self.scheduler = TickScheduler(self.store, self.clock, self.config.scheduler)
        # jobs a capability asks for in its setup() (e.g. the store sweep once stores exist), unless bot.toml lists
        # the job itself in [[scheduler.jobs]] (then its cron and `enabled` there win)
        configured = {job.name for job in self.config.scheduler.jobs}
        for name, cron in self.services.extras.get("scheduler.jobs", ()):
            if name not in configured:
                self.scheduler.add_job(name, cron)
        self._wake = asyncio.Event()
        self._pruned_at: int | None = None

    def wake(self) -> None:
        self._wake.set()

    def add_sender(self, platform: str, fn: Callable[..., Any]) -> None:
        self.senders[platform] = fn
        self.sender.senders[platform] = fn

    async def step(self) -> int:
        """One pass of everything that is due now; returns how much work it did."""
        work = self.scheduler.emit_due()
        work += self.dispatcher.drain()
        work += await self.deferred.run_pending()
        work += await self.sender.drain()
        return work

    async def _serve_step(self) -> None:
        """Like step(), but yields to the event loop between dispatcher batches so HTTP acks stay fast."""
        self.scheduler.emit_due()
        while self.dispatcher.process_pending(self.config.bot.serve_batch) > 0:
            await asyncio.sleep(0)
        await self.deferred.run_pending(wait=False)  # background lanes (speech) report back through wake()
        await self.sender.send_due()
        await self.prune_inbox()

    async def prune_inbox(self) -> int:
        """Apply `bot.inbox_retention_days` (at most once an hour; 0 or less keeps every payload for ever).

        Why here: the setting existed but nothing ever pruned, so raw payloads piled up without bound. Only
        processed and unsupported rows go (store.inbox.prune); pending and failed rows stay. Handlers' own
        retention (`prune(services, now_ms)` in their module, e.g. voice notes) runs on the same hourly beat.
        Returns how many inbox rows went.
        """
        now = self.clock.now_ms()
        days = self.config.bot.inbox_retention_days
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_MS:
            return 0
        self._pruned_at = now
        total = 0
        while days > 0:
            with self.store.transaction():
                n = inbox_store.prune(self.store, now - days * DAY_MS, PRUNE_CHUNK)
            total += n
            if n < PRUNE_CHUNK:
                break
            await asyncio.sleep(0)
        if total:
            log.info("inbox retention: dropped %d payloads older than %d days", total, days)
        for prune in self._pruners:
            try:
                prune(self.services, now)
            except Exception:  # housekeeping must not stop serving; logged with its traceback
                log.exception("retention step %s failed", getattr(prune, "__module__", prune))
            await asyncio.sleep(0)
        return total

    async def settle(self, max_rounds: int = 100) -> None:
        """Step until nothing is left to do at the current (virtual) time."""
        for _ in range(max_rounds):
            if await self.step() == 0:
                return

    async def advance_to(self, target_ms: int) -> None:
        """Virtual time: move the clock to `target_ms`, stopping at every scheduled due time on the way."""
        set_clock = getattr(self.clock, "set", None)
        if set_clock is None:
            raise TypeError("advance_to needs a VirtualClock")
        while True:
            nxt = self.scheduler.next_due_at()
            if nxt is None or nxt > target_ms:
                break
            set_clock(nxt)
            await self.settle()
        set_clock(target_ms)
        await self.settle()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The serve loop: wake on new inbox rows, on the scheduler's poll, or every outbox poll interval."""
        poll = min(self.config.outbox.poll_interval_s, self.config.scheduler.poll_interval_s)
        while not stop.is_set():
            try:
                await self._serve_step()
            except Exception:  # keep serving; the error is logged with its traceback
                log.exception("runtime step failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll)
            except TimeoutError:
                pass
            # let the event loop serve HTTP acks between batches
            await asyncio.sleep(0)

    def rule_pack_version(self) -> int:
        """How many times the rule packs have been (re)loaded in this process (0 before the first load)."""
        tagger = self.services.extras.get("tagging")
        return tagger.rules.generation if tagger is not None else 0

    def close(self) -> None:
        self.deferred.close()
