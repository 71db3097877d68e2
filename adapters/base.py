"""What every adapter gets and provides.

An adapter owns the edge: verify → decrypt → challenge → parse → persist (store.inbox.accept) → ack → wake the
dispatcher. Outbound, it renders a platform-neutral Reply natively and sends it; failures are raised as
PlatformError / PlatformRetryAfter so the outbox sender can back off.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from adapters.refusals import Refusals
from bot.clock import Clock, from_ms, to_ms
from bot.config import Config
from bot.errors import PlatformError
from bot.events import Event
from bot.replies import Reply, Target
from bot.scheduler import parse_cron
from store import inbox as inbox_store
from store import kv
from store.db import Store

log = logging.getLogger("salespulse.adapters")


@dataclass
class AdapterContext:
    store: Store
    config: Config
    clock: Clock
    wake: Callable[[], None]  # tell the dispatcher there is new work
    org_changed: Callable[[], None] = lambda: None  # an org sync changed people: refresh the directory cache
    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (platform, event type) → new rows (/metrics)
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (platform, reason) → refusals (/metrics)

    def __post_init__(self) -> None:
        self.refusals = Refusals(self.clock, self.refused)  # every route's "no": fixed text, ref, rate-limited log

    def accept(self, platform: str, external_id: str, payload: Any, event: Event | None,
               unsupported_reason: str | None = None, *, keep: bool = False) -> bool:
        """Persist a verified payload before acking; False when it is a duplicate delivery.

        `keep` (with no event): the payload cannot be processed yet but must not be lost — it is stored as `failed`
        with the reason, so inbox retention never drops it and the admins see it (e.g. archive records waiting for
        a rotated private key; WeCom keeps the originals only a few days)."""
        new = inbox_store.accept(self.store, platform, external_id, payload,
                                 event.to_dict() if event is not None else None, self.clock.now_ms(),
                                 unsupported_reason=unsupported_reason, handoff=event,
                                 status="failed" if keep and event is None else "unsupported")
        if new:
            self.accepted[(platform, event.type_name if event is not None else "unsupported")] += 1
            self.wake()
        return new


class Adapter:
    """Base class; subclasses set `platform` and override what they support."""

    platform = ""

    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes mounted on the shared aiohttp server (callbacks, webhooks)."""
        return []

    async def start(self) -> None:
        """Open long connections (DingTalk stream, Feishu ws) and background pullers."""

    async def stop(self) -> None:
        """Close them; must return promptly."""

    async def send(self, target: Target, reply: Reply, key: str) -> str | None:
        raise NotImplementedError

    def doctor(self) -> list[tuple[str, bool, str]]:
        """(check, ok, one-line explanation) for `salespulse doctor`, in the configured locale (`self.t`)."""
        return []

    def t(self, key: str, **values: Any) -> str:
        """Admin-facing text (doctor rows) in [bot] locale."""
        from prompts import Prompts

        return Prompts(self.ctx.config.bot.locale).t(key, **values)

    def connected(self) -> bool | None:
        """Is the long connection (DingTalk stream, Feishu ws) up? None when this adapter holds none (/readyz)."""
        return None


def org_synced(ctx: AdapterContext, last_run_key: str, platform: str, result: Any) -> None:
    """After a successful org sync: remember when (for run_on_cron), refresh the directory cache, log the counts."""
    kv.put(ctx.store, last_run_key, str(ctx.clock.now_ms()))
    ctx.org_changed()
    log.info("%s org sync: %s", platform, result)


def next_cron_run_ms(ctx: AdapterContext, cron: str, last_run_key: str) -> int:
    """When a periodic adapter job is next due: now if it never ran (no `last_run_key` in kv), else the cron's
    next fire time after the recorded last run."""
    last = kv.get(ctx.store, last_run_key)
    if last is None:
        return ctx.clock.now_ms()
    trigger = parse_cron(cron, ctx.config.scheduler.timezone)
    nxt = trigger.get_next_fire_time(None, from_ms(int(last)) + timedelta(seconds=1))
    return to_ms(nxt) if nxt is not None else int(last) + 86_400_000


async def run_on_cron(ctx: AdapterContext, cron: str, last_run_key: str, job: Callable[[], Awaitable[Any]],
                      name: str, retry_s: float = 600.0) -> None:
    """Run an adapter's periodic job (org sync) at once if it never ran, then on its cron schedule, until cancelled.

    The job records its own success under `last_run_key`; a failure (platform or network) is logged and retried
    after `retry_s`, so one bad night does not stop the sync for good.
    """
    while True:
        wait_ms = next_cron_run_ms(ctx, cron, last_run_key) - ctx.clock.now_ms()
        await asyncio.sleep(max(wait_ms / 1000, 0.0))
        try:
            await job()
        except (PlatformError, OSError, TimeoutError) as exc:
            log.warning("%s failed: %s; retrying in %.0f s", name, exc, retry_s)
            await asyncio.sleep(retry_s)
