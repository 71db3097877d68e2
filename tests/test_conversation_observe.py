"""The labelling observer end to end: archived customer and rep messages through the real dispatcher get their
objection × strategy labels stored with lead, customer and person; internal chats and commands are not turns;
a voice transcript that arrives later labels the voice turn; a broken admin pack falls back to the shipped one."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import T0

from bot.config import ConversationSection
from bot.events import Actor, Message, MessageKind, VoiceTranscript
from handlers.conversation.classifier import Classifier
from store import conversation as conv_store
from store import customers as customer_store
from store import leads as lead_store

MIN = 60_000


@pytest.fixture
def company(runtime):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华鑫精密", owner_id="r1")
        customer_store.add_key(store, "external_id", "wmCust1", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华鑫-阀门项目", T0 - 86_400_000)
    return runtime


_n = [0]


def feed(runtime, event) -> None:
    _n[0] += 1
    runtime.console.ctx.accept(event.platform, f"{event.event_id}:{_n[0]}", {"t": "test"}, event)


def rep(eid, text, at, **kw):
    return Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id="zhangwei"), text=text,
                   recipients=("wmCust1",), conversation_id="wmCust1|zhangwei", **kw)


def cust(eid, text, at, **kw):
    return Message(event_id=eid, platform="wecom", occurred_at=at, actor=Actor(platform_id="wmCust1"), text=text,
                   recipients=("zhangwei",), conversation_id="wmCust1|zhangwei", **kw)


async def test_turns_are_labelled_and_stored_in_order(company):
    feed(company, cust("w:1", "XV-200阀门 DN50的 麻烦报个价", T0))
    feed(company, rep("w:2", "报价单发您邮箱了 附件:XV-200报价.pdf", T0 + MIN))
    feed(company, cust("w:3", "别家便宜两成啊 你们贵在哪", T0 + 2 * MIN))
    feed(company, cust("w:4", "价格不是问题 主要看稳定性", T0 + 3 * MIN))
    feed(company, rep("w:5", "好的", T0 + 4 * MIN))
    await company.settle()
    turns = conv_store.labelled_turns(company.store, "L1")
    assert [(t.event_id, t.role, t.labels) for t in turns] == [
        ("w:1", "customer", ("price_inquiry",)),
        ("w:2", "rep", ("material_delivery",)),
        ("w:3", "customer", ("price_objection", "competitor")),
        ("w:4", "customer", ("quality_trust",)),
        ("w:5", "rep", ()),
    ]
    assert turns[2].text == "别家便宜两成啊 你们贵在哪" and turns[0].ts == T0
    assert turns[1].person_id == "r1"
    assert conv_store.labels_for_events(company.store, ["w:3", "w:5", "nope"]) == {
        "w:3": ("price_objection", "competitor"), "w:5": ()}
    assert isinstance(company.services.extras["classifier"], Classifier)


async def test_internal_chat_and_commands_are_not_turns(company):
    internal = Message(event_id="w:9", platform="wecom", occurred_at=T0, actor=Actor(platform_id="zhangwei"),
                       text="客户说别家便宜两成", recipients=("lina",), conversation_id="lina|zhangwei")
    feed(company, internal)
    feed(company, Message(event_id="w:10", platform="wecom", occurred_at=T0, actor=Actor(platform_id="zhangwei"),
                          text="太贵了", to_bot=True))
    await company.settle()
    assert conv_store.labels_for_events(company.store, ["w:9", "w:10"]) == {}


async def test_replay_stores_a_turn_once(company):
    feed(company, cust("w:20", "三天能到吗", T0))
    feed(company, cust("w:20", "三天能到吗", T0))
    await company.settle()
    assert [t.labels for t in conv_store.labelled_turns(company.store, "L1")] == [("delivery_concern",)]


async def test_voice_transcript_labels_the_voice_turn(company):
    feed(company, cust("w:30", "", T0, kind=MessageKind.VOICE, media_id="m1", duration_ms=4000))
    await company.settle()
    assert conv_store.labels_for_events(company.store, ["w:30"]) == {"w:30": ()}
    feed(company, VoiceTranscript(event_id="asr:w:30", platform="wecom", occurred_at=T0 + MIN,
                                  actor=Actor(platform_id="wmCust1"), message_event_id="w:30",
                                  text="这个得跟老板商量下", status="ok", recorded_at=T0))
    await company.settle()
    (turn,) = conv_store.labelled_turns(company.store, "L1")
    assert (turn.event_id, turn.labels, turn.text, turn.ts) == ("w:30", ("hesitation",), "这个得跟老板商量下", T0)


@pytest.fixture
def broken_pack_config(config, tmp_path):
    d = tmp_path / "conv"
    d.mkdir()
    (d / "bad.toml").write_text('[[cue]]\nlabel = "no_such_label"\nwords = ["x"]\n', encoding="utf-8")
    (tmp_path / "conv2").mkdir()
    return dataclasses.replace(config, conversation=ConversationSection(packs_dirs=(str(d),)))


def test_broken_admin_pack_falls_back_to_shipped_pack(broken_pack_config, store, clock, caplog):
    from bot.app import Runtime
    rt = Runtime(config=broken_pack_config, store=store, clock=clock, deferred_in_thread=False)
    try:
        assert rt.services.extras["classifier"].classify("人家比你便宜", "customer").labels == (
            "price_objection", "competitor")
        assert "bad.toml:1" in caplog.text
        # the admin reads the log in the configured language (zh-CN here)
        assert "分类词库有错误，暂时只用内置词库" in caplog.text and "标签“no_such_label”不在可选值里" in caplog.text
    finally:
        rt.close()
