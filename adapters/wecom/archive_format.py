"""WeCom message-archive (会话内容存档) record → bot Message.

The archive SDK hands us one decrypted JSON record per chat message. Field names as in WeCom's 获取会话内容
(https://developer.work.weixin.qq.com/document/path/91774), verified against WxJava's
weixin-java-cp/src/main/java/me/chanjar/weixin/cp/bean/msgaudit/WxCpChatModel.java (read from the fork
xz-wtx/WxJava) and ArtisanCloud/PowerWeChat's archive types (ChatDataMeta, Text, File, Voice, Revoke,
MeetingVoiceCall):

- common: `msgid`, `action` (send / recall / switch), `from`, `tolist` (list of ids), `roomid` (empty for 1:1
  chats), `msgtime` (UTC ms, e.g. 1603875609704), `msgtype`, then one object named after the type;
- `text.content`; `image{md5sum, filesize, sdkfileid}`; `file{md5sum, filename, fileext, filesize, sdkfileid}`;
  `voice{md5sum, voice_size, play_length, sdkfileid}`; `revoke.pre_msgid` (with action "recall");
- `switch` records are `{msgid, action: "switch", time, user}` — no msgtime, from or msgtype;
- `meeting_voice_call` records carry `voiceid` and `meeting_voice_call{endtime, sdkfileid, demofiledata,
  sharescreendata}` and may lack `roomid` (doc example).

Doc example of a voice record (as copied in public archive code):
`{"msgid":"10958372969718811103_1603875609","action":"send","from":"wmGAgeDQAAdBjb8CK4ieMPRm7Cqm-9VA",
"tolist":["kenshin"],"roomid":"","msgtime":1603875609704,"msgtype":"voice","voice":{"md5sum":"9db0…",
"voice_size":6810,"play_length":10,"sdkfileid":"kcyZ…"}}`.

This module is pure (no I/O, no clock) so that the live archive puller, the demo generator and the tests all
share one normaliser. Two typed outcomes besides a Message:

- `UnsupportedEvent` for well-formed records we do not model (switch, agree/disagree, cards, video, …): the
  caller keeps them in the inbox as `unsupported`, visible instead of silently dropped;
- `BadPayload` for malformed records (missing msgid/msgtime, wrong types): never a KeyError or TypeError.

Chat text such as "附件:XX型号参数.pdf" stays a *text* message: recognising it as a material hand-over is the
rules' job (product spec A2/A7), not the parser's.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BadPayload, UnsupportedEvent
from bot.events import Actor, Message, MessageKind

PLATFORM = "wecom"
EVENT_PREFIX = "wecom-archive:"

# External contacts (customers) have ids starting wo/wm; robots wb (platforms.md §1b).
EXTERNAL_PREFIXES = ("wo", "wm")
ROBOT_PREFIX = "wb"

# Record types we deliberately leave to the inbox as unsupported (listed so the reason is explicit).
_KNOWN_UNMODELLED = frozenset({
    "agree", "disagree", "card", "location", "emotion", "link", "weapp", "chatrecord", "todo", "vote",
    "collect", "redpacket", "meeting", "docmsg", "markdown", "news", "calendar", "mixed", "meeting_voice_call",
    "voip_doc_share", "external_redpacket", "sphfeed", "voiptext", "qydiskfile", "video",
})


def is_external(user_id: str) -> bool:
    """True for WeCom external-contact ids (customers)."""
    return user_id.startswith(EXTERNAL_PREFIXES)


def event_id_for(msgid: str) -> str:
    """The stable event id of an archive record: the inbox key and the dedup key across re-pulls."""
    return EVENT_PREFIX + msgid


def conversation_id_for(sender: str, tolist: tuple[str, ...], roomid: str) -> str:
    """Group chats use the room id; 1:1 chats the sorted participants joined by '|', same both ways round."""
    if roomid:
        return roomid
    return "|".join(sorted({sender, *tolist}))


def _req_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise BadPayload(f"wecom archive {where}: {key!r} must be a non-empty string", "platforms.archive_bad_field",
                         where=where, field=key, kind="non_empty")
    return value


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"wecom archive {where}: {key!r} must be a string", "platforms.archive_bad_field", where=where,
                         field=key, kind="string")
    return value


def _opt_int(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadPayload(f"wecom archive {where}: {key!r} must be a non-negative integer", "platforms.archive_bad_field",
                         where=where, field=key, kind="count")
    return value


def _section(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    if not isinstance(value, dict):
        raise BadPayload(f"wecom archive {key}: the {key!r} object is missing or not an object",
                         "platforms.archive_bad_field", where=key, field=key, kind="object")
    return value


def record_to_event(record: dict[str, Any], received_at: int) -> Message:
    """Normalise one decrypted archive record. Raises UnsupportedEvent or BadPayload, nothing else."""
    if not isinstance(record, dict):
        raise BadPayload("wecom archive record must be a JSON object", "platforms.archive_not_object")
    action = record.get("action", "send")
    if not isinstance(action, str):
        raise BadPayload("wecom archive: 'action' must be a string", "platforms.archive_bad_field", where="",
                         field="action", kind="string")
    msgid = _req_str(record, "msgid", "record")
    if action == "switch":  # a member switched enterprises: {msgid, action, time, user}, a session marker
        raise UnsupportedEvent(f"wecom archive action 'switch' ({msgid}) is not a message")
    if action not in ("send", "recall"):
        raise UnsupportedEvent(f"wecom archive action {action!r} ({msgid}) is not modelled")
    msgtype = record.get("msgtype", "")
    if not isinstance(msgtype, str):
        raise BadPayload(f"wecom archive {msgid}: 'msgtype' must be a string", "platforms.archive_bad_field", where=msgid,
                         field="msgtype", kind="string")
    if msgtype in _KNOWN_UNMODELLED and action != "recall":
        # Decided before the common fields are checked: these types vary (the doc's meeting_voice_call example has
        # no roomid) and the caller keeps the whole record in the inbox anyway.
        raise UnsupportedEvent(f"wecom archive msgtype {msgtype!r} ({msgid}) is not modelled")
    msgtime = record.get("msgtime")
    if isinstance(msgtime, bool) or not isinstance(msgtime, int) or msgtime <= 0:
        raise BadPayload(f"wecom archive {msgid}: 'msgtime' must be a positive integer (ms)", "platforms.archive_bad_field",
                         where=msgid, field="msgtime", kind="ms")
    sender = _req_str(record, "from", msgid)
    raw_tolist = record.get("tolist", [])
    if raw_tolist is None:
        raw_tolist = []
    if not isinstance(raw_tolist, list) or not all(isinstance(t, str) and t for t in raw_tolist):
        raise BadPayload(f"wecom archive {msgid}: 'tolist' must be a list of user ids", "platforms.archive_bad_field",
                         where=msgid, field="tolist", kind="ids")
    tolist = tuple(raw_tolist)
    roomid = _opt_str(record, "roomid", msgid)

    base: dict[str, Any] = {
        "event_id": event_id_for(msgid),
        "platform": PLATFORM,
        "occurred_at": msgtime,
        "received_at": int(received_at),
        "actor": Actor(platform_id=sender),
        "conversation_id": conversation_id_for(sender, tolist, roomid),
        "is_group": bool(roomid),
        "recipients": tolist,
        "to_bot": False,
    }

    if action == "recall" or msgtype == "revoke":
        revoke = _section(record, "revoke")
        pre = _req_str(revoke, "pre_msgid", f"{msgid} revoke")
        return Message(**base, kind=MessageKind.RECALL, recalled_id=event_id_for(pre))
    if msgtype == "text":
        content = _section(record, "text").get("content")
        if not isinstance(content, str):
            raise BadPayload(f"wecom archive {msgid}: 'text.content' must be a string", "platforms.archive_bad_field",
                             where=msgid, field="text.content", kind="string")
        return Message(**base, kind=MessageKind.TEXT, text=content)
    if msgtype == "file":
        sec = _section(record, "file")
        name = _req_str(sec, "filename", f"{msgid} file")
        ext = _opt_str(sec, "fileext", f"{msgid} file")
        _opt_int(sec, "filesize", f"{msgid} file")
        if ext and not name.lower().endswith("." + ext.lower()):
            name = f"{name}.{ext}"
        return Message(**base, kind=MessageKind.FILE, file_name=name,
                       media_id=_opt_str(sec, "sdkfileid", f"{msgid} file"))
    if msgtype == "image":
        sec = _section(record, "image")
        _opt_int(sec, "filesize", f"{msgid} image")
        return Message(**base, kind=MessageKind.IMAGE, media_id=_opt_str(sec, "sdkfileid", f"{msgid} image"))
    if msgtype == "voice":
        sec = _section(record, "voice")
        # not verified against docs: the unit of play_length (no source we could read states it; the doc example
        # voice_size 6810 bytes of AMR with play_length 10 only fits seconds, so seconds are assumed).
        seconds = _opt_int(sec, "play_length", f"{msgid} voice")
        _opt_int(sec, "voice_size", f"{msgid} voice")
        return Message(**base, kind=MessageKind.VOICE, duration_ms=seconds * 1000,
                       media_id=_opt_str(sec, "sdkfileid", f"{msgid} voice"))
    if not msgtype:
        raise BadPayload(f"wecom archive {msgid}: 'msgtype' is missing", "platforms.archive_bad_field", where=msgid,
                         field="msgtype", kind="non_empty")
    raise UnsupportedEvent(f"wecom archive msgtype {msgtype!r} ({msgid}) is unknown")
