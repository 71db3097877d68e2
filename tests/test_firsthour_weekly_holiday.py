"""The weekly digest does not go out on a public holiday (issue 13, defect 9): 清明 on Monday 2026-04-06 moves it
to Tuesday morning, still about the week before (03-30 – 04-05); an ordinary Monday sends it on Monday only."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from test_digests import seed_one_lead

from bot.clock import VirtualClock, to_ms
from bot.config import JobSection, SchedulerSection
from handlers.digests import weekly_due

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=9, mm=0) -> int:
    return to_ms(datetime(y, m, d, hh, mm, tzinfo=SH))


@pytest.mark.parametrize(("due", "sends_for"), [
    (at(2026, 4, 6), None),  # 清明 (Monday): not on the holiday
    (at(2026, 4, 7), at(2026, 4, 6)),  # Tuesday: this week's digest, keyed by its Monday
    (at(2026, 4, 8), None),  # Wednesday: Tuesday carried it
    (at(2026, 3, 2), at(2026, 3, 2)),  # an ordinary Monday
    (at(2026, 3, 3), None),
    (at(2026, 5, 4), None),  # 劳动节 holiday runs to Tuesday 05-05
    (at(2026, 5, 6), at(2026, 5, 4)),
])
def test_first_working_day_of_the_week_carries_the_weekly_digest(due, sends_for):
    assert weekly_due(due, "Asia/Shanghai") == sends_for


@pytest.fixture
def clock():
    return VirtualClock(at(2026, 4, 5, 20))  # Sunday evening before 清明


@pytest.fixture
def config(config):
    jobs = (JobSection(name="weekly_digest", cron="0 9 * * 1-5"),)
    return dataclasses.replace(config, scheduler=SchedulerSection(jobs=jobs))


async def test_qingming_monday_sends_nothing_and_tuesday_sends_last_week(runtime, clock):
    seed_one_lead(runtime)
    await runtime.advance_to(clock.now_ms())
    await runtime.advance_to(at(2026, 4, 6, 12))
    assert not [d for d in runtime.console.delivered if d.key.startswith("digest:weekly")]
    await runtime.advance_to(at(2026, 4, 8, 12))
    weekly = [d for d in runtime.console.delivered if d.key.startswith("digest:weekly")]
    assert sorted(d.target.person_id for d in weekly) == ["m1", "m2"]
    assert all(d.key.startswith(f"digest:weekly:{at(2026, 4, 6)}") for d in weekly)
    assert "03月30日–04月05日" in weekly[0].text
