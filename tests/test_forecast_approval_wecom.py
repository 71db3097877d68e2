"""Defect 12 over WeCom (signed, encrypted callbacks into the real adapter; the fake WeCom API receives what is sent):
the rep's /调整 typed in the app, the manager's 批准 / 驳回 as a template card, a press by the rep himself refused, the
manager's press applied (the card updated in place) and the rep told."""

from __future__ import annotations

import json

import pytest
import wecom_helpers as h
from test_forecast_chat import seed

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.app import Runtime
from bot.server import build_app
from store import deals as deal_store

SEND = "/cgi-bin/message/send"
UPDATE = "/cgi-bin/message/update_template_card"
fake = h.fake_api_fixture()
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def wired(store, clock, config, fake):
    wconfig = h.wecom_config(config, fake.base_url)
    rt = Runtime(config=wconfig, store=store, clock=clock, deferred_in_thread=False)
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    yield rt, adapter
    await adapter.client.close()
    rt.close()


async def post(client, rt, adapter, xml: str) -> None:
    t = rt.clock.now_ms() // 1000
    query, body = h.wechatpy_encrypt(xml, t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    await adapter.drain_background()



async def test_approval_card_over_wecom(wired, fake, aiohttp_client):
    rt, adapter = wired
    seed(rt.store)
    client = await aiohttp_client(build_app(rt.config, [adapter]))
    t = rt.clock.now_ms() // 1000
    await post(client, rt, adapter, h.text_xml("zhangwei", "/调整 华东电网巡检 概率 90% 提前签约", "a1", t))
    assert deal_store.get(rt.store, "L1").details.probability_override is None  # waits for the manager
    cards = [c.json for c in fake.calls(SEND) if c.json.get("msgtype") == "template_card"]
    (card,) = [c for c in cards if c["touser"] == "wangjl"]  # to the manager, privately
    body = json.dumps(card, ensure_ascii=False)
    assert "预测调整待审批" in body and "张伟" in body and "华东电网巡检" in body
    tc = card["template_card"]
    buttons = {b["text"]: b["key"] for b in tc["button_list"]}
    assert set(buttons) == {"批准", "驳回"}

    await post(client, rt, adapter, h.card_event_xml("zhangwei", buttons["批准"], tc["task_id"], "rc-0", t + 5))
    assert deal_store.get(rt.store, "L1").details.probability_override is None  # the rep cannot approve himself
    to_rep = json.dumps([c.json for c in fake.calls(SEND) if c.json.get("touser") == "zhangwei"], ensure_ascii=False)
    assert "只有审批人（王经理）可以批准或驳回这项调整" in to_rep, to_rep

    await post(client, rt, adapter, h.card_event_xml("wangjl", buttons["批准"], tc["task_id"], "rc-1", t + 10))
    assert deal_store.get(rt.store, "L1").details.probability_override == pytest.approx(0.9)
    to_rep = json.dumps([c.json for c in fake.calls(SEND) if c.json.get("touser") == "zhangwei"], ensure_ascii=False)
    assert "王经理批准了你对 华东电网巡检 的概率调整" in to_rep, to_rep
    updates = json.dumps([c.json for c in fake.calls(UPDATE)], ensure_ascii=False)
    assert "rc-1" in updates, updates  # the manager's pressed card shows the choice at once (its code used once)
    to_manager = json.dumps([c.json for c in fake.calls(SEND) if c.json.get("touser") == "wangjl"], ensure_ascii=False)
    assert "已批准 华东电网巡检 的调整" in to_manager and "20% → 90%" in to_manager

    # the same card pressed again (a second tap, or a copy on another device): told, nothing changes twice
    await post(client, rt, adapter, h.card_event_xml("wangjl", buttons["驳回"], tc["task_id"], "rc-2", t + 20))
    to_manager = json.dumps([c.json for c in fake.calls(SEND) if c.json.get("touser") == "wangjl"], ensure_ascii=False)
    assert "这项调整已由王经理批准" in to_manager
    assert deal_store.get(rt.store, "L1").details.probability_override == pytest.approx(0.9)
