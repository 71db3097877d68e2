"""DingTalk 高级版 cards from [dingtalk] card_template_id, against the DingTalk fake: createAndDeliver with
callbackType STREAM and string-only cardParamMap to a 1:1 or group space, a stream press mapped back to the Reply's
button, the card updated in place (PUT /v1.0/card/instances) without buttons; no template = StandardCard as before.

Body fields per dingtalk-stream 0.24.3 card_replier (async_create_and_deliver_card, async_put_card_data) and
https://open.dingtalk.com/document/orgapp/create-and-deliver-cards."""

from __future__ import annotations

import json

import pytest
from platform_helpers import attach, dingtalk_fixtures

from bot.events import CardAction, event_from_dict
from bot.replies import Button, Reply, Target

pytestmark = pytest.mark.timeout(60)
TEMPLATE = "5b1f0f1e-aaaa-bbbb-cccc-000000000001.schema"
DELIVER = "/v1.0/card/instances/createAndDeliver"
UPDATE = "/v1.0/card/instances"
DELIVER_FIELDS = {"cardTemplateId", "outTrackId", "callbackType", "cardData", "openSpaceId", "userIdType",
                  "imGroupOpenSpaceModel", "imGroupOpenDeliverModel", "imRobotOpenSpaceModel", "imRobotOpenDeliverModel"}

fake, config = dingtalk_fixtures(card_template_id=TEMPLATE)


@pytest.fixture(autouse=True)
def card_routes(fake):
    fake.routes[("POST", DELIVER)] = lambda rec: (200, {"success": True, "result": {"outTrackId": rec.json["outTrackId"]}})
    fake.routes[("PUT", UPDATE)] = lambda rec: (200, {"success": True})


FIX = Reply.card("整改｜南京西路店 货效红（2026-03-02）", "问题清单：\n• 缺货：可乐",
                 fields=[("人效", "🟩 绿")],
                 buttons=[Button("已整改", "stores.fix", {"fix": 3, "do": "fixed"}, "primary"),
                          Button("需要支持", "stores.fix", {"fix": 3, "do": "support"}),
                          Button("不适用", "stores.fix", {"fix": 3, "do": "na"})])


async def test_card_is_created_and_delivered_with_stream_callbacks(runtime, fake):
    adapter = attach(runtime)
    ref = await adapter.send(Target("dingtalk", user_id="zhouzhang"), FIX, "stores:fix:3:m1")
    (call,) = fake.calls(DELIVER, "POST")
    body = call.json
    assert set(body) <= DELIVER_FIELDS
    assert body["cardTemplateId"] == TEMPLATE and body["callbackType"] == "STREAM" and body["outTrackId"] == ref
    assert body["openSpaceId"] == "dtv1.card//IM_ROBOT.zhouzhang"
    assert body["imRobotOpenDeliverModel"]["spaceType"] == "IM_ROBOT"
    params = body["cardData"]["cardParamMap"]
    assert all(isinstance(v, str) for v in params.values()), "cardParamMap values are strings"
    assert params["title"].startswith("整改") and "缺货：可乐" in params["markdown"] and "**人效**" in params["markdown"]
    assert [params[f"btn{i}_text"] for i in range(3)] == ["已整改", "需要支持", "不适用"]
    assert [params[f"btn{i}_show"] for i in range(4)] == ["true", "true", "true", "false"]
    assert params["btn0_style"] == "primary" and params["footer"] == ""
    assert not fake.calls("/v1.0/im/v1.0/robot/interactiveCards/send"), "no StandardCard when a template is set"
    await adapter.stop()


async def test_group_card_goes_to_the_group_space(runtime, fake):
    adapter = attach(runtime)
    await adapter.send(Target("dingtalk", chat_id="cidABC=="), FIX, "k-group")
    (call,) = fake.calls(DELIVER, "POST")
    assert call.json["openSpaceId"] == "dtv1.card//IM_GROUP.cidABC=="
    assert call.json["imGroupOpenDeliverModel"] == {"robotCode": "ding-app"}
    await adapter.stop()


async def test_stream_press_maps_to_the_button_and_updates_the_card_in_place(runtime, fake):
    adapter = attach(runtime)
    ref = await adapter.send(Target("dingtalk", user_id="zhouzhang"), FIX, "stores:fix:3:m1")
    press = {"type": "actionCallback", "outTrackId": ref, "corpId": "dingcorp", "userId": "zhouzhang",
             "content": json.dumps({"cardPrivateData": {"actionIds": ["sp1"], "params": {}}})}
    code, _ = await adapter.on_card_frame(press, "frame-7")
    assert code == 200
    row = runtime.store.conn.execute("SELECT event FROM inbox WHERE external_id = 'card:frame-7'").fetchone()
    action = event_from_dict(json.loads(row[0]))
    assert isinstance(action, CardAction) and action.action == "stores.fix"
    assert action.value == {"fix": 3, "do": "support"}
    assert await fake.await_for(lambda: bool(fake.calls(UPDATE, "PUT")))
    (put,) = fake.calls(UPDATE, "PUT")
    assert put.json["outTrackId"] == ref and put.json["cardUpdateOptions"] == {"updateCardDataByKey": True}
    params = put.json["cardData"]["cardParamMap"]
    assert "需要支持" in params["footer"] and all(params[f"btn{i}_show"] == "false" for i in range(4))
    await adapter.stop()


async def test_more_buttons_than_the_template_holds_become_hints(runtime, fake):
    adapter = attach(runtime)
    many = Reply.card("t", "x", buttons=[Button(f"b{i}", "a", {"i": i}) for i in range(6)])
    await adapter.send(Target("dingtalk", user_id="u1"), many, "k-many")
    params = fake.calls(DELIVER, "POST")[0].json["cardData"]["cardParamMap"]
    assert params["btn3_text"] == "b3" and "【b4】" in params["markdown"] and "【b5】" in params["markdown"]
    await adapter.stop()
