"""DingTalk access tokens under real-world failures: a token the platform calls invalid (new API: HTTP 400
InvalidAuthentication; old oapi: errcode 40014 / 88 with sub_code 40014) is refreshed once and the call retried,
a burst of sends hitting it fetches one new token, and oapi "system busy" is retryable, not a dead message."""

from __future__ import annotations

import asyncio

import pytest
from platform_helpers import attach, dingtalk_fixtures

from bot.errors import PlatformError
from bot.replies import Reply, Target

pytestmark = pytest.mark.timeout(30)

fake, config = dingtalk_fixtures()

OTO = "/v1.0/robot/oToMessages/batchSend"


@pytest.fixture
async def adapter(runtime):
    a = attach(runtime)
    yield a
    await a.stop()


def only_latest_token(fake, refusal):
    """A responder that accepts only the newest issued token and answers `refusal` (status, body) otherwise."""
    def respond(rec):
        token = rec.headers.get("x-acs-dingtalk-access-token") or rec.query.get("access_token", "")
        if token != f"tok-{fake.tokens_issued}":
            return refusal
        return 200, {"processQueryKey": "q", "errcode": 0, "result": []}
    return respond


async def test_invalid_authentication_refreshes_the_token_and_retries(adapter, fake):
    await adapter.send(Target("dingtalk", user_id="zhangwei"), Reply.plain("一"), "k1")
    fake.tokens_issued += 1  # DingTalk invalidated tok-1 (secret reset, …): only a new token works now
    fake.routes[("POST", OTO)] = only_latest_token(
        fake, (400, {"code": "InvalidAuthentication", "message": "不合法的access_token"}))
    await adapter.send(Target("dingtalk", user_id="zhangwei"), Reply.plain("二"), "k2")
    sent = fake.calls(OTO)
    assert [s.headers["x-acs-dingtalk-access-token"] for s in sent] == ["tok-1", "tok-1", "tok-3"]
    assert len(fake.calls("/v1.0/oauth2/accessToken")) == 2


async def test_a_burst_of_sends_on_a_refused_token_fetches_one_new_token(adapter, fake):
    await adapter.send(Target("dingtalk", user_id="zhangwei"), Reply.plain("warm"), "w")
    fake.tokens_issued += 1
    fake.routes[("POST", OTO)] = only_latest_token(
        fake, (400, {"code": "InvalidAuthentication", "message": "不合法的access_token"}))
    await asyncio.gather(*(adapter.send(Target("dingtalk", user_id="zhangwei"), Reply.plain(f"m{i}"), f"b{i}")
                           for i in range(6)))
    assert len(fake.calls("/v1.0/oauth2/accessToken")) == 2  # the first fetch and one refresh, not seven


@pytest.mark.parametrize("refusal", [
    {"errcode": 40014, "errmsg": "不合法的access_token"},
    {"errcode": 88, "sub_code": "40014", "sub_msg": "不合法的access_token",
     "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]"},
])
async def test_oapi_token_errors_refresh_the_token(adapter, fake, refusal):
    await adapter.api.access_token()
    fake.tokens_issued += 1
    fake.routes[("POST", "/topapi/v2/department/listsub")] = only_latest_token(fake, (200, refusal))
    assert await adapter.api.sub_departments(1) == []
    calls = fake.calls("/topapi/v2/department/listsub")
    assert [c.query["access_token"] for c in calls] == ["tok-1", "tok-3"]


async def test_oapi_errcode_88_with_a_throttle_sub_code_is_not_a_token_error(adapter, fake):
    fake.routes[("POST", "/topapi/v2/department/listsub")] = lambda rec: (
        200, {"errcode": 88, "sub_code": "90018", "sub_msg": "当前请求QPS过大"})
    from bot.errors import PlatformRetryAfter

    with pytest.raises(PlatformRetryAfter):
        await adapter.api.sub_departments(1)
    assert len(fake.calls("/v1.0/oauth2/accessToken")) == 1


async def test_oapi_system_busy_is_retryable(adapter, fake):
    fake.routes[("POST", "/topapi/v2/department/listsub")] = lambda rec: (200, {"errcode": -1, "errmsg": "系统繁忙"})
    with pytest.raises(PlatformError) as err:
        await adapter.api.sub_departments(1)
    assert not err.value.permanent


async def test_image_upload_renews_a_refused_token_too(adapter, fake):
    await adapter.api.access_token()
    fake.tokens_issued += 1

    def upload(rec):
        if rec.query.get("access_token") != f"tok-{fake.tokens_issued}":
            return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
        return 200, {"errcode": 0, "type": "image", "media_id": "@media-2"}

    fake.routes[("POST", "/media/upload")] = upload
    assert await adapter.api.upload_image(b"\x89PNG-bytes") == "@media-2"
    calls = fake.calls("/media/upload")
    assert [c.query["access_token"] for c in calls] == ["tok-1", "tok-3"] and b"PNG-bytes" in calls[1].body
