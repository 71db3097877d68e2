"""Feishu parsers: message types, mentions, posts, card values; hypothesis fuzz (only BadPayload escapes)."""

from __future__ import annotations

import json

import pytest
from fakes.feishu import card_event, message_event
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.feishu import parse
from bot.errors import BadPayload
from bot.events import MessageKind

NOW = 1772413200000


@pytest.mark.parametrize("mtype, content, kind, check", [
    ("text", {"text": "@_user_1  /预测 本月"}, MessageKind.TEXT, lambda e: e.text == "/预测 本月"),
    ("post", {"zh_cn": {"title": "周报", "content": [[{"tag": "text", "text": "签了"}, {"tag": "img",
                                                                                       "image_key": "img_1"}]]}},
     MessageKind.TEXT, lambda e: e.text == "周报\n签了" and e.media_id == "img_1"),
    ("post", {"title": "", "content": [[{"tag": "md", "text": "**hi**"}]]}, MessageKind.TEXT,
     lambda e: e.text == "**hi**"),
    ("image", {"image_key": "img_2"}, MessageKind.IMAGE, lambda e: e.media_id == "img_2"),
    ("audio", {"file_key": "f_a", "duration": 2500}, MessageKind.VOICE, lambda e: e.duration_ms == 2500),
    ("file", {"file_key": "f_f", "file_name": "报价.xlsx"}, MessageKind.FILE, lambda e: e.file_name == "报价.xlsx"),
])
def test_message_types(mtype, content, kind, check):
    parsed = parse.parse_message(message_event("e1", message_type=mtype, content=content, message_id="om_x"), NOW)
    assert parsed.external_id == "e1" and parsed.event.kind == kind and check(parsed.event)
    assert parsed.event.event_id == "feishu:om_x" and parsed.event.reply_token == "om_x"


def test_group_message_is_to_bot_only_when_mentioned():
    quiet = parse.parse_message(message_event("g1", chat_type="group"), NOW).event
    loud = parse.parse_message(message_event("g2", chat_type="group", mentions=[{"key": "@_user_1"}]), NOW).event
    assert quiet.is_group and not quiet.to_bot and loud.to_bot and loud.conversation_id == "oc_1"


def test_card_value_as_json_string_and_foreign_values():
    press = parse.parse_card_action(card_event("c1", json.dumps({"action": "a", "value": {"x": 1}})))
    ev = parse.card_action_event(press, NOW)
    assert (ev.action, ev.value, ev.card_ref) == ("a", {"x": 1}, "om_card")
    assert parse.card_action_event(parse.parse_card_action(card_event("c2", {"foo": 1})), NOW) is None


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                           max_leaves=12)
msg_keys = st.sampled_from(["message_id", "chat_id", "chat_type", "message_type", "content", "mentions",
                            "create_time", "x"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(msg_keys, json_values | st.text(max_size=20), max_size=8),
       st.sampled_from(["text", "post", "image", "audio", "file", "media", "sticker"]),
       st.one_of(json_values, st.dictionaries(st.sampled_from(["text", "title", "content", "zh_cn", "file_key",
                                                                "duration", "image_key"]), json_values, max_size=4)))
def test_fuzz_message(message, mtype, content):
    base = message_event("f", message_type=mtype)
    base["event"]["message"].update(message)
    if not isinstance(message.get("content"), str):
        base["event"]["message"]["content"] = json.dumps(content)
    try:
        parsed = parse.parse_message(base, NOW)
    except BadPayload:
        return
    if parsed.event is not None:
        parsed.event.to_dict()


@settings(max_examples=120, deadline=None)
@given(json_values)
def test_fuzz_envelope_shapes(envelope):
    for fn in (lambda e: parse.parse_message(e, NOW), parse.parse_card_action):
        try:
            fn(envelope)
        except BadPayload:
            pass


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.sampled_from(["operator", "action", "context", "token"]), json_values, max_size=4))
def test_fuzz_card_action(event):
    envelope = {"schema": "2.0", "header": {"event_id": "c", "event_type": "card.action.trigger"}, "event": event}
    try:
        press = parse.parse_card_action(envelope)
    except BadPayload:
        return
    ev = parse.card_action_event(press, NOW)
    if ev is not None:
        ev.to_dict()
