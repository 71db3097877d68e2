"""Feishu long connection: the real lark.ws.Client (in its own thread) connects to a fake gateway speaking lark's
protobuf frames; the event is persisted on the main loop before the ACK frame goes back."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from fakes.feishu import card_event, message_event
from platform_helpers import attach_feishu, feishu_fixtures

from bot.events import CardAction, Message, event_from_dict
from bot.replies import Button, Reply, Target
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(60)


fake, config = feishu_fixtures(mode="ws")


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach_feishu(runtime)
    await adapter.start()
    assert await asyncio.to_thread(fake.ws_connected.wait, 10)
    yield adapter
    await asyncio.wait_for(adapter.stop(), timeout=10)
    assert adapter.long_connection is None


def event_of(store, external_id):
    row = store.conn.execute("SELECT event, status FROM inbox WHERE platform='feishu' AND external_id=?",
                             (external_id,)).fetchone()
    return (event_from_dict(json.loads(row[0])) if row[0] else None), row[1]


async def test_bootstrap_uses_app_credentials(connected, fake):
    (boot,) = fake.calls("/callback/ws/endpoint")
    assert boot.json["AppID"] == "cli_test" and boot.json["AppSecret"] == "feishu-secret"


async def test_event_over_long_connection_is_persisted_before_ack_and_once(connected, fake, runtime):
    envelope = message_event("ws-ev-1", message_type="audio", content={"file_key": "fk-1", "duration": 3000},
                             message_id="om_ws_1")
    for i in range(3):
        fake.push_event(envelope, f"frame-{i}")
    for i in range(3):
        ack = await fake.await_ws_response(f"frame-{i}")
        assert ack["payload"]["code"] == 200
    event, status = event_of(runtime.store, "ws-ev-1")
    assert isinstance(event, Message) and event.kind == "voice" and event.media_id == "fk-1"
    assert event.duration_ms == 3000
    assert runtime.store.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 1


async def test_card_press_over_long_connection_answers_with_toast_and_card(connected, fake, runtime):
    card = Reply.card("审批", "折扣 15%", buttons=[Button("同意", "approve", {"id": 7})])
    message_id = await connected.send(Target("feishu", chat_id="oc_1"), card, "k-card")
    fake.push_event(card_event("ws-press", {"action": "approve", "value": {"id": 7}}, message_id=message_id),
                    "frame-card")
    ack = await fake.await_ws_response("frame-card")
    answer = json.loads(base64.b64decode(ack["payload"]["data"]))
    assert answer["toast"]["type"] == "success"
    assert "同意" in json.dumps(answer["card"]["data"], ensure_ascii=False)
    event, _ = event_of(runtime.store, "ws-press")
    assert isinstance(event, CardAction) and event.action == "approve" and event.value == {"id": 7}


async def test_unknown_event_over_long_connection_is_kept(connected, fake, runtime):
    fake.push_event({"schema": "2.0", "header": {"event_id": "ws-other", "event_type": "contact.user.created_v3"},
                     "event": {}}, "frame-other")
    await fake.await_ws_response("frame-other")
    assert inbox_store.counts(runtime.store) == {"unsupported": 1}
