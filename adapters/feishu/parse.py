"""Feishu event envelopes (schema 2.0, plaintext dicts) → bot events. Pure functions; only BadPayload escapes.

im.message.receive_v1 carries `content` as a JSON *string* whose shape depends on message_type (text, post, image,
audio, file, media). Dedupe is by header.event_id (Feishu re-pushes an event it got no timely answer for).

Media content shapes, as in Feishu's 接收消息内容结构
(https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/events/message_content):

    image  {"image_key": "img_4adb3cc3-902b-4187-b0f1-842f67fd017g"}
    file   {"file_key": "75235e0c-4f92-430a-a99b-8446610223cg", "file_name": "test.txt"}
    audio  {"file_key": "75235e0c-…", "duration": 2000}                 duration in milliseconds
    media  {"file_key": "75235e0c-…", "image_key": "img_xxxxxx", "file_name": "测试视频.mp4", "duration": 2000}
                                                                         image_key = cover, duration in ms

The bytes come from GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file
(adapters/feishu/client.py): `image_key`s with type=image, the `file_key` of file / audio / media with type=file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from adapters import guard
from bot.errors import BadPayload
from bot.events import Actor, CardAction, Event, Message, MessageKind

PLATFORM = "feishu"
MESSAGE_EVENT = "im.message.receive_v1"
CARD_EVENT = "card.action.trigger"
_MENTION = re.compile(r"@_user_\d+")

MAX_SAFE_INT = 2**53  # a time in ms, a duration: anything larger is hostile, not a value


@dataclass(frozen=True, slots=True)
class Parsed:
    external_id: str
    event: Event | None
    unsupported: str | None = None


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _d(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"feishu {what} must be an object")
    return value


def _int(value: Any, default: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return default
    return number if -MAX_SAFE_INT <= number <= MAX_SAFE_INT else default  # SQLite stores at most 8 bytes


def envelope_header(envelope: Any) -> tuple[str, str]:
    """(event_id, event_type) of a 2.0 envelope."""
    if not isinstance(envelope, dict):
        raise BadPayload("feishu event must be a JSON object")
    header = _d(envelope.get("header"), "header")
    event_id, event_type = _s(header.get("event_id")), _s(header.get("event_type"))
    if not event_id or not event_type:
        raise BadPayload("feishu event lacks header.event_id/event_type")
    return event_id, event_type


def _post_text(content: dict) -> tuple[str, str]:
    """(text, first image key) of a post; content may be wrapped in a locale key (zh_cn, en_us)."""
    body = content
    if "content" not in body:
        for value in body.values():
            if isinstance(value, dict) and "content" in value:
                body = value
                break
    parts: list[str] = []
    title = _s(body.get("title"))
    if title:
        parts.append(title)
    image = ""
    rows = body.get("content")
    if isinstance(rows, list):
        for row in rows:
            if not isinstance(row, list):
                continue
            line = []
            for el in row:
                if not isinstance(el, dict):
                    continue
                tag = el.get("tag")
                if tag in ("text", "a", "md", "code_block"):
                    line.append(_s(el.get("text")))
                elif tag == "img" and not image:
                    image = _s(el.get("image_key"))
            if line:
                parts.append("".join(line))
    return "\n".join(parts).strip(), image


def parse_message(envelope: Any, now_ms: int) -> Parsed:
    event_id, event_type = envelope_header(envelope)
    if event_type != MESSAGE_EVENT:
        return Parsed(event_id, None, f"unsupported feishu event {event_type!r}")
    event = _d(envelope.get("event"), "event")
    sender = _d(event.get("sender"), "sender")
    message = _d(event.get("message"), "message")
    open_id = _s(_d(sender.get("sender_id"), "sender_id").get("open_id"))
    message_id = _s(message.get("message_id"))
    if not open_id or not message_id:
        raise BadPayload("feishu message lacks sender open_id or message_id")
    if _s(sender.get("sender_type")) not in ("", "user"):
        return Parsed(event_id, None, f"message from a {sender.get('sender_type')!r}, not a user")
    mtype = _s(message.get("message_type"))
    raw = message.get("content")
    try:
        content = guard.loads(raw) if isinstance(raw, str) and raw else {}
    except BadPayload:
        raise BadPayload("feishu message content is not JSON (or nested too deeply)") from None
    if not isinstance(content, dict):
        raise BadPayload("feishu message content must be an object")
    mentions = message.get("mentions") if isinstance(message.get("mentions"), list) else []
    chat_type = _s(message.get("chat_type"))
    is_group = chat_type == "group"
    fields: dict[str, Any]
    if mtype == "text":
        fields = {"kind": MessageKind.TEXT, "text": _MENTION.sub("", _s(content.get("text"))).strip()}
    elif mtype == "post":
        text, image = _post_text(content)
        fields = {"kind": MessageKind.TEXT, "text": _MENTION.sub("", text).strip(), "media_id": image}
    elif mtype == "image":  # {"image_key"} — download with type=image
        fields = {"kind": MessageKind.IMAGE, "media_id": _s(content.get("image_key"))}
    elif mtype == "audio":  # {"file_key", "duration" (ms)} — download with type=file
        fields = {"kind": MessageKind.VOICE, "media_id": _s(content.get("file_key")),
                  "duration_ms": _int(content.get("duration"))}
    elif mtype in ("file", "media"):  # {"file_key", "file_name"}; media adds "image_key" (cover), "duration" (ms)
        fields = {"kind": MessageKind.FILE, "media_id": _s(content.get("file_key")),
                  "file_name": _s(content.get("file_name")) or mtype, "duration_ms": _int(content.get("duration"))}
    else:
        return Parsed(event_id, None, f"unsupported feishu message_type {mtype!r}")
    occurred = _int(message.get("create_time"), now_ms) or now_ms
    ev = Message(event_id=f"{PLATFORM}:{message_id}", platform=PLATFORM, occurred_at=occurred, received_at=now_ms,
                 actor=Actor(platform_id=open_id), conversation_id=_s(message.get("chat_id")), is_group=is_group,
                 to_bot=(not is_group) or bool(mentions), reply_token=message_id, **fields)
    return Parsed(event_id, ev)


@dataclass(frozen=True, slots=True)
class CardPress:
    event_id: str
    open_id: str
    message_id: str
    chat_id: str
    value: dict


def parse_card_action(envelope: Any) -> CardPress:
    event_id, event_type = envelope_header(envelope)
    if event_type != CARD_EVENT:
        raise BadPayload(f"not a card action: {event_type!r}")
    event = _d(envelope.get("event"), "event")
    operator = _d(event.get("operator"), "operator")
    action = _d(event.get("action"), "action")
    context = _d(event.get("context"), "context")
    value = action.get("value")
    if isinstance(value, str):  # older cards send the value as a JSON string
        try:
            value = guard.loads(value)
        except BadPayload:
            value = {"action": value}
    if not isinstance(value, dict):
        value = {}
    open_id = _s(operator.get("open_id"))
    if not open_id:
        raise BadPayload("feishu card action lacks operator.open_id")
    return CardPress(event_id, open_id, _s(context.get("open_message_id")), _s(context.get("open_chat_id")), value)


def card_action_event(press: CardPress, now_ms: int) -> CardAction | None:
    """Our buttons carry {"action": ..., "value": {...}}; anything else is not ours (→ None, unsupported)."""
    action = press.value.get("action")
    if not isinstance(action, str) or not action:
        return None
    value = press.value.get("value")
    return CardAction(event_id=f"{PLATFORM}:{press.event_id}", platform=PLATFORM, occurred_at=now_ms,
                      received_at=now_ms, actor=Actor(platform_id=press.open_id),
                      conversation_id=press.chat_id, action=action, value=dict(value) if isinstance(value, dict) else {},
                      card_ref=press.message_id)
