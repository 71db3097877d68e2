"""DingTalk parsers: a table of real-shaped payloads and hypothesis fuzzing (only BadPayload may escape)."""

from __future__ import annotations

import json

import pytest
from fakes.dingtalk import robot_message
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.dingtalk import parse
from bot.errors import BadPayload
from bot.events import MessageKind

NOW = 1772413200000


@pytest.mark.parametrize("data, kind, check", [
    (robot_message("a", text="  /forecast 本月 "), MessageKind.TEXT, lambda e: e.text == "/forecast 本月"),
    (robot_message("b", msgtype="picture", content={"downloadCode": "pic-1"}), MessageKind.IMAGE,
     lambda e: e.media_id == "pic-1"),
    (robot_message("c", msgtype="richText", content={"richText": [{"text": "报价单"}, {"downloadCode": "img"},
                                                                  {"text": "请看"}]}),
     MessageKind.TEXT, lambda e: e.text == "报价单请看" and e.media_id == "img"),
    (robot_message("d", msgtype="audio", content={"duration": 1500, "downloadCode": "v", "recognition": "你好"}),
     MessageKind.VOICE, lambda e: e.transcript == "你好" and e.duration_ms == 1500),
    (robot_message("e", msgtype="file", content={"downloadCode": "f", "fileName": "合同.pdf"}), MessageKind.FILE,
     lambda e: e.file_name == "合同.pdf" and e.media_id == "f"),
    (robot_message("f", msgtype="video", content={"downloadCode": "vid", "duration": 9}), MessageKind.FILE,
     lambda e: e.file_name == "video"),
])
def test_message_types(data, kind, check):
    parsed = parse.parse_robot_message(data, NOW)
    assert parsed.external_id == data["msgId"] and parsed.event.kind == kind and check(parsed.event)
    assert parsed.event.event_id == f"dingtalk:{data['msgId']}"


def test_group_at_mention_is_to_bot_and_group_without_mention_is_not():
    at = parse.parse_robot_message(robot_message("g1", conversation_type="2", isInAtList=True), NOW).event
    assert at.is_group and at.to_bot and at.conversation_id == "cid-1"
    quiet = parse.parse_robot_message(robot_message("g2", conversation_type="2", isInAtList=False), NOW).event
    assert not quiet.to_bot


def test_reply_token_round_trip():
    token = parse.make_reply_token("https://oapi.dingtalk.com/robot/sendBySession?session=x|y", 123)
    assert parse.split_reply_token(token) == ("https://oapi.dingtalk.com/robot/sendBySession?session=x|y", 123)
    assert parse.split_reply_token("https://h/p") == ("https://h/p", 0)


def test_card_callback_content_is_a_json_string():
    press = parse.parse_card_callback({"outTrackId": "sp1", "userId": "u", "content": json.dumps(
        {"cardPrivateData": {"actionIds": ["sp0"], "params": {"action": "a", "value": {"x": 1}}}})})
    assert (press.card_ref, press.action_id, press.params["action"]) == ("sp1", "sp0", "a")
    assert parse.card_press_id(press, "m1") == "card:m1"
    assert parse.card_press_id(press) == parse.card_press_id(press)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8),
                                                                                             children, max_size=3),
                           max_leaves=10)
keys = st.sampled_from(["msgId", "msgtype", "text", "content", "senderStaffId", "senderId", "conversationType",
                        "isInAtList", "createAt", "sessionWebhook", "sessionWebhookExpiredTime", "atUsers",
                        "hostingContext", "conversationMsgContext", "outTrackId", "userId", "x"])
msgtypes = st.sampled_from(["text", "picture", "richText", "audio", "file", "video", "other"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=10), msgtypes, st.booleans())
@example({"sessionWebhookExpiredTime": float("inf")}, "text", True)  # the SDK's int(inf) once escaped as OverflowError
def test_fuzz_robot_message(data, msgtype, with_type):
    if with_type:
        data = {**data, "msgtype": msgtype, "msgId": "m", "senderStaffId": "s"}
    try:
        parsed = parse.parse_robot_message(data, NOW)
    except BadPayload:
        return
    assert parsed.external_id
    if parsed.event is not None:
        parsed.event.to_dict()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, json_values | st.text(max_size=30).map(lambda s: '{"cardPrivateData":' + s),
                       max_size=6))
def test_fuzz_card_callback(data):
    try:
        press = parse.parse_card_callback(data)
    except BadPayload:
        return
    assert press.card_ref and press.user_id
