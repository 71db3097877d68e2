"""The outbox sender against a failing fake platform: exponential backoff with bounded jitter, retry-after honoured,
dead after N attempts, permanent errors dead at once, and `salespulse outbox --resend` putting dead replies back."""

from __future__ import annotations

import random

import pytest

from bot.cli import main as cli_main
from bot.clock import SystemClock
from bot.config import OutboxSection
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Reply, Target
from bot.sender import OutboxSender
from store import outbox as outbox_store


class FlakyPlatform:
    """A fake platform edge: fails with the queued errors in order, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[str, str]] = []
        self.delivered: list[str] = []

    async def __call__(self, target: Target, reply: Reply, key: str) -> str:
        self.calls.append((key, reply.text))
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append(key)
        return f"ref-{len(self.delivered)}"


def enqueue(store, clock, key="k1", text="你好") -> int:
    with store.transaction():
        outbox_store.enqueue(store, key, "wecom", Target("wecom", user_id="u1").to_dict(), Reply.plain(text).to_dict(),
                             clock.now_ms())
    return store.conn.execute("SELECT id FROM outbox WHERE idempotency_key = ?", (key,)).fetchone()[0]


def row(store, key="k1") -> outbox_store.OutboxRow:
    return next(r for r in outbox_store.listing(store) if r.idempotency_key == key)


CFG = OutboxSection(max_attempts=4, base_delay_s=2.0, max_delay_s=60.0)


def test_jitter_stays_within_half_to_full_backoff():
    sender = OutboxSender(None, None, CFG, {}, rng=random.Random(7))  # type: ignore[arg-type]
    for attempts in range(12):
        raw = min(CFG.max_delay_s, CFG.base_delay_s * 2 ** attempts) * 1000
        samples = [sender.backoff_ms(attempts) for _ in range(300)]
        assert all(raw * 0.5 <= s <= raw for s in samples), attempts
        assert max(samples) - min(samples) > raw * 0.3  # it really is jittered
    assert sender.backoff_ms(30) <= 60_000  # capped


async def test_retries_with_backoff_then_sends(store, clock):
    platform = FlakyPlatform(PlatformError("HTTP 502"), OSError("connection reset"))
    sender = OutboxSender(store, clock, CFG, {"wecom": platform}, rng=random.Random(1))
    enqueue(store, clock)
    assert await sender.send_due() == 1
    first = row(store)
    assert first.status == "pending" and first.attempts == 1 and "502" in first.last_error
    assert 1000 <= first.next_attempt_at - clock.now_ms() <= 2000
    assert await sender.send_due() == 0  # not due yet: nothing is tried early
    clock.set(first.next_attempt_at)
    await sender.send_due()
    second = row(store)
    assert second.attempts == 2 and "ConnectionResetError" not in second.last_error and "OSError" in second.last_error
    assert 2000 <= second.next_attempt_at - clock.now_ms() <= 4000  # doubled
    clock.set(second.next_attempt_at)
    await sender.send_due()
    done = row(store)
    assert done.status == "sent" and done.attempts == 3 and done.last_error is None
    assert platform.delivered == ["k1"] and len(platform.calls) == 3


async def test_retry_after_is_honoured(store, clock):
    platform = FlakyPlatform(PlatformRetryAfter("rate limited (45009)", seconds=120))
    sender = OutboxSender(store, clock, CFG, {"wecom": platform}, rng=random.Random(2))
    enqueue(store, clock)
    start = clock.now_ms()
    await sender.send_due()
    assert row(store).next_attempt_at == start + 120_000  # longer than any backoff at attempt 0
    clock.set(start + 119_999)
    assert await sender.send_due() == 0
    clock.set(start + 120_000)
    assert await sender.send_due() == 1
    assert row(store).status == "sent"


async def test_short_retry_after_never_undercuts_backoff(store, clock):
    platform = FlakyPlatform(PlatformRetryAfter("slow down", seconds=0.01))
    sender = OutboxSender(store, clock, CFG, {"wecom": platform}, rng=random.Random(3))
    enqueue(store, clock)
    await sender.send_due()
    assert row(store).next_attempt_at - clock.now_ms() >= 1000


async def test_dead_after_max_attempts_and_never_tried_again(store, clock):
    platform = FlakyPlatform(*[PlatformError(f"HTTP 500 #{i}") for i in range(100)])
    sender = OutboxSender(store, clock, CFG, {"wecom": platform}, rng=random.Random(4))
    enqueue(store, clock)
    for _ in range(10):
        r = row(store)
        if r.status != "pending":
            break
        clock.set(r.next_attempt_at)
        await sender.send_due()
    dead = row(store)
    assert dead.status == "dead" and dead.attempts == CFG.max_attempts
    assert dead.last_error == "HTTP 500 #3"
    assert len(platform.calls) == CFG.max_attempts
    clock.advance(10 * 3_600_000)
    assert await sender.send_due() == 0
    assert sender.dead == 1


async def test_permanent_error_is_dead_at_once(store, clock):
    platform = FlakyPlatform(PlatformError("invalid user id", permanent=True))
    sender = OutboxSender(store, clock, CFG, {"wecom": platform})
    enqueue(store, clock)
    await sender.send_due()
    assert row(store).status == "dead" and row(store).attempts == 1


async def test_platform_without_adapter_waits(store, clock):
    sender = OutboxSender(store, clock, CFG, {"feishu": FlakyPlatform()})
    enqueue(store, clock)
    assert await sender.drain() == 0
    assert row(store).status == "pending" and row(store).attempts == 0


def test_same_idempotency_key_is_queued_once(store, clock):
    enqueue(store, clock, "same", "一")
    enqueue(store, clock, "same", "二")
    rows = outbox_store.listing(store)
    assert len(rows) == 1 and rows[0].reply["text"] == "一"


async def test_cli_lists_dead_and_resend_requeues(store, clock, capsys):
    platform = FlakyPlatform(PlatformError("gone", permanent=True))
    sender = OutboxSender(store, clock, CFG, {"wecom": platform})
    enqueue(store, clock, "a")
    enqueue(store, clock, "b")
    platform.errors.append(PlatformError("gone too", permanent=True))
    await sender.send_due()
    assert {r.status for r in outbox_store.listing(store)} == {"dead"}

    assert cli_main(["outbox", "--status", "dead", "--db", store.path]) == 0
    listing = capsys.readouterr().out
    assert "dead 2" in listing and "✗ gone" in listing

    first_id = row(store, "a").id
    assert cli_main(["outbox", "--resend", str(first_id), "--db", store.path]) == 0
    assert "已把 1 条被放弃的回复放回队列" in capsys.readouterr().out
    assert row(store, "a").status == "pending" and row(store, "a").attempts == 0
    assert row(store, "b").status == "dead"

    assert cli_main(["outbox", "--resend", "--db", store.path]) == 0  # no ids: every dead one
    assert row(store, "b").status == "pending"
    clock.set(SystemClock().now_ms())  # the CLI stamps re-queued rows with the wall clock
    await sender.send_due()
    assert sorted(platform.delivered) == ["a", "b"]


@pytest.mark.parametrize("attempts", [0, 3, 7])
def test_backoff_doubles(attempts):
    lo = OutboxSender(None, None, OutboxSection(base_delay_s=1.0, max_delay_s=10_000.0), {},  # type: ignore[arg-type]
                      rng=random.Random(0))
    lo.rng.random = lambda: 1.0  # type: ignore[method-assign]
    assert lo.backoff_ms(attempts) == 1000 * 2 ** attempts
