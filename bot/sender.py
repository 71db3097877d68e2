"""The outbox sender: delivers due replies through each platform's adapter.

Exponential backoff with jitter, honours the platform's retry-after, parks a reply as `dead` after
`outbox.max_attempts` (visible and re-sendable with `salespulse outbox`). A platform with no registered adapter is
left alone, so replies wait for it instead of failing.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

from bot.clock import Clock
from bot.config import OutboxSection
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Reply, Target
from store import outbox as outbox_store
from store.db import Store

log = logging.getLogger("salespulse.sender")

SendFn = Callable[[Target, Reply, str], Awaitable[str | None]]

# The longest wait a platform's retry-after may impose (1 day). Why: a bogus or hostile header ("Retry-After:
# 99999999999") would otherwise park a reply for centuries or overflow SQLite's 64-bit next_attempt_at.
MAX_RETRY_AFTER_S = 86_400.0
WAITING_CHECK_MS = 3_600_000  # how often to log replies stuck on a platform with no adapter


def retry_after_seconds(value: str | None, now_ms: int) -> float | None:
    """An HTTP Retry-After header as seconds to wait from `now_ms`, or None when it is missing or unreadable.

    Both forms of the header (RFC 9110 §10.2.3, formerly RFC 7231 §7.1.3: `Retry-After = HTTP-date /
    delay-seconds`): "120" and "Wed, 21 Oct 2015 07:28:00 GMT". A date in the past means "now" (0). The platform
    clients pass the result to PlatformRetryAfter; None lets them fall back to their own default wait.
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # delay-seconds is 1*DIGIT, ASCII only (str.isdigit also takes "²")
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:  # HTTP-dates are always GMT; a zone-less date is not one
        return None
    return min(max(when.timestamp() - now_ms / 1000, 0.0), MAX_RETRY_AFTER_S)


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
        self.sent_by: Counter[str] = Counter()  # per platform, for /metrics
        self.dead_by: Counter[str] = Counter()
        # Did the last call to each platform get through? False after a network error or a platform failure that
        # is not about the message itself; /readyz reports that platform as not ready until a call succeeds.
        self.last_ok: dict[str, bool] = {}
        self._checked_waiting_at: int | None = None
        self.waiting: dict[str, int] = {}  # the last check's replies per platform nobody here sends to

    def backoff_ms(self, attempts: int) -> int:
        """Delay before attempt `attempts + 1`: base·2^attempts capped, then full jitter in [50%, 100%]."""
        raw = min(self.config.max_delay_s, self.config.base_delay_s * (2 ** attempts))
        return int(raw * (0.5 + 0.5 * self.rng.random()) * 1000)

    async def send_due(self, limit: int = 50) -> int:
        self._warn_waiting()
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
            wait_s = exc.seconds if math.isfinite(exc.seconds) else MAX_RETRY_AFTER_S
            wait_ms = int(min(max(wait_s, 0.0), MAX_RETRY_AFTER_S) * 1000)
            self._retry(row, max(wait_ms, self.backoff_ms(row.attempts)), str(exc))
        except PlatformError as exc:
            if exc.permanent:
                self._dead(row, str(exc))
            else:
                self.last_ok[row.platform] = False
                self._retry(row, self.backoff_ms(row.attempts), str(exc))
        except (OSError, TimeoutError) as exc:  # network trouble is retryable
            self.last_ok[row.platform] = False
            self._retry(row, self.backoff_ms(row.attempts), f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug in rendering or an SDK: count it like any failure, never block the queue
            # Why: an untyped error used to escape send_due() with the row untouched (same attempts, same due
            # time), so that one reply was retried first on every pass, never went dead, and every reply behind it
            # waited for ever.
            log.exception("send %s raised an unexpected error", row.idempotency_key)
            self._retry(row, self.backoff_ms(row.attempts), f"{type(exc).__name__}: {exc}")
        else:
            outbox_store.mark_sent(self.store, row.id, self.clock.now_ms(), ref or "")
            self.sent += 1
            self.sent_by[row.platform] += 1
            self.last_ok[row.platform] = True

    def _warn_waiting(self) -> None:
        """Once an hour, say which replies wait for a platform no adapter here sends to (disabled in bot.toml, a
        person with no identity on any enabled platform, a mistyped digest chat). They are kept, not failed: enabling
        the platform delivers them; `salespulse outbox --status pending` lists them."""
        now = self.clock.now_ms()
        if self._checked_waiting_at is not None and now - self._checked_waiting_at < WAITING_CHECK_MS:
            return
        self._checked_waiting_at = now
        waiting = outbox_store.waiting_elsewhere(self.store, now, tuple(self.senders))
        if waiting:
            log.warning("replies waiting for a platform with no adapter running: %s",
                        ", ".join(f"{platform or '?'} {n}" for platform, n in waiting.items()))
        self.waiting = waiting

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
        self.dead_by[row.platform] += 1

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send everything due now (demo and tests; virtual time does not move here)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.send_due()
            if n == 0:
                break
            total += n
        return total
