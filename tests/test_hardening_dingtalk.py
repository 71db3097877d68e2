"""DingTalk HTTP mode under attack (issue 14): a captured timestamp/sign pair cannot carry a forged body, a
payload's sessionWebhook cannot point the bot at a foreign host, the window is narrow, and hostile headers and
bodies get a short 4xx — never a 500."""

from __future__ import annotations

import json

import pytest
from fakes import FakeServer
from fakes.dingtalk import robot_message
from platform_helpers import attach, dingtalk_fixtures

from adapters.dingtalk.sign import sign
from bot.server import build_app
from store import inbox as inbox_store

pytestmark = pytest.mark.timeout(30)


def used(store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM used_signatures WHERE platform = 'dingtalk'").fetchone()[0]
SECRET = "ding-secret"
PATH = "/dingtalk/callback"

fake, config = dingtalk_fixtures(mode="http")


@pytest.fixture
def foreign():
    server = FakeServer()
    server.prefix_routes[("POST", "/")] = lambda rec: (200, {"errcode": 0})
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client(runtime, aiohttp_client):
    return await aiohttp_client(build_app(runtime.config, [attach(runtime)]))


def headers(ts: int | str, secret: str = SECRET) -> dict[str, str]:
    return {"timestamp": str(ts), "sign": sign(secret, ts), "Content-Type": "application/json"}


async def test_a_captured_pair_cannot_carry_another_body(client, runtime, fake, foreign):
    now = runtime.clock.now_ms()
    captured = headers(now)
    genuine = json.dumps(robot_message("g-1", text="你好"))
    assert (await client.post(PATH, data=genuine, headers=captured)).status == 200
    # the same request again (a redelivery) is fine and deduped by msgId
    assert (await client.post(PATH, data=genuine, headers=captured)).status == 200
    forged = robot_message("f-1", text="/预测", sender="a1", webhook=f"{foreign.base_url}/steal", expires=now + 60_000)
    resp = await client.post(PATH, data=json.dumps(forged), headers=captured)
    assert resp.status == 401
    text = await resp.text()
    assert "ref " in text and len(text) < 80
    await runtime.settle()
    assert [r[0] for r in runtime.store.conn.execute("SELECT external_id FROM inbox")] == ["g-1"]
    assert foreign.requests == []


async def test_used_pairs_survive_a_restart(runtime, aiohttp_client):
    now = runtime.clock.now_ms()
    captured = headers(now)
    first = await aiohttp_client(build_app(runtime.config, [attach(runtime)]))
    assert (await first.post(PATH, data=json.dumps(robot_message("r-1")), headers=captured)).status == 200
    second = await aiohttp_client(build_app(runtime.config, [attach(runtime)]))  # a new process, same database
    resp = await second.post(PATH, data=json.dumps(robot_message("r-2")), headers=captured)
    assert resp.status == 401
    assert sum(inbox_store.counts(runtime.store).values()) == 1
    assert used(runtime.store) == 1


async def test_used_pairs_are_forgotten_after_the_window(client, runtime):
    start = runtime.clock.now_ms()
    await client.post(PATH, data=json.dumps(robot_message("w-1")), headers=headers(start))
    runtime.clock.advance(301_000)
    await client.post(PATH, data=json.dumps(robot_message("w-2")), headers=headers(runtime.clock.now_ms()))
    assert used(runtime.store) == 1  # w-1's pair expired and was dropped


async def test_the_window_is_five_minutes(client, runtime):
    now = runtime.clock.now_ms()
    stale = await client.post(PATH, data=json.dumps(robot_message("s-1")), headers=headers(now - 301_000))
    fresh = await client.post(PATH, data=json.dumps(robot_message("s-2")), headers=headers(now - 299_000))
    assert (stale.status, fresh.status) == (401, 200)


async def test_a_foreign_session_webhook_is_never_posted_to(client, runtime, fake, foreign):
    now = runtime.clock.now_ms()
    for i, url in enumerate([f"{foreign.base_url}/steal", "https://evil.example.com/robot/sendBySession?x=1",
                             "https://oapi.dingtalk.com.evil.example/robot", "http://oapi.dingtalk.com/robot",
                             "https://user@oapi.dingtalk.com:8443/robot"]):
        body = robot_message(f"fw-{i}", text="/help", webhook=url, expires=now + 60_000)
        assert (await client.post(PATH, data=json.dumps(body), headers=headers(now + i))).status == 200
    await runtime.settle()
    assert foreign.requests == []
    assert len(fake.calls("/v1.0/robot/oToMessages/batchSend")) == 5  # answered through the OpenAPI instead
    own = robot_message("own-1", text="/help", webhook=f"{fake.base_url}/session/own", expires=now + 60_000)
    assert (await client.post(PATH, data=json.dumps(own), headers=headers(now + 9))).status == 200
    await runtime.settle()
    assert len(fake.calls("/session/own")) == 1


def test_dingtalk_hosts_are_allowed(runtime):
    api = attach(runtime).api
    assert api.session_webhook_allowed("https://oapi.dingtalk.com/robot/sendBySession?session=abc")
    assert not api.session_webhook_allowed("https://oapi.dingtalk.com@evil.example/robot")
    assert not api.session_webhook_allowed("https://[::1/robot")


@pytest.mark.parametrize("case", ["huge-ts", "huge-ts-signed", "deep-body", "deep-content", "infinity", "nan-ts"])
async def test_hostile_input_is_4xx_never_500(client, runtime, caplog, case):
    now = runtime.clock.now_ms()
    hdrs, body = headers(now), json.dumps(robot_message("h-1"))
    if case == "huge-ts":
        hdrs = {"timestamp": "9" * 5000, "sign": "x"}
    elif case == "huge-ts-signed":
        hdrs = headers("1" * 5000)
    elif case == "deep-body":
        body = "[" * 5000 + "]" * 5000
    elif case == "deep-content":
        body = json.dumps(robot_message("h-2", msgtype="audio", content="[" * 200_000))
    elif case == "infinity":
        body = json.dumps(robot_message("h-3", createAt=float("inf")))
    elif case == "nan-ts":
        hdrs = {"timestamp": "NaN", "sign": "x"}
    resp = await client.post(PATH, data=body, headers=hdrs)
    assert 400 <= resp.status < 500 or (case == "deep-content" and resp.status == 200)
    assert "Traceback" not in caplog.text and len(await resp.text()) < 100
    if case == "deep-content":  # authentic (signed) but unusable: kept as unsupported, never processed
        assert inbox_store.counts(runtime.store) == {"unsupported": 1}
    else:
        assert inbox_store.counts(runtime.store) == {}
