"""The tick scheduler in virtual time: each due time fires exactly once, across restarts (a new TickScheduler on the
same database) and crashes; missed runs are caught up to `max_catch_up`; cron strings are read in Asia/Shanghai."""

from __future__ import annotations

import json
import logging

import pytest

from bot.config import JobSection, SchedulerSection
from bot.context import Services
from bot.dispatcher import Dispatcher
from bot.events import Tick
from bot.org import Directory
from bot.router import Router
from bot.scheduler import TickScheduler
from prompts import Prompts
from store import inbox as inbox_store
from store import scheduler as sched_store

HOUR = 3_600_000
DAY = 24 * HOUR


def section(*jobs: tuple[str, str], max_catch_up: int = 5) -> SchedulerSection:
    return SchedulerSection(timezone="Asia/Shanghai", max_catch_up=max_catch_up,
                            jobs=tuple(JobSection(name=n, cron=c) for n, c in jobs))


def ticks(store) -> list[tuple[str, int]]:
    out = []
    for (event_json,) in store.conn.execute("SELECT event FROM inbox WHERE platform = 'scheduler' ORDER BY id"):
        data = json.loads(event_json)
        out.append((data["job"], data["due_at"]))
    return out


def test_first_start_counts_from_now_then_fires_each_due_time_once(store, clock):
    t0 = clock.now_ms()
    sched = TickScheduler(store, clock, section(("hourly", "0 * * * *")))
    assert sched.emit_due() == 0  # first sight: no history replayed
    clock.advance(3 * HOUR)
    assert sched.emit_due() == 3
    assert sched.emit_due() == 0  # same moment again: nothing new
    assert ticks(store) == [("hourly", t0 + HOUR), ("hourly", t0 + 2 * HOUR), ("hourly", t0 + 3 * HOUR)]
    assert sched_store.runs(store, "hourly") == [t0 + HOUR, t0 + 2 * HOUR, t0 + 3 * HOUR]


def test_restart_neither_repeats_nor_skips(store, clock):
    t0 = clock.now_ms()
    cfg = section(("hourly", "0 * * * *"))
    first = TickScheduler(store, clock, cfg)
    first.emit_due()
    clock.advance(2 * HOUR)
    assert first.emit_due() == 2
    # "restart": a brand-new scheduler object on the same database, same instant
    second = TickScheduler(store, clock, cfg)
    assert second.emit_due() == 0
    clock.advance(90 * 60_000)  # down for 1.5 h: one run (t0+3h) was missed while down
    third = TickScheduler(store, clock, cfg)
    assert third.emit_due() == 1
    due = [d for _job, d in ticks(store)]
    assert due == [t0 + HOUR, t0 + 2 * HOUR, t0 + 3 * HOUR]
    assert len(due) == len(set(due))


def test_long_downtime_catches_up_only_the_last_max_catch_up(store, clock, caplog):
    t0 = clock.now_ms()
    cfg = section(("hourly", "0 * * * *"), max_catch_up=4)
    TickScheduler(store, clock, cfg).emit_due()
    clock.advance(10 * HOUR)
    with caplog.at_level(logging.WARNING, logger="salespulse.scheduler"):
        assert TickScheduler(store, clock, cfg).emit_due() == 4
    assert [d for _j, d in ticks(store)] == [t0 + h * HOUR for h in (7, 8, 9, 10)]
    assert "missed 10 runs" in caplog.text
    # and the skipped ones are not resurrected by a later restart
    assert TickScheduler(store, clock, cfg).emit_due() == 0


def test_crash_before_commit_re_emits_exactly_once(store, clock):
    cfg = section(("hourly", "0 * * * *"))
    TickScheduler(store, clock, cfg).emit_due()
    clock.advance(2 * HOUR)
    with pytest.raises(RuntimeError), store.transaction():
        TickScheduler(store, clock, cfg).emit_due()
        raise RuntimeError("killed before COMMIT")
    assert ticks(store) == []
    assert TickScheduler(store, clock, cfg).emit_due() == 2
    assert len(ticks(store)) == 2


def test_cron_is_read_in_the_configured_timezone(store, clock):
    t0 = clock.now_ms()  # Monday 09:00 Asia/Shanghai = 01:00 UTC
    sched = TickScheduler(store, clock, section(("digest", "0 18 * * *")))
    sched.emit_due()
    assert sched.next_due_at() == t0 + 9 * HOUR  # 18:00 Shanghai the same day
    clock.advance(2 * DAY)
    assert sched.emit_due() == 2
    assert [d for _j, d in ticks(store)] == [t0 + 9 * HOUR, t0 + 9 * HOUR + DAY]


def test_independent_jobs_and_disabled_jobs(store, clock):
    cfg = SchedulerSection(jobs=(JobSection(name="a", cron="*/30 * * * *"), JobSection(name="b", cron="0 * * * *"),
                                 JobSection(name="off", cron="* * * * *", enabled=False)))
    sched = TickScheduler(store, clock, cfg)
    sched.emit_due()
    clock.advance(2 * HOUR)
    assert sched.emit_due() == 6
    names = [j for j, _d in ticks(store)]
    assert names.count("a") == 4 and names.count("b") == 2 and "off" not in names


def test_ticks_reach_the_router_once_per_due_time_across_restart(store, clock, config):
    seen: list[tuple[str, int]] = []
    router = Router("ticks")

    @router.on(Tick)
    def on_tick(event, ctx):
        seen.append((event.job, event.due_at))

    def start():
        services = Services(store=store, config=config, clock=clock, directory=Directory(store),
                            prompts=Prompts("zh-CN"))
        return TickScheduler(store, clock, section(("hourly", "0 * * * *"))), Dispatcher(services, router.compile())

    sched, dispatcher = start()
    sched.emit_due()
    for _ in range(3):
        clock.advance(HOUR)
        sched.emit_due()
        dispatcher.drain()
    sched, dispatcher = start()  # restart
    sched.emit_due()
    dispatcher.drain()
    clock.advance(HOUR)
    sched.emit_due()
    dispatcher.drain()
    assert len(seen) == 4 and len(set(seen)) == 4
    assert inbox_store.counts(store) == {"done": 4}


def test_weekday_numbers_follow_standard_cron_not_apscheduler():
    """APScheduler 3 reads weekday 0 as Monday; every crontab (and bot.toml) means Sunday. 1 is Monday."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.scheduler import parse_cron, standard_weekdays

    assert standard_weekdays("1") == "mon"
    assert standard_weekdays("0") == standard_weekdays("7") == standard_weekdays("SUN") == "sun"
    assert standard_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert standard_weekdays("5-7") == standard_weekdays("5-0") == "sun,fri,sat"
    assert standard_weekdays("0,6") == "sun,sat"
    assert standard_weekdays("*/2") == "sun,tue,thu,sat"
    assert standard_weekdays("0-6") == standard_weekdays("*") == "*"
    for bad in ("8", "5-2", "x", "1/0"):
        with pytest.raises(ValueError):
            standard_weekdays(bad)
    shanghai = ZoneInfo("Asia/Shanghai")
    after = datetime(2026, 3, 2, 10, 0, tzinfo=shanghai)  # a Monday, past 09:00
    monday = parse_cron("0 9 * * 1", "Asia/Shanghai").get_next_fire_time(None, after)
    assert monday.strftime("%a %Y-%m-%d %H:%M") == "Mon 2026-03-09 09:00"
    sunday = parse_cron("30 8 * * 0", "Asia/Shanghai").get_next_fire_time(None, after)
    assert sunday.strftime("%a %Y-%m-%d %H:%M") == "Sun 2026-03-08 08:30"
    with pytest.raises(ValueError):
        parse_cron("0 9 * *", "Asia/Shanghai")


@pytest.mark.parametrize("cron", ["* * * * *", "*/5 * * * *", "*/10 * * * *", "*/7 * * * *", "*/45 * * * *"])
@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Asia/Kathmandu", "America/New_York", "UTC"])
def test_every_minutes_fast_path_agrees_with_apscheduler(cron, tz):
    """The arithmetic trigger for per-minute sweeps gives exactly APScheduler's answers, DST changes included."""
    import random
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    from bot.scheduler import EveryMinutesTrigger, parse_cron

    fast = parse_cron(cron, tz)
    assert isinstance(fast, EveryMinutesTrigger)
    minute = cron.split()[0]
    slow = CronTrigger(minute=minute, timezone=ZoneInfo(tz))
    rng = random.Random(7)
    starts = [datetime(2026, 3, 8, 6, 59, 30, tzinfo=UTC), datetime(2026, 11, 1, 5, 58, tzinfo=UTC)]  # US DST days
    starts += [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400), microseconds=rng.randrange(10**6))
               for _ in range(300)]
    for now in starts:
        assert fast.get_next_fire_time(None, now) == slow.get_next_fire_time(None, now), (cron, tz, now)


def _local_cron_at(ms: int) -> str:
    from bot.clock import from_ms

    local = from_ms(ms).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    return f"{local.minute} {local.hour} * * *"


def test_a_job_added_after_start_fires_at_its_first_due_time(store, clock):
    """A capability's job (the morning card) joins a running scheduler; the virtual-time driver jumps straight to
    its first due time. That run used to be taken for the job's "first sight" and skipped until the next day."""
    sched = TickScheduler(store, clock, section(("hourly", "0 * * * *")))
    sched.emit_due()
    clock.advance(5 * 60_000)
    due = clock.now_ms() + 20 * 60_000
    sched.add_job("morning", _local_cron_at(due))
    assert sched.next_due_at() == due
    clock.set(due)
    sched.emit_due()
    assert ("morning", due) in ticks(store)
    # a restart after it: the job is known, nothing repeats
    again = TickScheduler(store, clock, section(("hourly", "0 * * * *")))
    again.add_job("morning", _local_cron_at(due))
    assert again.emit_due() == 0


def test_a_due_time_named_by_next_due_at_fires_on_a_fresh_scheduler(store, clock):
    """The driver's first call may be next_due_at(), then emit_due() at that time: the named time fires."""
    due = clock.now_ms() + 10 * 60_000
    sched = TickScheduler(store, clock, section(("morning", _local_cron_at(due))))
    assert sched.next_due_at() == due
    clock.set(due)
    assert sched.emit_due() == 1 and ticks(store) == [("morning", due)]
