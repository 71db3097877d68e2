"""The daily digest reaches each manager once per due time with the team's tagged actions."""

from __future__ import annotations

from conftest import T0

from bot.events import Actor, Message, MessageKind
from store import customers as customer_store
from store import leads as lead_store

HOUR = 3_600_000


async def test_daily_digest_to_managers_once(runtime, clock):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "杭州精工机械", industry="制造业")
        customer_store.add_key(store, "external_id", "wmCUST1", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "精工机械-数控设备", T0 - 24 * HOUR)
    runtime.services.directory.refresh()
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
