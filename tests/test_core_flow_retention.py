"""Inbox retention (bot.inbox_retention_days): `serve` prunes processed payloads older than the setting, counted
from processing; pending and failed rows are never dropped; 0 keeps everything."""

from __future__ import annotations

import dataclasses

from store import inbox as inbox_store

DAY = 86_400_000


def put(store, ext: str, received_at: int, status: str = "pending", processed_at: int | None = None) -> None:
    with store.transaction():
        inbox_store.put(store, "wecom", ext, "{}", '{"type": "message"}', received_at, status=status)
        store.conn.execute("UPDATE inbox SET processed_at = ? WHERE external_id = ?", (processed_at, ext))


def left(store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT external_id FROM inbox")}


def test_prune_drops_only_old_processed_rows(store):
    now = 100 * DAY
    put(store, "old-done", 10 * DAY, "done", 10 * DAY)
    put(store, "old-unsupported", 10 * DAY, "unsupported")  # set aside on arrival: no processed_at
    put(store, "old-pending", 10 * DAY)  # never processed (a long outage): must survive
    put(store, "old-failed", 10 * DAY, "failed", 10 * DAY)  # an admin still has to look at it
    put(store, "late-done", 10 * DAY, "done", 95 * DAY)  # received long ago, processed recently
    put(store, "new-done", 95 * DAY, "done", 95 * DAY)
    with store.transaction():
        assert inbox_store.prune(store, now - 30 * DAY) == 2
    assert left(store) == {"old-pending", "old-failed", "late-done", "new-done"}


def test_prune_in_chunks_gets_the_same_rows(store):
    for i in range(7):
        put(store, f"d{i}", DAY, "done", DAY)
    put(store, "p", DAY)
    with store.transaction():
        assert [inbox_store.prune(store, 2 * DAY, 3) for _ in range(4)] == [3, 3, 1, 0]
    assert left(store) == {"p"}


async def test_serve_applies_the_retention_setting_at_most_hourly(runtime, clock):
    store = runtime.store
    now = clock.now_ms()
    put(store, "ancient", now - 31 * DAY, "done", now - 31 * DAY)
    put(store, "stuck", now - 31 * DAY)
    assert await runtime.prune_inbox() == 1
    assert left(store) == {"stuck"}
    put(store, "ancient-2", now - 40 * DAY, "done", now - 40 * DAY)
    assert await runtime.prune_inbox() == 0  # not again within the hour
    clock.advance(3_600_000)
    assert await runtime.prune_inbox() == 1
    assert left(store) == {"stuck"}
    await runtime._serve_step()  # the serve loop runs it; the pending row is processed, never pruned
    assert inbox_store.counts(store).get("pending", 0) == 0 and "stuck" in left(store)


async def test_zero_days_keeps_every_payload(runtime, clock):
    runtime.config = dataclasses.replace(runtime.config,
                                         bot=dataclasses.replace(runtime.config.bot, inbox_retention_days=0))
    put(runtime.store, "ancient", 0, "done", 0)
    assert await runtime.prune_inbox() == 0 and left(runtime.store) == {"ancient"}
