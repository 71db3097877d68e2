"""Decrypted WeCom app-callback XML → a bot event (or a typed reason to keep it as unsupported).

wechatpy's `enterprise.parse_message` classifies the XML; `template_card_event` and `file` come back as
UnknownMessage, so every field is read here from the raw dict (`message._data`) with explicit type checks. That
also keeps wechatpy's lazy field conversions (int('x') → ValueError) from ever firing on hostile input.

Outcomes: a `Parsed` with an event, or a `Parsed` with `event=None` and an `unsupported` reason (well-formed but
not modelled: video, enter_agent, …), or BadPayload (malformed). Nothing else escapes.

Dedup keys (the inbox key): `msg:<MsgId>` for messages; events have no MsgId, so
`evt:<FromUserName>:<CreateTime>:<Event>` (WeCom's retries repeat the whole XML) — the event name keeps a click
and an enter_agent in the same second apart — and a template-card click adds `:<TaskId>`, so presses on two
different cards in the same second are both kept.

Template-card clicks (Event = template_card_event), field names as in WeCom's "模板卡片事件推送"
(https://developer.work.weixin.qq.com/document/path/90376), verified against binarywang/WxJava
weixin-java-cp/.../bean/message/WxCpXmlMessage.java (TaskId, CardType, ResponseCode, SelectedItems/SelectedItem/
QuestionKey/OptionIds) and the doc's example XML reproduced in its WxCpXmlMessageTest.testTemplateCardEvent:

    <EventKey>key111</EventKey> <TaskId>taskid111</TaskId> <CardType>text_notice</CardType>
    <ResponseCode>ResponseCode</ResponseCode> <AgentID>1</AgentID>
    <SelectedItems><SelectedItem><QuestionKey>QuestionKey1</QuestionKey>
      <OptionIds><OptionId>OptionId1</OptionId><OptionId>OptionId2</OptionId></OptionIds>
    </SelectedItem>…</SelectedItems>

EventKey is the pressed button's `key`, TaskId the card's `task_id`; ResponseCode is the single-use code for one
message/update_template_card call, valid 72 h ("更新模版卡片消息",
https://developer.work.weixin.qq.com/document/path/94888; the text was read from its copy for third-party apps,
.../document/path/94945).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy.enterprise import parse_message

from adapters.guard import check_xml
from adapters.wecom import keys
from bot.errors import BadPayload
from bot.events import Actor, CardAction, Event, Message, MessageKind

PLATFORM = "wecom"


@dataclass(frozen=True)
class Parsed:
    dedupe_key: str
    raw: dict[str, Any]
    event: Event | None = None
    unsupported: str = ""
    task_id: str = ""  # template_card_event: the card's task id …
    response_code: str = ""  # … and the single-use code to update it
    digest_key: str = ""  # a long button key that must be looked up in the store


def parse_xml(xml: str) -> dict[str, Any]:
    """The raw field dict of a decrypted callback, through wechatpy's parser."""
    if not xml or not xml.strip():
        raise BadPayload("empty message")
    check_xml(xml, max_tags=1000)  # a card event with many selected options has a few dozen
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
        raise BadPayload(f"malformed callback XML ({type(exc).__name__})") from None
    raw = getattr(message, "_data", None)
    if not isinstance(raw, dict):
        raise BadPayload("callback XML has no fields")
    return raw


def _s(raw: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadPayload(f"field {key} must be text")
    value = value.strip() if key not in ("Content",) else value
    if required and not value:
        raise BadPayload(f"field {key} is missing")
    return value


def _int(raw: dict[str, Any], key: str, *, required: bool = False) -> int:
    text = _s(raw, key, required=required)
    if not text:
        return 0
    if not text.isdigit() or len(text) > 15:  # 19 digits could pass 2**63, more than SQLite stores
        raise BadPayload(f"field {key} must be a non-negative integer")
    return int(text)


def _selected(raw: dict[str, Any]) -> dict[str, Any]:
    """SelectedItems of a vote/multiple-choice card, flattened to {question_key: [option ids]} (best effort).

    Shape per the 模板卡片事件推送 example (see the module docstring): SelectedItems > SelectedItem (one or more) >
    QuestionKey + OptionIds > OptionId (one or more). xmltodict gives a dict for one child and a list for several.
    """
    items = raw.get("SelectedItems")
    out: dict[str, Any] = {}
    if not isinstance(items, dict):
        return out
    entries = items.get("SelectedItem")
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("QuestionKey"), str):
            continue
        ids = entry.get("OptionIds")
        opts = ids.get("OptionId") if isinstance(ids, dict) else None
        if isinstance(opts, str):
            opts = [opts]
        if isinstance(opts, list):
            out[entry["QuestionKey"]] = [o for o in opts if isinstance(o, str)]
    return out


def to_event(raw: dict[str, Any], received_at: int) -> Parsed:
    """Normalise one callback's field dict. Raises BadPayload for malformed input, nothing else."""
    msg_type = _s(raw, "MsgType", required=True).lower()
    sender = _s(raw, "FromUserName", required=True)
    created = _int(raw, "CreateTime", required=True)
    occurred = created * 1000
    base: dict[str, Any] = {
        "platform": PLATFORM, "occurred_at": occurred, "received_at": received_at,
        "actor": Actor(platform_id=sender), "conversation_id": sender, "is_group": False,
    }
    if msg_type == "event":
        return _event(raw, sender, created, base)
    msg_id = _s(raw, "MsgId", required=True)
    dedupe = f"msg:{msg_id}"
    base["event_id"] = f"{PLATFORM}:{dedupe}"
    # Everything in an app callback is a 1:1 chat with the bot: it is addressed to the bot.
    base["to_bot"] = True
    if msg_type == "text":
        event: Event = Message(**base, kind=MessageKind.TEXT, text=_s(raw, "Content"))
    elif msg_type == "image":
        event = Message(**base, kind=MessageKind.IMAGE, media_id=_s(raw, "MediaId"))
    elif msg_type == "voice":
        event = Message(**base, kind=MessageKind.VOICE, media_id=_s(raw, "MediaId", required=True))
    elif msg_type == "file":
        # not verified against docs: WeCom's 接收普通消息 page lists text/image/voice/video/location/link only, and
        # WxJava's WxCpXmlMessage has no FileName; FileName/Title are kept as a best guess for clients that send it.
        name = _s(raw, "FileName") or _s(raw, "Title")
        event = Message(**base, kind=MessageKind.FILE, media_id=_s(raw, "MediaId"), file_name=name)
    elif msg_type == "location":
        label = _s(raw, "Label")
        coords = f"{_s(raw, 'Location_X')},{_s(raw, 'Location_Y')}"
        event = Message(**base, kind=MessageKind.TEXT, text=f"{label} ({coords})" if label else coords)
    elif msg_type == "link":
        parts = [p for p in (_s(raw, "Title"), _s(raw, "Description"), _s(raw, "Url")) if p]
        event = Message(**base, kind=MessageKind.TEXT, text="\n".join(parts))
    else:
        return Parsed(dedupe, raw, unsupported=f"wecom message type {msg_type!r} is not modelled")
    return Parsed(dedupe, raw, event=event)


def _event(raw: dict[str, Any], sender: str, created: int, base: dict[str, Any]) -> Parsed:
    name = _s(raw, "Event", required=True)
    lname = name.lower()
    task_id = _s(raw, "TaskId") if lname == "template_card_event" else ""
    dedupe = f"evt:{sender}:{created}:{name}" + (f":{task_id}" if task_id else "")
    base["event_id"] = f"{PLATFORM}:{dedupe}"
    if lname == "template_card_event":
        key = _s(raw, "EventKey", required=True)  # the pressed button's key (button_list[].key)
        decoded = keys.decode(key)
        selected = _selected(raw)
        if isinstance(decoded, str):  # a digest: the adapter looks the button up in the store
            event = CardAction(**base, action="", value={}, card_ref=task_id)
            return Parsed(dedupe, raw, event=event, task_id=task_id, response_code=_s(raw, "ResponseCode"),
                          digest_key=decoded)
        action, value = decoded
        if selected:
            value = {**value, "selected": selected}
        event = CardAction(**base, action=action, value=value, card_ref=task_id)
        return Parsed(dedupe, raw, event=event, task_id=task_id, response_code=_s(raw, "ResponseCode"))
    if lname == "click":
        key = _s(raw, "EventKey")
        if key.startswith("/"):  # an app-menu item configured with a command as its key
            return Parsed(dedupe, raw, event=Message(**base, kind=MessageKind.TEXT, text=key, to_bot=True))
    return Parsed(dedupe, raw, unsupported=f"wecom event {name!r} is not modelled")
