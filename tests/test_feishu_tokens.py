"""Feishu tenant token under a refusal (99991663 / 99991661): refreshed once, retried, and a burst of concurrent sends
fetches one new token rather than one each."""

from __future__ import annotations

import asyncio

import pytest
from platform_helpers import attach_feishu, feishu_fixtures

from bot.replies import Reply, Target

pytestmark = pytest.mark.timeout(30)

fake, config = feishu_fixtures()
CREATE = "/open-apis/im/v1/messages"


@pytest.fixture
async def adapter(runtime):
    a = attach_feishu(runtime)
    yield a
    await a.stop()


@pytest.mark.parametrize("code", [99991663, 99991661])
async def test_a_burst_on_an_invalid_tenant_token_fetches_one_new_token(adapter, fake, code):
    await adapter.send(Target("feishu", user_id="ou_zhangwei"), Reply.plain("warm"), "w")
    fake.tokens_issued += 1  # t-1 is no longer valid
    ok = fake.routes[("POST", CREATE)]

    def respond(rec):
        if rec.headers.get("Authorization") != f"Bearer t-{fake.tokens_issued}":
            return 400, {"code": code, "msg": "Invalid access token for authorization"}
        return ok(rec)

    fake.routes[("POST", CREATE)] = respond
    await asyncio.gather(*(adapter.send(Target("feishu", user_id="ou_zhangwei"), Reply.plain(f"m{i}"), f"b{i}")
                           for i in range(6)))
    assert len(fake.calls("/open-apis/auth/v3/tenant_access_token/internal")) == 2
    accepted = [c for c in fake.calls(CREATE) if c.headers["Authorization"] == "Bearer t-3"]
    assert len(accepted) == 6
