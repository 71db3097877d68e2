"""Debriefs over WeCom (signed, encrypted callbacks to the real adapter; the fake WeCom API receives what is sent):
a customer meeting → the card as a template card → a press on 文字复盘 → a typed answer and a voice note (AMR
fetched by MediaId, decoded by the bundled ffmpeg, the recogniser injected) → the echo."""

from __future__ import annotations

import dataclasses

import pytest
import wecom_helpers as h
from conftest import T0

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.events import Actor, CalendarEvent
from bot.server import build_app
from handlers.voice.recognisers import StaticRecogniser
from store import customers as customer_store
from store import deals as deal_store
from store import debrief as debrief_store
from store import leads as lead_store
from tests.voice_helpers import clip, voice_runtime

SEND = "/cgi-bin/message/send"
fake = h.fake_api_fixture()
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def wired(store, clock, config, fake, tmp_path):
    wconfig = h.wecom_config(config, fake.base_url)
    wconfig = dataclasses.replace(wconfig, bot=dataclasses.replace(wconfig.bot, data_dir=str(tmp_path / "data")))
    rt = voice_runtime(wconfig, store, clock, recogniser=StaticRecogniser({"*": "下一步他答应下周三带王总来公司看演示"}))
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    rt.media.register("wecom", adapter.fetch_media)
    yield rt, adapter
    await adapter.client.close()
    rt.close()


async def test_meeting_card_press_text_and_voice_over_wecom(wired, fake, aiohttp_client, clock):
    rt, adapter = wired
    store = rt.store
    with store.transaction():
        customer_store.upsert(store, "c1", "华东电网", industry="能源")
        customer_store.add_key(store, "external_id", "wmHD", "c1")
        lead_store.upsert(store, "L1", "c1", "r1", "华东电网巡检", T0 - 86_400_000, amount=300_000)
    client = await aiohttp_client(build_app(rt.config, [adapter]))
    now = clock.now_ms()
    rt.console.ctx.accept("wecom", "cal1", {}, CalendarEvent(
        event_id="wecom:cal1", platform="wecom", occurred_at=now, actor=Actor(platform_id="zhangwei"),
        title="方案交流", starts_at=now, ends_at=now + 3_600_000, attendees=("zhangwei", "wmHD")))
    await rt.advance_to(now + 3_600_000 + 6 * 60_000)
    await adapter.drain_background()
    (sent,) = fake.calls(SEND)
    tc = sent.json["template_card"]
    assert sent.json["touser"] == "zhangwei" and "会后复盘" in tc["main_title"]["title"]
    assert [b["text"] for b in tc["button_list"]] == ["开始语音复盘", "文字复盘", "稍后"]

    t = clock.now_ms() // 1000
    query, body = h.wechatpy_encrypt(h.card_event_xml("zhangwei", tc["button_list"][1]["key"], tc["task_id"],
                                                       "rc-1", t), t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    await adapter.drain_background()
    assert debrief_store.get(store, 1).mode == "text"

    query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "客户担心价格比友商贵两成，我给他看了三一重工的案例", "9002", t), t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    fake.media["MEDIA_D1"] = (clip("amr", seconds=5.0, pauses=()), "audio/amr")
    xml = h.generic_xml("zhangwei", "voice", t + 30, "9003", MediaId="MEDIA_D1", Format="amr")
    query, body = h.wechatpy_encrypt(xml, t + 30)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    await adapter.drain_background()
    d = debrief_store.get(store, 1)
    assert d.status == "done" and "王总" in d.next_step
    texts = [s.json.get("template_card", {}).get("main_title", {}).get("title", "") or str(s.json) for s in fake.calls(SEND)]
    assert any("复盘已记录" in x for x in texts)
    assert deal_store.get(store, "L1").details.has_next_meeting
    assert debrief_store.next_step_of(store, "L1")[:3] == ("带王总来公司看演示", "2026-03-11", "王总")
