"""WeCom voice notes: an app callback voice message (AMR via MediaId, fetched with media/get from the fake WeCom
API) and an archive voice note (the file the archive puller stored) through the same pipeline."""

from __future__ import annotations

import pytest
import wecom_helpers as h

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.events import Actor, Message, MessageKind
from bot.server import build_app
from handlers.voice.recognisers import StaticRecogniser
from store import wecom as wecom_store
from tests.voice_helpers import clip, transcripts, voice_runtime

SEND = "/cgi-bin/message/send"
fake = h.fake_api_fixture()


@pytest.fixture
async def wired(store, clock, config, fake, tmp_path):
    import dataclasses

    wconfig = h.wecom_config(config, fake.base_url)
    wconfig = dataclasses.replace(wconfig, bot=dataclasses.replace(wconfig.bot, data_dir=str(tmp_path / "data")))
    rt = voice_runtime(wconfig, store, clock, recogniser=StaticRecogniser({"*": "客户下周二来工厂看样机"}))
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    rt.media.register("wecom", adapter.fetch_media)
    yield rt, adapter
    await adapter.client.close()
    rt.close()


async def test_app_voice_message_is_fetched_by_media_id_and_answered(wired, fake, aiohttp_client, clock):
    rt, adapter = wired
    fake.media["MEDIA_V1"] = (clip("amr"), "audio/amr")
    client = await aiohttp_client(build_app(rt.config, [adapter]))
    t = clock.now_ms() // 1000
    xml = h.generic_xml("zhangwei", "voice", t, "7001", MediaId="MEDIA_V1", Format="amr")
    query, body = h.wechatpy_encrypt(xml, t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    (get,) = fake.calls("/cgi-bin/media/get")
    assert get.query["media_id"] == "MEDIA_V1"
    [ev] = transcripts(rt.store)
    assert ev["status"] == "ok" and ev["text"] == "客户下周二来工厂看样机" and ev["platform"] == "wecom"
    (sent,) = fake.calls(SEND)
    assert sent.json["touser"] == "zhangwei" and "看样机" in sent.json["text"]["content"]


async def test_archive_voice_note_uses_the_stored_file_and_gets_no_answer(wired, fake, clock, tmp_path):
    rt, _adapter = wired
    stored = tmp_path / "arch.amr"
    stored.write_bytes(clip("amr", seed=9))
    wecom_store.save_media(rt.store, "sdkfile-1", "arch-msg-1", str(stored), "md5", stored.stat().st_size,
                           clock.now_ms())
    note = Message(event_id="wecom-archive:arch-msg-1", platform="wecom", occurred_at=clock.now_ms(),
                   actor=Actor(platform_id="wmCustomer1"), kind=MessageKind.VOICE, media_id="sdkfile-1",
                   duration_ms=6000, conversation_id="single:zhangwei:wmCustomer1", to_bot=False)
    rt.console.ctx.accept("wecom", "arch-msg-1", {}, note)
    await rt.settle()
    [ev] = transcripts(rt.store)
    assert ev["status"] == "ok" and ev["actor"]["platform_id"] == "wmCustomer1"
    assert fake.calls("/cgi-bin/media/get") == [] and fake.calls(SEND) == []
