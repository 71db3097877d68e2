"""Silence alerts in virtual time: once at the deadline (not a minute before), to rep + manager only, with the
customer's last three quotes; activity resolves; the next silence alerts again; working hours and 国庆."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import T0
from visibility_helpers import (
    DAY,
    HOUR,
    MINUTE,
    add_lead,
    alerts_sent,
    make_runtime,
    record,
    visibility_config,
)

from bot.clock import VirtualClock, to_ms
from handlers.workcal import WorkCalendar
from store import leads as lead_store
from store import silence as silence_store

SH = ZoneInfo("Asia/Shanghai")
REPLY = (("客户回复", "客户响应", 1.0),)
FILE_TAG = (("资料交付", "销售动作", 2.0),)


@pytest.fixture
def config(config, tmp_path):
    return visibility_config(config, str(tmp_path / "data"))


async def jump(runtime, clock, target: int) -> None:
    """Move virtual time to `target`, skipping the quiet days (the scheduler catches up the last minutes)."""
    if target - 2 * MINUTE > clock.now_ms():
        clock.set(target - 2 * MINUTE)
        await runtime.settle()
    await runtime.advance_to(target)


def people(deliveries) -> set[str]:
    return {d.target.person_id for d in deliveries}


async def test_fires_once_at_72h_to_rep_and_manager_with_last_three_quotes(runtime, clock, store):
    add_lead(store, "L1", "r1", T0, customer="华东机械", title="数控机床采购")
    record(store, "L1", T0 + 1 * MINUTE, role="customer", text="你好，想了解一下你们的机床", tags=REPLY)
    record(store, "L1", T0 + 2 * MINUTE, role="customer", text="交期大概多久？", tags=REPLY)
    record(store, "L1", T0 + 3 * MINUTE, role="customer", text="价格" + "能不能再便宜一点" * 12, tags=REPLY)
    record(store, "L1", T0 + 4 * MINUTE, person="r1", text="我整理一下报价发您")
    record(store, "L1", T0 + 5 * MINUTE, role="customer", text="好的，等你报价", tags=REPLY)
    last = T0 + 5 * MINUTE

    await jump(runtime, clock, last + 72 * HOUR - MINUTE)
    assert alerts_sent(runtime) == [], "no alert at 71h59m"
    await runtime.advance_to(last + 72 * HOUR)
    sent = alerts_sent(runtime)
    assert people(sent) == {"r1", "m1"} and len(sent) == 2
    text = sent[0].text
    assert "华东机械" in text and "数控机床采购" in text and "72" in text
    assert "好的，等你报价" in text and "交期大概多久？" in text
    assert "你好，想了解一下你们的机床" not in text, "only the last three customer quotes"
    long_quote = next(line for line in text.splitlines() if "价格能不能" in line)
    assert "…" in long_quote and len(long_quote) < 100
    assert "我整理一下报价发您" not in text, "the rep's words are not customer quotes"
    # more sweeps (an hour of ticks) do not alert again
    await runtime.advance_to(last + 73 * HOUR)
    assert len(alerts_sent(runtime)) == 2


async def test_file_send_resolves_and_next_silence_alerts_again(runtime, clock, store):
    add_lead(store, "L2", "r2", T0)
    record(store, "L2", T0, role="customer", text="请发一下参数", tags=REPLY)
    await jump(runtime, clock, T0 + 72 * HOUR)
    assert people(alerts_sent(runtime)) == {"r2", "m1"}

    # the rep sends the parameter sheet in chat: tagged 资料交付, it is activity
    sent_at = T0 + 75 * HOUR
    await jump(runtime, clock, sent_at)
    record(store, "L2", sent_at, person="r2", kind="file", text="附件:XX型号参数.pdf", tags=FILE_TAG)
    runtime.console.type_line("李娜", "/沉默")
    await runtime.settle()
    assert "没有沉默" in runtime.console.delivered[-1].text
    (first,) = silence_store.alerts(store, "L2")
    assert first["resolved_at"] == sent_at

    await jump(runtime, clock, sent_at + 72 * HOUR - MINUTE)
    assert len(alerts_sent(runtime)) == 2
    await runtime.advance_to(sent_at + 72 * HOUR)
    sent = alerts_sent(runtime)
    assert len(sent) == 4 and people(sent[2:]) == {"r2", "m1"}
    assert sent[2].key != sent[0].key, "a new episode has its own key"
    assert len(silence_store.alerts(store, "L2")) == 2


async def test_seed_fault_case_attachment_only_lead_is_not_silent(runtime, clock, store):
    add_lead(store, "QUIET", "r1", T0 - 100 * HOUR, customer="静默客户")
    add_lead(store, "FILE", "r1", T0 - 100 * HOUR, customer="参数客户")
    record(store, "FILE", T0 - 10 * HOUR, person="r1", kind="file", text="附件:XX型号参数.pdf", tags=FILE_TAG)
    await runtime.settle()
    await runtime.advance_to(T0 + MINUTE)
    texts = [d.text for d in alerts_sent(runtime)]
    assert texts and all("静默客户" in t for t in texts)
    assert not any("参数客户" in t for t in texts)
    runtime.console.type_line("张伟", "/silent")
    await runtime.settle()
    listing = runtime.console.delivered[-1].text
    assert "静默客户" in listing and "参数客户" not in listing


async def test_closed_leads_and_events_not_recorded_as_activity_do_not_count(runtime, clock, store):
    add_lead(store, "WON", "r1", T0, customer="已成交客户", status="won")
    add_lead(store, "NOISE", "r1", T0, customer="噪音客户")
    await jump(runtime, clock, T0 + 71 * HOUR)
    record(store, "NOISE", T0 + 71 * HOUR, role="customer", text="[表情]", tags=())  # stored, not touched
    await jump(runtime, clock, T0 + 72 * HOUR)
    texts = [d.text for d in alerts_sent(runtime)]
    assert any("噪音客户" in t for t in texts)
    assert not any("已成交客户" in t for t in texts)
    # closing a silent lead resolves its alert and takes it off /silent
    with store.transaction():
        store.conn.execute("UPDATE leads SET status = 'won', closed_at = ? WHERE id = 'NOISE'", (clock.now_ms(),))
    assert silence_store.state(store, "NOISE") is None
    assert silence_store.alerts(store, "NOISE")[0]["resolved_at"] == clock.now_ms()


async def test_silent_permissions(runtime, clock, store):
    add_lead(store, "A", "r1", T0, customer="甲公司")
    add_lead(store, "B", "r2", T0, customer="乙公司")
    add_lead(store, "C", "r3", T0, customer="丙公司")
    await jump(runtime, clock, T0 + 80 * HOUR)

    async def listing(user: str) -> str:
        runtime.console.type_line(user, "/沉默")
        await runtime.settle()
        return runtime.console.delivered[-1].text

    seen = {user: await listing(user) for user in ("张伟", "王经理", "陈总监", "管理员", "wmSTRANGER")}
    assert "甲公司" in seen["张伟"] and "乙公司" not in seen["张伟"] and "丙公司" not in seen["张伟"]
    assert "甲公司" in seen["王经理"] and "乙公司" in seen["王经理"] and "丙公司" not in seen["王经理"]
    assert "丙公司" in seen["陈总监"] and "甲公司" not in seen["陈总监"]
    assert all(name in seen["管理员"] for name in ("甲公司", "乙公司", "丙公司"))
    assert "没有权限" in seen["wmSTRANGER"]
    # alerts went to each rep and their own manager only
    by_lead = {}
    for d in alerts_sent(runtime):
        by_lead.setdefault(d.key.split(":")[1], set()).add(d.target.person_id)
    assert by_lead == {"A": {"r1", "m1"}, "B": {"r2", "m1"}, "C": {"r3", "m2"}}


def test_working_hours_deadline_over_national_day():
    cal = WorkCalendar("Asia/Shanghai")
    start = to_ms(datetime(2026, 9, 30, 17, 0, tzinfo=SH))
    # 1 h on 9/30, 10/1-7 holiday, 10/8, 10/9, Saturday 10/10 is a make-up working day, 10/11 off,
    # 10/12-10/15 → 64 h, 8 more hours on Friday 10/16 → 17:00
    assert cal.add_working_hours(start, 72) == to_ms(datetime(2026, 10, 16, 17, 0, tzinfo=SH))
    # activity on a Saturday evening starts the clock on Monday 09:00
    sat = to_ms(datetime(2026, 3, 7, 20, 0, tzinfo=SH))
    assert cal.add_working_hours(sat, 9) == to_ms(datetime(2026, 3, 9, 18, 0, tzinfo=SH))
    assert cal.working_days(datetime(2026, 10, 1).date(), datetime(2026, 10, 11).date()) == 3


async def test_working_hours_mode_in_virtual_time(store, config, tmp_path):
    start = to_ms(datetime(2026, 9, 30, 17, 0, tzinfo=SH))
    clock = VirtualClock(start)
    cfg = visibility_config(config, str(tmp_path / "wh"), working_hours_only=True)
    rt = make_runtime(store, clock, cfg)
    try:
        add_lead(store, "HOL", "r1", start - DAY, customer="国庆客户")
        record(store, "HOL", start, person="r1", text="节后联系")
        await rt.settle()
        wall_deadline = start + 72 * HOUR
        await jump(rt, clock, wall_deadline + HOUR)
        assert alerts_sent(rt) == [], "holidays and nights do not count"
        deadline = to_ms(datetime(2026, 10, 16, 17, 0, tzinfo=SH))
        await jump(rt, clock, deadline - MINUTE)
        assert alerts_sent(rt) == []
        await rt.advance_to(deadline)
        sent = alerts_sent(rt)
        assert people(sent) == {"r1", "m1"}
        assert "工作小时" in sent[0].text
    finally:
        rt.close()


async def test_settings_change_recomputes_deadlines(store, config, tmp_path):
    clock = VirtualClock(T0)
    rt = make_runtime(store, clock, visibility_config(config, str(tmp_path / "a")))
    add_lead(store, "S", "r1", T0)
    await rt.settle()
    await rt.advance_to(T0 + MINUTE)
    assert silence_store.state(store, "S")[1] == T0 + 72 * HOUR
    rt.close()
    rt2 = make_runtime(store, clock, visibility_config(config, str(tmp_path / "b"), hours=24))
    try:
        await rt2.advance_to(T0 + 2 * MINUTE)
        assert silence_store.state(store, "S")[1] == T0 + 24 * HOUR
    finally:
        rt2.close()


def test_touch_of_an_older_time_does_not_move_the_clock(runtime, store):
    add_lead(store, "O", "r1", T0)
    with store.transaction():
        lead_store.touch(store, "O", T0 + HOUR)
        store.conn.execute("UPDATE lead_silence SET deadline_at = 1 WHERE lead_id = 'O'")
        lead_store.touch(store, "O", T0 + 30 * MINUTE)  # a late archive record from before the last activity
    assert silence_store.state(store, "O") == (T0 + HOUR, 1, None)


def test_basis_is_utc_ms_and_t0_is_monday_morning():
    assert datetime.fromtimestamp(T0 / 1000, tz=UTC).astimezone(SH).hour == 9


@pytest.mark.parametrize("bad", [{"hours": 0}, {"working_hours_only": True, "work_start": "9点"},
                                 {"working_hours_only": True, "work_start": "18:00", "work_end": "09:00"}])
def test_bad_settings_stop_the_start_naming_the_key(store, clock, config, bad):
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="silence|working hours"):
        make_runtime(store, clock, visibility_config(config, "unused", **bad))


async def test_imported_long_silent_leads_are_listed_not_pushed(runtime, clock, store):
    await runtime.settle()
    add_lead(store, "OLD", "r1", T0 - 30 * DAY, customer="老客户")  # deadline passed 27 days ago
    add_lead(store, "RECENT", "r1", T0 - 4 * DAY, customer="新近客户")  # deadline passed a day ago: pushed
    await runtime.advance_to(T0 + MINUTE)
    texts = [d.text for d in alerts_sent(runtime)]
    assert any("新近客户" in t for t in texts) and not any("老客户" in t for t in texts)
    runtime.console.type_line("张伟", "/沉默")
    await runtime.settle()
    assert "老客户" in runtime.console.delivered[-1].text


def archived_line(runtime, n: int, at: int, sender: str, to: str, text: str) -> None:
    """A WeCom message-archive line, accepted into the inbox as the archive puller does."""
    from bot.events import Actor, Message

    ev = Message(event_id=f"wecom:arch-{n}", platform="wecom", occurred_at=at, received_at=at,
                 actor=Actor(platform_id=sender), recipients=(to,), text=text)
    runtime.console.ctx.accept("wecom", f"arch-{n}", {"msgid": f"arch-{n}"}, ev)


async def test_seed_fault_case_through_tagging(runtime, clock, store):
    """The real pipeline: the archived chat line "附件:XX型号参数.pdf" is tagged 资料交付 and keeps the lead alive."""
    from store import customers as customer_store

    await runtime.settle()
    add_lead(store, "Q2", "r1", T0 - 100 * HOUR, customer="没人理的客户")
    add_lead(store, "F2", "r1", T0 - 100 * HOUR, customer="收到参数的客户")
    with store.transaction():
        customer_store.add_key(store, "external_id", "wmFILE", "c-F2")
        customer_store.add_key(store, "external_id", "wmQUIET", "c-Q2")
    archived_line(runtime, 1, T0 - 10 * HOUR, "zhangwei", "wmFILE", "附件:XX型号参数.pdf")
    await runtime.advance_to(T0 + MINUTE)
    tags = {r[0]: r[1] for r in store.conn.execute("SELECT tag, category FROM event_tags WHERE lead_id = 'F2'")}
    assert tags.get("资料交付") == "销售动作"
    texts = [d.text for d in alerts_sent(runtime)]
    assert any("没人理的客户" in t for t in texts) and not any("收到参数的客户" in t for t in texts)

    # the quiet lead's customer speaks, the rep answers with the sheet: resolved, off /silent
    archived_line(runtime, 2, T0 + 2 * MINUTE, "wmQUIET", "zhangwei", "参数表在哪里？")
    archived_line(runtime, 3, T0 + 3 * MINUTE, "zhangwei", "wmQUIET", "附件:XX型号参数.pdf")
    await runtime.advance_to(T0 + 4 * MINUTE)
    assert silence_store.alerts(store, "Q2")[0]["resolved_at"] == T0 + 3 * MINUTE
    runtime.console.type_line("张伟", "/silent")
    await runtime.settle()
    assert "没人理的客户" not in runtime.console.delivered[-1].text
    # 72 h later it is silent again, and the alert quotes what the customer said
    await jump(runtime, clock, T0 + 3 * MINUTE + 72 * HOUR)
    again = [d for d in alerts_sent(runtime) if "没人理的客户" in d.text]
    assert len(again) == 4 and "参数表在哪里？" in again[-1].text


async def test_sweep_batch_spreads_a_burst_over_the_next_ticks(store, config, tmp_path):
    clock = VirtualClock(T0)
    rt = make_runtime(store, clock, visibility_config(config, str(tmp_path / "d"), sweep_batch=1))
    try:
        await rt.settle()
        add_lead(store, "X1", "r1", T0 - 72 * HOUR + 30_000)
        add_lead(store, "X2", "r2", T0 - 72 * HOUR + MINUTE)
        await rt.advance_to(T0 + MINUTE)
        assert {d.key.split(":")[1] for d in alerts_sent(rt)} == {"X1"}, "oldest deadline first, one per sweep"
        await rt.advance_to(T0 + 2 * MINUTE)
        assert {d.key.split(":")[1] for d in alerts_sent(rt)} == {"X1", "X2"}
    finally:
        rt.close()


async def test_an_alert_due_at_night_waits_for_the_morning(runtime, clock, store):
    """[silence] quiet_hours (22:00-08:00 by default): a deadline at 23:05 is not pushed at 23:05 but at 08:00;
    /silent lists the lead meanwhile."""
    night = to_ms(datetime(2026, 3, 2, 23, 5, tzinfo=SH))
    add_lead(store, "L9", "r1", night - 80 * HOUR, customer="夜猫机械", title="夜间项目")
    record(store, "L9", night - 72 * HOUR, role="customer", text="好的，我们内部商量下", tags=REPLY)
    await jump(runtime, clock, night + MINUTE)
    assert alerts_sent(runtime) == [], "nobody is woken at 23:06"
    runtime.console.type_line("张伟", "/沉默")
    await runtime.settle()
    assert "夜猫机械" in runtime.console.delivered[-1].text
    morning = to_ms(datetime(2026, 3, 3, 8, 0, tzinfo=SH))
    await jump(runtime, clock, morning - MINUTE)
    assert alerts_sent(runtime) == []
    await runtime.advance_to(morning + MINUTE)
    sent = alerts_sent(runtime)
    assert people(sent) == {"r1", "m1"} and "夜猫机械" in sent[0].text


async def test_alert_mentions_the_customers_activity_on_another_open_lead(runtime, clock, store):
    """Activity with a customer lands on one of its open leads; an older project of the same customer can go
    silent while the customer talks daily about the other. The alert still fires (it may be real neglect) and
    says where the customer is active."""
    from store import leads as leads_store

    add_lead(store, "LA", "r1", T0, customer="双项目机械", title="老项目")
    record(store, "LA", T0 + MINUTE, role="customer", text="老项目先放一放", tags=REPLY)
    with store.transaction():
        leads_store.upsert(store, "LB", "c-LA", "r1", "新项目", T0 + HOUR)
    for day in range(4):
        record(store, "LB", T0 + HOUR + day * DAY, role="customer", text="新项目进展如何", tags=REPLY)
    await jump(runtime, clock, T0 + MINUTE + 72 * HOUR + MINUTE)
    sent = [d for d in alerts_sent(runtime) if "老项目" in d.text]
    assert sent and "另一个商机「新项目」（LB）上有互动" in sent[0].text, sent
    assert not [d for d in alerts_sent(runtime) if "新项目" in d.reply.title]
