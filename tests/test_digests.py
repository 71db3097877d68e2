"""The daily digest reaches each manager once per due time with the team's tagged actions."""

from __future__ import annotations

from conftest import T0

from bot.events import Actor, Message, MessageKind
from store import customers as customer_store
from store import leads as lead_store

HOUR = 3_600_000


def seed_one_lead(runtime) -> None:
    """A customer reachable by its WeCom external id, with one open lead of 张伟 (r1, 华东一组)."""
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "杭州精工机械", industry="制造业")
        customer_store.add_key(store, "external_id", "wmCUST1", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "精工机械-数控设备", T0 - 24 * HOUR)
    runtime.services.directory.refresh()


async def test_daily_digest_to_managers_once(runtime, clock):
    seed_one_lead(runtime)
    await runtime.advance_to(T0)  # the scheduler sees its jobs for the first time and starts counting from now
    msg = Message(event_id="wecom-archive:m1", platform="wecom", occurred_at=T0 + HOUR,
                  actor=Actor(platform_id="zhangwei"), kind=MessageKind.TEXT,
                  text="附件:XX型号参数.pdf", recipients=("wmCUST1",))
    runtime.console.ctx.accept("wecom", "m1", {"msgid": "m1"}, msg)
    await runtime.advance_to(T0 + 9 * HOUR + 60_000)  # past 18:00 Asia/Shanghai
    digests = [d for d in runtime.console.delivered if d.key.startswith("tick:daily_digest") or "digest" in d.key]
    to = sorted(d.target.person_id for d in digests)
    assert to == ["m1", "m2"]  # a1 is a manager without reps: no digest

    mine = next(d for d in digests if d.target.person_id == "m1")
    assert "华东一组" in mine.text and "资料交付×1" in mine.text and "今日有动作的商机：1" in mine.text
    other = next(d for d in digests if d.target.person_id == "m2")
    assert "华南组" in other.text and "销售动作：0" in other.text
    await runtime.advance_to(T0 + 10 * HOUR)
    again = [d for d in runtime.console.delivered if "digest" in d.key]
    assert len(again) == len(digests)


async def test_weekly_digest_compares_weeks_and_lists_forecast_changes(runtime, clock):
    """Monday 09:00: each manager gets last week (Mon–Sun) against the week before, the forecast changes by reason
    and the team's baseline self-check — once, however often the tick is replayed."""
    from store import revisions as revision_store

    store = runtime.store
    seed_one_lead(runtime)
    await runtime.advance_to(T0)
    for i, text in enumerate(("附件:XX型号参数.pdf", "王总，参数表收到了吗？")):
        msg = Message(event_id=f"wecom-archive:w{i}", platform="wecom", occurred_at=T0 + (1 + 30 * i) * HOUR,
                      actor=Actor(platform_id="zhangwei"), kind=MessageKind.TEXT, text=text, recipients=("wmCUST1",))
        runtime.console.ctx.accept("wecom", f"w{i}", {"msgid": f"w{i}"}, msg)
    with store.transaction():
        revision_store.add(store, "L1", "probability", "0.4", "0.3", "客户CFO出国,审批延迟", "m1", T0 + 50 * HOUR)
    monday = T0 + 7 * 24 * HOUR
    await runtime.advance_to(monday + 60_000)
    weekly = [d for d in runtime.console.delivered if d.key.startswith(f"digest:weekly:{monday}")]
    assert sorted(d.target.person_id for d in weekly) == ["m1", "m2"]
    mine = next(d for d in weekly if d.target.person_id == "m1")
    assert "周报（03月02日–03月08日）" in mine.text, mine.text
    assert "资料交付×1" in mine.text
    assert "销售动作：4（上周 0）" in mine.text and "3日内二次联系×1" in mine.text, mine.text
    assert "本周预测调整 1 次" in mine.text and "客户CFO出国,审批延迟×1" in mine.text
    assert "日均有效动作" in mine.text and "健康 ≥8.1" in mine.text
    other = next(d for d in weekly if d.target.person_id == "m2")
    assert "本周没有预测调整" in other.text and "销售动作：0（上周 0）" in other.text
    await runtime.advance_to(monday + 2 * HOUR)
    assert len([d for d in runtime.console.delivered if d.key.startswith(f"digest:weekly:{monday}")]) == 2


async def test_no_daily_digest_on_days_off(runtime, clock):
    """[digests] daily_on_days_off = false (the default): the weekend's 18:00 runs send nothing; Friday's and the
    next Monday's do."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.clock import to_ms

    sh = ZoneInfo("Asia/Shanghai")
    seed_one_lead(runtime)
    await runtime.advance_to(T0)
    monday = to_ms(datetime(2026, 3, 9, 18, 1, tzinfo=sh))
    clock.set(monday - 2 * 60_000)
    await runtime.settle()  # the scheduler catches up the week's 18:00 runs
    await runtime.advance_to(monday)
    days = {datetime.fromtimestamp(int(d.key.split(":")[2]) / 1000, sh).strftime("%a")
            for d in runtime.console.delivered if d.key.startswith("digest:daily:")}
    assert {"Fri", "Mon"} <= days and not days & {"Sat", "Sun"}, days
