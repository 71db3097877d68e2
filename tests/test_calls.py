"""Missed-call escalation in virtual time: rep + manager + 客服 exactly once at missed_at + 30 min, never when the
customer was called back or written to within the window, whatever order the records arrive in."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import T0

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from adapters.telephony import call_from_record
from bot.app import Runtime
from bot.config import CallsSection
from bot.events import Actor, Message, MessageKind
from prompts import Prompts
from store import calls as calls_store
from store import customers as customer_store
from store import leads as lead_store
from store import outbox as outbox_store

MIN = 60_000
CUSTOMER_PHONE = "13911112222"


def seed_customer(store) -> None:
    with store.transaction():
        customer_store.upsert(store, "c1", "华东机床", owner_id="r1", created_at=T0)
        customer_store.add_key(store, "phone", CUSTOMER_PHONE, "c1")
        customer_store.add_key(store, "external_id", "wmCUST1", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华东机床 数控机床采购", T0)


def accept_call(runtime, call_id: str, at_ms: int, *, direction: str = "inbound", answered: bool = False,
                phone: str = CUSTOMER_PHONE, rep: str = "8001", duration_s: int = 0) -> bool:
    record = {"call_id": call_id, "started_at": at_ms, "direction": direction, "rep": rep,
              "customer_phone": phone, "answered": answered, "duration_s": duration_s}
    event = call_from_record(record, tz="Asia/Shanghai", received_at=runtime.clock.now_ms())
    return runtime.console.ctx.accept("telephony", call_id, record, event)


def alerts(runtime) -> list:
    return [d for d in runtime.console.delivered if d.key.startswith("missed-call:") and d.key.count(":") == 2]


@pytest.fixture
def rt(runtime, store):
    seed_customer(store)
    runtime.clock.set(T0)
    return runtime


async def test_unreturned_call_alerts_rep_manager_and_cs_once_at_30_minutes(rt, store):
    await rt.settle()  # the scheduler starts counting now
    missed_at = T0 + 20_000  # 09:00:20
    rt.clock.set(missed_at)
    accept_call(rt, "c-1", missed_at)
    await rt.settle()
    await rt.advance_to(missed_at + 29 * MIN)
    assert alerts(rt) == []
    await rt.advance_to(missed_at + 31 * MIN)
    sent = alerts(rt)
    assert sorted(d.target.person_id for d in sent) == ["cs1", "m1", "r1"]
    row = outbox_store.listing(store, None, 1)[0]
    assert missed_at + 30 * MIN <= row.created_at <= missed_at + 31 * MIN
    card = sent[0].reply
    assert "华东机床" in card.title and [b.text for b in card.buttons] == ["我来回电", "已处理"]
    assert ("电话", CUSTOMER_PHONE) in card.fields and ("负责销售", "张伟") in card.fields
    await rt.advance_to(missed_at + 3 * 60 * MIN)
    assert len(alerts(rt)) == 3  # once, however many sweeps run


@pytest.mark.parametrize("kind", ["outbound_unanswered", "outbound_by_colleague", "answered_inbound", "rep_message"])
async def test_returned_within_window_never_alerts(rt, store, kind):
    await rt.settle()
    accept_call(rt, "c-1", T0)
    await rt.settle()
    rt.clock.set(T0 + 12 * MIN)
    if kind == "outbound_unanswered":
        accept_call(rt, "c-2", T0 + 12 * MIN, direction="outbound", answered=False, rep="张伟")
    elif kind == "outbound_by_colleague":
        accept_call(rt, "c-2", T0 + 12 * MIN, direction="outbound", answered=True, rep="李娜", duration_s=60)
    elif kind == "answered_inbound":
        accept_call(rt, "c-2", T0 + 12 * MIN, direction="inbound", answered=True, duration_s=90)
    else:
        msg = Message(event_id="wecom:m-1", platform="wecom", occurred_at=T0 + 12 * MIN, actor=Actor(platform_id="zhangwei"),
                      kind=MessageKind.TEXT, text="王总您好，刚才没接到电话，现在方便吗？", recipients=("wmCUST1",))
        rt.console.ctx.accept("wecom", "m-1", {}, msg)
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert alerts(rt) == []
    (missed,) = calls_store.open_list(store, None) or [None]
    assert missed is None


async def test_callback_record_arriving_before_the_missed_call_still_counts(rt, store):
    await rt.settle()
    rt.clock.set(T0 + 40 * MIN)  # an unsorted export: the callback row comes first
    accept_call(rt, "c-2", T0 + 10 * MIN, direction="outbound", rep="r1")
    accept_call(rt, "c-1", T0)
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert alerts(rt) == []


async def test_return_after_the_alert_tells_everyone_who_was_alerted(rt, store):
    await rt.settle()
    accept_call(rt, "c-1", T0)
    await rt.advance_to(T0 + 31 * MIN)
    assert len(alerts(rt)) == 3
    rt.clock.set(T0 + 45 * MIN)
    accept_call(rt, "c-2", T0 + 45 * MIN, direction="outbound", answered=True, rep="r1", duration_s=120)
    await rt.settle()
    follow = [d for d in rt.console.delivered if d.key.startswith("missed-call:") and ":returned:" in d.key]
    assert sorted(d.target.person_id for d in follow) == ["cs1", "m1", "r1"]
    assert "张伟" in follow[0].text
    assert calls_store.open_list(store, None) == []


async def test_repeated_unanswered_calls_make_one_alert_with_the_count(rt, store):
    await rt.settle()
    for n in range(3):
        rt.clock.set(T0 + n * 2 * MIN)
        accept_call(rt, f"c-{n}", T0 + n * 2 * MIN)
        await rt.settle()
    await rt.advance_to(T0 + 2 * 60 * MIN)
    sent = alerts(rt)
    assert len(sent) == 3
    assert any("共 3 次未接" in value for _k, value in sent[0].reply.fields)


async def test_card_buttons_first_press_wins_and_others_are_told(rt, store):
    await rt.settle()
    accept_call(rt, "c-1", T0)
    await rt.advance_to(T0 + 31 * MIN)
    before = len(rt.console.delivered)
    rt.console.type_line("cs1", "1")  # 赵客服: 我来回电
    await rt.settle()
    new = rt.console.delivered[before:]
    to = {d.target.person_id: d.text for d in new}
    assert set(to) == {"cs1", "m1", "r1"}
    assert CUSTOMER_PHONE in to["cs1"] and "赵客服 已认领回电" in to["r1"]
    before = len(rt.console.delivered)
    rt.console.type_line("r1", "1")  # 张伟 presses 我来回电 too late
    await rt.settle()
    (late,) = rt.console.delivered[before:]
    assert late.target.person_id == "r1" and "赵客服 已认领" in late.text
    rt.console.type_line("cs1", "2")  # 已处理 by the claimer
    await rt.settle()
    assert calls_store.open_list(store, None) == []
    done_texts = [d.text for d in rt.console.delivered if ":handled:" in d.key]
    assert len(done_texts) == 2 and all("赵客服 已处理" in t for t in done_texts)


async def test_button_press_by_someone_not_alerted_is_refused(rt, store):
    await rt.settle()
    accept_call(rt, "c-1", T0)
    await rt.advance_to(T0 + 31 * MIN)
    missed_id = calls_store.open_list(store, None)[0].id
    from bot.events import CardAction

    press = CardAction(event_id="console:x", platform="console", occurred_at=rt.clock.now_ms(),
                       actor=Actor(platform_id="刘洋"), action="calls.claim", value={"missed_id": missed_id})
    rt.console.ctx.accept("console", "x", {}, press)
    await rt.settle()
    assert "没有权限" in rt.console.delivered[-1].text
    assert calls_store.get(store, missed_id).status == "escalated"


async def test_old_and_internal_calls_do_not_alert(rt, store):
    await rt.settle()
    accept_call(rt, "old", T0 - 3 * 24 * 60 * MIN)  # an old export imported today
    accept_call(rt, "internal", T0, phone="138-0000-0001")  # 张伟's own mobile
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert alerts(rt) == []


@pytest.fixture
def ext_runtime(store, clock, config):
    config = dataclasses.replace(config, calls=CallsSection(extensions={"8003": "r3"}))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.console = console
    yield rt
    rt.close()


async def test_unknown_caller_goes_to_the_rep_whose_extension_rang(ext_runtime, store):
    rt = ext_runtime
    await rt.settle()
    accept_call(rt, "c-9", T0, phone="+86 137 0000 9999", rep="8003")
    await rt.advance_to(T0 + 31 * MIN)
    sent = alerts(rt)
    assert sorted(d.target.person_id for d in sent) == ["cs1", "m2", "r3"]
    assert "未登记客户 13700009999" in sent[0].reply.title


async def test_missed_list_respects_roles(rt, store):
    await rt.settle()
    accept_call(rt, "c-1", T0)
    await rt.settle()
    for who in ("张伟", "王经理", "赵客服", "李娜", "孙工"):
        rt.console.type_line(who, "/未接来电")
    await rt.settle()
    texts = {d.target.person_id: d.text for d in rt.console.delivered}
    for who in ("r1", "m1", "cs1"):
        assert "华东机床" in texts[who] and "等待回电" in texts[who]
    assert texts["r2"] == "没有待处理的未接来电。"
    assert "没有权限" in texts["t1"]


def test_phone_normalisation():
    assert calls_store.normalise_phone("+86 138-0000-0001") == "13800000001"
    assert calls_store.normalise_phone("008613800000001") == "13800000001"
    assert calls_store.normalise_phone("021-5555 6666") == "02155556666"


def test_extensions_table_in_bot_toml(tmp_path):
    from bot.config import load_config
    from bot.errors import ConfigError

    path = tmp_path / "bot.toml"
    path.write_text('[calls]\nreturn_window_minutes = 20\n[calls.extensions]\n"8001" = "r1"\n', encoding="utf-8")
    config = load_config(path)
    assert config.calls.return_window_minutes == 20 and dict(config.calls.extensions) == {"8001": "r1"}
    path.write_text('[calls]\nreturn_window_minutes = "30"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "calls.return_window_minutes" in str(info.value) and "应为整数" in str(info.value)


async def test_shorter_window_from_config(store, clock, config):
    config = dataclasses.replace(config, calls=CallsSection(return_window_minutes=10))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts(config.bot.locale))
    rt.add_sender("console", console.send)
    rt.console = console
    try:
        seed_customer(store)
        await rt.settle()
        accept_call(rt, "c-1", T0)
        await rt.advance_to(T0 + 9 * MIN)
        assert alerts(rt) == []
        await rt.advance_to(T0 + 11 * MIN)
        assert len(alerts(rt)) == 3
    finally:
        rt.close()


async def test_rep_message_in_the_same_batch_as_the_missed_call_returns_it(rt, store):
    """on_staff_message skips its lookups while no episode is open; one opened earlier in the same batch counts."""
    await rt.settle()
    rep_msg = Message(event_id="wecom:m-0", platform="wecom", occurred_at=T0 - MIN, actor=Actor(platform_id="zhangwei"),
                      kind=MessageKind.TEXT, text="王总早", recipients=("wmCUST1",))
    rt.console.ctx.accept("wecom", "m-0", {}, rep_msg)  # no episode open yet: the early exit
    accept_call(rt, "c-1", T0)
    msg = Message(event_id="wecom:m-1", platform="wecom", occurred_at=T0 + 5 * MIN, actor=Actor(platform_id="zhangwei"),
                  kind=MessageKind.TEXT, text="王总，刚才没接到电话", recipients=("wmCUST1",))
    rt.console.ctx.accept("wecom", "m-1", {}, msg)
    assert rt.dispatcher.process_pending() == 3  # one batch, one transaction
    assert calls_store.open_list(store, None) == []
    assert calls_store.any_open(store) is False
    await rt.advance_to(T0 + 2 * 60 * MIN)
    assert alerts(rt) == []


def test_any_open_follows_every_change_and_other_connections(rt, store, tmp_path):
    import sqlite3

    assert calls_store.any_open(store) is False
    with store.transaction():
        mid = calls_store.add_missed(store, "e1", CUSTOMER_PHONE, "c1", "L1", "r1", T0, T0 + 30 * MIN, "pending")
    assert calls_store.any_open(store) is True
    with store.transaction():
        calls_store.mark_returned(store, mid, T0 + MIN, "r1")
    assert calls_store.any_open(store) is False
    with pytest.raises(RuntimeError), store.transaction():  # a rolled-back insert leaves nothing open
        calls_store.add_missed(store, "e2", CUSTOMER_PHONE, "c1", "L1", "r1", T0, T0 + 30 * MIN, "pending")
        raise RuntimeError
    assert calls_store.any_open(store) is False
    other = sqlite3.connect(store.path)  # another process's write is seen through data_version
    other.execute("UPDATE missed_calls SET status = 'pending' WHERE id = ?", (mid,))
    other.commit()
    other.close()
    assert calls_store.any_open(store) is True


async def test_a_landline_written_internationally_reaches_its_customer(rt, store):
    """The customer's switchboard was bound as '021-5555-6666'; the phone system reports '+86 21 5555 6666'. Both
    normalise to the same digits (bot.phones), so the missed call is the customer's and escalates to their rep."""
    from bot.phones import normalise_phone
    from handlers.association import normalise_key

    assert normalise_phone("+86 21 5555 6666") == normalise_phone("021-5555-6666") == "02155556666"
    assert calls_store.normalise_phone is normalise_phone
    with store.transaction():
        customer_store.add_key(store, "phone", normalise_key("phone", "021-5555-6666"), "c1")
    rt.services.directory.refresh()
    await rt.settle()
    rt.clock.set(T0 + 20_000)
    accept_call(rt, "c-land", T0 + 20_000, phone="+86 21 5555 6666")
    await rt.advance_to(T0 + 20_000 + 31 * MIN)
    sent = alerts(rt)
    assert sorted(d.target.person_id for d in sent) == ["cs1", "m1", "r1"]
    assert "华东机床" in sent[0].reply.title
