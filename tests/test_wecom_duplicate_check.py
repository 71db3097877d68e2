"""WeCom's enable_duplicate_check compares content (the request JSON), not our idempotency key (issue 14 §7): a
retry asks for it only when no other reply with the same recipient and body went out within the interval, so a
retried fixed answer is never swallowed as a copy of an earlier, different one. Cards (task_id from the key) keep it.
"""

from __future__ import annotations

import pytest
import wecom_helpers as h

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.errors import PlatformError
from bot.replies import Button, Reply, Target

SEND = "/cgi-bin/message/send"

fake = h.fake_api_fixture()


@pytest.fixture
async def adapter(store, clock, config, fake):
    ad = WeComAdapter(AdapterContext(store, h.wecom_config(config, fake.base_url), clock, lambda: None))
    yield ad
    await ad.client.close()


ZHANG = Target(platform="wecom", user_id="zhangwei")


async def test_a_retried_identical_answer_is_not_dropped_as_a_copy_of_another(adapter, fake, clock):
    await adapter.send(ZHANG, Reply.plain("收到，已记录"), "answer-1")  # delivered
    clock.advance(30_000)
    fake.fail_next(SEND, -1)  # the second, different answer with the same words: first attempt fails
    with pytest.raises(PlatformError):
        await adapter.send(ZHANG, Reply.plain("收到，已记录"), "answer-2")
    clock.advance(60_000)
    await adapter.send(ZHANG, Reply.plain("收到，已记录"), "answer-2")
    retry = fake.calls(SEND)[-1]
    assert "enable_duplicate_check" not in retry.json  # with it, WeCom could drop it as a copy of answer-1


async def test_a_retry_with_a_unique_body_still_asks_wecom_to_drop_a_double(adapter, fake, clock):
    await adapter.send(ZHANG, Reply.plain("收到，已记录"), "answer-1")
    fake.fail_next(SEND, -1)
    with pytest.raises(PlatformError):
        await adapter.send(ZHANG, Reply.plain("别的内容"), "answer-3")
    clock.advance(60_000)
    await adapter.send(ZHANG, Reply.plain("别的内容"), "answer-3")
    assert fake.calls(SEND)[-1].json["enable_duplicate_check"] == 1
    card = Reply.card("处理未接来电", "客户 139…", buttons=[Button("已处理", "done", {"call": "1"})])
    await adapter.send(ZHANG, card, "card-1")
    fake.fail_next(SEND, -1)
    with pytest.raises(PlatformError):
        await adapter.send(ZHANG, card, "card-2")  # same card content, another reply: its own task_id
    clock.advance(60_000)
    await adapter.send(ZHANG, card, "card-2")
    assert fake.calls(SEND)[-1].json["enable_duplicate_check"] == 1
