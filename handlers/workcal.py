"""Chinese working time: which days are working days and how far N working hours reach.

Why a calendar and not "Monday to Friday": Chinese public holidays move every year and come with make-up working
days (调休, e.g. Sunday 2026-09-20 is a working day). The `chinese-calendar` package carries the State Council's
schedule; for years it does not know yet we fall back to Monday-Friday rather than stop alerting.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from bot.clock import from_ms, to_ms
from bot.errors import ConfigError
from prompts import Keyed

log = logging.getLogger("salespulse.workcal")
_MAX_DAYS = 3660  # never loop forever on a calendar without working days


def parse_hhmm(value: str, key: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(Keyed("config_errors.hhmm", field=key, value=value)) from None


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # year outside the package's data: weekdays only
        return day.weekday() < 5


class WorkCalendar:
    def __init__(self, timezone: str, start: time = time(9), end: time = time(18)) -> None:
        if end <= start:
            raise ConfigError(Keyed("config_errors.work_hours_order", end=f"{end:%H:%M}", start=f"{start:%H:%M}"))
        self.tz = ZoneInfo(timezone)
        self.start = start
        self.end = end

    def local_date(self, ms: int) -> date:
        return from_ms(ms).astimezone(self.tz).date()

    def add_working_hours(self, start_ms: int, hours: float) -> int:
        """The instant when `hours` working hours have passed after `start_ms` (only start..end on working days
        count). Time outside working hours does not count, so activity on a Saturday starts the clock on Monday
        09:00."""
        remaining = timedelta(hours=hours)
        cursor = from_ms(start_ms).astimezone(self.tz)
        day = cursor.date()
        for _ in range(_MAX_DAYS):
            if is_workday(day):
                opens = datetime.combine(day, self.start, tzinfo=self.tz)
                closes = datetime.combine(day, self.end, tzinfo=self.tz)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return to_ms(begin + remaining)
                    remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ConfigError(Keyed("config_errors.no_working_hours"))

    def working_days(self, first: date, last: date) -> int:
        """Working days in [first, last], both included."""
        n, day = 0, first
        while day <= last:
            n += is_workday(day)
            day += timedelta(days=1)
        return n
