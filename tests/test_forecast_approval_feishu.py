"""Defect 12 over Feishu: the rep's /调整 from a p2p chat, the manager's 批准 / 驳回 as an interactive card message,
the press (card.action.trigger) applied, the rep told in their chat."""

from __future__ import annotations

import json

import pytest
from fakes.feishu import card_event, message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures
from test_forecast_chat import seed

from bot.server import build_app
from store import deals as deal_store

pytestmark = pytest.mark.timeout(90)
PATH = "/feishu/events"

fake, config = feishu_fixtures()


@pytest.fixture
async def client(runtime, aiohttp_client):
    adapter = attach_feishu(runtime)
    await adapter.start()
    yield await aiohttp_client(build_app(runtime.config, [adapter]))
    await adapter.stop()


async def post(client, runtime, envelope) -> dict:
    body, headers = signed_request(envelope, runtime.clock.now_ms() // 1000)
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status == 200
    await runtime.settle()
    return await resp.json()


async def test_approval_card_over_feishu(client, runtime, fake):
    store = runtime.store
    seed(store)
    await post(client, runtime, message_event("ev-a1", text="/调整 华东电网巡检 金额 80万 需求范围扩大",
                                              message_id="om_adj"))
    (answer,) = fake.calls("/open-apis/im/v1/messages/om_adj/reply")
    assert "已提交给王经理审批" in json.dumps(json.loads(answer.json["content"]), ensure_ascii=False)
    assert deal_store.get(store, "L1").amount == 350_000
    pushed = [c for c in fake.calls("/open-apis/im/v1/messages", "POST") if c.json.get("receive_id") == "ou_wangjl"]
    (card_msg,) = pushed
    card = json.loads(card_msg.json["content"])
    body = json.dumps(card, ensure_ascii=False)
    assert "预测调整待审批" in body and "张伟" in body and "35万" in body and "80万" in body
    actions = card["elements"][-1]["actions"]
    assert [a["text"]["content"] for a in actions] == ["批准", "驳回"]

    await post(client, runtime, card_event("ev-press", actions[0]["value"], message_id="om_card_1",
                                           open_id="ou_wangjl"))
    assert deal_store.get(store, "L1").amount == 800_000
    told = [json.loads(c.json["content"]) for c in fake.calls("/open-apis/im/v1/messages", "POST")
            if c.json.get("receive_id") == "ou_zhangwei"]
    assert any("王经理批准了你对 华东电网巡检 的金额调整" in json.dumps(t, ensure_ascii=False) for t in told)
