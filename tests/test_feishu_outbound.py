"""Feishu outbound against the fake open API in a thread: message create/reply (text, post, card), card patch,
tenant token caching and refresh, typed errors, resource download with Ogg/Opus → WAV, org sync."""

from __future__ import annotations

import json
import subprocess

import pytest
from platform_helpers import attach_feishu, feishu_fixtures

from adapters.feishu.audio import ffmpeg_exe
from bot.errors import PlatformError, PlatformRetryAfter
from bot.org import Directory
from bot.replies import Button, Reply, Target
from store import org as org_store

pytestmark = pytest.mark.timeout(30)


fake, config = feishu_fixtures()


@pytest.fixture
async def adapter(runtime):
    a = attach_feishu(runtime)
    yield a
    await a.stop()


async def test_text_markdown_and_card_with_one_cached_token(adapter, fake):
    await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("你好"), "k1")
    await adapter.send(Target("feishu", chat_id="oc_9"), Reply.markdown("**周报**"), "k2")
    card = Reply.card("审批", "折扣 15%", fields=[("客户", "A")], buttons=[Button("同意", "approve", {"id": 7})])
    mid = await adapter.send(Target("feishu", chat_id="oc_9"), card, "k3")
    calls = fake.calls("/open-apis/im/v1/messages", "POST")
    assert [c.query["receive_id_type"] for c in calls] == ["open_id", "chat_id", "chat_id"]
    assert [c.json["msg_type"] for c in calls] == ["text", "post", "interactive"]
    assert json.loads(calls[1].json["content"])["zh_cn"]["content"][0][0] == {"tag": "md", "text": "**周报**"}
    button = json.loads(calls[2].json["content"])["elements"][-1]["actions"][0]
    assert button["value"] == {"action": "approve", "value": {"id": 7}}
    assert {c.headers["Authorization"] for c in calls} == {"Bearer t-1"} and fake.tokens_issued == 1
    assert len({c.json["uuid"] for c in calls}) == 3
    await adapter.update_card(mid, Reply.card("审批", "已同意"))
    (patch,) = fake.calls(f"/open-apis/im/v1/messages/{mid}", "PATCH")
    assert "已同意" in json.loads(patch.json["content"])["elements"][0]["text"]["content"]


async def test_token_refetched_once_when_feishu_says_invalid(adapter, fake):
    seen = []

    def flaky(rec):
        seen.append(rec.headers["Authorization"])
        if len(seen) == 1:
            return 200, {"code": 99991663, "msg": "tenant access token invalid"}
        return 200, {"code": 0, "data": {"message_id": "om_ok"}}

    fake.routes[("POST", "/open-apis/im/v1/messages")] = flaky
    assert await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("x"), "k") == "om_ok"
    assert seen == ["Bearer t-1", "Bearer t-2"]


async def test_errors_are_typed_for_the_outbox(adapter, fake):
    route = ("POST", "/open-apis/im/v1/messages")
    fake.routes[route] = lambda rec: (429, {"code": 99991400, "msg": "too many"})
    with pytest.raises(PlatformRetryAfter):
        await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("x"), "a")
    fake.routes[route] = lambda rec: (400, {"code": 230001, "msg": "invalid receive_id"})
    with pytest.raises(PlatformError) as exc:
        await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("x"), "b")
    assert exc.value.permanent
    fake.routes[route] = lambda rec: (502, b"bad gateway")
    with pytest.raises(PlatformError) as exc:
        await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("x"), "c")
    assert not exc.value.permanent


async def test_resource_download_and_opus_voice_to_16k_wav(adapter, fake):
    ogg = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                          "sine=frequency=300:duration=0.3:sample_rate=48000", "-c:a", "libopus", "-f", "ogg",
                          "pipe:1"], capture_output=True, check=True, timeout=30).stdout
    fake.files["fk-voice"] = ogg
    assert await adapter.download("om_1", "fk-voice") == ogg
    (req,) = fake.calls("/open-apis/im/v1/messages/om_1/resources/fk-voice")
    assert req.query == {"type": "file"}
    wav = await adapter.download_voice_wav("om_1", "fk-voice")
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[22:24], "little") == 1
    assert int.from_bytes(wav[24:28], "little") == 16000
    with pytest.raises(PlatformError):
        await adapter.download("om_1", "missing")


async def test_org_sync_with_leaders(adapter, fake, runtime):
    fake.org["depts"] = [
        {"name": "深圳销售部", "open_department_id": "od-sz", "parent_department_id": "0", "leader_user_id": "ou_lead",
         "leaders": [{"leaderID": "ou_lead", "leaderType": 1}]},
    ]
    fake.org["users"] = {
        "ou_lead": {"open_id": "ou_lead", "name": "黄经理", "mobile": "+8613700000001", "department_ids": ["od-sz"]},
        "ou_r1": {"open_id": "ou_r1", "name": "林销售", "mobile": "+8613700000002", "department_ids": ["od-sz"]},
        "ou_zw": {"open_id": "ou_zw2", "name": "张伟", "mobile": "+8613800000001", "department_ids": ["od-sz"]},
    }
    fake.org["users"]["ou_zw2"] = fake.org["users"].pop("ou_zw")
    result = await adapter.sync_org()
    assert (result.added, result.linked, result.teams) == (2, 1, 1)
    d = Directory(runtime.store)
    lead, rep = d.by_name("黄经理"), d.by_name("林销售")
    assert lead.role == "manager" and d.manager_of(rep.id).id == lead.id
    assert ("feishu", "ou_zw2") in org_store.identities_of(runtime.store, "r1")


def test_doctor_flags_missing_https_and_secrets(runtime):
    rows = attach_feishu(runtime).doctor()
    by_name = {name: (ok, line) for name, ok, line in rows}
    assert by_name["飞书凭证"][0] is True
    ok, line = by_name["飞书事件接收"]
    assert ok is False and "https" in line and "/feishu/events" in line


async def test_chart_image_is_uploaded_and_sent_as_an_image_card(adapter, fake, tmp_path):
    png = tmp_path / "timeline.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfeishu-png")
    await adapter.send(Target("feishu", user_id="ou_a"), Reply.image(str(png), "文字版", title="时间线"), "img")
    (upload,) = fake.calls("/open-apis/im/v1/images")
    assert b"feishu-png" in upload.body and b'name="image_type"' in upload.body
    (sent,) = fake.calls("/open-apis/im/v1/messages", "POST")
    card = json.loads(sent.json["content"])
    assert sent.json["msg_type"] == "interactive" and card["header"]["title"]["content"] == "时间线"
    assert card["elements"][0] == {"tag": "img", "img_key": "img_v2_1", "alt": {"tag": "plain_text",
                                                                                 "content": "文字版"}}


async def test_reply_to_a_recalled_message_falls_back_to_the_chat(adapter, fake):
    fake.prefix_routes[("POST", "/open-apis/im/v1/messages/")] = lambda rec: (
        400, {"code": 230011, "msg": "the message was withdrawn"})
    mid = await adapter.send(Target("feishu", chat_id="oc_7", reply_token="om_gone"), Reply.plain("x"), "k")
    assert len(fake.calls("/open-apis/im/v1/messages/om_gone/reply")) == 1
    (created,) = fake.calls("/open-apis/im/v1/messages", "POST")
    assert created.query == {"receive_id_type": "chat_id"} and mid.startswith("om_sent_")


async def test_unreachable_server_is_a_retryable_platform_error(runtime):
    import dataclasses

    from fakes import free_port

    runtime.config = dataclasses.replace(runtime.config, feishu=dataclasses.replace(
        runtime.config.feishu, domain=f"http://127.0.0.1:{free_port()}"))
    adapter = attach_feishu(runtime)
    try:
        with pytest.raises(PlatformError) as exc:
            await adapter.send(Target("feishu", user_id="ou_a"), Reply.plain("x"), "k")
        assert not exc.value.permanent
    finally:
        await adapter.stop()
