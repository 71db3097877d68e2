"""A voice debrief over DingTalk (the real dingtalk-stream client on a fake gateway): /复盘 → the card as a robot
interactive card → a press (the documented card-callback body) → an audio message whose transcript is DingTalk's own
`recognition` (the audio still fetched and decoded for voice activity) → the echo, and the deal changed."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import T0
from fakes.dingtalk import ROBOT_TOPIC, robot_message
from platform_helpers import attach, dingtalk_fixtures

from store import customers as customer_store
from store import deals as deal_store
from store import debrief as debrief_store
from store import leads as lead_store
from tests.voice_helpers import clip

pytestmark = pytest.mark.timeout(90)
fake, config = dingtalk_fixtures()
CARDS = "/v1.0/im/v1.0/robot/interactiveCards/send"


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach(runtime)
    runtime.media.register("dingtalk", adapter.fetch_media)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    yield adapter
    await adapter.stop()


async def test_voice_debrief_over_dingtalk(connected, fake, runtime):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 86_400_000, amount=300_000)
    webhook = f"{fake.base_url}/session/v1"
    expires = runtime.clock.now_ms() + 3_600_000
    await fake.await_ack(fake.push(ROBOT_TOPIC, robot_message("msg-d1", text="/复盘 华东电网", webhook=webhook,
                                                               expires=expires)))
    await runtime.settle()
    sent = fake.calls(CARDS) or fake.calls("/session/v1")
    body = json.dumps([s.json for s in sent], ensure_ascii=False)
    assert "客户最担心什么" in body and "开始语音复盘" in body
    (card,) = fake.calls(CARDS)  # a card with buttons goes out as a robot interactive card
    ref = card.json["cardBizId"]
    press = {"type": "actionCallback", "outTrackId": ref, "corpId": "ding-corp", "userId": "zhangwei",
             "content": json.dumps({"cardPrivateData": {"actionIds": ["sp0"], "params": {}}})}
    code, _ = await connected.on_card_frame(press, "frame-d1")
    assert code == 200
    await runtime.settle()
    assert debrief_store.get(store, 1).mode == "voice"

    fake.files["dl-debrief"] = clip("amr", seconds=10.0)
    spoken = "客户担心价格比友商贵两成我给他看了三一重工的案例下一步他答应月底前对接人张明把预算范围发过来"
    data = robot_message("msg-v1", msgtype="audio", webhook=webhook, expires=expires,
                         content={"duration": 10000, "downloadCode": "dl-debrief", "recognition": spoken})
    await fake.await_ack(fake.push(ROBOT_TOPIC, data))
    await runtime.settle()
    d = debrief_store.get(store, 1)
    assert d.status == "done"
    assert json.loads(d.understood)["next_step"] == {"action": "对接人张明把预算范围发过来", "date": "2026-03-31",
                                                     "person": "张明"}
    assert deal_store.get(store, "L1").details.has_named_contact
    everything = json.dumps([s.json for s in fake.calls(CARDS) + fake.calls("/session/v1")], ensure_ascii=False)
    assert "复盘已记录" in everything
