"""The views over Feishu (signed event callbacks into the real adapter, the fake open API receiving what is sent):
/今日 comes back as a card reply, /漏斗 as an uploaded image card, /导出 as a file — uploaded to im/v1/files
(file_type xls) and sent as msg_type "file" with its file_key, after its text version."""

from __future__ import annotations

import json

import pytest
from fakes.feishu import message_event, signed_request
from platform_helpers import attach_feishu, feishu_fixtures
from test_views_chat import seed_todo

from bot.replies import Reply, Target
from bot.server import build_app

pytestmark = pytest.mark.timeout(90)
PATH = "/feishu/events"
fake, config = feishu_fixtures()


@pytest.fixture
async def client(runtime, aiohttp_client):
    adapter = attach_feishu(runtime)
    await adapter.start()
    yield await aiohttp_client(build_app(runtime.config, [adapter])), adapter
    await adapter.stop()


async def say(client, runtime, fake, event_id, text, open_id="ou_wangjl"):
    body, headers = signed_request(message_event(event_id, text=text, open_id=open_id, message_id=f"om_{event_id}"),
                                   runtime.clock.now_ms() // 1000)
    assert (await client.post(PATH, data=body, headers=headers)).status == 200
    await runtime.settle()
    return fake.calls(f"/open-apis/im/v1/messages/om_{event_id}/reply")


async def test_today_pipeline_and_export_over_feishu(client, runtime, fake):
    http, _adapter = client
    seed_todo(runtime.store)
    (card,) = await say(http, runtime, fake, "f1", "/今日")
    assert card.json["msg_type"] == "interactive"
    assert "【李娜】明德中学大屏" in json.dumps(json.loads(card.json["content"]), ensure_ascii=False)

    (chart,) = await say(http, runtime, fake, "f2", "/漏斗")
    assert fake.calls("/open-apis/im/v1/images") and "img_v2_1" in chart.json["content"]
    assert "方案报价：1 个，35万" in json.dumps(json.loads(chart.json["content"]), ensure_ascii=False)

    sent = await say(http, runtime, fake, "f3", "/导出 基线")
    (upload,) = fake.calls("/open-apis/im/v1/files")
    assert b'name="file_type"' in upload.body and b"\r\n\r\nxls\r\n" in upload.body and b"PK\x03\x04" in upload.body
    assert [s.json["msg_type"] for s in sent] == ["text", "post", "file"]  # working…, its text version, the file
    assert json.loads(sent[-1].json["content"]) == {"file_key": "file_v3_1"}
    assert "基线" in json.dumps(json.loads(sent[1].json["content"]), ensure_ascii=False)


async def test_file_to_a_chat_without_a_message_to_reply_to(client, fake, tmp_path):
    _http, adapter = client
    xlsx = tmp_path / "salespulse-health.xlsx"
    xlsx.write_bytes(b"PK\x03\x04feishu-xlsx")
    await adapter.send(Target("feishu", chat_id="oc_9"), Reply.file(str(xlsx), "健康度 5 行", title="Excel 导出"), "f")
    (upload,) = fake.calls("/open-apis/im/v1/files")
    assert b"feishu-xlsx" in upload.body and b"salespulse-health.xlsx" in upload.body
    alt, sent = fake.calls("/open-apis/im/v1/messages", "POST")
    assert alt.json["receive_id"] == "oc_9" and alt.json["msg_type"] == "post"
    assert sent.json["msg_type"] == "file" and sent.json["receive_id"] == "oc_9"
    assert alt.json["uuid"] != sent.json["uuid"]  # two messages: Feishu's dedupe must not swallow the file
