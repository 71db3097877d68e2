"""A voice debrief over Feishu: /复盘 → the card as an interactive message → a press on 开始语音复盘 → an audio
message (real Ogg/Opus made with the bundled ffmpeg, fetched from the fake open API, decoded, the recogniser
injected) → the echo card, and the deal changed."""

from __future__ import annotations

import json

import pytest
from conftest import T0
from fakes.feishu import card_event, message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures

from bot.server import build_app
from handlers.voice.recognisers import StaticRecogniser
from store import customers as customer_store
from store import deals as deal_store
from store import debrief as debrief_store
from store import leads as lead_store
from tests.voice_helpers import clip

pytestmark = pytest.mark.timeout(90)
PATH = "/feishu/events"
SPOKEN = "嗯那个客户最担心的是交付周期我给他看了三一重工的案例下一步他答应下周三带李总来工厂参观"

fake, config = feishu_fixtures()


@pytest.fixture
async def client(runtime, aiohttp_client, tmp_path):
    adapter = attach_feishu(runtime)
    runtime.media.register("feishu", adapter.fetch_media)
    await adapter.start()
    yield await aiohttp_client(build_app(runtime.config, [adapter]))
    await adapter.stop()


async def post(client, runtime, envelope) -> dict:
    body, headers = signed_request(envelope, runtime.clock.now_ms() // 1000)
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status == 200
    await runtime.settle()
    return await resp.json()


async def test_voice_debrief_over_feishu(client, runtime, fake):
    store = runtime.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 86_400_000, amount=300_000)
    runtime.services.extras["voice"].use_recognisers([StaticRecogniser({"*": SPOKEN})])
    await post(client, runtime, message_event("ev-d1", text="/复盘 华东电网", message_id="om_cmd"))
    (sent,) = fake.calls("/open-apis/im/v1/messages/om_cmd/reply")
    card = json.loads(sent.json["content"])
    actions = card["elements"][-1]["actions"]
    assert [a["text"]["content"] for a in actions] == ["开始语音复盘", "文字复盘", "稍后"]
    assert "客户最担心什么" in json.dumps(card, ensure_ascii=False)

    answer = await post(client, runtime, card_event("ev-press", actions[0]["value"], message_id="om_card_1"))
    assert answer["toast"]["type"] == "success"
    started = [json.loads(r.json["content"]) for r in fake.calls("/open-apis/im/v1/messages", "POST")]
    assert any("按住说话" in c.get("text", "") for c in started)

    fake.files["file_v2_debrief"] = clip("opus", seconds=12.0, pauses=(1.2,))
    await post(client, runtime, message_event("ev-voice", message_id="om_voice", message_type="audio",
                                              content={"file_key": "file_v2_debrief", "duration": 12000}))
    (echo,) = fake.calls("/open-apis/im/v1/messages/om_voice/reply")
    text = json.dumps(json.loads(echo.json["content"]), ensure_ascii=False)
    assert "复盘已记录" in text and "交付" in text and "李总" in text and "改一下" in text
    d = debrief_store.get(store, 1)
    assert d.status == "done" and json.loads(d.understood)["next_step"]["date"] == "2026-03-11"
    details = deal_store.get(store, "L1").details
    assert details.has_named_contact and details.has_next_meeting
    (kind, words, _recorded, duration) = debrief_store.answers_of(store, 1)[0]
    assert kind == "voice" and words == SPOKEN and duration >= 11_000

