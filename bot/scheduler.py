"""Scheduled work as Tick events. The database, not APScheduler, knows what is due.

APScheduler 3.x (AsyncIOScheduler) only wakes the process every `scheduler.poll_interval_s`; each wake-up asks
`TickScheduler.emit_due()` which computes, from cron strings and the last due time stored per job, every due time
that has passed, and writes one Tick per due time into the inbox with the key "job:due_ms". The inbox's unique key
and scheduler_runs make it exactly-once: a restart neither skips (it catches up, up to `max_catch_up` per job) nor
repeats. In virtual time (demo, tests) the driver calls emit_due() after moving the clock.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock, from_ms, to_ms
from bot.config import SchedulerSection
from bot.events import Actor, Role, Tick
from prompts import Keyed
from store import inbox as inbox_store
from store import scheduler as sched_store
from store.db import Store

log = logging.getLogger("salespulse.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    trigger: CronTrigger


_CATCH_UP_WINDOW_MS = 86_400_000  # the first look-back window for missed runs (widened until it holds enough)

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def standard_weekdays(field: str) -> str:
    """A standard cron weekday field (0 or 7 = Sunday, 1 = Monday … 6 = Saturday; lists, ranges, steps, names) in
    APScheduler 3's terms.

    Why: APScheduler 3.x `CronTrigger.from_crontab` passes the weekday numbers through unchanged, and in its own
    numbering 0 is Monday — so "0 9 * * 1" (Monday 09:00 in every crontab, and in bot.toml's comment) would fire
    on Tuesdays. Numbers are expanded to the set of days they mean and written back as day names, which both
    numberings read the same way.
    """
    field = field.strip()
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(Keyed("config_errors.cron_weekday_step", field=field))
        if rng == "*":
            lo, hi = 0, 6
        else:
            lo_text, dash, hi_text = rng.partition("-")
            lo = _weekday_number(lo_text, field)
            hi = _weekday_number(hi_text, field) if dash else (6 if step_text else lo)
            if dash and hi == 0 and lo > 0:  # "5-0" / "5-7": Friday to Sunday
                hi = 7
            if hi < lo:
                raise ValueError(Keyed("config_errors.cron_weekday_backwards", field=field))
        days.update(d % 7 for d in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _weekday_number(text: str, field: str) -> int:
    text = text.strip().lower()
    if text[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text[:3])
    if not text.isdigit() or int(text) > 7:
        raise ValueError(Keyed("config_errors.cron_weekday", value=text, field=field))
    return int(text)


_EVERY_N_MINUTES = re.compile(r"^(?:\*|\*/([1-9][0-9]?))$")


class EveryMinutesTrigger(CronTrigger):
    """`* * * * *` and `*/N * * * *`, answered by arithmetic instead of APScheduler's field-by-field search.

    Why: the sweeps run every minute or every few minutes, and the virtual-time driver (demo, tests) asks for their
    next time at every simulated minute; CronTrigger.get_next_fire_time costs about a millisecond, which made a
    simulated week spend most of its time in the scheduler. Same answers (the tests compare both on random times):
    the first whole minute at or after `now` whose local minute is a multiple of N (local: a zone with a :30 or :45
    offset moves which UTC minutes match).
    """

    def __init__(self, every: int, timezone: ZoneInfo) -> None:
        super().__init__(minute="*" if every == 1 else f"*/{every}", timezone=timezone)
        self.every = every

    def get_next_fire_time(self, previous_fire_time, now):  # noqa: ARG002 (CronTrigger's signature)
        t = now.astimezone(UTC)  # minute arithmetic in UTC: local wall time has gaps and repeats around DST
        if t.second or t.microsecond:
            t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(self.every + 1):
            local = t.astimezone(self.timezone)
            if local.minute % self.every == 0:
                return local
            t += timedelta(minutes=1)
        return super().get_next_fire_time(previous_fire_time, now)


def parse_cron(cron: str, tz: str) -> CronTrigger:
    """A standard 5-field cron string (minute hour day month weekday) as an APScheduler trigger."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(Keyed("config_errors.cron_count", got=len(fields)))
    minute, hour, day, month, weekday = fields
    every = _EVERY_N_MINUTES.match(minute)
    if every and (hour, day, month, weekday) == ("*", "*", "*", "*"):
        return EveryMinutesTrigger(int(every.group(1) or 1), ZoneInfo(tz))
    days = standard_weekdays(weekday)
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=ZoneInfo(tz))
    except ValueError:
        pass
    # APScheduler says what is wrong in English ("Error validating expression '61': …"): name the field instead, in
    # the reader's language (the reason appears inside a bot.toml error line)
    for name, value, allowed in (("minute", minute, "0-59"), ("hour", hour, "0-23"), ("day", day, "1-31"),
                                 ("month", month, "1-12")):
        try:
            CronTrigger(**{name: value}, timezone=ZoneInfo(tz))
        except ValueError:
            raise ValueError(Keyed(f"config_errors.cron_{name}", value=value, allowed=allowed)) from None
    raise ValueError(Keyed("config_errors.cron_invalid"))


class TickScheduler:
    def __init__(self, store: Store, clock: Clock, config: SchedulerSection) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.jobs = [Job(j.name, j.cron, parse_cron(j.cron, config.timezone)) for j in config.jobs if j.enabled]
        # When a job without history started counting: its first emit_due(), or earlier when next_due_at() already
        # answered for it or it was added to a running scheduler. Why: the virtual-time driver jumps straight to
        # the first due time next_due_at() names, and a job added after start (the morning card) lost that run
        # to its "first sight" at that very emit_due().
        self._since: dict[str, int] = {}
        self._started = False
        # Earliest due time over all jobs once everything up to the last emit_due() was written. Nothing can be
        # due before it, so until then emit_due() costs nothing (it runs on every loop pass and every demo step).
        self._next_due: int | None = None
        self._known = False
        self._job_next: dict[str, int | None] = {}
        self.lag_ms: dict[str, int] = {}  # job → how late its last tick was emitted (/metrics)

    def add_job(self, name: str, cron: str) -> None:
        self.jobs.append(Job(name, cron, parse_cron(cron, self.config.timezone)))
        if self._started:
            self._since[name] = self.clock.now_ms()
        self._known = False

    def _fire_times(self, job: Job, after_ms: int, until_ms: int) -> list[int]:
        out: list[int] = []
        cursor = from_ms(after_ms) + timedelta(milliseconds=1)
        while len(out) < 100_000:
            nxt = job.trigger.get_next_fire_time(None, cursor)
            if nxt is None:
                break
            ms = to_ms(nxt)
            if ms > until_ms:
                break
            out.append(ms)
            cursor = nxt + timedelta(seconds=1)
        return out

    def _due_times(self, job: Job, last: int, now: int) -> list[int]:
        """The due times in (last, now] to emit: all of them, or only the last `max_catch_up` (at least the latest).

        Why it looks back from `now` in widening windows instead of listing everything since `last`: after a long
        downtime a per-minute job has more due times than `_fire_times` lists (100,000), so the old code caught up
        stale runs from the start of the gap, again on every pass; and `max_catch_up = 0` sliced `due[-0:]`, which
        is the whole list. 0 now means "no replay": only the latest due time fires (it is the current run).
        """
        keep = max(self.config.max_catch_up, 1)
        span = _CATCH_UP_WINDOW_MS
        while True:
            start = max(last, now - span)
            due = self._fire_times(job, start, now)
            if start == last and len(due) <= keep:
                return due
            if start == last or len(due) >= keep:
                missed = f"{len(due)}" if start == last else f"more than {len(due)}"
                log.warning("job %s missed %s runs; catching up the last %d", job.name, missed, keep)
                return due[len(due) - keep:]
            span *= 4

    def emit_due(self) -> int:
        """Write a Tick into the inbox for every due time that passed; returns how many were new."""
        now = self.clock.now_ms()
        if self._known and (self._next_due is None or now < self._next_due):
            return 0
        with self.store.transaction():  # one commit for all jobs
            emitted = self._emit(now)
        self._started = True
        self._next_due, self._known = self._after(now), True
        return emitted

    def _after(self, now: int) -> int | None:
        """Earliest fire time after `now`, re-evaluating only the jobs whose cached next time has passed."""
        best: int | None = None
        for job in self.jobs:
            nxt = self._job_next.get(job.name)
            if nxt is None or nxt <= now:
                fire = job.trigger.get_next_fire_time(None, from_ms(now) + timedelta(milliseconds=1))
                nxt = self._job_next[job.name] = to_ms(fire) if fire is not None else None
            if nxt is not None and (best is None or nxt < best):
                best = nxt
        return best

    def _emit(self, now: int) -> int:
        emitted = 0
        for job in self.jobs:
            cached = self._job_next.get(job.name)
            if self._known and cached is not None and cached > now:
                # Everything up to the previous pass was emitted and this job's next time is still ahead: skip
                # it without asking the cron trigger (about a millisecond a call; with a dozen jobs and per-minute
                # sweeps that was most of a virtual-time week in the demo and the tests).
                continue
            last = sched_store.last_due(self.store, job.name)
            if last is None:
                last = min(self._since.pop(job.name, now), now)
                sched_store.set_start(self.store, job.name, job.cron, last)
            for due_ms in self._due_times(job, last, now):
                if sched_store.record_run(self.store, job.name, job.cron, due_ms, now):
                    tick = Tick(event_id=f"tick:{job.name}:{due_ms}", platform="scheduler", occurred_at=due_ms,
                                received_at=now, actor=Actor(platform_id="scheduler", role=Role.BOT),
                                job=job.name, due_at=due_ms)
                    inbox_store.accept(self.store, "scheduler", f"{job.name}:{due_ms}", {"job": job.name},
                                       tick.to_dict(), now)
                    self.lag_ms[job.name] = now - due_ms
                    emitted += 1
        return emitted

    def next_due_at(self) -> int | None:
        """The earliest future due time over all jobs (the virtual-time driver jumps to it)."""
        if self._known:
            return self._next_due
        now = self.clock.now_ms()
        best: int | None = None
        for job in self.jobs:
            last = sched_store.last_due(self.store, job.name)
            if last is None:  # its first due time is named from now: it must fire there, not start counting
                self._since.setdefault(job.name, now)
            start = max(last or now, now)
            nxt = job.trigger.get_next_fire_time(None, from_ms(start) + timedelta(milliseconds=1))
            if nxt is not None:
                ms = to_ms(nxt)
                best = ms if best is None else min(best, ms)
        return best
