"""Shared adapter plumbing: persisting before ack, and the periodic org-sync runner."""

from __future__ import annotations

import asyncio

from adapters.base import AdapterContext, next_cron_run_ms, run_on_cron
from bot.errors import PlatformError
from store import kv


async def test_run_on_cron_runs_at_once_when_never_run_then_waits_for_cron(store, clock, config):
    ctx = AdapterContext(store, config, clock, lambda: None)
    calls: list[int] = []
    ran = asyncio.Event()

    async def job() -> None:
        calls.append(clock.now_ms())
        if len(calls) == 1:
            raise PlatformError("platform down")  # first attempt fails: logged, retried, not fatal
        kv.put(store, "test.last", str(clock.now_ms()))
        ran.set()

    task = asyncio.create_task(run_on_cron(ctx, "30 2 * * *", "test.last", job, "test sync", retry_s=0))
    await asyncio.wait_for(ran.wait(), timeout=5)
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(calls) == 2
    nxt = next_cron_run_ms(ctx, "30 2 * * *", "test.last")
    assert clock.now_ms() < nxt <= clock.now_ms() + 86_400_000


def test_accept_wakes_only_for_new_payloads(store, clock, config):
    woken: list[int] = []
    ctx = AdapterContext(store, config, clock, lambda: woken.append(1))
    assert ctx.accept("x", "1", {"a": 1}, None, unsupported_reason="test") is True
    assert ctx.accept("x", "1", {"a": 1}, None, unsupported_reason="test") is False
    assert woken == [1]
