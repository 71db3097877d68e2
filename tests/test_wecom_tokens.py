"""WeCom access_token under concurrency: ten sends hitting 42001 together fetch one new token, not ten."""

from __future__ import annotations

import asyncio

import pytest
import wecom_helpers as h

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.replies import Reply, Target

pytestmark = pytest.mark.timeout(30)
SEND = "/cgi-bin/message/send"


fake = h.fake_api_fixture()


@pytest.fixture
async def adapter(store, clock, config, fake):
    ad = WeComAdapter(AdapterContext(store, h.wecom_config(config, fake.base_url), clock, lambda: None))
    yield ad
    await ad.client.close()


async def test_concurrent_sends_after_42001_fetch_the_token_once(adapter, fake):
    await adapter.send(Target("wecom", user_id="zhangwei"), Reply.plain("warm"), "w")
    fake.expire_tokens()
    await asyncio.gather(*(adapter.send(Target("wecom", user_id="zhangwei"), Reply.plain(f"m{i}"), f"k{i}")
                           for i in range(10)))
    assert len(fake.calls("/cgi-bin/gettoken")) == 2
    ok = {c.json["text"]["content"] for c in fake.calls(SEND) if c.query["access_token"] in fake.valid_tokens}
    assert ok == {f"m{i}" for i in range(10)}


async def test_concurrent_first_sends_fetch_the_token_once(adapter, fake):
    await asyncio.gather(*(adapter.send(Target("wecom", user_id="zhangwei"), Reply.plain(f"m{i}"), f"k{i}")
                           for i in range(10)))
    assert len(fake.calls("/cgi-bin/gettoken")) == 1
