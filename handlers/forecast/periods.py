"""Forecast periods: 本月 / 下月 / 本季 / 下季 / Q1-Q4 / 2017-06 → a [start, end) range in local time.

Why local time: "this month" is the month on the manager's wall calendar (Asia/Shanghai), not UTC's.
Positions inside a quarter matter because B2B closing piles up at quarter ends; the timing model learns rates per
position (first / second / third month of the quarter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import to_ms

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter
    start: date
    end: date  # exclusive
    label: str  # 2017-06 or 2017Q3

    def ms(self, tz: ZoneInfo) -> tuple[int, int]:
        return (to_ms(datetime(self.start.year, self.start.month, self.start.day, tzinfo=tz)),
                to_ms(datetime(self.end.year, self.end.month, self.end.day, tzinfo=tz)))

    @property
    def position(self) -> int:
        """0, 1, 2: which month of its quarter a month is (quarters are always 0)."""
        return (self.start.month - 1) % 3 if self.kind == "month" else 0

    def previous(self) -> Period:
        return shift(self, -1)

    def next(self) -> Period:
        return shift(self, 1)


def month_of(d: date) -> Period:
    start = date(d.year, d.month, 1)
    end = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return Period("month", start, end, f"{start.year}-{start.month:02d}")


def quarter_of(d: date) -> Period:
    q = (d.month - 1) // 3
    start = date(d.year, q * 3 + 1, 1)
    end = date(d.year + (q == 3), (q * 3 + 3) % 12 + 1, 1)
    return Period("quarter", start, end, f"{start.year}Q{q + 1}")


def shift(p: Period, n: int) -> Period:
    step = 1 if p.kind == "month" else 3
    m = p.start.year * 12 + p.start.month - 1 + n * step
    d = date(m // 12, m % 12 + 1, 1)
    return month_of(d) if p.kind == "month" else quarter_of(d)


def of_kind(kind: str, d: date) -> Period:
    if kind not in ("month", "quarter"):
        raise ValueError(f"period must be month or quarter, not {kind!r}")
    return month_of(d) if kind == "month" else quarter_of(d)


_Q = re.compile(r"^(?:(\d{4})\s*年?\s*)?(?:[Qq]([1-4])|第?([1-4一二三四])季度?)$")
_M = re.compile(r"^(?:(\d{4})\s*[-/年]\s*)?(\d{1,2}|十[一二]?|[一二三四五六七八九])(?:\s*月(?:份)?)?$")
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
WORDS = {"本月": ("month", 0), "这个月": ("month", 0), "这月": ("month", 0), "当月": ("month", 0),
         "下月": ("month", 1), "下个月": ("month", 1), "上月": ("month", -1), "上个月": ("month", -1),
         "本季": ("quarter", 0), "本季度": ("quarter", 0), "这季度": ("quarter", 0), "这个季度": ("quarter", 0),
         "当季": ("quarter", 0), "下季": ("quarter", 1), "下季度": ("quarter", 1), "下个季度": ("quarter", 1),
         "上季": ("quarter", -1), "上季度": ("quarter", -1), "上个季度": ("quarter", -1),
         "month": ("month", 0), "quarter": ("quarter", 0)}


def parse(text: str, today: date) -> Period | None:
    """A period word, Q3 / 2026Q3 / 三季度 / 2026年第三季度, or 2026-06 / 2026年6月 / 6月; None when `text` is not a
    period. Without a year the current year is meant (a month already past then gets its actual, not a forecast)."""
    t = text.strip()
    if t in WORDS:
        kind, n = WORDS[t]
        return shift(of_kind(kind, today), n)
    m = _Q.match(t)
    if m and (m.group(2) or "季" in t):
        year = int(m.group(1) or today.year)
        q = m.group(2) or m.group(3)
        q = int(q) if q.isdigit() else _CN[q]
        return quarter_of(date(year, (q - 1) * 3 + 1, 1))
    m = _M.match(t)
    if m and (m.group(1) or "月" in t):  # a bare number is no period ("3" could be anything)
        mo = int(m.group(2)) if m.group(2).isdigit() else _CN[m.group(2)]
        if 1 <= mo <= 12:
            return month_of(date(int(m.group(1) or today.year), mo, 1))
    return None


def local_date(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, tz).date()


def date_ms(d: date, tz: ZoneInfo) -> int:
    return to_ms(datetime(d.year, d.month, d.day, tzinfo=tz))


def days(n: float) -> int:
    return int(n * DAY_MS)


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=n)
