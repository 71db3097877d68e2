"""The WeCom archive normaliser: table tests per record type, typed errors, and a fuzz test."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.wecom.archive_format import conversation_id_for, is_external, record_to_event
from bot.errors import BadPayload, UnsupportedEvent
from bot.events import MessageKind, event_from_dict

T = 1_774_900_000_000

BASE = {"msgid": "m-1", "action": "send", "from": "zhangwei", "tolist": ["wmCustomer01"], "roomid": "",
        "msgtime": T}


def rec(**extra):
    out = copy.deepcopy(BASE)
    out.update(extra)
    return out


def test_text_message_fields():
    ev = record_to_event(rec(msgtype="text", text={"content": "您好，报价单v2.3已发您"}), received_at=T + 5)
    assert ev.kind == MessageKind.TEXT
    assert ev.text == "您好，报价单v2.3已发您"
    assert ev.event_id == "wecom-archive:m-1"
    assert ev.platform == "wecom"
    assert ev.occurred_at == T and ev.received_at == T + 5
    assert ev.actor.platform_id == "zhangwei"
    assert ev.recipients == ("wmCustomer01",)
    assert ev.is_group is False and ev.to_bot is False
    assert ev.conversation_id == "wmCustomer01|zhangwei"


def test_attachment_line_in_chat_stays_text():
    ev = record_to_event(rec(msgtype="text", text={"content": "附件:XX型号参数.pdf"}), T)
    assert ev.kind == MessageKind.TEXT
    assert ev.file_name == ""
    assert "附件:XX型号参数.pdf" in ev.searchable_text


@pytest.mark.parametrize(("record", "kind", "check"), [
    (rec(msgtype="file", file={"filename": "XX型号参数.pdf", "fileext": "pdf", "filesize": 20480,
                               "sdkfileid": "F1", "md5sum": "x"}),
     MessageKind.FILE, lambda e: e.file_name == "XX型号参数.pdf" and e.media_id == "F1"),
    (rec(msgtype="file", file={"filename": "报价单v2.3", "fileext": "xlsx", "sdkfileid": "F2"}),
     MessageKind.FILE, lambda e: e.file_name == "报价单v2.3.xlsx"),
    (rec(msgtype="image", image={"md5sum": "a", "filesize": 10, "sdkfileid": "I1"}),
     MessageKind.IMAGE, lambda e: e.media_id == "I1"),
    (rec(msgtype="voice", voice={"md5sum": "a", "voice_size": 3000, "play_length": 12, "sdkfileid": "V1"}),
     MessageKind.VOICE, lambda e: e.duration_ms == 12_000 and e.media_id == "V1"),
    (rec(action="recall", msgtype="revoke", revoke={"pre_msgid": "m-0"}),
     MessageKind.RECALL, lambda e: e.recalled_id == "wecom-archive:m-0"),
])
def test_kinds(record, kind, check):
    ev = record_to_event(record, T)
    assert ev.kind == kind
    assert check(ev)


def test_group_chat_uses_roomid():
    ev = record_to_event(rec(roomid="wrRoom1", tolist=["a", "wmC"], msgtype="text", text={"content": "x"}), T)
    assert ev.is_group is True
    assert ev.conversation_id == "wrRoom1"


def test_one_to_one_conversation_is_symmetric():
    assert conversation_id_for("a", ("wmB",), "") == conversation_id_for("wmB", ("a",), "")


def test_round_trips_through_inbox_dict():
    ev = record_to_event(rec(msgtype="voice", voice={"play_length": 3}), T)
    assert event_from_dict(ev.to_dict()) == ev


def test_external_ids():
    assert is_external("wmAbc") and is_external("woAbc")
    assert not is_external("zhangwei") and not is_external("wbRobot")


@pytest.mark.parametrize("record", [
    {"msgid": "s1", "action": "switch", "time": T, "user": "zhangwei"},
    rec(msgtype="agree", agree={"userid": "wmC", "agree_time": T}),
    rec(msgtype="disagree", disagree={"userid": "wmC", "agree_time": T}),
    rec(msgtype="card", card={"corpname": "x", "userid": "y"}),
    rec(msgtype="video", video={"play_length": 3}),
    rec(msgtype="hologram"),
])
def test_unmodelled_types_are_unsupported(record):
    with pytest.raises(UnsupportedEvent):
        record_to_event(record, T)


@pytest.mark.parametrize("record", [
    "not a dict",
    {k: v for k, v in rec(msgtype="text", text={"content": "x"}).items() if k != "msgid"},
    {k: v for k, v in rec(msgtype="text", text={"content": "x"}).items() if k != "msgtime"},
    rec(msgtime="1774900000000", msgtype="text", text={"content": "x"}),
    rec(msgtime=True, msgtype="text", text={"content": "x"}),
    rec(msgid=42, msgtype="text", text={"content": "x"}),
    rec(msgtype="text"),
    rec(msgtype="text", text={"content": 5}),
    rec(msgtype="text", text={"content": "x"}, tolist="wmC"),
    rec(msgtype="text", text={"content": "x"}, roomid=7),
    rec(msgtype="file", file={"fileext": "pdf"}),
    rec(msgtype="voice", voice={"play_length": -1}),
    rec(msgtype="voice", voice={"play_length": "12"}),
    rec(action="recall", msgtype="revoke", revoke={}),
    rec(msgtype=""),
    {**rec(msgtype="text", text={"content": "x"}), "from": ""},
])
def test_malformed_records_raise_bad_payload(record):
    with pytest.raises(BadPayload):
        record_to_event(record, T)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**45) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "msgid": st.one_of(st.text(max_size=6), _json),
        "action": st.sampled_from(["send", "recall", "switch", "x"]) | _json,
        "from": st.sampled_from(["zhangwei", "wmC", ""]) | _json,
        "tolist": st.lists(st.sampled_from(["wmC", "lina", ""]), max_size=3) | _json,
        "roomid": st.sampled_from(["", "wrR"]) | _json,
        "msgtime": st.integers(-1, 2**45) | _json,
        "msgtype": st.sampled_from(["text", "file", "image", "voice", "revoke", "agree", "video"]) | _json,
        "text": st.fixed_dictionaries({}, optional={"content": st.text(max_size=8) | _json}) | _json,
        "file": st.fixed_dictionaries({}, optional={"filename": st.text(max_size=8) | _json,
                                                    "fileext": st.text(max_size=3) | _json,
                                                    "filesize": _json}) | _json,
        "voice": st.fixed_dictionaries({}, optional={"play_length": _json, "sdkfileid": _json}) | _json,
        "image": st.fixed_dictionaries({}, optional={"sdkfileid": _json, "filesize": _json}) | _json,
        "revoke": st.fixed_dictionaries({}, optional={"pre_msgid": _json}) | _json,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record | _json)
def test_fuzz_only_typed_errors(record):
    try:
        ev = record_to_event(record, T)
    except (BadPayload, UnsupportedEvent):
        return
    assert ev.event_id.startswith("wecom-archive:")
    assert ev.platform == "wecom"
    assert event_from_dict(ev.to_dict()) == ev
