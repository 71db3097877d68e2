"""Feishu voice notes: an audio message event (encrypted and signed as Feishu does) → the Ogg/Opus file fetched
through the message-resource API of the fake open API → decoded, recognised, answered by reply."""

from __future__ import annotations

import json

import pytest
from fakes.feishu import message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures

from bot.server import build_app
from handlers.voice.recognisers import StaticRecogniser
from tests.voice_helpers import clip, transcripts

pytestmark = pytest.mark.timeout(90)  # lark_oapi / dingtalk-stream imports are slow on a loaded machine
PATH = "/feishu/events"

fake, config = feishu_fixtures()


@pytest.fixture
async def client(runtime, aiohttp_client):
    adapter = attach_feishu(runtime)
    runtime.media.register("feishu", adapter.fetch_media)
    await adapter.start()
    yield await aiohttp_client(build_app(runtime.config, [adapter]))
    await adapter.stop()


async def test_audio_message_is_fetched_as_a_resource_and_answered(client, runtime, fake):
    runtime.services.extras["voice"].use_recognisers([StaticRecogniser({"*": "嗯那个客户就是担心交付"})])
    fake.files["file_v2_abc"] = clip("opus")
    envelope = message_event("ev-voice", message_id="om_voice_1", message_type="audio",
                             content={"file_key": "file_v2_abc", "duration": 6000})
    body, headers = signed_request(envelope, runtime.clock.now_ms() // 1000)
    assert (await client.post(PATH, data=body, headers=headers)).status == 200
    await runtime.settle()
    (res,) = fake.calls("/open-apis/im/v1/messages/om_voice_1/resources/file_v2_abc")
    assert res.query["type"] == "file"
    [ev] = transcripts(runtime.store)
    assert ev["status"] == "ok" and ev["text"] == "嗯那个客户就是担心交付" and len(ev["pauses_ms"]) == 1
    (reply,) = fake.calls("/open-apis/im/v1/messages/om_voice_1/reply")
    assert "担心交付" in json.loads(reply.json["content"])["text"]


async def test_missing_resource_becomes_undecodable_and_the_rep_is_told(client, runtime, fake):
    envelope = message_event("ev-gone", message_id="om_voice_2", message_type="audio",
                             content={"file_key": "file_missing", "duration": 2000})
    body, headers = signed_request(envelope, runtime.clock.now_ms() // 1000)
    await client.post(PATH, data=body, headers=headers)
    for _ in range(4):
        await runtime.advance_to(runtime.clock.now_ms() + 60_000)
    [ev] = transcripts(runtime.store)
    assert ev["status"] == "undecodable"
    (reply,) = fake.calls("/open-apis/im/v1/messages/om_voice_2/reply")
    assert "无法解码" in json.loads(reply.json["content"])["text"]
