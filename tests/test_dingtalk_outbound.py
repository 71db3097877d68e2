"""DingTalk outbound against the fake OpenAPI in a thread: what DingTalk would receive, token caching, errors,
custom-robot signing and its 20/min limit, downloads, org sync."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from platform_helpers import attach, dingtalk_fixtures

from adapters.dingtalk.adapter import CUSTOM_ROBOT_CHAT
from adapters.dingtalk.parse import make_reply_token
from adapters.dingtalk.sign import sign
from adapters.feishu.audio import ffmpeg_exe
from bot.errors import PlatformError, PlatformRetryAfter
from bot.org import Directory
from bot.replies import Button, Reply, Target
from store import org as org_store

pytestmark = pytest.mark.timeout(30)


fake, config = dingtalk_fixtures(group_robot_token="robot-tok", group_robot_secret="SECxyz")


@pytest.fixture
async def adapter(runtime):
    a = attach(runtime)
    yield a
    await a.stop()


async def test_one_to_one_and_group_messages_share_one_cached_token(adapter, fake):
    await adapter.send(Target("dingtalk", user_id="zhangwei"), Reply.plain("你好"), "k1")
    await adapter.send(Target("dingtalk", chat_id="cid-9"), Reply.markdown("**周报**"), "k2")
    await adapter.send(Target("dingtalk", user_id="lina"), Reply.card("标题", "正文"), "k3")
    (oto,) = fake.calls("/v1.0/robot/oToMessages/batchSend")
    assert oto.json["userIds"] == ["zhangwei"] and oto.json["msgKey"] == "sampleText"
    assert json.loads(oto.json["msgParam"]) == {"content": "你好"} and oto.json["robotCode"] == "ding-app"
    (grp,) = fake.calls("/v1.0/robot/groupMessages/send")
    assert grp.json["openConversationId"] == "cid-9" and grp.json["msgKey"] == "sampleMarkdown"
    assert "**周报**" in json.loads(grp.json["msgParam"])["text"]
    assert fake.tokens_issued == 1


async def test_expired_session_webhook_falls_back_to_openapi(adapter, fake, runtime):
    token = make_reply_token(f"{fake.base_url}/session/old", runtime.clock.now_ms() - 1)
    await adapter.send(Target("dingtalk", user_id="zhangwei", reply_token=token), Reply.plain("hi"), "k")
    assert fake.calls("/session/old") == [] and len(fake.calls("/v1.0/robot/oToMessages/batchSend")) == 1


async def test_card_retry_reuses_the_same_card_id_and_update_puts_new_data(adapter, fake):
    card = Reply.card("审批", "折扣 15%", buttons=[Button("同意", "approve", {"id": 7})])
    ref1 = await adapter.send(Target("dingtalk", chat_id="cid-1"), card, "same-key")
    ref2 = await adapter.send(Target("dingtalk", chat_id="cid-1"), card, "same-key")
    assert ref1 == ref2
    sends = fake.calls("/v1.0/im/v1.0/robot/interactiveCards/send")
    assert [s.json["cardBizId"] for s in sends] == [ref1, ref1] and sends[0].json["openConversationId"] == "cid-1"
    button = json.loads(sends[0].json["cardData"])["contents"][-1]["actions"][0]
    assert button["actionType"] == "request" and button["params"] == {"action": "approve", "value": {"id": 7}}
    await adapter.update_card(ref1, Reply.card("审批", "已同意"))
    (put,) = fake.calls("/v1.0/im/robots/interactiveCards", "PUT")
    assert put.json["cardBizId"] == ref1 and "已同意" in put.json["cardData"]


async def test_custom_robot_is_signed_and_limited_to_20_per_minute(adapter, fake, runtime):
    target = Target("dingtalk", chat_id=CUSTOM_ROBOT_CHAT)
    for i in range(20):
        await adapter.send(target, Reply.plain(f"m{i}"), f"r{i}")
    with pytest.raises(PlatformRetryAfter) as exc:
        await adapter.send(target, Reply.plain("one too many"), "r20")
    assert 0 < exc.value.seconds <= 60
    first = fake.calls("/robot/send")[0]
    assert first.query["access_token"] == "robot-tok"
    ts = first.query["timestamp"]
    assert ts == str(runtime.clock.now_ms())
    assert first.query["sign"] == sign("SECxyz", ts)  # aiohttp hands us the decoded query value
    runtime.clock.advance(60_000)
    await adapter.send(target, Reply.plain("later"), "r21")
    assert len(fake.calls("/robot/send")) == 21


async def test_errors_are_typed_for_the_outbox(adapter, fake):
    fake.routes[("POST", "/v1.0/robot/groupMessages/send")] = lambda rec: (429, {"code": "Throttling"})
    with pytest.raises(PlatformRetryAfter):
        await adapter.send(Target("dingtalk", chat_id="c"), Reply.plain("x"), "a")
    fake.routes[("POST", "/v1.0/robot/groupMessages/send")] = lambda rec: (400, {"code": "invalidParameter"})
    with pytest.raises(PlatformError) as exc:
        await adapter.send(Target("dingtalk", chat_id="c"), Reply.plain("x"), "b")
    assert exc.value.permanent and not isinstance(exc.value, PlatformRetryAfter)
    fake.routes[("POST", "/v1.0/robot/groupMessages/send")] = lambda rec: (503, {"message": "busy"})
    with pytest.raises(PlatformError) as exc:
        await adapter.send(Target("dingtalk", chat_id="c"), Reply.plain("x"), "c")
    assert not exc.value.permanent


async def test_token_refreshed_once_after_401(adapter, fake):
    seen: list[str] = []

    def flaky(rec):
        seen.append(rec.headers["x-acs-dingtalk-access-token"])
        return (401, {"code": "InvalidAuthentication"}) if len(seen) == 1 else (200, {"processQueryKey": "q"})

    fake.routes[("POST", "/v1.0/robot/oToMessages/batchSend")] = flaky
    assert await adapter.send(Target("dingtalk", user_id="u"), Reply.plain("x"), "k") == "q"
    assert seen == ["tok-1", "tok-2"]


def _opus_ogg() -> bytes:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           "sine=frequency=440:duration=0.3:sample_rate=48000", "-c:a", "libopus", "-f", "ogg",
                           "pipe:1"], capture_output=True, check=True, timeout=30)
    return proc.stdout


async def test_download_by_code_and_voice_to_16k_wav(adapter, fake):
    fake.files["dl-1"] = b"%PDF-1.4 quote"
    assert await adapter.download("dl-1") == b"%PDF-1.4 quote"
    (req,) = fake.calls("/v1.0/robot/messageFiles/download")
    assert req.json == {"downloadCode": "dl-1", "robotCode": "ding-app"}
    fake.files["dl-voice"] = _opus_ogg()
    wav = await adapter.download_voice_wav("dl-voice")
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    channels = int.from_bytes(wav[22:24], "little")
    rate = int.from_bytes(wav[24:28], "little")
    assert (channels, rate) == (1, 16000)
    with pytest.raises(PlatformError):
        await adapter.download("no-such-code")


async def test_org_sync_adds_departments_users_and_managers(adapter, fake, runtime):
    fake.org["depts"] = {2: {"dept_id": 2, "name": "华北销售部", "parent_id": 1},
                         3: {"dept_id": 3, "name": "华北一组", "parent_id": 2}}
    fake.org["managers"] = {3: ["boss3"]}
    fake.org["users"] = {
        "boss3": {"userid": "boss3", "name": "周经理", "mobile": "13900000003", "dept_id_list": [3]},
        "u31": {"userid": "u31", "name": "吴销售", "mobile": "13900000031", "dept_id_list": [3]},
        "u32": {"userid": "u32", "name": "郑销售", "mobile": "13900000032", "dept_id_list": [3]},
        # already in bot.toml by phone: linked, not duplicated, role untouched
        "zw": {"userid": "zw-ding", "name": "张伟", "mobile": "13800000001", "dept_id_list": [2]},
    }
    fake.org["users"]["zw-ding"] = fake.org["users"].pop("zw")
    result = await adapter.sync_org()
    assert (result.added, result.linked) == (3, 1)
    directory = Directory(runtime.store)
    boss = directory.by_name("周经理")
    assert boss.role == "manager"
    rep = directory.by_name("吴销售")
    assert rep.role == "rep" and directory.manager_of(rep.id).id == boss.id
    assert ("dingtalk", "zw-ding") in org_store.identities_of(runtime.store, "r1")
    assert directory.person("r1").team_id == "华东一组"
    again = await adapter.sync_org()
    assert (again.added, again.linked) == (0, 0)


def test_doctor_one_line_per_check(runtime):
    adapter = attach(runtime)
    rows = adapter.doctor()
    assert all(isinstance(ok, bool) and "\n" not in line for _c, ok, line in rows)
    assert rows[0][1] is True and "Stream 模式" in rows[1][2]


async def test_first_org_sync_runs_at_start_then_waits_for_the_schedule(runtime, fake):
    import dataclasses

    from adapters.dingtalk.adapter import ORG_SYNC_KEY
    from store import kv

    fake.org["users"] = {"u1": {"userid": "u1", "name": "钱销售", "mobile": "", "dept_id_list": [1]}}
    runtime.config = dataclasses.replace(runtime.config, dingtalk=dataclasses.replace(
        runtime.config.dingtalk, mode="http", org_sync_cron="40 2 * * *"))
    adapter = attach(runtime)
    synced = asyncio.Event()
    original = adapter.sync_org

    async def observed():
        result = await original()
        synced.set()
        return result

    adapter.sync_org = observed
    await adapter.start()
    try:
        await asyncio.wait_for(synced.wait(), timeout=5)
        assert kv.get(runtime.store, ORG_SYNC_KEY) == str(runtime.clock.now_ms())
        assert Directory(runtime.store).by_name("钱销售") is not None
    finally:
        await asyncio.wait_for(adapter.stop(), timeout=3)


async def test_chart_image_is_uploaded_and_sent_as_image_message(adapter, fake, runtime, tmp_path):
    png = tmp_path / "heatmap.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
    token = make_reply_token(f"{fake.base_url}/session/img", runtime.clock.now_ms() + 600_000)
    target = Target("dingtalk", user_id="zhangwei", reply_token=token)
    await adapter.send(target, Reply.image(str(png), "▁▂▃ 热力图", title="热力图"), "img-1")
    (upload,) = fake.calls("/media/upload")
    assert upload.query["type"] == "image" and b"fake-png-bytes" in upload.body
    (sent,) = fake.calls("/v1.0/robot/oToMessages/batchSend")
    assert sent.json["msgKey"] == "sampleImageMsg"
    assert json.loads(sent.json["msgParam"]) == {"photoURL": "@lADP-media-1"}
    # a chart file that is gone degrades to its text version, through the session webhook
    await adapter.send(target, Reply.image(str(tmp_path / "missing.png"), "▁▂▃ 热力图", title="热力图"), "img-2")
    (hook,) = fake.calls("/session/img")
    assert "▁▂▃ 热力图" in hook.json["markdown"]["text"]


async def test_refused_session_webhook_falls_back_to_openapi(adapter, fake, runtime):
    fake.prefix_routes[("POST", "/session/")] = lambda rec: (200, {"errcode": 300001, "errmsg": "session expired"})
    token = make_reply_token(f"{fake.base_url}/session/gone", runtime.clock.now_ms() + 600_000)
    ref = await adapter.send(Target("dingtalk", chat_id="cid-3", reply_token=token), Reply.plain("hi"), "k")
    assert len(fake.calls("/session/gone")) == 1 and ref.startswith("q")
    (grp,) = fake.calls("/v1.0/robot/groupMessages/send")
    assert json.loads(grp.json["msgParam"]) == {"content": "hi"}


async def test_unreachable_server_is_a_retryable_platform_error(runtime):
    import dataclasses

    from fakes import free_port

    base = f"http://127.0.0.1:{free_port()}"
    runtime.config = dataclasses.replace(runtime.config, dingtalk=dataclasses.replace(
        runtime.config.dingtalk, api_base_url=base, oapi_base_url=base))
    adapter = attach(runtime)
    try:
        with pytest.raises(PlatformError) as exc:
            await adapter.send(Target("dingtalk", user_id="u"), Reply.plain("x"), "k")
        assert not exc.value.permanent
    finally:
        await adapter.stop()


def test_retry_after_may_be_an_http_date():
    """RFC 9110: Retry-After is seconds or an HTTP date; both reach the outbox as seconds to wait."""
    from datetime import UTC, datetime

    from adapters.dingtalk.client import _check
    from bot.clock import to_ms

    now = to_ms(datetime(2026, 10, 21, 7, 27, 0, tzinfo=UTC))
    with pytest.raises(PlatformRetryAfter) as exc:
        _check("https://api/x", 429, {}, "Wed, 21 Oct 2026 07:28:00 GMT", now)
    assert exc.value.seconds == 60
    with pytest.raises(PlatformRetryAfter) as exc:
        _check("https://api/x", 429, {}, "7", now)
    assert exc.value.seconds == 7
    with pytest.raises(PlatformRetryAfter) as exc:
        _check("https://api/x", 429, {}, "soon", now)
    assert exc.value.seconds == 2.0
