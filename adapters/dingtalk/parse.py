"""DingTalk payloads → bot events. Pure functions: no I/O, only BadPayload escapes.

Robot messages (stream topic /v1.0/im/bot/messages/get, or the HTTP outgoing robot's POST body) share one JSON
shape; the SDK's ChatbotMessage models text, picture and richText, while audio, file and video stay in
`extensions["content"]`. Audio carries DingTalk's own speech recognition in `recognition`: it becomes the
Message transcript, so nothing needs to be transcribed again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from dingtalk_stream import ChatbotMessage

from adapters import guard
from bot.errors import BadPayload
from bot.events import Actor, CardAction, Event, Message, MessageKind

PLATFORM = "dingtalk"
SUPPORTED_TYPES = ("text", "picture", "richText", "audio", "file", "video")

MAX_SAFE_INT = 2**53  # a time in ms, a duration: anything larger is hostile, not a value


@dataclass(frozen=True, slots=True)
class Parsed:
    """What the adapter persists: the dedupe id, the event (None when unsupported) and why it is unsupported."""

    external_id: str
    event: Event | None
    unsupported: str | None = None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any, default: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return default
    return number if -MAX_SAFE_INT <= number <= MAX_SAFE_INT else default  # SQLite stores at most 8 bytes


def make_reply_token(webhook: str, expires_ms: int) -> str:
    """Session webhooks expire; the token carries the expiry so the sender can fall back to the OpenAPI."""
    return f"{expires_ms}|{webhook}" if webhook else ""


def split_reply_token(token: str) -> tuple[str, int]:
    head, sep, tail = token.partition("|")
    if sep and head.isdigit():
        return tail, guard.digits(head) or 0
    return token, 0


def _rich_text(items: Any) -> tuple[str, str]:
    """(text, first image downloadCode) of a richText list."""
    texts: list[str] = []
    first_image = ""
    if not isinstance(items, list):
        return "", ""
    for item in items:
        if not isinstance(item, dict):
            continue
        if "text" in item:
            texts.append(_str(item["text"]))
        elif item.get("downloadCode") and not first_image:
            first_image = _str(item["downloadCode"])
    return "".join(texts).strip(), first_image


def parse_robot_message(data: Any, now_ms: int) -> Parsed:
    """A robot message dict → Parsed. Unknown msgtype → unsupported (kept, not lost)."""
    if not isinstance(data, dict):
        raise BadPayload("dingtalk message must be a JSON object")
    msg_id = _str(data.get("msgId"))
    if not msg_id:
        raise BadPayload("dingtalk message lacks msgId")
    msgtype = _str(data.get("msgtype"))
    if msgtype not in SUPPORTED_TYPES:
        return Parsed(msg_id, None, f"unsupported dingtalk msgtype {msgtype!r}")
    try:
        msg = ChatbotMessage.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:  # int(inf) in the SDK
        raise BadPayload(f"malformed dingtalk {msgtype} message: {type(exc).__name__}") from None
    sender = _str(msg.sender_staff_id) or _str(msg.sender_id)
    if not sender:
        raise BadPayload("dingtalk message lacks senderStaffId/senderId")
    conv_type = _str(msg.conversation_type)
    is_group = conv_type == "2"
    to_bot = conv_type == "1" or bool(msg.is_in_at_list)
    occurred = _int(msg.create_at, now_ms) or now_ms
    token = make_reply_token(_str(msg.session_webhook), _int(msg.session_webhook_expired_time))
    content: Any = None
    if msgtype in ("audio", "file", "video"):
        content = msg.extensions.get("content")
        if content is None:
            raise BadPayload(f"dingtalk {msgtype} message lacks content")
    if content is not None and not isinstance(content, dict):
        if isinstance(content, str):
            try:
                content = guard.loads(content)
            except BadPayload:
                raise BadPayload(f"dingtalk {msgtype} content is not JSON (or nested too deeply)") from None
        if not isinstance(content, dict):
            raise BadPayload(f"dingtalk {msgtype} content must be an object")
    fields: dict[str, Any] = {}
    if msgtype == "text":
        fields = {"kind": MessageKind.TEXT, "text": _str(getattr(msg.text, "content", "")).strip()}
    elif msgtype == "picture":
        fields = {"kind": MessageKind.IMAGE, "media_id": _str(getattr(msg.image_content, "download_code", ""))}
    elif msgtype == "richText":
        text, image = _rich_text(getattr(msg.rich_text_content, "rich_text_list", None))
        fields = {"kind": MessageKind.TEXT, "text": text, "media_id": image}
    elif msgtype == "audio":
        fields = {"kind": MessageKind.VOICE, "media_id": _str(content.get("downloadCode")),
                  "duration_ms": _int(content.get("duration")), "transcript": _str(content.get("recognition")).strip()}
    else:  # file, video
        name = _str(content.get("fileName")) or ("video" if msgtype == "video" else "file")
        fields = {"kind": MessageKind.FILE, "media_id": _str(content.get("downloadCode")), "file_name": name,
                  "duration_ms": _int(content.get("duration"))}
    event = Message(event_id=f"{PLATFORM}:{msg_id}", platform=PLATFORM, occurred_at=occurred, received_at=now_ms,
                    actor=Actor(platform_id=sender, name=_str(msg.sender_nick)),
                    conversation_id=_str(msg.conversation_id), is_group=is_group, to_bot=to_bot,
                    reply_token=token, **fields)
    return Parsed(msg_id, event)


def _json_obj(value: Any, what: str) -> dict:
    if isinstance(value, dict):
        return value
    if value in (None, ""):
        return {}
    if not isinstance(value, str):
        raise BadPayload(f"dingtalk card callback {what} must be JSON")
    try:
        out = guard.loads(value)
    except BadPayload:
        raise BadPayload(f"dingtalk card callback {what} is not JSON (or nested too deeply)") from None
    if not isinstance(out, dict):
        raise BadPayload(f"dingtalk card callback {what} must be an object")
    return out


@dataclass(frozen=True, slots=True)
class CardPress:
    """A card button press before it is matched against the card we sent."""

    card_ref: str
    user_id: str
    action_id: str
    params: dict


# The card callback body, identical on the stream topic and on a registered HTTP callback URL:
#   {"type": "actionCallback", "outTrackId", "corpId", "userId",
#    "content": "<JSON string> {cardPrivateData: {actionIds: [pressed component id], params: {...}}}"}
# Sources: https://open.dingtalk.com/document/development/event-callback-card (接收事件回调 / 回调处理);
# dingtalk-stream 0.24.3 card_callback.py CardCallbackMessage.from_dict (json.loads of `content`);
# open-dingtalk/dingtalk-card-examples examples/helloworld/java/.../models/CardCallbackMessage.java, CardPrivateData.java.
ACTION_CALLBACK = "actionCallback"


def parse_card_callback(data: Any) -> CardPress:
    """Card callback data (type, outTrackId, userId, content with cardPrivateData.actionIds/params)."""
    if not isinstance(data, dict):
        raise BadPayload("dingtalk card callback must be a JSON object")
    kind = data.get("type")  # "actionCallback" = a press (event-callback-card); tolerated when absent
    if kind not in (None, "", ACTION_CALLBACK):
        raise BadPayload(f"dingtalk card callback type {_str(kind)[:40]!r} is not an action callback")
    card_ref = _str(data.get("outTrackId"))  # the cardBizId/outTrackId we chose when sending
    user_id = _str(data.get("userId"))  # userIdType as set when the card was created (userid by default)
    if not card_ref or not user_id:
        raise BadPayload("dingtalk card callback lacks outTrackId/userId")
    content = _json_obj(data.get("content"), "content")  # a JSON *string* per the docs; a dict is tolerated
    private = content.get("cardPrivateData") or {}
    if not isinstance(private, dict):
        raise BadPayload("dingtalk card callback cardPrivateData must be an object")
    ids = private.get("actionIds") or []  # ids of the pressed components, e.g. our "sp0"
    action_id = _str(ids[0]) if isinstance(ids, list) and ids else ""
    params = private.get("params") or {}  # extra parameters configured on the button
    if not isinstance(params, dict):
        params = {}
    return CardPress(card_ref, user_id, action_id, params)


def card_press_id(press: CardPress, delivery_id: str = "") -> str:
    """Dedupe key: the stream frame's messageId when there is one, else a hash of the press itself."""
    if delivery_id:
        return f"card:{delivery_id}"
    digest = hashlib.sha1(json.dumps([press.card_ref, press.user_id, press.action_id, press.params],
                                     sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:20]
    return f"card:{digest}"


def card_action_event(press: CardPress, external_id: str, action: str, value: dict, now_ms: int) -> CardAction:
    return CardAction(event_id=f"{PLATFORM}:{external_id}", platform=PLATFORM, occurred_at=now_ms, received_at=now_ms,
                      actor=Actor(platform_id=press.user_id), action=action, value=dict(value), card_ref=press.card_ref)
