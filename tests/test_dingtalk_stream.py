"""DingTalk stream mode end to end: the real dingtalk-stream client connects to a fake gateway in a thread, which
pushes CALLBACK frames (text, audio with recognition, card presses) and collects the ACKs; replies go out through
the session webhook or the OpenAPI on the same fake."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes.dingtalk import CARD_TOPIC, ROBOT_TOPIC, robot_message
from platform_helpers import attach, dingtalk_fixtures

from bot.events import CardAction, Message, event_from_dict
from bot.replies import Button, Reply
from bot.router import Router
from store import inbox as inbox_store
from store import outbox as outbox_store

pytestmark = pytest.mark.timeout(30)


fake, config = dingtalk_fixtures()


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach(runtime)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    yield adapter
    await adapter.stop()


def inbox_event(store, external_id):
    row = store.conn.execute("SELECT event, status, error FROM inbox WHERE platform = 'dingtalk' AND external_id = ?",
                             (external_id,)).fetchone()
    return (event_from_dict(json.loads(row[0])) if row[0] else None), row[1], row[2]


async def test_gateway_handshake_uses_credentials_and_subscribes_both_topics(connected, fake):
    (opened,) = fake.opened
    assert opened["clientId"] == "ding-app" and opened["clientSecret"] == "ding-secret"
    topics = {s["topic"] for s in opened["subscriptions"]}
    assert topics == {ROBOT_TOPIC, CARD_TOPIC}
    (ws,) = fake.calls("/gateway")
    assert ws.query["ticket"] == "ticket+1/="  # quoted by the SDK, unquoted by the server


async def test_text_is_persisted_before_ack_and_help_comes_back_on_session_webhook(connected, fake, runtime):
    webhook = f"{fake.base_url}/session/abc"
    expires = runtime.clock.now_ms() + 3_600_000
    mid = fake.push(ROBOT_TOPIC, robot_message("msg-1", text=" /help", webhook=webhook, expires=expires))
    ack = await fake.await_ack(mid)
    assert ack["code"] == 200 and ack["headers"]["messageId"] == mid
    event, status, _ = inbox_event(runtime.store, "msg-1")  # persisted when the ACK left
    assert isinstance(event, Message) and event.text == "/help" and event.to_bot and not event.is_group
    assert event.actor.platform_id == "zhangwei"
    await runtime.settle()
    (sent,) = fake.calls("/session/abc")
    assert sent.json["msgtype"] == "text" and "/help" in sent.json["text"]["content"]
    assert "x-acs-dingtalk-access-token" not in {k.lower() for k in sent.headers}


async def test_audio_uses_dingtalks_recognition_as_transcript(connected, fake, runtime):
    data = robot_message("msg-voice", msgtype="audio",
                         content={"duration": 4200, "downloadCode": "dl-voice", "recognition": "客户说下周签合同"})
    mid = fake.push(ROBOT_TOPIC, data)
    assert (await fake.await_ack(mid))["code"] == 200
    event, _, _ = inbox_event(runtime.store, "msg-voice")
    assert event.kind == "voice" and event.transcript == "客户说下周签合同"
    assert event.duration_ms == 4200 and event.media_id == "dl-voice"


async def test_same_message_three_times_is_processed_once(connected, fake, runtime):
    mids = [fake.push(ROBOT_TOPIC, robot_message("msg-dup", webhook=f"{fake.base_url}/session/dup"))
            for _ in range(3)]
    for mid in mids:
        assert (await fake.await_ack(mid))["code"] == 200
    await runtime.settle()
    assert inbox_store.counts(runtime.store) == {"done": 1}
    assert len(fake.calls("/session/dup")) == 1


async def test_unknown_message_type_is_kept_as_unsupported(connected, fake, runtime):
    mid = fake.push(ROBOT_TOPIC, robot_message("msg-odd", msgtype="hologram"))
    assert (await fake.await_ack(mid))["code"] == 200
    event, status, error = inbox_event(runtime.store, "msg-odd")
    assert event is None and status == "unsupported" and "hologram" in error


async def test_rep_gets_a_card_and_presses_its_button(connected, fake, runtime):
    """Chat → card with two buttons (via the OpenAPI) → press on the card topic → CardAction → answer."""
    demo = Router("card-demo")

    @demo.on(Message)
    def offer(event, ctx):
        ctx.reply(Reply.card("跟进提醒", "客户 A 三天没有回复", fields=[("阶段", "报价")],
                             buttons=[Button("稍后提醒", "snooze", {"lead": "L1", "hours": 4}),
                                      Button("已跟进", "followed_up", {"lead": "L1"}, style="primary")]))

    @demo.on(CardAction)
    def pressed(event, ctx):
        ctx.reply(f"{event.action}:{event.value['lead']}")

    runtime.dispatcher.router = demo.compile()
    mid = fake.push(ROBOT_TOPIC, robot_message("msg-card", text="客户A怎么样了"))
    await fake.await_ack(mid)
    await runtime.settle()
    (card,) = fake.calls("/v1.0/im/v1.0/robot/interactiveCards/send")
    body = card.json
    assert json.loads(body["singleChatReceiver"]) == {"userId": "zhangwei"}
    data = json.loads(body["cardData"])
    buttons = data["contents"][-1]["actions"]
    assert [b["label"]["text"] for b in buttons] == ["稍后提醒", "已跟进"]
    assert card.headers["x-acs-dingtalk-access-token"] == "tok-1"

    press = {"outTrackId": body["cardBizId"], "userId": "zhangwei", "corpId": "ding-corp", "type": "actionCallback",
             "content": json.dumps({"cardPrivateData": {"actionIds": [buttons[1]["id"]], "params": {}}}),
             "extension": "{}"}
    pmid = fake.push(CARD_TOPIC, press)
    ack = await fake.await_ack(pmid)
    assert ack["code"] == 200 and json.loads(ack["data"]) == {"response": {}}
    await runtime.settle()
    row = runtime.store.conn.execute("SELECT event FROM inbox WHERE external_id = ?", (f"card:{pmid}",)).fetchone()
    action = event_from_dict(json.loads(row[0]))
    assert isinstance(action, CardAction) and action.action == "followed_up" and action.value == {"lead": "L1"}
    answers = [json.loads(r.json["msgParam"])["content"] for r in fake.calls("/v1.0/robot/oToMessages/batchSend")]
    assert answers == ["followed_up:L1"]
    # the card itself is re-rendered without buttons, saying what was chosen
    assert await fake.await_for(lambda: bool(fake.calls("/v1.0/im/robots/interactiveCards", "PUT")))
    (update,) = fake.calls("/v1.0/im/robots/interactiveCards", "PUT")
    updated = json.loads(update.json["cardData"])
    assert all(c["type"] != "action" for c in updated["contents"]) and "已跟进" in json.dumps(updated, ensure_ascii=False)
    assert sum(outbox_store.counts(runtime.store).values()) == 2


async def test_stop_returns_promptly_while_connected(runtime, fake):
    adapter = attach(runtime)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    task = adapter._stream_task
    await asyncio.wait_for(adapter.stop(), timeout=3)
    assert task.done()
    assert await fake.await_for(lambda: fake._ws is None, 3)  # the gateway saw the socket close


async def test_reconnects_after_system_disconnect(connected, fake, runtime):
    fake.push_system_disconnect()
    assert await fake.await_for(lambda: len(fake.opened) >= 2, 5)
    assert await asyncio.to_thread(fake.wait_connected, 5)
    assert await fake.await_for(lambda: fake._ws is not None, 5)
    mid = fake.push(ROBOT_TOPIC, robot_message("msg-after"))
    assert (await fake.await_ack(mid))["code"] == 200


async def test_stop_returns_promptly_while_the_gateway_refuses(runtime, fake):
    """Bad credentials: open_connection fails and the client waits to retry; stop() must not wait it out."""
    fake.client_secret = "rotated"
    adapter = attach(runtime)
    adapter.stream_retry_s = 30.0
    await adapter.start()
    assert await fake.await_for(lambda: len(fake.opened) >= 1, 5)
    await asyncio.wait_for(adapter.stop(), timeout=3)
    assert not fake._ws_ready.is_set()
