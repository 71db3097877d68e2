"""The views over WeCom: signed, encrypted callbacks into the real adapter, the fake WeCom API receiving what is sent.
/今日 comes back as a message, /漏斗 as an uploaded image with its text, /导出 as a file (media/upload type=file, then
msgtype file); a group robot gets the file through webhook/upload_media."""

from __future__ import annotations

import io

import pytest
import wecom_helpers as h
from openpyxl import load_workbook
from test_views_chat import seed_todo

from adapters.base import AdapterContext
from adapters.wecom.adapter import WeComAdapter
from bot.app import Runtime
from bot.replies import Reply, Target
from bot.server import build_app

SEND = "/cgi-bin/message/send"
fake = h.fake_api_fixture()
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def wired(store, clock, config, fake):
    wconfig = h.wecom_config(config, fake.base_url, robot_webhook_key="robokey")
    rt = Runtime(config=wconfig, store=store, clock=clock, deferred_in_thread=False)
    adapter = WeComAdapter(AdapterContext(store, wconfig, clock, rt.wake))
    rt.add_sender("wecom", adapter.send)
    yield rt, adapter
    await adapter.client.close()
    rt.close()


async def say(client, rt, adapter, user, text, msg_id):
    t = rt.clock.now_ms() // 1000
    query, body = h.wechatpy_encrypt(h.text_xml(user, text, msg_id, t), t)
    assert (await client.post(f"{h.PATH}?{query}", data=body)).status == 200
    await rt.settle()
    await adapter.drain_background()


async def test_today_pipeline_target_and_export_over_wecom(wired, fake, aiohttp_client):
    rt, adapter = wired
    seed_todo(rt.store)
    client = await aiohttp_client(build_app(rt.config, [adapter]))
    await say(client, rt, adapter, "wangjl", "/今日", "v1")
    sent = [c.json for c in fake.calls(SEND)]
    assert any("今日待办" in str(j) and "【李娜】明德中学大屏" in str(j) for j in sent if j["touser"] == "wangjl")

    await say(client, rt, adapter, "wangjl", "/漏斗", "v2")
    (upload,) = fake.calls("/cgi-bin/media/upload")
    assert upload.query["type"] == "image" and list(upload.files.values())[0].startswith(b"\x89PNG")
    assert any(c.json.get("msgtype") == "image" for c in fake.calls(SEND))
    assert any("方案报价：1 个，35万" in str(c.json) for c in fake.calls(SEND))

    await say(client, rt, adapter, "zhangwei", "/目标 本月 50万 @张伟", "v3")
    assert any("只有管理员和主管" in str(c.json) for c in fake.calls(SEND) if c.json["touser"] == "zhangwei")

    n = len(fake.calls(SEND))
    await say(client, rt, adapter, "wangjl", "/导出 漏斗", "v4")
    uploads = [u for u in fake.calls("/cgi-bin/media/upload") if u.query["type"] == "file"]
    assert len(uploads) == 1
    name, blob = next(iter(uploads[0].files.items()))
    assert name.endswith(".xlsx") and load_workbook(io.BytesIO(blob)).sheetnames == ["漏斗"]
    later = [c.json for c in fake.calls(SEND)[n:]]
    assert later[-1]["msgtype"] == "file" and later[-1]["file"]["media_id"].startswith("media-")
    assert later[-1]["touser"] == "wangjl" and any("团队 华东一组：漏斗" in str(j) for j in later)


async def test_file_to_a_group_robot_goes_through_the_webhook_upload(wired, fake, tmp_path):
    _rt, adapter = wired
    xlsx = tmp_path / "salespulse-pipeline.xlsx"
    xlsx.write_bytes(b"PK\x03\x04xlsx-bytes")
    await adapter.send(Target("wecom", chat_id="robot"), Reply.file(str(xlsx), "漏斗 3 行", title="Excel 导出"), "f1")
    (upload,) = fake.calls("/cgi-bin/webhook/upload_media")
    assert upload.query == {"key": "robokey", "type": "file"} and b"xlsx-bytes" in list(upload.files.values())[0]
    alt, sent = fake.calls("/cgi-bin/webhook/send")
    assert alt.json["text"]["content"] == "Excel 导出\n漏斗 3 行"
    assert sent.json["msgtype"] == "file" and sent.json["file"]["media_id"].startswith("robot-media-")
    assert not fake.calls("/cgi-bin/gettoken")  # the robot key is the credential


async def test_a_missing_file_is_a_permanent_failure(wired, tmp_path):
    from bot.errors import PlatformError

    _rt, adapter = wired
    with pytest.raises(PlatformError) as err:
        await adapter.send(Target("wecom", user_id="zhangwei"), Reply.file(str(tmp_path / "gone.xlsx"), "x"), "f2")
    assert err.value.permanent
