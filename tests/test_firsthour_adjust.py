"""/调整 (issue 13, defect 12, in part): a mistyped field is named, the reason must fit the direction of the change,
and dates may be said the way people say them (明天 / 下周五 / 月底), read by the same parser as /备注."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from test_forecast_chat import ask, seed

from handlers.forecast import periods
from store import deals as deal_store
from store import revisions as rev_store

SH = ZoneInfo("Asia/Shanghai")


async def test_a_mistyped_field_is_named(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 价格 30万 预算削减")
    assert "「价格」" in text and "金额" in text


async def test_a_reason_must_fit_the_direction(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 金额 50万 预算削减")  # 35万 → 50万 is up
    assert "预算削减" in text and "对不上" in text and "需求范围扩大" in text
    assert deal_store.get(runtime.store, "L1").amount == 350_000 and rev_store.for_lead(runtime.store, "L1") == []
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 金额 50万 需求范围扩大")
    assert deal_store.get(runtime.store, "L1").amount == 500_000
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 金额 45万 数据录入更正")  # neutral: either way
    assert deal_store.get(runtime.store, "L1").amount == 450_000


async def test_a_probability_reason_must_fit_against_the_shown_estimate(runtime):
    """No override yet: 95 % is compared with the model's estimate the deal shows, so 预算削减 is refused for a rep
    (before any approval card) and for a manager."""
    seed(runtime.store)
    for who in ("张伟", "王经理"):
        (text,) = await ask(runtime, who, "/调整 华东电网巡检 概率 95% 预算削减")
        assert "预算削减" in text and "对不上" in text and "审批" not in text, text
    assert deal_store.get(runtime.store, "L1").details.probability_override is None
    (text,) = await ask(runtime, "王经理", "/调整 华东电网巡检 概率 5% 预算削减")  # down: fits
    assert deal_store.get(runtime.store, "L1").details.probability_override == 0.05, text


async def test_dates_said_the_way_people_say_them(runtime):
    seed(runtime.store)
    for said, expected in (("月底", date(2026, 3, 31)), ("下周五", date(2026, 3, 13)), ("明天", date(2026, 3, 3))):
        (text,) = await ask(runtime, "王经理", f"/调整 华东电网巡检 日期 {said} 数据录入更正")
        d = deal_store.get(runtime.store, "L1")
        assert periods.local_date(d.expected_close_at, SH) == expected, text


def test_reason_directions_read_negations():
    from handlers.forecast.commands import reason_direction

    assert reason_direction("技术验证未通过") == "down"
    assert reason_direction("提前签约") == "up"
    assert reason_direction("数据录入更正") == ""
