"""Silence across every source, through the real pipeline (inbox → dispatcher → tagging → lead touch → sweep):
a lead whose only recent activity was a call, a missed call, a tracked-document open, a meeting or a file sent in
chat is never alerted (product A5 / A7), and the alert's "last three things the customer said" are things the
customer said — not the names of documents they opened, not messages they recalled."""

from __future__ import annotations

import pytest
from conftest import T0
from visibility_helpers import HOUR, MINUTE, add_lead, alerts_sent, visibility_config

from adapters.telephony import call_from_record
from bot.events import Actor, CalendarEvent, DocumentOpen, Message, MessageKind
from store import customers as customer_store
from store import silence as silence_store


@pytest.fixture
def config(config, tmp_path):
    return visibility_config(config, str(tmp_path / "data"))


def seed(store, lead_id: str, *, phone: str = "", external: str = "") -> None:
    add_lead(store, lead_id, "r1", T0 - 100 * HOUR, customer=f"客户{lead_id}")
    with store.transaction():
        if phone:
            customer_store.add_key(store, "phone", phone, f"c-{lead_id}")
        if external:
            customer_store.add_key(store, "external_id", external, f"c-{lead_id}")


def accept_call(ctx, call_id: str, at: int, direction: str, phone: str, answered: bool) -> None:
    rec = {"call_id": call_id, "started_at": at, "direction": direction, "rep": "r1", "customer_phone": phone,
           "answered": answered, "duration_s": 300 if answered else 0}
    ctx.accept("telephony", call_id, rec, call_from_record(rec, tz="Asia/Shanghai", received_at=at))


def open_doc(ctx, n: int, at: int, lead_id: str, document: str) -> None:
    ctx.accept("links", f"o{n}", {}, DocumentOpen(event_id=f"links:o{n}", platform="links", occurred_at=at,
                                                  received_at=at, actor=Actor(platform_id="203.0.113.9"),
                                                  link_code="abc", document=document, lead_id=lead_id,
                                                  opener_hash="h"))


def chat(ctx, n: int, at: int, sender: str, to: str, text: str = "", **kw) -> None:
    ctx.accept("wecom", f"m{n}", {}, Message(event_id=f"wecom:m{n}", platform="wecom", occurred_at=at, received_at=at,
                                             actor=Actor(platform_id=sender), recipients=(to,), text=text, **kw))


async def test_activity_in_any_source_keeps_a_lead_off_the_alerts(runtime, store):
    await runtime.settle()
    for lead, kw in (("CALL", {"phone": "13911112222"}), ("MISSED", {"phone": "13911113333"}), ("DOC", {}),
                     ("MEET", {"external": "wmMEET"}), ("FILE", {"external": "wmFILE"}), ("QUIET", {})):
        seed(store, lead, **kw)
    ctx = runtime.console.ctx
    at = T0 - 10 * HOUR  # every lead was created 100 h ago; these are the only activity since
    accept_call(ctx, "k1", at, "outbound", "139-1111-2222", True)  # a format the CRM key does not use
    accept_call(ctx, "k2", at, "inbound", "+86 139 1111 3333", False)  # the customer tried to reach us
    open_doc(ctx, 1, at, "DOC", "方案.pdf")
    ctx.accept("wecom", "cal1", {}, CalendarEvent(event_id="wecom:cal1", platform="wecom", occurred_at=at,
                                                  received_at=at, actor=Actor(platform_id="zhangwei"), title="技术交流",
                                                  starts_at=at, ends_at=at + HOUR, attendees=("zhangwei", "wmMEET")))
    chat(ctx, 1, at, "zhangwei", "wmFILE", kind=MessageKind.FILE, file_name="XX型号参数.pdf")
    await runtime.advance_to(T0 + MINUTE)

    alerted = {d.key.split(":")[1] for d in alerts_sent(runtime)}
    assert alerted == {"QUIET"}
    for lead in ("CALL", "MISSED", "DOC", "MEET", "FILE"):
        assert silence_store.state(store, lead)[0] == at, lead


async def test_quotes_are_what_the_customer_said_not_documents_opened_or_recalled(runtime, store):
    await runtime.settle()
    seed(store, "Q", external="wmQ")
    ctx = runtime.console.ctx
    start = T0 - 80 * HOUR
    chat(ctx, 1, start, "wmQ", "zhangwei", "你们的交期多久？")
    chat(ctx, 2, start + MINUTE, "wmQ", "zhangwei", "价格能再谈吗")
    chat(ctx, 3, start + 2 * MINUTE, "wmQ", "zhangwei", "我们老板说不考虑了")
    chat(ctx, 4, start + 3 * MINUTE, "wmQ", "zhangwei", kind=MessageKind.RECALL, recalled_id="wecom:m3")
    chat(ctx, 5, start + 4 * MINUTE, "wmQ", "zhangwei", "下周再说")
    open_doc(ctx, 1, start + 5 * MINUTE, "Q", "华东机械方案v2.pdf")
    open_doc(ctx, 2, start + 6 * MINUTE, "Q", "华东机械方案v2.pdf")
    await runtime.advance_to(T0 + MINUTE)

    (alert, *_) = [d for d in alerts_sent(runtime) if d.target.person_id == "r1"]
    text = alert.text
    assert "方案v2.pdf" not in text, "opening a document is not something the customer said"
    assert "老板说不考虑了" not in text, "a recalled message is not quoted"
    assert "下周再说" in text and "价格能再谈吗" in text and "你们的交期多久？" in text
    quotes = [q for _at, q in silence_store.customer_quotes(store, "Q", 3)]
    assert quotes == ["下周再说", "价格能再谈吗", "你们的交期多久？"]
