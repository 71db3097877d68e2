"""Defect 12 over DingTalk: the rep's /调整 from a robot chat, the manager's 批准 / 驳回 as a robot interactive card,
a press by the rep himself refused, the manager's press applied and the rep told."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes.dingtalk import ROBOT_TOPIC, robot_message
from platform_helpers import attach, dingtalk_fixtures
from test_forecast_chat import seed

from store import deals as deal_store

pytestmark = pytest.mark.timeout(90)
fake, config = dingtalk_fixtures()
CARDS = "/v1.0/im/v1.0/robot/interactiveCards/send"


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach(runtime)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    yield adapter
    await adapter.stop()


async def test_approval_card_over_dingtalk(connected, fake, runtime):
    store = runtime.store
    seed(store)
    webhook = f"{fake.base_url}/session/v1"
    expires = runtime.clock.now_ms() + 3_600_000
    await fake.await_ack(fake.push(ROBOT_TOPIC, robot_message("msg-a1", text="/调整 华东电网巡检 概率 90% 提前签约",
                                                               webhook=webhook, expires=expires)))
    await runtime.settle()
    (card,) = fake.calls(CARDS)  # the manager's card, with buttons: a robot interactive card
    body = json.dumps(card.json, ensure_ascii=False)
    assert "预测调整待审批" in body and "批准" in body and "驳回" in body and "张伟" in body
    assert "wangjl" in body  # to the manager, privately
    ref = card.json["cardBizId"]

    def press(user: str, action_id: str) -> dict:
        return {"type": "actionCallback", "outTrackId": ref, "corpId": "ding-corp", "userId": user,
                "content": json.dumps({"cardPrivateData": {"actionIds": [action_id], "params": {}}})}

    code, _ = await connected.on_card_frame(press("zhangwei", "sp0"), "frame-a0")  # the rep approving himself
    assert code == 200
    await runtime.settle()
    assert deal_store.get(store, "L1").details.probability_override is None
    code, _ = await connected.on_card_frame(press("wangjl", "sp0"), "frame-a1")
    assert code == 200
    await runtime.settle()
    assert deal_store.get(store, "L1").details.probability_override == pytest.approx(0.9)
    everything = json.dumps([s.json for s in fake.calls(CARDS) + fake.calls("/session/v1") + fake.calls(
        "/v1.0/robot/oToMessages/batchSend")], ensure_ascii=False)
    assert "只有审批人（王经理）可以批准或驳回这项调整" in everything
    assert "王经理批准了你对 华东电网巡检 的概率调整" in everything
