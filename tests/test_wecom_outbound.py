"""WeCom outbound against a fake WeCom API (aiohttp in its own thread): what it received is asserted."""

from __future__ import annotations

import dataclasses

import pytest
import wecom_card_router
import wecom_helpers as h

import bot.app
from adapters.base import AdapterContext
from adapters.wecom import keys, render
from adapters.wecom.adapter import WeComAdapter, task_id_for
from bot.app import Runtime
from bot.errors import PlatformError, PlatformRetryAfter
from bot.replies import Button, Reply, Target
from bot.server import build_app
from store import outbox as outbox_store

SEND = "/cgi-bin/message/send"


fake = h.fake_api_fixture()


@pytest.fixture
def wconfig(config, fake):
    return h.wecom_config(config, fake.base_url, robot_webhook_key="robokey")


@pytest.fixture
async def adapter(store, clock, wconfig):
    ad = WeComAdapter(AdapterContext(store, wconfig, clock, lambda: None))
    yield ad
    await ad.client.close()


def user(uid: str = "zhangwei") -> Target:
    return Target(platform="wecom", user_id=uid)


async def test_text_send_fetches_token_once_and_posts_message(adapter, fake):
    await adapter.send(user(), Reply.plain("你好"), "k1")
    await adapter.send(user(), Reply.plain("再见"), "k2")
    assert len(fake.calls("/cgi-bin/gettoken")) == 1
    sends = fake.calls(SEND)
    assert [s.json["text"]["content"] for s in sends] == ["你好", "再见"]
    assert sends[0].json["touser"] == "zhangwei" and sends[0].json["agentid"] == h.AGENT
    assert "enable_duplicate_check" not in sends[0].json


async def test_token_refreshed_after_42001(adapter, fake):
    await adapter.send(user(), Reply.plain("one"), "k1")
    fake.expire_tokens()
    await adapter.send(user(), Reply.plain("two"), "k2")
    assert len(fake.calls("/cgi-bin/gettoken")) == 2
    sends = fake.calls(SEND)
    assert [s.json["text"]["content"] for s in sends] == ["one", "two", "two"]  # the 42001 attempt, then the retry
    assert sends[1].query["access_token"] != sends[2].query["access_token"]


async def test_button_card_is_one_template_card_with_reversible_keys(adapter, fake, store):
    card = Reply.card("门店整改", "货架A 主推品未在主视觉位", fields=[("门店", "徐汇店"), ("负责人补充说明", "店长")],
                      buttons=[Button("已整改", "store.fixed", {"store": "S1"}, style="primary"),
                               Button("申请延期", "store.delay", {"store": "S1", "days": 2})])
    await adapter.send(user(), card, "card-key-1")
    (sent,) = fake.calls(SEND)
    tc = sent.json["template_card"]
    assert sent.json["msgtype"] == "template_card" and tc["card_type"] == "button_interaction"
    assert tc["task_id"] == task_id_for("card-key-1") and len(tc["task_id"].encode()) <= 128
    assert tc["main_title"]["title"] == "门店整改"
    assert tc["horizontal_content_list"] == [{"keyname": "门店", "value": "徐汇店"}]
    assert "负责人补充说明：店长" in tc["sub_title_text"]
    decoded = [keys.decode(b["key"]) for b in tc["button_list"]]
    assert decoded == [("store.fixed", {"store": "S1"}), ("store.delay", {"days": 2, "store": "S1"})]
    assert [b["style"] for b in tc["button_list"]] == [1, 2]


async def test_card_reply_to_a_card_updates_it_with_the_send_response_code(adapter, fake):
    card = Reply.card("审批", buttons=[Button("同意", "ok", {"id": 1})])
    await adapter.send(user(), card, "appr-1")
    task_id = fake.calls(SEND)[0].json["template_card"]["task_id"]
    newer = Reply.card("审批（已更新）", "金额已改", buttons=[Button("同意", "ok", {"id": 2})])
    ref = await adapter.send(Target(platform="wecom", user_id="zhangwei", reply_token=task_id), newer, "appr-2")
    assert ref == f"update:{task_id}"
    (update,) = fake.calls("/cgi-bin/message/update_template_card")
    assert update.json["response_code"].startswith("rc-") and update.json["template_card"]["task_id"] == task_id
    assert keys.decode(update.json["template_card"]["button_list"][0]["key"]) == ("ok", {"id": 2})
    # the code is single-use: another card reply goes out as a new message
    await adapter.send(Target(platform="wecom", user_id="zhangwei", reply_token=task_id), newer, "appr-3")
    assert len(fake.calls(SEND)) == 2


async def test_cards_to_group_chats_and_robots_are_markdown(adapter, fake):
    card = Reply.card("日报", "今日新增线索 3", fields=[("沉默", "2")], buttons=[Button("查看", "digest.open", {})])
    await adapter.send(Target(platform="wecom", chat_id="chat-1"), card, "g1")
    await adapter.send(Target(platform="wecom", chat_id="robot:k2"), card, "g2")
    (group,) = fake.calls("/cgi-bin/appchat/send")
    (hook,) = fake.calls("/cgi-bin/webhook/send")
    assert group.json["chatid"] == "chat-1" and hook.query["key"] == "k2"
    for sent in (group.json, hook.json):
        assert sent["msgtype"] == "markdown" and sent["markdown"]["content"].startswith("**日报**")
        assert "> 沉默：2" in sent["markdown"]["content"]


async def test_long_markdown_is_split_on_lines_within_2048_bytes(adapter, fake):
    text = "\n".join(f"第{i}行：客户跟进情况良好" for i in range(120))
    await adapter.send(user(), Reply.markdown(text), "md")
    parts = [c.json["markdown"]["content"] for c in fake.calls(SEND)]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, every cut on a line end


def test_truncate_never_splits_a_character():
    cut = render.truncate_bytes("长" * 1000, 100)
    assert len(cut.encode()) <= 100 and cut.endswith("…") and set(cut[:-1]) == {"长"}


async def test_retry_of_the_same_key_turns_on_duplicate_check(adapter, fake, clock):
    fake.fail_next(SEND, -1)  # system busy
    with pytest.raises(PlatformError) as err:
        await adapter.send(user(), Reply.plain("提醒"), "dup-key")
    assert not err.value.permanent
    clock.advance(120_000)
    await adapter.send(user(), Reply.plain("提醒"), "dup-key")
    first, second = fake.calls(SEND)
    assert "enable_duplicate_check" not in first.json
    assert second.json["enable_duplicate_check"] == 1 and second.json["duplicate_check_interval"] >= 120


async def test_errcodes_become_typed_errors(adapter, fake):
    fake.fail_next(SEND, 45009)
    with pytest.raises(PlatformRetryAfter):
        await adapter.send(user(), Reply.plain("a"), "e1")
    fake.fail_next(SEND, 60020)
    with pytest.raises(PlatformError) as err:
        await adapter.send(user(), Reply.plain("a"), "e2")
    assert err.value.permanent and "60020" in str(err.value)


async def test_group_robot_is_limited_to_20_per_minute(adapter, fake, clock):
    robot = Target(platform="wecom", chat_id="robot")
    for i in range(20):
        await adapter.send(robot, Reply.plain(f"m{i}"), f"r{i}")
    with pytest.raises(PlatformRetryAfter) as err:
        await adapter.send(robot, Reply.plain("too many"), "r20")
    assert 0 < err.value.seconds <= 60
    clock.advance(60_001)
    await adapter.send(robot, Reply.plain("later"), "r21")
    hooks = fake.calls("/cgi-bin/webhook/send")
    assert len(hooks) == 21 and hooks[0].query["key"] == "robokey"
    assert not fake.calls("/cgi-bin/gettoken")  # the webhook key is the credential


async def test_image_is_uploaded_then_sent_with_its_text_version(adapter, fake, tmp_path):
    png = tmp_path / "heat.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    await adapter.send(user(), Reply.image(str(png), "▁▃▅▇ 热力图", title="客户A"), "img")
    (upload,) = fake.calls("/cgi-bin/media/upload")
    assert upload.query["type"] == "image" and list(upload.files.values())[0].startswith(b"\x89PNG")
    image, alt = fake.calls(SEND)
    assert image.json["msgtype"] == "image" and image.json["image"]["media_id"].startswith("media-")
    assert alt.json["text"]["content"] == "客户A\n▁▃▅▇ 热力图"


async def test_media_download_and_voice_to_wav(adapter, fake, tmp_path):
    from adapters.wecom import media

    amr = media_amr()
    fake.media["voice-1"] = (amr, "audio/amr")
    path = await media.download_voice_wav(adapter.client, "voice-1", tmp_path)
    wav = path.read_bytes()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    import struct

    channels, rate = struct.unpack("<HI", wav[22:28])
    assert (channels, rate) == (1, 16000)
    with pytest.raises(PlatformError):
        await media.download(adapter.client, "no-such-media")
    assert (await adapter.download_voice_wav("voice-1"))[:4] == b"RIFF"


def media_amr() -> bytes:
    """A real AMR-NB file: a 1 s 440 Hz sine encoded by the bundled ffmpeg."""
    import subprocess

    from adapters.wecom.media import ffmpeg_exe

    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                          "sine=frequency=440:duration=1:sample_rate=8000", "-ac", "1", "-ar", "8000",
                          "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr", "pipe:1"],
                         capture_output=True, check=True).stdout
    assert amr_ok(out)
    return out


def amr_ok(data: bytes) -> bool:
    return data.startswith(b"#!AMR\n") and len(data) > 100


async def test_rep_gets_a_card_presses_it_and_the_card_is_updated(store, clock, wconfig, fake, aiohttp_client,
                                                                   monkeypatch):
    """End to end through the Runtime: chat → card via message/send → click callback → CardAction → update."""
    monkeypatch.setattr(bot.app, "ROUTER_MODULES", ("wecom_card_router", *bot.app.ROUTER_MODULES))
    wecom_card_router.PRESSED.clear()
    rt = Runtime(config=wconfig, store=store, clock=clock, deferred_in_thread=False)
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    client = await aiohttp_client(build_app(wconfig, [adapter]))
    t = clock.now_ms() // 1000
    try:
        query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "给我卡片", "9001", t), t)
        assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
        await rt.settle()
        (sent,) = fake.calls(SEND)
        tc = sent.json["template_card"]
        assert sent.json["touser"] == "zhangwei" and [b["text"] for b in tc["button_list"]] == ["已跟进", "稍后"]
        later = tc["button_list"][1]
        clock.advance(5_000)
        click = h.card_event_xml("zhangwei", later["key"], tc["task_id"], "rc-click-1", t + 5)
        query, body = h.wechatpy_encrypt(click, t + 5)
        for _ in range(3):  # WeCom retries: processed once
            assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
        await rt.settle()
        await adapter.drain_background()
        (pressed,) = wecom_card_router.PRESSED
        assert pressed.action == "test.later" and pressed.value == {"lead": "L-9", "hours": 4}
        assert pressed.actor.person_id == "r1"  # resolved through the org directory
        # the pressed card shows the choice (single-use response_code of the click), as on DingTalk / Feishu
        (update,) = fake.calls("/cgi-bin/message/update_template_card")
        assert update.json["response_code"] == "rc-click-1" and update.json["userids"] == ["zhangwei"]
        assert update.json["button"]["replace_name"] == "已收到：稍后，结果见下一条消息"
        # the handler's answer to the press (code already used) arrives as a new message
        answer = fake.calls(SEND)[-1]
        assert answer.json["msgtype"] == "markdown" and "已确认" in answer.json["markdown"]["content"]
        assert outbox_store.counts(store) == {"sent": 2}
    finally:
        await adapter.client.close()
        rt.close()


async def test_help_over_wecom_reaches_the_fake(store, clock, wconfig, fake, aiohttp_client):
    rt = Runtime(config=wconfig, store=store, clock=clock, deferred_in_thread=False)
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    client = await aiohttp_client(build_app(wconfig, [adapter]))
    t = clock.now_ms() // 1000
    try:
        query, body = h.wechatpy_encrypt(h.text_xml("zhangwei", "/帮助", "9101", t), t)
        await client.post(f"{h.PATH}?{query}", data=body)
        await rt.settle()
        sent = fake.calls(SEND)  # the help is longer than one WeCom text (2048 bytes): it comes in parts, whole
        assert "SalesPulse" in sent[0].json["text"]["content"] and {s.json["touser"] for s in sent} == {"zhangwei"}
        assert all(len(s.json["text"]["content"].encode()) <= 2048 for s in sent)
        assert not sent[-1].json["text"]["content"].endswith("…")
    finally:
        await adapter.client.close()
        rt.close()


def test_doctor_lines(store, clock, config):
    cfg = h.wecom_config(config)
    ad = WeComAdapter(AdapterContext(store, cfg, clock, lambda: None))
    lines = {name: (ok, text) for name, ok, text in ad.doctor()}
    assert lines["企业微信凭证"][0] and lines["企业微信回调"][0]
    assert "/wecom/callback" in lines["企业微信回调"][1] and "一致" in lines["企业微信回调"][1]
    bad = dataclasses.replace(cfg, wecom=dataclasses.replace(cfg.wecom, encoding_aes_key="short", secret=""))
    lines = {name: (ok, text) for name, ok, text in WeComAdapter(AdapterContext(store, bad, clock, lambda: None)).doctor()}
    assert not lines["企业微信凭证"][0] and "缺少 secret" in lines["企业微信凭证"][1]
    assert not lines["企业微信回调"][0] and "43" in lines["企业微信回调"][1]
    english = dataclasses.replace(bad, bot=dataclasses.replace(bad.bot, locale="en"))
    lines = {name: (ok, text) for name, ok, text in WeComAdapter(AdapterContext(store, english, clock,
                                                                                 lambda: None)).doctor()}
    assert lines["wecom credentials"][1] == "missing: secret"


async def test_unreachable_api_is_a_retryable_platform_error(store, clock, config):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = h.wecom_config(config, f"http://127.0.0.1:{port}")
    ad = WeComAdapter(AdapterContext(store, cfg, clock, lambda: None))
    try:
        with pytest.raises(PlatformError) as err:
            await ad.send(user(), Reply.plain("x"), "k")
        assert not err.value.permanent
    finally:
        await ad.client.close()
