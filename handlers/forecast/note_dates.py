"""Chinese time expressions in a deal note → a date: "下周三", "月底", "6月10日", "国庆后", "节后", "三号".

The one date reader of the product (/备注, /调整's dates, debrief answers), kept apart from the note's rules
(note_rules.py) and their reading (notes.py). Relative to an injected `today`; holidays from chinese_calendar when
it knows the year, else a fixed fallback.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def parse_when(text: str, today: date) -> tuple[date | None, str]:
    """The first Chinese time expression in `text` as a date, plus the words that said it."""
    rules: list[tuple[str, Any]] = [
        (r"今天|今日", lambda m: today),
        (r"明天", lambda m: today + timedelta(days=1)),
        (r"大后天", lambda m: today + timedelta(days=3)),
        (r"后天", lambda m: today + timedelta(days=2)),
        (r"下(?:周|星期|礼拜)([一二三四五六日天])", lambda m: today + timedelta(days=7 - today.weekday() + _WEEKDAY[m.group(1)])),
        (r"下(?:周|星期|礼拜)", lambda m: today + timedelta(days=7 - today.weekday())),
        (r"(?:本周|这周|这个星期)([一二三四五六日天])?",
         lambda m: today + timedelta(days=max(0, _WEEKDAY[m.group(1)] - today.weekday())) if m.group(1) else today),
        (r"(\d+)\s*天(?:后|之后|以后|内)", lambda m: today + timedelta(days=int(m.group(1)))),
        (r"(\d+)\s*(?:周|个星期)(?:后|之后|以后)", lambda m: today + timedelta(weeks=int(m.group(1)))),
        # a month alone ("招标延期到6月", "六月底签"): its first day, its middle or its last day
        (rf"(?<![\d{_NUM}个])(\d{{1,2}}|[{_NUM}]+)\s*月(?:份)?(初|中|底|末)?(?![\d{_NUM}])",
         lambda m: _month_day(today, _cn_int(m.group(1)), m.group(2) or "")),
        (rf"(\d+|[{_NUM}]+)\s*个月(?:后|之后|以后)", lambda m: today + timedelta(days=30 * _cn_int(m.group(1)))),
        (r"(?:本月|这个月)?月底|月末", lambda m: _month_end(today)),
        (r"下(?:个)?月(?:初)?", lambda m: _month_end(today) + timedelta(days=1)),
        (r"国庆(?:节)?(?:后|之后|以后|回来)", lambda m: _next(date(today.year, 10, 8), today)),
        (r"元旦(?:后|之后|以后)", lambda m: _next(date(today.year, 1, 2), today)),
        (r"春节(?:后|之后|以后)|年后", lambda m: _spring_after(today)),
        (r"年底|年末", lambda m: date(today.year, 12, 31)),
        (r"季度末|季末", lambda m: _quarter_end(today)),
        (r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", lambda m: _next(date(today.year, int(m.group(1)), int(m.group(2))), today)),
        # spoken forms (voice debriefs): Chinese numerals, a bare weekday, "节后", "月中", "3号"
        (rf"([{_NUM}]+)\s*月\s*([{_NUM}]+)\s*[日号]",
         lambda m: _next(date(today.year, _cn_int(m.group(1)), _cn_int(m.group(2))), today)),
        (r"(?<![上下本这个])(?:周|星期|礼拜)([一二三四五六日天])",
         lambda m: today + timedelta(days=(_WEEKDAY[m.group(1)] - today.weekday()) % 7)),
        (r"(?:过完)?(?:节|假期|放假)(?:后|之后|以后|回来|过后)|过完节|收假", lambda m: _after_next_holiday(today)),
        (r"(?:本月|这个月)?月中", lambda m: _next_day_of_month(today, 15)),
        (rf"(?<![月\d{_NUM}])(\d{{1,2}}|[{_NUM}]+)\s*号", lambda m: _next_day_of_month(today, _cn_int(m.group(1)))),
    ]
    for pattern, fn in rules:
        m = re.search(pattern, text)
        if m:
            try:
                return fn(m), m.group(0)
            except ValueError:
                return None, ""
    return None, ""


_NUM = "0-9零〇一二两三四五六七八九十"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_int(text: str) -> int:
    """"12", "十二", "二十一", "三十" → int (what speech recognisers write for dates)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _DIGITS.get(ch, 0)
    return value


def _next_day_of_month(today: date, day: int) -> date:
    """Day `day` of this month, or of next month when it has passed ("3号" said on the 20th)."""
    if day >= today.day:
        return date(today.year, today.month, day)
    first = _month_end(today) + timedelta(days=1)
    return date(first.year, first.month, day)


def _after_next_holiday(today: date) -> date:
    """"节后": the first working day after the next (or current) official holiday, by chinese_calendar."""
    try:
        import chinese_calendar

        d, seen = today, False
        for _ in range(200):
            holiday, name = chinese_calendar.get_holiday_detail(d)
            if holiday and name:
                seen = True
            elif seen and not holiday:
                return d
            d += timedelta(days=1)
    except (ImportError, NotImplementedError):
        pass
    return today + timedelta(days=14)


def _month_day(today: date, month: int, part: str) -> date:
    """The named month's first day ("6月", "6月初"), 15th ("月中") or last day ("月底"), this year or next."""
    year = today.year if month >= today.month else today.year + 1
    first = date(year, month, 1)
    return _month_end(first) if part in ("底", "末") else first.replace(day=15) if part == "中" else first


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _quarter_end(d: date) -> date:
    q_last = ((d.month - 1) // 3) * 3 + 3
    return _month_end(date(d.year, q_last, 1))


def _next(d: date, today: date) -> date:
    return d if d >= today else date(d.year + 1, d.month, d.day)


def _spring_after(today: date) -> date:
    """The first working day after the Spring Festival holiday (chinese_calendar knows the official dates)."""
    try:
        import chinese_calendar

        for year in (today.year, today.year + 1):
            d = date(year, 1, 15)
            seen_holiday = False
            for _ in range(60):
                holiday, name = chinese_calendar.get_holiday_detail(d)
                if holiday and name == chinese_calendar.Holiday.spring_festival.value:
                    seen_holiday = True
                elif seen_holiday and not holiday:
                    if d >= today:
                        return d
                    break
                d += timedelta(days=1)
    except (ImportError, NotImplementedError):
        pass
    return _next(date(today.year, 2, 20), today)
