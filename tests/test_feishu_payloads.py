"""Feishu media payloads in the shapes the docs show them, and the resource download request they lead to.

Content shapes: 接收消息内容结构 (open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/events/message_content).
Download: 获取消息中的资源文件, GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file
(…/reference/im-v1/message-resource/get; same URI in larksuite/oapi-sdk-python GetMessageResourceRequest).
"""

from __future__ import annotations

import pytest
from fakes.feishu import message_event
from platform_helpers import attach_feishu, feishu_fixtures

from adapters.feishu import parse
from bot.errors import PlatformError
from bot.events import MessageKind

pytestmark = pytest.mark.timeout(30)
NOW = 1772413200000

# The doc's examples (values as printed there).
DOC_IMAGE = {"image_key": "img_4adb3cc3-902b-4187-b0f1-842f67fd017g"}
DOC_FILE = {"file_key": "75235e0c-4f92-430a-a99b-8446610223cg", "file_name": "test.txt"}
DOC_AUDIO = {"file_key": "75235e0c-4f92-430a-a99b-8446610223cg", "duration": 2000}
DOC_MEDIA = {"file_key": "75235e0c-4f92-430a-a99b-8446610223cg", "image_key": "img_xxxxxx",
             "file_name": "测试视频.mp4", "duration": 2000}


def parsed(mtype: str, content: dict):
    return parse.parse_message(message_event("ev-1", message_type=mtype, content=content, message_id="om_doc"), NOW)


def test_doc_image():
    ev = parsed("image", DOC_IMAGE).event
    assert ev.kind == MessageKind.IMAGE and ev.media_id == "img_4adb3cc3-902b-4187-b0f1-842f67fd017g"


def test_doc_file():
    ev = parsed("file", DOC_FILE).event
    assert ev.kind == MessageKind.FILE and ev.file_name == "test.txt"
    assert ev.media_id == "75235e0c-4f92-430a-a99b-8446610223cg" and ev.reply_token == "om_doc"


def test_doc_audio_duration_is_milliseconds():
    ev = parsed("audio", DOC_AUDIO).event
    assert ev.kind == MessageKind.VOICE and ev.duration_ms == 2000
    assert ev.media_id == "75235e0c-4f92-430a-a99b-8446610223cg"


def test_doc_media_uses_the_file_key_not_the_cover():
    ev = parsed("media", DOC_MEDIA).event
    assert ev.kind == MessageKind.FILE and ev.media_id == DOC_MEDIA["file_key"]
    assert ev.file_name == "测试视频.mp4" and ev.duration_ms == 2000


def test_sticker_and_folder_stay_unsupported():
    for mtype in ("sticker", "folder"):
        result = parsed(mtype, {"file_key": "k", "file_name": "f"})
        assert result.event is None and mtype in result.unsupported


fake, config = feishu_fixtures()


@pytest.fixture
async def adapter(runtime):
    a = attach_feishu(runtime)
    yield a
    await a.stop()


async def test_image_and_file_downloads_use_the_documented_type(adapter, fake):
    fake.files[DOC_IMAGE["image_key"]] = b"\x89PNG-bytes"
    fake.files[DOC_MEDIA["file_key"]] = b"mp4-bytes"
    assert await adapter.download("om_doc", DOC_IMAGE["image_key"], "image") == b"\x89PNG-bytes"
    assert await adapter.download("om_doc", DOC_MEDIA["file_key"]) == b"mp4-bytes"
    (img,) = fake.calls(f"/open-apis/im/v1/messages/om_doc/resources/{DOC_IMAGE['image_key']}")
    (vid,) = fake.calls(f"/open-apis/im/v1/messages/om_doc/resources/{DOC_MEDIA['file_key']}")
    assert img.method == "GET" and img.query == {"type": "image"}
    assert vid.query == {"type": "file"}


async def test_download_type_other_than_image_or_file_is_refused_before_the_call(adapter, fake):
    with pytest.raises(PlatformError) as err:
        await adapter.download("om_doc", DOC_AUDIO["file_key"], "audio")
    assert err.value.permanent
    assert fake.calls(f"/open-apis/im/v1/messages/om_doc/resources/{DOC_AUDIO['file_key']}") == []
