"""DingTalk voice notes: the real dingtalk-stream client on a fake gateway delivers an audio message; its audio is
fetched by downloadCode from the fake OpenAPI, decoded and recognised, and the answer goes back on the session
webhook. DingTalk's own `recognition` text is used when present (no download needed)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes.dingtalk import ROBOT_TOPIC, robot_message
from platform_helpers import attach, dingtalk_fixtures

from handlers.voice.recognisers import StaticRecogniser
from tests.voice_helpers import clip, transcripts

pytestmark = pytest.mark.timeout(90)  # lark_oapi / dingtalk-stream imports are slow on a loaded machine

fake, config = dingtalk_fixtures()


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach(runtime)
    runtime.media.register("dingtalk", adapter.fetch_media)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    yield adapter
    await adapter.stop()


async def test_audio_is_downloaded_by_code_decoded_and_answered(connected, fake, runtime):
    rec = StaticRecogniser({"*": "客户担心预算，下周三再谈"})
    runtime.services.extras["voice"].use_recognisers([rec])
    fake.files["dl-voice"] = clip("opus")
    webhook = f"{fake.base_url}/session/v1"
    data = robot_message("msg-v1", msgtype="audio", webhook=webhook, expires=runtime.clock.now_ms() + 3_600_000,
                         content={"duration": 6000, "downloadCode": "dl-voice"})
    assert (await fake.await_ack(fake.push(ROBOT_TOPIC, data)))["code"] == 200
    await runtime.settle()
    (download,) = fake.calls("/v1.0/robot/messageFiles/download")
    assert download.json == {"downloadCode": "dl-voice", "robotCode": "ding-app"}
    [ev] = transcripts(runtime.store)
    assert (ev["status"], ev["text"], ev["source"]) == ("ok", "客户担心预算，下周三再谈", "test")
    assert ev["actor"]["platform_id"] == "zhangwei" and ev["speech_ms"] > 3000
    (sent,) = fake.calls("/session/v1")
    assert "客户担心预算" in json.dumps(sent.json, ensure_ascii=False)


async def test_dingtalks_recognition_is_the_transcript(connected, fake, runtime):
    fake.files["dl-2"] = clip("amr")
    data = robot_message("msg-v2", msgtype="audio",
                         content={"duration": 6000, "downloadCode": "dl-2", "recognition": "客户说月底前签合同"})
    await fake.await_ack(fake.push(ROBOT_TOPIC, data))
    await runtime.settle()
    [ev] = transcripts(runtime.store)
    assert (ev["status"], ev["text"], ev["source"]) == ("ok", "客户说月底前签合同", "platform")
    assert ev["speech_ms"] > 3000  # the audio is still fetched for voice activity (speaking rate, pauses)


async def test_expired_download_code_with_no_transcript_is_undecodable(connected, fake, runtime):
    data = robot_message("msg-v3", msgtype="audio", content={"duration": 3000, "downloadCode": "gone"})
    await fake.await_ack(fake.push(ROBOT_TOPIC, data))
    for _ in range(4):  # the runner retries a failed download before giving up
        await runtime.advance_to(runtime.clock.now_ms() + 60_000)
    [ev] = transcripts(runtime.store)
    assert ev["status"] == "undecodable"
