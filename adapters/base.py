"""What every adapter gets and provides.

An adapter owns the edge: verify → decrypt → challenge → parse → persist (store.inbox.accept) → ack → wake the
dispatcher. Outbound, it renders a platform-neutral Reply natively and sends it; failures are raised as
PlatformError / PlatformRetryAfter so the outbox sender can back off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.config import Config
from bot.events import Event
from bot.replies import Reply, Target
from store import inbox as inbox_store
from store.db import Store


@dataclass
class AdapterContext:
    store: Store
    config: Config
    clock: Clock
    wake: Callable[[], None]  # tell the dispatcher there is new work
    org_changed: Callable[[], None] = lambda: None  # an org sync changed people: refresh the directory cache

    def accept(self, platform: str, external_id: str, payload: Any, event: Event | None,
               unsupported_reason: str | None = None) -> bool:
        """Persist a verified payload before acking; False when it is a duplicate delivery."""
        new = inbox_store.accept(self.store, platform, external_id, payload,
                                 event.to_dict() if event is not None else None, self.clock.now_ms(),
                                 unsupported_reason=unsupported_reason)
        if new:
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
        """(check, ok, one-line explanation) for `salespulse doctor`."""
        return []
