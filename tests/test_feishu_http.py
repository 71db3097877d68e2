"""Feishu HTTP event subscription: events encrypted and signed as Feishu does, accepted by lark-oapi's
EventDispatcherHandler through our aiohttp route; replies land on the fake open API in a thread."""

from __future__ import annotations

import json

import pytest
from fakes.feishu import ENCRYPT_KEY, card_event, encrypt, message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures

from bot.events import CardAction, Message, event_from_dict
from bot.replies import Button, Reply
from bot.router import Router
from bot.server import build_app
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(30)
PATH = "/feishu/events"


fake, config = feishu_fixtures()


@pytest.fixture
async def adapter(runtime):
    a = attach_feishu(runtime)
    await a.start()
    yield a
    await a.stop()


@pytest.fixture
async def client(adapter, runtime, aiohttp_client):
    return await aiohttp_client(build_app(runtime.config, [adapter]))


def now_s(runtime) -> int:
    return runtime.clock.now_ms() // 1000


def inbox_row(store, external_id):
    row = store.conn.execute("SELECT event, status, error FROM inbox WHERE platform='feishu' AND external_id=?",
                             (external_id,)).fetchone()
    return (event_from_dict(json.loads(row[0])) if row[0] else None), row[1], row[2]


async def test_url_verification_challenge(client):
    body = json.dumps({"encrypt": encrypt(json.dumps({"challenge": "ch-1", "token": "vt-456",
                                                      "type": "url_verification"}))})
    resp = await client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 200 and (await resp.json()) == {"challenge": "ch-1"}
    bad = json.dumps({"encrypt": encrypt(json.dumps({"challenge": "c", "token": "wrong", "type": "url_verification"}))})
    assert (await client.post(PATH, data=bad)).status == 401


async def test_text_message_is_persisted_and_answered_by_reply(client, runtime, fake):
    body, headers = signed_request(message_event("ev-1", text="@_user_1 /help", message_id="om_in_1",
                                                 mentions=[{"key": "@_user_1", "name": "bot"}]), now_s(runtime))
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status == 200 and (await resp.json()) == {"msg": "success"}
    event, status, _ = inbox_row(runtime.store, "ev-1")
    assert isinstance(event, Message) and event.text == "/help" and event.actor.platform_id == "ou_zhangwei"
    await runtime.settle()
    (reply,) = fake.calls("/open-apis/im/v1/messages/om_in_1/reply")
    assert reply.headers["Authorization"] == "Bearer t-1"
    assert reply.json["msg_type"] == "text" and "/help" in json.loads(reply.json["content"])["text"]
    assert len(reply.json["uuid"]) <= 50


async def test_same_event_three_times_is_processed_once(client, runtime, fake):
    envelope = message_event("ev-dup", message_id="om_dup")
    for _ in range(3):
        body, headers = signed_request(envelope, now_s(runtime))
        assert (await client.post(PATH, data=body, headers=headers)).status == 200
    await runtime.settle()
    assert inbox_store.counts(runtime.store) == {"done": 1}
    assert len(fake.calls("/open-apis/im/v1/messages/om_dup/reply")) == 1


@pytest.mark.parametrize("case", ["wrong-signature", "old", "missing-headers", "wrong-token", "wrong-key"])
async def test_rejected_events_get_short_4xx_and_store_nothing(client, runtime, case):
    ts = now_s(runtime)
    envelope = message_event("ev-bad", token="nope" if case == "wrong-token" else "vt-456")
    body, headers = signed_request(envelope, ts - 3601 if case == "old" else ts,
                                   key="other-key" if case == "wrong-key" else ENCRYPT_KEY)
    if case == "wrong-signature":
        headers["X-Lark-Signature"] = "0" * 64
    if case == "missing-headers":
        headers = {}
    resp = await client.post(PATH, data=body, headers=headers)
    assert 400 <= resp.status < 500
    text = await resp.text()
    assert "Traceback" not in text and len(text) < 200
    assert inbox_store.counts(runtime.store) == {}


async def test_body_over_one_mib_is_413(client, runtime):
    body, headers = signed_request(message_event("ev-big", text="x" * (1024 * 1024)), now_s(runtime))
    assert (await client.post(PATH, data=body, headers=headers)).status == 413


async def test_malformed_json_is_400_without_stack_trace(client):
    resp = await client.post(PATH, data=b'{"encrypt": ', headers={"Content-Type": "application/json"})
    assert resp.status == 400
    text = await resp.text()
    assert "malformed JSON" in text and "Traceback" not in text


async def test_unknown_message_type_and_unknown_event_are_kept_as_unsupported(client, runtime):
    sticker = message_event("ev-sticker", message_type="sticker", content={"file_key": "s"})
    other = {"schema": "2.0", "header": {"event_id": "ev-other", "event_type": "im.chat.member.bot.added_v1",
                                         "token": "vt-456"}, "event": {}}
    for envelope in (sticker, other):
        body, headers = signed_request(envelope, now_s(runtime))
        assert (await client.post(PATH, data=body, headers=headers)).status == 200
    assert inbox_row(runtime.store, "ev-sticker")[1:] == ("unsupported", "unsupported feishu message_type 'sticker'")
    assert inbox_row(runtime.store, "ev-other")[1] == "unsupported"


async def test_rep_gets_a_card_and_presses_its_button(client, runtime, fake):
    demo = Router("card-demo")

    @demo.on(Message)
    def offer(event, ctx):
        ctx.reply(Reply.card("跟进提醒", "客户 A 三天没有回复", fields=[("阶段", "报价")],
                             buttons=[Button("稍后提醒", "snooze", {"lead": "L1", "hours": 4}),
                                      Button("已跟进", "followed_up", {"lead": "L1"}, style="primary")]))

    @demo.on(CardAction)
    def pressed(event, ctx):
        ctx.reply(f"{event.action}:{event.value['hours']}")

    runtime.dispatcher.router = demo.compile()
    body, headers = signed_request(message_event("ev-c1", text="客户A怎么样了", message_id="om_q"), now_s(runtime))
    assert (await client.post(PATH, data=body, headers=headers)).status == 200
    await runtime.settle()
    (sent,) = fake.calls("/open-apis/im/v1/messages/om_q/reply")
    assert sent.json["msg_type"] == "interactive"
    card = json.loads(sent.json["content"])
    actions = card["elements"][-1]["actions"]
    assert [a["text"]["content"] for a in actions] == ["稍后提醒", "已跟进"]

    body, headers = signed_request(card_event("ev-press", actions[0]["value"], message_id="om_sent_1"),
                                   now_s(runtime))
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["toast"]["type"] == "success"
    pressed_card = answer["card"]["data"]
    assert all(e["tag"] != "action" for e in pressed_card["elements"])
    assert "稍后提醒" in json.dumps(pressed_card, ensure_ascii=False)
    await runtime.settle()
    event, _, _ = inbox_row(runtime.store, "ev-press")
    assert isinstance(event, CardAction) and event.action == "snooze" and event.value == {"lead": "L1", "hours": 4}
    answers = [json.loads(r.json["content"]) for r in fake.calls("/open-apis/im/v1/messages", "POST")]
    assert answers == [{"text": "snooze:4"}]
    assert fake.calls("/open-apis/im/v1/messages")[0].query == {"receive_id_type": "open_id"}


def test_server_registry_builds_both_adapters(runtime, config):
    import dataclasses

    from adapters.base import AdapterContext
    from bot.config import DingTalkSection
    from bot.server import build_adapters

    cfg = dataclasses.replace(config, dingtalk=DingTalkSection(enabled=True, mode="http", client_id="x"))
    adapters = build_adapters(cfg, AdapterContext(runtime.store, cfg, runtime.clock, runtime.wake))
    by_platform = {a.platform: a for a in adapters}
    assert {"dingtalk", "feishu"} <= set(by_platform)
    app = build_app(cfg, adapters)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert {"/dingtalk/callback", "/feishu/events"} <= paths


@pytest.mark.parametrize("inner", [[1, 2], {"header": [1]}, {"header": {"event_id": "x"}}, "str", {"schema": "2.0"}])
async def test_odd_decrypted_shapes_never_500(client, runtime, inner):
    body, headers = signed_request(inner, now_s(runtime))
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status in (200, 400, 401)
    assert "Traceback" not in await resp.text()
