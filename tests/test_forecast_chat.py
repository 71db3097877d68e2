"""The forecast commands end to end through the console: answers, permissions, audit trail, notes."""

from __future__ import annotations

from conftest import T0

from store import customers as customer_store
from store import deals as deal_store
from store import leads as lead_store
from store import revisions as rev_store

DAY = 86_400_000


def seed(store):
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        customer_store.upsert(store, "c2", "明德中学", industry="教育")
        customer_store.upsert(store, "c3", "南方物流", industry="物流")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 40 * DAY, amount=350_000,
                          expected_close_at=T0 + 20 * DAY)
        lead_store.upsert(store, "L2", "c2", "r2", "明德中学大屏", T0 - 30 * DAY, amount=120_000,
                          expected_close_at=T0 + 10 * DAY)
        lead_store.upsert(store, "L3", "c3", "r3", "南方物流仓储", T0 - 20 * DAY, amount=200_000,
                          expected_close_at=T0 + 15 * DAY)
        for i in range(6):
            lead_store.upsert(store, f"H{i}", "c1", "r1", f"历史单{i}", T0 - 200 * DAY, status="won" if i % 2 else "lost",
                              amount=100_000, closed_at=T0 - (100 - i) * DAY)
        deal_store.upsert_details(store, "L1", T0, approver_met=False, disputed_clauses=3, tech_validation=0.5)
        deal_store.upsert_details(store, "L2", T0, approver_met=True, tech_validation=0.9, legal_review="passed")


async def ask(runtime, who, text):
    n = len(runtime.console.delivered)
    runtime.console.type_line(who, text)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:]]


async def test_manager_gets_an_interval_forecast_for_the_team(runtime):
    seed(runtime.store)
    texts = await ask(runtime, "王经理", "/预测 本季")
    body = "\n".join(texts)
    assert "本季度预计回款" in body and "置信度" in body and "区间" in body
    assert "团队 华东一组" in body and "在途商机2个" in body  # L1 and L2, not 刘洋's L3
    assert "置信度不更高的主要原因" in body


async def test_rep_cannot_forecast_another_team(runtime):
    seed(runtime.store)
    texts = await ask(runtime, "张伟", "/forecast 本月 华南组")
    assert "没有权限" in texts[-1]
    texts = await ask(runtime, "张伟", "/forecast 本月 @刘洋")
    assert "没有权限" in texts[-1]


async def test_deal_explains_and_rep_sees_only_own_deals(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/商机 华东电网")
    assert "赢单概率" in text and "终审人尚未见面，权重扣减" in text and "🔴红" in text
    (text,) = await ask(runtime, "张伟", "/商机 明德中学")  # 李娜's deal
    assert "没找到" in text
    (text,) = await ask(runtime, "张伟", "/商机 华东巡")
    assert "没找到" in text and "华东电网巡检" in text  # a suggestion, never a stack trace


async def test_adjust_requires_a_preset_reason_and_is_audited(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 金额 30万 我觉得")
    assert "预设原因" in text and "1. 客户CFO出国，审批延迟" in text
    assert rev_store.for_lead(runtime.store, "L1") == []
    assert deal_store.get(runtime.store, "L1").amount == 350_000
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 金额 30万 预算削减")
    assert "35万 → 30万" in text and "预算削减" in text
    (rev,) = rev_store.for_lead(runtime.store, "L1")
    assert (rev.field, rev.old_value, rev.new_value, rev.reason, rev.person_id) == ("amount", "35万", "30万", "预算削减", "r1")
    (text,) = await ask(runtime, "张伟", "/调整 华东电网巡检 日期 2026-05-30 2")
    assert deal_store.get(runtime.store, "L1").details.close_slips == 1
    texts = await ask(runtime, "王经理", "/修订")
    assert any("预算削减" in t and "新增竞争对手低价搅局" in t for t in texts)
    assert any(t.startswith("预测修订原因热力图") or "图片已生成" in t for t in texts)


async def test_note_updates_probability_and_admits_what_it_did_not_understand(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/备注 华东电网巡检 客户CFO下周回国，天气不错")
    assert "已识别：终审人(CFO)下周可见面 → 决策链 +1" in text
    assert "概率" in text and "→" in text and "没看懂：天气不错" in text
    d = deal_store.get(runtime.store, "L1")
    assert d.details.decision_people == 1 and d.details.rank_change == 1


async def test_health_lists_by_colour_with_reasons(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "王经理", "/健康度")
    assert "🔴 华东电网巡检" in text and "争议条款3条" in text and "未见终审人" in text
    assert "华南" not in text and "南方物流" not in text


async def test_admin_sees_the_company_and_empty_history_says_so(runtime):
    with runtime.store.transaction():
        customer_store.upsert(runtime.store, "c1", "华东电网", industry="能源")
        lead_store.upsert(runtime.store, "L1", "c1", "r1", "华东电网巡检", T0 - 5 * DAY, amount=350_000,
                          expected_close_at=T0 + 5 * DAY)
        lead_store.upsert(runtime.store, "L3", "c1", "r3", "华东电网二期", T0 - 5 * DAY, amount=150_000,
                          expected_close_at=T0 + 5 * DAY)
    body = "\n".join(await ask(runtime, "管理员", "/forecast 本月 全公司"))
    assert "全公司" in body and "在途商机2个" in body
    assert "历史成交太少" in body  # no closed deal yet: base rates, and it says so
    body = "\n".join(await ask(runtime, "王经理", "/预测 本月 华南组"))
    assert "没有权限" in body
    body = "\n".join(await ask(runtime, "王经理", "/预测 本月 华东二组"))
    assert "不认识" in body and "华东一组" in body  # a suggestion for the near miss


def test_a_close_outside_the_buying_window_moves_out_of_the_period(store, config):
    from datetime import date
    from zoneinfo import ZoneInfo

    from handlers.forecast import engine, periods
    from store import procurement

    with store.transaction():
        customer_store.upsert(store, "c2", "明德中学", industry="教育")
        lead_store.upsert(store, "L2", "c2", None, "明德中学大屏", T0 - 30 * DAY, amount=120_000,
                          expected_close_at=T0 + 3 * DAY)
    tz = ZoneInfo("Asia/Shanghai")
    month = periods.month_of(date(2026, 3, 2))
    before = engine.run(store, config.forecast, tz, T0, month, None, None)
    assert before.outcome.mean > 10_000
    with store.transaction():
        procurement.add(store, "教育局采购窗口", "09-15", "09-30", industry="教育")
    after = engine.run(store, config.forecast, tz, T0, month, None, None)
    assert after.outcome.mean < before.outcome.mean / 10  # moved to September 15
    assert ("reason_window", {"n": 1}) in after.reasons
    september = engine.run(store, config.forecast, tz, T0, periods.month_of(date(2026, 9, 1)), None, None)
    assert september.outcome.mean > after.outcome.mean
