"""The outbox sender: delivers due replies through each platform's adapter.

Exponential backoff with jitter, honours the platform's retry-after, parks a reply as `dead` after
`outbox.max_attempts` (visible and re-sendable with `salespulse outbox`). A platform with no registered adapter is
left alone, so replies wait for it instead of failing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.config import OutboxSection
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Reply, Target
from store import outbox as outbox_store
from store.db import Store

log = logging.getLogger("salespulse.sender")

SendFn = Callable[[Target, Reply, str], Awaitable[str | None]]


class OutboxSender:
    def __init__(self, store: Store, clock: Clock, config: OutboxSection, senders: dict[str, SendFn],
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.senders = dict(senders)
        self.rng = rng or random.Random()
        self.sent = 0
        self.dead = 0

    def backoff_ms(self, attempts: int) -> int:
        """Delay before attempt `attempts + 1`: base·2^attempts capped, then full jitter in [50%, 100%]."""
        raw = min(self.config.max_delay_s, self.config.base_delay_s * (2 ** attempts))
        return int(raw * (0.5 + 0.5 * self.rng.random()) * 1000)

    async def send_due(self, limit: int = 50) -> int:
        rows = outbox_store.due(self.store, self.clock.now_ms(), limit, tuple(self.senders))
        for row in rows:
            await self._send_one(row)
        return len(rows)

    async def _send_one(self, row: outbox_store.OutboxRow) -> None:
        send = self.senders[row.platform]
        target, reply = Target.from_dict(row.target), Reply.from_dict(row.reply)
        try:
            ref = await send(target, reply, row.idempotency_key)
        except PlatformRetryAfter as exc:
            self._retry(row, max(int(exc.seconds * 1000), self.backoff_ms(row.attempts)), str(exc))
        except PlatformError as exc:
            if exc.permanent:
                self._dead(row, str(exc))
            else:
                self._retry(row, self.backoff_ms(row.attempts), str(exc))
        except (OSError, TimeoutError) as exc:  # network trouble is retryable
            self._retry(row, self.backoff_ms(row.attempts), f"{type(exc).__name__}: {exc}")
        else:
            outbox_store.mark_sent(self.store, row.id, self.clock.now_ms(), ref or "")
            self.sent += 1

    def _retry(self, row: outbox_store.OutboxRow, delay_ms: int, error: str) -> None:
        if row.attempts + 1 >= self.config.max_attempts:
            self._dead(row, error)
            return
        log.warning("send %s failed (attempt %d): %s", row.idempotency_key, row.attempts + 1, error)
        outbox_store.mark_retry(self.store, row.id, self.clock.now_ms() + delay_ms, error)

    def _dead(self, row: outbox_store.OutboxRow, error: str) -> None:
        log.error("reply %s parked as dead after %d attempts: %s", row.idempotency_key, row.attempts + 1, error)
        outbox_store.mark_dead(self.store, row.id, error)
        self.dead += 1

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send everything due now (demo and tests; virtual time does not move here)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.send_due()
            if n == 0:
                break
            total += n
        return total
