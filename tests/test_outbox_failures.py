"""The outbox sender's failure paths beyond plain platform errors: an untyped error from an adapter never blocks the
queue and still ends `dead`; Retry-After in both HTTP forms; a bogus retry-after is bounded; the resend state
machine; a crash between the platform call and `sent`; replies waiting for a platform nobody sends to."""

from __future__ import annotations

import logging
import random
from email.utils import format_datetime

from bot.clock import from_ms
from bot.config import OutboxSection
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Reply, Target
from bot.sender import MAX_RETRY_AFTER_S, OutboxSender, retry_after_seconds
from store import outbox as outbox_store

CFG = OutboxSection(max_attempts=3, base_delay_s=2.0, max_delay_s=60.0)


def enqueue(store, clock, key: str, platform: str = "wecom") -> None:
    with store.transaction():
        outbox_store.enqueue(store, key, platform, Target(platform, user_id="u1").to_dict(), Reply.plain(key).to_dict(),
                             clock.now_ms())


def row(store, key: str) -> outbox_store.OutboxRow:
    return next(r for r in outbox_store.listing(store, limit=1000) if r.idempotency_key == key)


async def run_until_settled(sender, store, clock, rounds: int = 20) -> None:
    """Send, then jump the clock to the next due time, until nothing is pending."""
    for _ in range(rounds):
        await sender.send_due()
        nxt = outbox_store.next_due_at(store)
        if nxt is None:
            return
        clock.set(max(nxt, clock.now_ms()))


async def test_an_untyped_adapter_error_neither_blocks_the_queue_nor_retries_for_ever(store, clock, caplog):
    delivered: list[str] = []

    async def send(target, reply, key):
        if key == "broken":
            raise KeyError("template_card")  # a rendering bug, not a PlatformError
        delivered.append(key)
        return "ok"

    sender = OutboxSender(store, clock, CFG, {"wecom": send}, rng=random.Random(5))
    enqueue(store, clock, "broken")
    enqueue(store, clock, "fine")
    with caplog.at_level(logging.ERROR, logger="salespulse.sender"):
        await sender.send_due()  # must not raise out of the loop
    assert delivered == ["fine"]  # the reply behind the broken one went out on the same pass
    first = row(store, "broken")
    assert first.status == "pending" and first.attempts == 1 and "KeyError" in first.last_error
    assert first.next_attempt_at > clock.now_ms()  # backed off, not retried in a hot loop
    await run_until_settled(sender, store, clock)
    dead = row(store, "broken")
    assert dead.status == "dead" and dead.attempts == CFG.max_attempts
    assert "template_card" in caplog.text


def test_retry_after_in_seconds_and_as_an_http_date():
    now = 1_772_413_200_000  # 2026-03-02 01:00:00 UTC
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(" 7 ", now) == 7.0
    in_90_s = format_datetime(from_ms(now + 90_000), usegmt=True)  # e.g. "Mon, 02 Mar 2026 01:01:30 GMT"
    assert in_90_s.endswith("GMT")
    assert retry_after_seconds(in_90_s, now) == 90.0
    assert retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0.0  # in the past: now
    assert retry_after_seconds("Sunday, 06-Nov-94 08:49:37 GMT", now) == 0.0  # obsolete RFC 850 form
    for junk in ("", None, "soon", "-5", "1.5e3", "²", "Mon, 99 Foo 2026 25:61:00 GMT"):
        assert retry_after_seconds(junk, now) is None, junk
    assert retry_after_seconds("99999999999999999999", now) == MAX_RETRY_AFTER_S


async def test_an_absurd_retry_after_is_bounded_not_a_crash(store, clock):
    sender = OutboxSender(store, clock, CFG, {"wecom": _failing(PlatformRetryAfter("slow", seconds=1e20),
                                                                 PlatformRetryAfter("slow", seconds=float("inf")))})
    enqueue(store, clock, "a")
    enqueue(store, clock, "b")
    await sender.send_due()
    for key in ("a", "b"):
        r = row(store, key)
        assert r.status == "pending" and r.attempts == 1
        assert r.next_attempt_at == clock.now_ms() + int(MAX_RETRY_AFTER_S * 1000)


def _failing(*errors):
    queue = list(errors)

    async def send(target, reply, key):
        if queue:
            raise queue.pop(0)
        return "ok"

    return send


async def test_resend_gives_a_dead_reply_a_fresh_set_of_attempts_and_only_dead_ones_move(store, clock):
    calls: list[str] = []

    async def always_down(target, reply, key):
        calls.append(key)
        raise PlatformError("HTTP 503")

    sender = OutboxSender(store, clock, CFG, {"wecom": always_down}, rng=random.Random(9))
    enqueue(store, clock, "d")
    await run_until_settled(sender, store, clock)
    assert row(store, "d").status == "dead" and len(calls) == CFG.max_attempts

    enqueue(store, clock, "p")  # pending: --resend must leave it alone
    pending_before = row(store, "p")
    assert outbox_store.resend(store, [row(store, "d").id, pending_before.id, 999_999], clock.now_ms()) == 1
    again = row(store, "d")
    assert again.status == "pending" and again.attempts == 0 and again.next_attempt_at == clock.now_ms()
    assert row(store, "p") == pending_before
    calls.clear()
    await run_until_settled(sender, store, clock)
    assert calls.count("d") == CFG.max_attempts  # a full new round, then dead again (not dead after one try)
    assert row(store, "d").status == "dead"


async def test_resend_never_resends_a_sent_reply(store, clock):
    sender = OutboxSender(store, clock, CFG, {"wecom": _failing()})
    enqueue(store, clock, "s")
    await sender.send_due()
    assert row(store, "s").status == "sent"
    assert outbox_store.resend(store, None, clock.now_ms()) == 0
    assert outbox_store.resend(store, [row(store, "s").id], clock.now_ms()) == 0
    assert row(store, "s").status == "sent"


async def test_crash_after_the_platform_call_resends_once_with_the_same_key(store, clock):
    """A kill between the platform call and `sent` leaves the row pending (nothing lost); the next process sends it
    again under the same idempotency key, which the platform clients pass on (Feishu's uuid) — and only once."""
    seen: list[str] = []

    class Killed(BaseException):
        pass

    async def dies_after_sending(target, reply, key):
        seen.append(key)
        raise Killed  # the process dies right after the platform accepted the message

    first = OutboxSender(store, clock, CFG, {"wecom": dies_after_sending})
    enqueue(store, clock, "k")
    try:
        await first.send_due()
    except Killed:
        pass
    in_flight = row(store, "k")
    assert in_flight.status == "pending" and in_flight.attempts == 0

    async def ok(target, reply, key):
        seen.append(key)
        return "ref"

    restarted = OutboxSender(store, clock, CFG, {"wecom": ok})
    assert await restarted.drain() == 1
    assert await restarted.drain() == 0
    assert seen == ["k", "k"] and row(store, "k").status == "sent"


async def test_replies_for_a_platform_nobody_sends_to_wait_and_are_reported(store, clock, caplog):
    sender = OutboxSender(store, clock, CFG, {"wecom": _failing()})
    enqueue(store, clock, "here")
    enqueue(store, clock, "lost-1", platform="feishu")
    enqueue(store, clock, "lost-2", platform="feishu")
    enqueue(store, clock, "nobody", platform="console")
    with caplog.at_level(logging.WARNING, logger="salespulse.sender"):
        await sender.drain()
    assert row(store, "here").status == "sent"
    for key in ("lost-1", "lost-2", "nobody"):  # kept, untried: enabling the platform delivers them
        assert row(store, key).status == "pending" and row(store, key).attempts == 0
    assert sender.waiting == {"console": 1, "feishu": 2}
    assert "console 1, feishu 2" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="salespulse.sender"):
        await sender.send_due()
    assert "waiting" not in caplog.text  # not on every pass
    sender.senders["feishu"] = _failing()  # the platform is enabled: they go out
    await sender.drain()
    assert row(store, "lost-1").status == row(store, "lost-2").status == "sent"
