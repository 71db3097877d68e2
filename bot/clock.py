"""Injected time. Everything that needs "now" takes a Clock, so tests and the demo run in virtual time.

Timestamps are integer milliseconds UTC everywhere in the store; datetimes are always timezone-aware.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


def to_ms(dt: datetime) -> int:
    """UTC milliseconds of an aware datetime (naive datetimes are refused: they hide timezone bugs)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime; attach a timezone")
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, used only by `salespulse serve`."""

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def now(self) -> datetime:
        return from_ms(self.now_ms())


# kv key under which a database records the virtual time it was built at (the demo's "now"); `salespulse chat`
# on such a database continues from there instead of from today's date.
CLOCK_KEY = "clock.virtual_now_ms"


class OffsetClock:
    """Wall-clock pace from a chosen start: `chat` on the demo database lives at the demo's date."""

    def __init__(self, start_ms: int) -> None:
        self._offset = int(start_ms) - int(time.time() * 1000)

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self._offset

    def now(self) -> datetime:
        return from_ms(self.now_ms())


class VirtualClock:
    """A clock that moves only when told to; the demo and the tests drive it."""

    def __init__(self, start_ms: int) -> None:
        self._now = int(start_ms)

    def now_ms(self) -> int:
        return self._now

    def now(self) -> datetime:
        return from_ms(self._now)

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("virtual time never runs backwards")
        self._now += int(ms)

    def set(self, ms: int) -> None:
        """Jump forward to an absolute time (never backwards)."""
        self._now = max(self._now, int(ms))
