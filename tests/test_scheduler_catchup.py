"""Catch-up limits after downtime: `max_catch_up` bounds what one restart replays, even when the gap holds more due
times than the scheduler lists in one go; 0 means "no replay" (only the current run); nothing fires twice."""

from __future__ import annotations

import json
import time

import pytest

from bot.config import JobSection, SchedulerSection
from bot.scheduler import TickScheduler

MINUTE = 60_000
DAY = 24 * 60 * MINUTE


def due_times(store, job: str) -> list[int]:
    rows = store.conn.execute("SELECT event FROM inbox WHERE platform = 'scheduler' ORDER BY id").fetchall()
    return [json.loads(r[0])["due_at"] for r in rows if json.loads(r[0])["job"] == job]


def cfg(max_catch_up: int) -> SchedulerSection:
    return SchedulerSection(max_catch_up=max_catch_up, jobs=(JobSection(name="sweep", cron="* * * * *"),))


@pytest.mark.parametrize("max_catch_up", [0, 1, 3])
def test_small_limits_mean_what_they_say(store, clock, max_catch_up):
    TickScheduler(store, clock, cfg(max_catch_up)).emit_due()
    clock.advance(30 * MINUTE)
    emitted = TickScheduler(store, clock, cfg(max_catch_up)).emit_due()
    keep = max(max_catch_up, 1)  # the current run always fires; 0 replays none of the missed ones
    assert emitted == keep
    assert due_times(store, "sweep") == [clock.now_ms() - i * MINUTE for i in reversed(range(keep))]


def test_a_gap_longer_than_the_listing_cap_replays_only_the_latest_runs_once(store, clock):
    """100 days of a per-minute job is 144,000 due times: more than the scheduler lists in one go (100,000). The
    restart used to replay stale runs from the start of the gap, and more of them on the next pass."""
    TickScheduler(store, clock, cfg(3)).emit_due()
    clock.advance(100 * DAY)
    started = time.perf_counter()
    sched = TickScheduler(store, clock, cfg(3))
    assert sched.emit_due() == 3
    assert time.perf_counter() - started < 1.0  # it looks back from now; it does not walk 144,000 minutes
    now = clock.now_ms()
    assert due_times(store, "sweep") == [now - 2 * MINUTE, now - MINUTE, now]
    assert TickScheduler(store, clock, cfg(3)).emit_due() == 0  # a second restart adds nothing
    clock.advance(MINUTE)
    assert sched.emit_due() == 1 and due_times(store, "sweep")[-1] == now + MINUTE


def test_a_gap_that_fits_is_replayed_in_full_in_order(store, clock):
    TickScheduler(store, clock, cfg(50)).emit_due()
    t0 = clock.now_ms()
    clock.advance(20 * MINUTE)
    assert TickScheduler(store, clock, cfg(50)).emit_due() == 20
    assert due_times(store, "sweep") == [t0 + i * MINUTE for i in range(1, 21)]


def test_sparse_job_after_a_long_gap_widens_its_look_back(store, clock, caplog):
    """A monthly job down for a year: the first look-back day holds none of its runs, so the window widens."""
    section = SchedulerSection(max_catch_up=2, jobs=(JobSection(name="monthly", cron="0 9 1 * *"),))
    TickScheduler(store, clock, section).emit_due()
    clock.advance(365 * DAY)
    assert TickScheduler(store, clock, section).emit_due() == 2
    got = due_times(store, "monthly")
    assert len(got) == 2 and got[1] - got[0] in range(28 * DAY, 32 * DAY) and clock.now_ms() - got[1] < 32 * DAY
    assert "monthly missed" in caplog.text
