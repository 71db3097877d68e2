"""Plumbing shared by the platform API clients: one lazily opened aiohttp session per client, and a sliding-window
rate limiter on the injected clock (group robots allow about 20 messages a minute; going over raises
PlatformRetryAfter so the outbox sender waits instead of losing the reply).
"""

from __future__ import annotations

from collections import deque

import aiohttp

from bot.clock import Clock
from bot.errors import PlatformRetryAfter


class ApiSession:
    """Base for API clients: `session()` opens the aiohttp session on first use (inside the running loop)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class RateLimiter:
    """At most `limit` sends per `window_ms` per key (sliding window); over it → PlatformRetryAfter with the wait."""

    def __init__(self, limit: int, window_ms: int, clock: Clock) -> None:
        self.limit, self.window_ms, self.clock = limit, window_ms, clock
        self._sent: dict[str, deque[int]] = {}

    def take(self, key: str, label: str = "") -> None:
        self.reserve(key, 1, label)

    def reserve(self, key: str, n: int, label: str = "") -> None:
        """Take `n` slots at once or none (a reply sent as several messages must not stop half-way)."""
        now = self.clock.now_ms()
        window = self._sent.setdefault(key, deque())
        while window and window[0] <= now - self.window_ms:
            window.popleft()
        n = min(n, self.limit)  # a request for more than a whole window could never be met: cap it
        if len(window) + n > self.limit:
            wait_s = (window[len(window) + n - self.limit - 1] + self.window_ms - now) / 1000
            raise PlatformRetryAfter(f"{label or key}: {self.limit} per {self.window_ms // 1000}s reached",
                                     max(wait_s, 0.1))
        window.extend([now] * n)
