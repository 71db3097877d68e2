"""/目标, /漏斗 and /今日 end to end through the console: permissions, audit, the forecast using chat targets,
pipeline changes against a snapshot and rebuilt from history, and the to-do card."""

from __future__ import annotations

from conftest import T0

from store import calls as calls_store
from store import customers as customer_store
from store import debrief as debrief_store
from store import leads as lead_store
from store import pipeline as pipeline_store
from store import revisions as rev_store
from store import targets as target_store

DAY = 86_400_000


async def ask(runtime, who, text):
    n = len(runtime.console.delivered)
    runtime.console.type_line(who, text)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:]]


def seed(store):
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        customer_store.upsert(store, "c2", "明德中学", industry="教育")
        customer_store.upsert(store, "c3", "南方物流", industry="物流")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 40 * DAY, amount=350_000, stage="方案报价",
                          expected_close_at=T0 + 20 * DAY)
        lead_store.upsert(store, "L2", "c2", "r2", "明德中学大屏", T0 - 30 * DAY, amount=120_000, stage="需求确认",
                          expected_close_at=T0 + 10 * DAY)
        lead_store.upsert(store, "L3", "c3", "r3", "南方物流仓储", T0 - 20 * DAY, amount=200_000, stage="初步接触",
                          expected_close_at=T0 + 15 * DAY)
        for i in range(6):
            lead_store.upsert(store, f"H{i}", "c1", "r1", f"历史单{i}", T0 - 200 * DAY, status="won" if i % 2 else "lost",
                              amount=100_000, closed_at=T0 - (100 - i) * DAY)


# ------------------------------------------------------------------ /目标
async def test_manager_sets_team_target_audited_and_forecast_uses_it(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "王经理", "/目标 本季 300万 华东一组")
    assert "团队 华东一组" in text and "2026Q1" in text and "300万" in text
    t = target_store.get(runtime.store, "team:华东一组", "2026Q1")
    assert t.amount == 3_000_000 and t.set_by == "m1"
    (text,) = await ask(runtime, "王经理", "/目标 本季 250万 华东一组")
    assert "300万 → 250万" in text
    (c2, c1) = target_store.history(runtime.store, None)
    assert (c1.old_amount, c1.new_amount, c2.old_amount, c2.new_amount) == (None, 3e6, 3e6, 2.5e6)
    assert c2.person_id == "m1"
    texts = await ask(runtime, "王经理", "/预测 本季")
    assert any("目标250万" in t.replace(" ", "") or "目标 250" in t for t in texts), texts


async def test_rep_may_not_set_and_manager_not_other_team(runtime):
    seed(runtime.store)
    (text,) = await ask(runtime, "张伟", "/目标 本月 50万 @张伟")
    assert "只有管理员和主管" in text
    assert target_store.history(runtime.store, None) == []
    (text,) = await ask(runtime, "王经理", "/目标 本月 50万 华南组")
    assert "不能设定团队 华南组的目标" in text
    (text,) = await ask(runtime, "王经理", "/目标 本月 50万 @张伟")
    assert "已设定 张伟 2026-03" in text
    (text,) = await ask(runtime, "王经理", "/目标 本月 五十万 @张伟")
    assert "用法" in text or "金额" in text
    (text,) = await ask(runtime, "管理员", "/目标 本季 900万 全公司")
    assert "全公司" in text and "900万" in text


async def test_listing_shows_chat_and_config_targets_with_who(runtime):
    seed(runtime.store)
    await ask(runtime, "王经理", "/目标 本月 50万 @张伟")
    (text,) = await ask(runtime, "张伟", "/目标")
    assert "2026-03 张伟：50万（王经理 于 2026-03-02 设定）" in text
    assert "bot.toml" not in text or "全公司" in text  # the sample config's company targets come from bot.toml
    assert "最近的修改" in text and "— → 50万" in text


async def test_chat_target_wins_over_config_in_forecast(runtime):
    seed(runtime.store)
    texts = await ask(runtime, "管理员", "/预测 本季")
    default = [t for t in texts if "目标" in t]
    await ask(runtime, "管理员", "/目标 本季 123万 全公司")
    texts = await ask(runtime, "管理员", "/预测 本季")
    assert any("123" in t for t in texts if "目标" in t), (default, texts)


async def test_manager_deletes_a_target_audited(runtime):
    seed(runtime.store)
    await ask(runtime, "王经理", "/目标 本季 300万 华东一组")
    (text,) = await ask(runtime, "张伟", "/目标 删除 本季 华东一组")
    assert "只有管理员和主管" in text
    (text,) = await ask(runtime, "王经理", "/目标 删除 本季 华南组")
    assert "不能设定团队 华南组的目标" in text
    assert target_store.get(runtime.store, "team:华东一组", "2026Q1").amount == 3e6
    (text,) = await ask(runtime, "王经理", "/目标 删除 本季 华东一组")
    assert "已删除 团队 华东一组 2026Q1 的目标（原为 300万），现在：没有目标" in text, text
    assert target_store.get(runtime.store, "team:华东一组", "2026Q1") is None
    latest = target_store.history(runtime.store, None)[0]
    assert (latest.old_amount, latest.new_amount, latest.person_id) == (3e6, None, "m1")
    (text,) = await ask(runtime, "王经理", "/目标")
    assert "团队 华东一组 2026Q1 300万 → 已删除" in text and "2026Q1 团队 华东一组：" not in text, text
    (text,) = await ask(runtime, "王经理", "/目标 删除 本季 华东一组")
    assert "没有在聊天里设定的目标" in text
    assert len(target_store.history(runtime.store, None)) == 2  # nothing deleted, nothing audited
    (text,) = await ask(runtime, "王经理", "/目标 删除 本季 华东一组 多余")
    assert "用法：/目标 删除" in text


async def test_deleting_a_chat_target_falls_back_to_bot_toml(store, clock, config):
    import dataclasses

    from adapters.base import AdapterContext
    from adapters.console import ConsoleAdapter
    from bot.app import Runtime
    from prompts import Prompts

    config = dataclasses.replace(config, forecast=dataclasses.replace(config.forecast, targets={"company:本季": 2e6}))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    rt.console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts())
    rt.add_sender("console", rt.console.send)
    try:
        seed(store)
        (text,) = await ask(rt, "管理员", "/目标 删除 本季 全公司")
        assert "写在 bot.toml 的 [forecast.targets] 里" in text and "200万" in text, text
        await ask(rt, "管理员", "/目标 本季 900万 全公司")
        (text,) = await ask(rt, "管理员", "/target delete 本季 全公司")
        assert "已删除 全公司 2026Q1 的目标（原为 900万），现在：200万（bot.toml）" in text, text
        texts = await ask(rt, "管理员", "/预测 本季")
        assert any("200" in t for t in texts if "目标" in t) and not any("900" in t for t in texts), texts
    finally:
        rt.close()


# ------------------------------------------------------------------ /漏斗
async def test_pipeline_rebuilt_without_snapshot_then_against_one(runtime, clock):
    seed(runtime.store)
    texts = await ask(runtime, "王经理", "/漏斗")
    body = "\n".join(texts)
    assert "团队 华东一组" in body and "在途 2 个" in body and "47万" in body  # L1 + L2, not 刘洋's L3
    assert "方案报价：1 个，35万" in body and "推算" in body
    png = runtime.console.delivered[-1].reply.image_path
    assert png.endswith(".png") and open(png, "rb").read(4) == b"\x89PNG"
    # a week later: L1 won, L2 moved forward and was cut, a new deal came in
    clock.advance(7 * DAY)
    with runtime.store.transaction():
        lead_store.upsert(runtime.store, "L1", "c1", "r1", "华东电网巡检", T0 - 40 * DAY, amount=350_000,
                          stage="赢单", status="won", closed_at=clock.now_ms())
        lead_store.upsert(runtime.store, "L2", "c2", "r2", "明德中学大屏", T0 - 30 * DAY, amount=100_000,
                          stage="方案报价")
        lead_store.upsert(runtime.store, "L4", "c2", "r1", "明德中学二期", clock.now_ms() - DAY, amount=80_000,
                          stage="初步接触")
    texts = await ask(runtime, "王经理", "/pipeline")
    body = "\n".join(texts)
    assert "推算" not in body and "对比 2026-03-02" in body
    assert "赢单 1 个（35万）" in body and "新增 1 个（8万）" in body and "阶段前进 1 个" in body
    assert "金额下调 1 个（−2万）" in body and "赢单：华东电网巡检" in body
    assert "方案报价：1 个，10万（+0 个，−25万）" in body


async def test_pipeline_scope(runtime):
    seed(runtime.store)
    (text,) = (await ask(runtime, "张伟", "/漏斗 华南组"))[-1:]
    assert "没有权限" in text
    texts = await ask(runtime, "管理员", "/漏斗")
    assert any("全公司：在途 3 个" in t for t in texts)
    (text,) = await ask(runtime, "赵客服", "/漏斗")
    assert "没有权限" in text


async def test_snapshot_job_writes_once_a_day(runtime):
    seed(runtime.store)
    from datetime import date

    from handlers.views import pipeline
    with runtime.store.transaction():
        assert pipeline.snapshot(runtime.store, date(2026, 3, 2), 120) == 3
        assert pipeline.snapshot(runtime.store, date(2026, 3, 2), 120) == 0
    assert pipeline_store.on_day(runtime.store, "2026-03-02")["L1"] == ("方案报价", 350_000)


async def test_rebuilt_amount_comes_from_revisions(runtime, clock):
    seed(runtime.store)
    with runtime.store.transaction():
        rev_store.add(runtime.store, "L1", "amount", "40万", "35万", "预算削减", "r1", T0 - DAY)
    texts = await ask(runtime, "王经理", "/漏斗")
    body = "\n".join(texts)
    assert "方案报价：1 个，35万（+0 个，−5万）" in body and "金额下调 1 个（−5万）" in body


# ------------------------------------------------------------------ /今日
def seed_todo(store):
    seed(store)
    with store.transaction():
        debrief_store.set_next_step(store, "L1", "发送报价单", "2026-03-02", "李总", 0, "r1", T0)
        debrief_store.set_next_step(store, "L2", "约技术交流", "2026-02-27", "", 0, "r2", T0)
        calls_store.add_missed(store, "call-1", "13900000009", "c1", "L1", "r1", T0 - 3_600_000, T0 + 3_600_000)


async def test_today_rep_sees_own_manager_sees_team(runtime):
    seed_todo(runtime.store)
    (text,) = await ask(runtime, "张伟", "/今日")
    assert "今日待办" in text and "华东电网巡检：发送报价单，对接人 李总（今天）" in text
    assert "华东电网 13900000009，今天未接" in text
    assert "明德中学" not in text  # 李娜's
    (text,) = await ask(runtime, "王经理", "/今日")
    assert "【张伟】华东电网巡检" in text and "【李娜】明德中学大屏：约技术交流（原定 2026-02-27，已过期）" in text
    (text,) = await ask(runtime, "刘洋", "/今日")
    assert "今天没有待办" in text
    (text,) = await ask(runtime, "赵客服", "/今日")
    assert "销售、主管和门店人员" in text


async def test_today_for_a_store_manager_lists_the_stores_fixes(runtime):
    """A store manager is a colleague in the org chart, not a rep: /今日 used to refuse them, though their to-do is
    exactly the store's fixes."""
    from store import stores as stores_store

    seed_todo(runtime.store)
    with runtime.store.transaction():
        stores_store.upsert_store(runtime.store, stores_store.StoreRow(
            "S1", "南京西路店", "华东", "", "t1", "上海", "Asia/Shanghai", "10:00", "22:00", None, None, ""), "test", T0)
        stores_store.set_staff(runtime.store, "S1", "t1", [])
        stores_store.open_fix(runtime.store, "S1", "2026-03-01", "goods", "red", ["缺货"], T0 - DAY, T0 + DAY)
    (text,) = await ask(runtime, "孙工", "/今日")
    assert "门店整改（1）" in text and "南京西路店" in text and "华东电网" not in text


# ------------------------------------------------------------------ the morning card
def morning_runtime(store, config, start_ms, enabled=True):
    import dataclasses

    from adapters.base import AdapterContext
    from adapters.console import ConsoleAdapter
    from bot.app import Runtime
    from bot.clock import VirtualClock
    from prompts import Prompts

    config = dataclasses.replace(config, today=dataclasses.replace(config.today, enabled=enabled, at="08:45"),
                                 scheduler=dataclasses.replace(config.scheduler, jobs=()))
    clock = VirtualClock(start_ms)
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts("zh-CN"))
    rt.add_sender("console", console.send)
    rt.console = console
    rt.scheduler.emit_due()  # the bot is running from the start (a job's first pass only notes the time)
    return rt, clock


def morning_cards(rt) -> list[tuple[str, str]]:
    return sorted((d.key.split(":")[1], d.target.person_id) for d in rt.console.delivered if d.key.startswith("today:"))


async def test_morning_card_on_working_days_only_to_people_with_a_todo(store, config):
    rt, clock = morning_runtime(store, config, T0)  # Monday 2026-03-02 09:00, after the 08:45 send
    seed_todo(store)
    try:
        await rt.advance_to(T0 + 5 * DAY)  # to Saturday 09:00
        cards = morning_cards(rt)
        days = sorted({d for d, _p in cards})
        assert days == ["2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]  # not Saturday 03-07
        assert {p for d, p in cards if d == "2026-03-03"} == {"r1", "r2", "m1"}  # 刘洋 and 陈总监: nothing to do
        card = next(d for d in rt.console.delivered if d.key.startswith("today:2026-03-03") and d.target.person_id == "m1")
        assert "【李娜】明德中学大屏" in card.text
    finally:
        rt.close()


async def test_no_morning_card_on_a_public_holiday_or_when_disabled(store, config):
    from datetime import UTC, datetime

    from bot.clock import to_ms

    start = to_ms(datetime(2026, 4, 3, 0, 0, tzinfo=UTC))  # Friday 08:00 in Shanghai; 04-04..06 is 清明
    rt, clock = morning_runtime(store, config, start)
    seed_todo(store)
    try:
        await rt.advance_to(start + 4 * DAY + 3_600_000)
        assert sorted({d for d, _p in morning_cards(rt)}) == ["2026-04-03", "2026-04-07"]
    finally:
        rt.close()
    rt, clock = morning_runtime(store, config, start, enabled=False)
    try:
        await rt.advance_to(start + DAY)
        assert morning_cards(rt) == []
    finally:
        rt.close()


async def test_morning_card_reaches_a_store_manager_with_a_fix(store, config):
    from store import stores as stores_store

    rt, clock = morning_runtime(store, config, T0)
    with store.transaction():
        stores_store.upsert_store(store, stores_store.StoreRow(
            "S1", "南京西路店", "华东", "", "t1", "上海", "Asia/Shanghai", "10:00", "22:00", None, None, ""), "test", T0)
        stores_store.set_staff(store, "S1", "t1", [])
        stores_store.open_fix(store, "S1", "2026-03-01", "goods", "red", ["缺货"], T0 - DAY, T0 + DAY)
    try:
        await rt.advance_to(T0 + DAY)
        assert ("2026-03-03", "t1") in morning_cards(rt)
    finally:
        rt.close()
