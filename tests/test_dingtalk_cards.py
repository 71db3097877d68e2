"""DingTalk interactive cards against the documented shapes: the card callback body from DingTalk's event-callback
doc, callback types that are not presses, and send/update bodies that carry only the documented 普通版 fields.

Sources: https://open.dingtalk.com/document/development/event-callback-card (callback body),
https://open.dingtalk.com/document/development/robots-send-interactive-cards (send body),
https://open.dingtalk.com/document/development/update-the-robot-to-send-interactive-cards (update body).
"""

from __future__ import annotations

import json

import pytest
from platform_helpers import attach, dingtalk_fixtures

from adapters.dingtalk import parse
from bot.errors import BadPayload
from bot.events import CardAction, event_from_dict
from bot.replies import Button, Reply, Target
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(30)

# Verbatim request body from the event-callback-card doc (接收事件回调).
DOC_EXAMPLE = {
    "type": "actionCallback",
    "outTrackId": "XXXXXX",
    "corpId": "dingXXXXXX",
    "userId": "XXXXXX",
    "content": "{\"cardPrivateData\":{\"actionIds\":[\"1\"],\"params\":{\"action\":\"accept\"}}}",
}
SEND_FIELDS = {"cardTemplateId", "openConversationId", "singleChatReceiver", "cardBizId", "robotCode", "callbackUrl",
               "cardData", "userIdPrivateDataMap", "unionIdPrivateDataMap", "sendOptions", "pullStrategy"}
UPDATE_FIELDS = {"cardBizId", "cardData", "userIdPrivateDataMap", "unionIdPrivateDataMap", "updateOptions"}


fake, config = dingtalk_fixtures()


def test_the_documented_callback_body_parses():
    press = parse.parse_card_callback(DOC_EXAMPLE)
    assert (press.card_ref, press.user_id, press.action_id, press.params) == ("XXXXXX", "XXXXXX", "1",
                                                                             {"action": "accept"})


@pytest.mark.parametrize("kind", ["dynamicDataCallback", "other", 7])
def test_a_callback_that_is_not_a_press_is_refused(kind):
    with pytest.raises(BadPayload, match="not an action callback"):
        parse.parse_card_callback({**DOC_EXAMPLE, "type": kind})


def test_a_missing_type_is_still_a_press():
    """type is tolerated when absent: a frame that omits it is still handled, not lost."""
    body = {k: v for k, v in DOC_EXAMPLE.items() if k != "type"}
    assert parse.parse_card_callback(body).action_id == "1"


async def test_non_press_callback_is_kept_as_unsupported_and_acked(runtime):
    adapter = attach(runtime)
    code, _ = await adapter.on_card_frame({**DOC_EXAMPLE, "type": "other"}, "frame-9")
    assert code == 200
    assert inbox_store.counts(runtime.store) == {"unsupported": 1}
    row = runtime.store.conn.execute("SELECT error FROM inbox WHERE external_id = 'card:bad:frame-9'").fetchone()
    assert "not an action callback" in row[0]


async def test_press_on_a_card_we_sent_becomes_its_button_action(runtime, fake):
    adapter = attach(runtime)
    card = Reply.card("审批", "折扣 15%", buttons=[Button("同意", "approve", {"id": 7}),
                                                  Button("拒绝", "reject", {"id": 7})])
    ref = await adapter.send(Target("dingtalk", user_id="zhangwei"), card, "k-1")
    press = {**DOC_EXAMPLE, "outTrackId": ref, "userId": "zhangwei",
             "content": json.dumps({"cardPrivateData": {"actionIds": ["sp1"], "params": {}}})}
    code, _ = await adapter.on_card_frame(press, "frame-1")
    assert code == 200
    row = runtime.store.conn.execute("SELECT event FROM inbox WHERE external_id = 'card:frame-1'").fetchone()
    action = event_from_dict(json.loads(row[0]))
    assert isinstance(action, CardAction) and (action.action, action.value, action.card_ref) == ("reject", {"id": 7},
                                                                                                 ref)
    await adapter.stop()


async def test_send_and_update_bodies_use_only_documented_fields(runtime, fake):
    adapter = attach(runtime)
    card = Reply.card("审批", "折扣 15%", buttons=[Button("同意", "approve", {"id": 7})])
    ref = await adapter.send(Target("dingtalk", user_id="zhangwei"), card, "k-2")
    await adapter.update_card(ref, Reply.card("审批", "已同意"))
    (send,) = fake.calls("/v1.0/im/v1.0/robot/interactiveCards/send")
    (put,) = fake.calls("/v1.0/im/robots/interactiveCards", "PUT")
    assert set(send.json) <= SEND_FIELDS and set(put.json) <= UPDATE_FIELDS
    assert send.json["cardTemplateId"] == "StandardCard" and len(send.json["cardBizId"]) <= 100
    assert isinstance(send.json["cardData"], str) and isinstance(put.json["cardData"], str)  # JSON strings
    assert json.loads(send.json["singleChatReceiver"]) == {"userId": "zhangwei"}
    assert "openConversationId" not in send.json
    await adapter.stop()
