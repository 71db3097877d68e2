"""The views over DingTalk (the real dingtalk-stream client on a fake gateway): /今日 answers through the session
webhook, /漏斗 uploads its chart, /导出 uploads the workbook with media/upload type=file and sends it through the
robot OpenAPI as sampleFile (a session webhook carries no files)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes.dingtalk import ROBOT_TOPIC, robot_message
from platform_helpers import attach, dingtalk_fixtures
from test_views_chat import seed_todo

from bot.replies import Reply, Target

pytestmark = pytest.mark.timeout(90)
fake, config = dingtalk_fixtures()
OTO = "/v1.0/robot/oToMessages/batchSend"
CARDS = "/v1.0/im/v1.0/robot/interactiveCards/send"


@pytest.fixture
async def connected(runtime, fake):
    adapter = attach(runtime)
    await adapter.start()
    assert await asyncio.to_thread(fake.wait_connected, 5)
    yield adapter
    await adapter.stop()


async def say(fake, runtime, msg_id, text, sender="wangjl"):
    webhook = f"{fake.base_url}/session/{msg_id}"
    expires = runtime.clock.now_ms() + 3_600_000
    await fake.await_ack(fake.push(ROBOT_TOPIC, robot_message(msg_id, text=text, sender=sender, webhook=webhook,
                                                               expires=expires)))
    await runtime.settle()
    return webhook.removeprefix(fake.base_url)


async def test_today_pipeline_and_export_over_dingtalk(connected, fake, runtime):
    seed_todo(runtime.store)
    hook = await say(fake, runtime, "d1", "/今日")
    (card,) = fake.calls(CARDS)  # a card: the robot's interactive card, to the one who asked
    body = json.dumps(card.json, ensure_ascii=False)
    assert not fake.calls(hook) and "今日待办" in body and "【李娜】明德中学大屏" in body

    await say(fake, runtime, "d2", "/漏斗")
    assert any(u.query["type"] == "image" for u in fake.calls("/media/upload"))
    body = json.dumps([c.json for c in fake.calls(OTO)], ensure_ascii=False)
    assert "sampleImageMsg" in body

    n = len(fake.calls(OTO))
    await say(fake, runtime, "d3", "/导出 健康度 漏斗")
    (upload,) = [u for u in fake.calls("/media/upload") if u.query["type"] == "file"]
    assert b'name="type"' in upload.body and b"PK\x03\x04" in upload.body  # the .xlsx (a zip) itself
    sent = fake.calls(OTO)[n:]
    assert sent[-1].json["msgKey"] == "sampleFile" and sent[-1].json["userIds"] == ["wangjl"]
    param = json.loads(sent[-1].json["msgParam"])
    assert param["mediaId"] == "@lADP-media-1" and param["fileType"] == "xlsx" and param["fileName"].endswith(".xlsx")
    assert any("健康度" in json.dumps(s.json, ensure_ascii=False) for s in sent[:-1])  # its text version first


async def test_file_to_a_group_goes_to_group_messages(connected, fake, tmp_path):
    xlsx = tmp_path / "salespulse-forecast.xlsx"
    xlsx.write_bytes(b"PK\x03\x04dingtalk-xlsx")
    await connected.send(Target("dingtalk", chat_id="cid-9"), Reply.file(str(xlsx), "预测 2 行", title="Excel 导出"),
                         "f1")
    (upload,) = fake.calls("/media/upload")
    assert upload.query["type"] == "file" and b"dingtalk-xlsx" in upload.body
    alt, sent = fake.calls("/v1.0/robot/groupMessages/send")
    assert alt.json["openConversationId"] == "cid-9" and "预测 2 行" in alt.json["msgParam"]
    assert sent.json["msgKey"] == "sampleFile"
    assert json.loads(sent.json["msgParam"]) == {"mediaId": "@lADP-media-1", "fileName": "salespulse-forecast.xlsx",
                                                  "fileType": "xlsx"}
