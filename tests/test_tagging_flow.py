"""The tagging observer end to end: events through the real dispatcher get stored, tied to their lead, tagged by
the default pack with SQL-backed history windows, and counted as activity; hot reload of rule packs."""

from __future__ import annotations

import dataclasses
import os

import pytest
from conftest import T0

from bot.config import RulesSection
from bot.events import Actor, CalendarEvent, CallRecord, DocumentOpen, Message, MessageKind, Role
from store import customers as customer_store
from store import leads as lead_store

DAY = 86_400_000
HOUR = 3_600_000


@pytest.fixture
def config(config, tmp_path):
    packs = tmp_path / "packs"
    packs.mkdir()
    rules = RulesSection(packs_dirs=(str(packs),), products=("GW-300", "QC-8", "EMS-2|能耗管理系统"),
                         reload_check_s=5.0)
    return dataclasses.replace(config, rules=rules)


@pytest.fixture
def company(runtime):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", owner_id="r1")
        customer_store.add_key(store, "external_id", "wmCust1", "c1")
        customer_store.add_key(store, "phone", "13900001111", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华鑫-GW-300项目", T0 - 10 * DAY)
    return runtime


_n = [0]


def feed(runtime, event) -> None:
    _n[0] += 1
    runtime.console.ctx.accept(event.platform, f"{event.event_id}:{_n[0]}", {"t": "test"}, event)


def rep_msg(eid: str, text: str, at: int, **kw) -> Message:
    return Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id="zhangwei"), text=text,
                   recipients=("wmCust1",), conversation_id="wmCust1|zhangwei", **kw)


def cust_msg(eid: str, text: str, at: int) -> Message:
    return Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id="wmCust1"), text=text,
                   recipients=("zhangwei",), conversation_id="wmCust1|zhangwei")


def tags_of(store, eid: str) -> set[str]:
    return {r[0] for r in store.conn.execute(
        "SELECT t.tag FROM event_tags t JOIN events e ON e.id = t.event_rowid WHERE e.event_id = ?", (eid,))}


def row(store, eid: str):
    return store.conn.execute("SELECT customer_id, lead_id, role, text, match_key FROM events WHERE event_id = ?",
                              (eid,)).fetchone()


def last_activity(store, lead: str = "L1"):
    return store.conn.execute("SELECT last_activity_at FROM leads WHERE id = ?", (lead,)).fetchone()[0]


async def test_parameter_sheet_in_chat_is_material_delivery_and_activity(company):
    """The seed's fault case: the sheet sent as a chat line counts, so the lead has activity."""
    at = T0 + HOUR
    feed(company, rep_msg("wecom:a1", "附件:XX型号参数.pdf", at))
    await company.settle()
    assert tuple(row(company.store, "wecom:a1"))[:3] == ("c1", "L1", "rep")
    assert {"资料交付", "销售联系"} <= tags_of(company.store, "wecom:a1")
    assert last_activity(company.store) == at
    cat = company.store.conn.execute("SELECT category, lead_id FROM event_tags WHERE tag = '资料交付'").fetchone()
    assert tuple(cat) == ("销售动作", "L1")


def call(eid: str, seconds: int, at: int, answered: bool = True, direction: str = "outbound") -> CallRecord:
    return CallRecord(event_id=eid, platform="telephony", occurred_at=at, actor=Actor(platform_id="zhangwei"),
                      customer_phone="+86 139-0000-1111", duration_s=seconds, answered=answered, direction=direction)


@pytest.mark.parametrize("seconds, fires", [(492, True), (491, False)])
async def test_first_call_threshold_through_sql_history(company, seconds, fires):
    feed(company, call("tel:1", seconds, T0 + HOUR))
    feed(company, call("tel:2", 900, T0 + 2 * HOUR))  # a later long call is not the first
    await company.settle()
    assert ("首次通话时长≥8分12秒" in tags_of(company.store, "tel:1")) is fires
    assert "首次通话时长≥8分12秒" not in tags_of(company.store, "tel:2")
    assert row(company.store, "tel:1")["lead_id"] == "L1"


async def test_missed_inbound_call_is_tagged_and_counts_as_activity(company):
    feed(company, call("tel:m", 0, T0 + HOUR, answered=False, direction="inbound"))
    await company.settle()
    assert "未接来电" in tags_of(company.store, "tel:m")
    assert last_activity(company.store) == T0 + HOUR


async def test_second_contact_within_three_days(company):
    feed(company, rep_msg("wecom:c1", "王总您好", T0))
    feed(company, rep_msg("wecom:c2", "刚才说的资料稍后发您", T0 + 20 * 60_000))
    feed(company, rep_msg("wecom:c3", "王总，昨天的问题有答复了", T0 + DAY))
    feed(company, rep_msg("wecom:c4", "再跟进一下", T0 + 2 * DAY))
    await company.settle()
    fired = ["3日内二次联系" in tags_of(company.store, f"wecom:c{i}") for i in range(1, 5)]
    assert fired == [False, False, True, False]


async def test_three_distinct_products(company):
    lines = ["GW-300多少钱", "QC-8什么价", "GW-300能便宜点吗，报价多少", "能耗管理系统报个价"]
    for i, text in enumerate(lines):
        feed(company, cust_msg(f"wecom:p{i}", text, T0 + i * HOUR))
    await company.settle()
    fired = ["同一客户3次不同产品询价" in tags_of(company.store, f"wecom:p{i}") for i in range(4)]
    assert fired == [False, False, False, True]
    assert row(company.store, "wecom:p0")["role"] == "customer"


async def test_fourth_open_of_the_same_pdf(company):
    for i in range(5):
        feed(company, DocumentOpen(event_id=f"link:o{i}", platform="links", occurred_at=T0 + i * HOUR,
                                   actor=Actor(platform_id="opener"), link_code="abc", document="GW-300方案.pdf",
                                   lead_id="L1", opener_hash="h"))
    await company.settle()
    fired = ["客户打开方案PDF超3次" in tags_of(company.store, f"link:o{i}") for i in range(5)]
    assert fired == [False, False, False, True, True]
    assert row(company.store, "link:o0")["role"] == "customer"
    assert last_activity(company.store) == T0 + 4 * HOUR


async def test_meeting_with_tech_department_is_cross_department(company):
    feed(company, CalendarEvent(event_id="cal:1", platform="console", occurred_at=T0 + HOUR, actor=Actor(platform_id="r1"),
                                title="GW-300方案评审", starts_at=T0 + HOUR, ends_at=T0 + 2 * HOUR,
                                attendees=("r1", "t1", "wmCust1")))
    await company.settle()
    got = tags_of(company.store, "cal:1")
    assert {"技术部参与会议", "客户会议"} <= got
    assert row(company.store, "cal:1")["lead_id"] == "L1"


async def test_commands_and_bot_messages_are_not_activity(company):
    company.console.type_line("张伟", "/help")
    bot = Message(event_id="wecom:bot1", platform="wecom", occurred_at=T0 + HOUR,
                  actor=Actor(platform_id="wbRobot", role=Role.BOT), text="系统通知：附件:XX型号参数.pdf",
                  recipients=("wmCust1",))
    feed(company, bot)
    await company.settle()
    assert last_activity(company.store) is None
    assert tags_of(company.store, "wecom:bot1") == set()
    assert company.store.conn.execute("SELECT COUNT(*) FROM events WHERE type = 'command'").fetchone()[0] == 0


async def test_same_event_twice_is_stored_and_tagged_once(company):
    ev = rep_msg("wecom:dup", "附件:XX型号参数.pdf", T0 + HOUR)
    feed(company, ev)
    feed(company, ev)
    await company.settle()
    n = company.store.conn.execute("SELECT COUNT(*) FROM events WHERE event_id = 'wecom:dup'").fetchone()[0]
    t = company.store.conn.execute("SELECT COUNT(*) FROM event_tags WHERE tag = '资料交付'").fetchone()[0]
    assert (n, t) == (1, 1)


async def test_voice_and_recall_kinds(company):
    feed(company, rep_msg("wecom:v", "", T0 + HOUR, kind=MessageKind.VOICE, duration_ms=15_000))
    feed(company, rep_msg("wecom:r", "", T0 + HOUR + 1, kind=MessageKind.RECALL, recalled_id="wecom:v"))
    await company.settle()
    assert "语音沟通" in tags_of(company.store, "wecom:v")
    assert "撤回消息" in tags_of(company.store, "wecom:r")


# ---------------------------------------------------------------- hot reload


GOOD = '[[rule]]\nid = "vip"\ntag = "大客户"\ncategory = "客户响应"\nweight = 2\nkeywords = ["集团采购"]\n'
BROKEN = '[[rule]]\nid = "vip"\ntag = "大客户"\ncategory = "客户响应"\nweight = 2\nkeywords = ["集团采购"]\nrole = "boss"\n'
FIXED = '[[rule]]\nid = "vip2"\ntag = "集团客户"\ncategory = "客户响应"\nkeywords = ["集团采购"]\n'


def write(path, text: str, tick: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))  # mtime moves even within one second


def admin_texts(runtime) -> list[str]:
    return [d.text for d in runtime.console.delivered if d.target.person_id == "a1"]


async def test_hot_reload_keeps_last_good_pack_and_tells_admins(company, tmp_path):
    pack = tmp_path / "packs" / "mine.toml"
    write(pack, GOOD, 1)
    clock = company.clock
    clock.advance(6_000)
    feed(company, cust_msg("wecom:h1", "我们是集团采购", clock.now_ms()))
    await company.settle()
    assert "大客户" in tags_of(company.store, "wecom:h1")
    assert "已重新加载" in admin_texts(company)[-1]  # a new pack file is a change too
    company.console.delivered.clear()

    write(pack, BROKEN, 2)
    clock.advance(6_000)
    feed(company, cust_msg("wecom:h2", "集团采购的流程", clock.now_ms()))
    await company.settle()
    assert "大客户" in tags_of(company.store, "wecom:h2")  # the last good rules stay active
    (notice,) = admin_texts(company)
    assert f"{pack}:7：规则 vip：role 的“boss”不在可选值里" in notice
    assert not [d for d in company.console.delivered if d.target.person_id == "r1"]  # only admins are told

    clock.advance(6_000)
    feed(company, cust_msg("wecom:h3", "集团采购", clock.now_ms()))
    await company.settle()
    assert len(admin_texts(company)) == 1  # told once per broken version

    write(pack, FIXED, 3)
    clock.advance(6_000)
    feed(company, cust_msg("wecom:h4", "集团采购", clock.now_ms()))
    await company.settle()
    got = tags_of(company.store, "wecom:h4")
    assert "集团客户" in got and "大客户" not in got
    assert "已重新加载" in admin_texts(company)[-1]


async def test_reload_waits_for_the_check_interval(company, tmp_path):
    pack = tmp_path / "packs" / "mine.toml"
    write(pack, GOOD, 1)
    company.clock.advance(1_000)  # less than reload_check_s
    feed(company, cust_msg("wecom:i1", "集团采购", company.clock.now_ms()))
    await company.settle()
    assert "大客户" not in tags_of(company.store, "wecom:i1")
    company.clock.advance(5_000)
    feed(company, cust_msg("wecom:i2", "集团采购", company.clock.now_ms()))
    await company.settle()
    assert "大客户" in tags_of(company.store, "wecom:i2")


async def test_a_broken_pack_is_logged_in_the_admins_language(company, tmp_path):
    """The log line under `serve` (zh-CN) names the wrong line in Chinese, as the admins' chat notice does."""
    import io
    import logging

    from bot import logsetup

    pack = tmp_path / "packs" / "mine.toml"
    write(pack, GOOD, 1)
    root, ours = logging.getLogger(), logging.getLogger("salespulse")
    saved, level, stream = root.handlers[:], ours.level, io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    try:
        logsetup.configure("text", "info", "zh-CN")
        company.clock.advance(6_000)
        feed(company, cust_msg("wecom:g1", "集团采购", company.clock.now_ms()))
        await company.settle()
        write(pack, BROKEN, 2)
        company.clock.advance(6_000)
        feed(company, cust_msg("wecom:g2", "集团采购", company.clock.now_ms()))
        await company.settle()
    finally:
        root.handlers, _ = saved, ours.setLevel(level)
    out = stream.getvalue()
    assert "信息 salespulse.tagging: 规则包已重新加载：" in out
    assert f"错误 salespulse.tagging: 规则包没有重新加载：\n{pack}:7：规则 vip：role 的“boss”不在可选值里" in out, out
