"""DingTalk HTTP outgoing-robot mode through the real server app: signature, window, size, JSON, dedupe."""

from __future__ import annotations

import json

import pytest
from fakes.dingtalk import robot_message
from platform_helpers import attach, dingtalk_fixtures

from adapters.dingtalk.sign import sign, verify
from bot.errors import PlatformAuthError
from bot.server import build_app
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(30)
SECRET = "ding-secret"


fake, config = dingtalk_fixtures(mode="http")


@pytest.fixture
async def client(runtime, aiohttp_client):
    adapter = attach(runtime)
    app = build_app(runtime.config, [adapter])
    return await aiohttp_client(app)


def headers(ts: int, secret: str = SECRET) -> dict[str, str]:
    return {"timestamp": str(ts), "sign": sign(secret, ts), "Content-Type": "application/json"}


def test_sign_matches_the_documented_formula():
    import base64
    import hashlib
    import hmac

    ts, secret = 1700000000000, "SECabc"
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert sign(secret, ts) == expected
    verify(secret, str(ts), expected, ts + 3_599_000)
    with pytest.raises(PlatformAuthError):
        verify(secret, str(ts), expected, ts + 3_601_000)


async def test_signed_message_is_stored_and_answered(client, runtime, fake):
    now = runtime.clock.now_ms()
    body = robot_message("h-1", text="/help", webhook=f"{fake.base_url}/session/h1", expires=now + 60_000)
    resp = await client.post("/dingtalk/callback", data=json.dumps(body), headers=headers(now))
    assert resp.status == 200
    await runtime.settle()
    (sent,) = fake.calls("/session/h1")
    assert "/help" in sent.json["text"]["content"]


async def test_same_message_three_times_is_processed_once(client, runtime):
    now = runtime.clock.now_ms()
    body = json.dumps(robot_message("h-dup"))
    for _ in range(3):
        assert (await client.post("/dingtalk/callback", data=body, headers=headers(now))).status == 200
    await runtime.settle()
    assert inbox_store.counts(runtime.store) == {"done": 1}


@pytest.mark.parametrize("case", ["wrong-sign", "old", "future", "missing"])
async def test_rejected_requests_store_nothing(client, runtime, case):
    now = runtime.clock.now_ms()
    hdrs = {"wrong-sign": headers(now, "not-the-secret"), "old": headers(now - 3_600_001),
            "future": headers(now + 3_600_001), "missing": {}}[case]
    resp = await client.post("/dingtalk/callback", data=json.dumps(robot_message("h-bad")), headers=hdrs)
    assert resp.status == 401
    assert "Traceback" not in await resp.text()
    assert inbox_store.counts(runtime.store) == {}


async def test_body_over_one_mib_is_413(client, runtime):
    now = runtime.clock.now_ms()
    big = json.dumps(robot_message("h-big", text="x" * (1024 * 1024 + 10)))
    resp = await client.post("/dingtalk/callback", data=big, headers=headers(now))
    assert resp.status == 413
    assert inbox_store.counts(runtime.store) == {}


async def test_malformed_json_is_400_without_stack_trace(client, runtime):
    now = runtime.clock.now_ms()
    resp = await client.post("/dingtalk/callback", data=b'{"msgId": "x", ', headers=headers(now))
    assert resp.status == 400
    text = await resp.text()
    assert "malformed JSON" in text and "Traceback" not in text and len(text) < 200


async def test_unknown_type_and_bad_shape_are_kept_as_unsupported(client, runtime):
    now = runtime.clock.now_ms()
    for i, body in enumerate((robot_message("h-odd", msgtype="hologram"), {"msgtype": "text"})):
        resp = await client.post("/dingtalk/callback", data=json.dumps(body), headers=headers(now + i))
        assert resp.status == 200
    assert inbox_store.counts(runtime.store) == {"unsupported": 2}


def test_doctor_names_the_url_to_register(runtime):
    rows = {name: (ok, line) for name, ok, line in attach(runtime).doctor()}
    ok, line = rows["钉钉消息接收"]
    assert ok is False and "http://127.0.0.1:8080/dingtalk/callback" in line and "https" in line
