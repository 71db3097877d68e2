"""Reply → WeCom message bodies (the `msgtype` part of message/send, appchat/send and the group-robot webhook).

- text / markdown: WeCom caps text at 2048 bytes and app markdown at 2048 bytes (发送应用消息,
  https://developer.work.weixin.qq.com/document/path/90236; appchat 90248), group-robot markdown at 4096 bytes
  (群机器人配置说明 91770, as quoted in ymlluo/group-robot's README). A longer reply (a manager's digest, a forecast
  with reasons) is split at line ends into up to MAX_PARTS messages, sent in order, so nothing is lost; only what
  would exceed MAX_PARTS is cut, on a UTF-8 boundary and marked with "…".
- card with buttons: a `template_card` of type `button_interaction` — title, text, fields as the horizontal
  content list, up to 6 buttons whose keys carry the Button's action and value (adapters/wecom/keys.py), so a
  press comes back as CardAction(action, value) exactly as on DingTalk and Feishu.
- card without buttons, or any card for the group robot (robot cards cannot call back): markdown.
- image: handled by the adapter (upload, then an `image` message, then the alt text).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.replies import Button, Reply, ReplyKind

log = logging.getLogger("salespulse.wecom.render")

MAX_TEXT_BYTES = 2048
MAX_ROBOT_MARKDOWN_BYTES = 4096
MAX_PARTS = 6  # a longer reply is cut in its last part: 6 × 2 KB is about 4,000 Chinese characters
MAX_BUTTONS = 6
MAX_HORIZONTAL = 6
TITLE_CHARS = 36
SUB_TITLE_CHARS = 112
KEYNAME_CHARS = 5
VALUE_CHARS = 26
BUTTON_CHARS = 10
ELLIPSIS = "…"
_STYLE = {"primary": 1, "default": 2, "danger": 3}


def truncate_bytes(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """At most `limit` UTF-8 bytes; a cut ends at a line break when one is near the end, then gets "…"."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    cut = data[:room].decode("utf-8", errors="ignore")
    newline = cut.rfind("\n")
    if newline >= len(cut) * 0.8:
        cut = cut[:newline]
    return cut.rstrip() + ELLIPSIS


def split_bytes(text: str, limit: int = MAX_TEXT_BYTES, max_parts: int = MAX_PARTS) -> list[str]:
    """`text` as at most `max_parts` pieces of ≤ `limit` UTF-8 bytes each, cut at line ends where possible (a single
    over-long line is cut between characters); text beyond the last piece is dropped with "…" (truncate_bytes)."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    lines = text.split("\n")
    i = 0
    while i < len(lines) and len(parts) < max_parts - 1:
        line = lines[i]
        n = len(line.encode("utf-8")) + (1 if current else 0)
        if size + n <= limit:
            current.append(line)
            size += n
            i += 1
        elif current:  # close this part; the line starts the next one
            parts.append("\n".join(current))
            current, size = [], 0
        else:  # one line longer than a whole part: cut it between characters
            head = line.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
            parts.append(head)
            lines[i] = line[len(head):]
    rest = "\n".join(current + lines[i:])
    if rest.strip():
        parts.append(truncate_bytes(rest, limit))
    return [p for p in parts if p.strip()] or [truncate_bytes(text, limit)]


def truncate_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def text_body(text: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": truncate_bytes(text)}}


def markdown_body(text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": truncate_bytes(text)}}


def card_markdown(reply: Reply) -> str:
    lines = [f"**{reply.title}**"] if reply.title else []
    if reply.text:
        lines.append(reply.text)
    lines.extend(f"> {k}：{v}" for k, v in reply.fields)
    return "\n".join(lines)


def template_card(reply: Reply, task_id: str, key_for: Callable[[Button], str]) -> dict[str, Any]:
    """A button_interaction template_card; `key_for` packs a Button into its callback key."""
    sub_lines = [reply.text] if reply.text else []
    horizontal = []
    for k, v in reply.fields:
        if len(horizontal) < MAX_HORIZONTAL and len(k) <= KEYNAME_CHARS:
            horizontal.append({"keyname": k, "value": truncate_chars(v, VALUE_CHARS)})
        else:
            sub_lines.append(f"{k}：{v}")
    buttons = list(reply.buttons)
    if len(buttons) > MAX_BUTTONS:
        log.warning("card %r has %d buttons; WeCom shows %d", reply.title, len(buttons), MAX_BUTTONS)
        buttons = buttons[:MAX_BUTTONS]
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": truncate_chars(reply.title or reply.text, TITLE_CHARS)},
        "task_id": task_id,
        "button_list": [
            {"text": truncate_chars(b.text, BUTTON_CHARS), "style": _STYLE.get(b.style, 2), "key": key_for(b)}
            for b in buttons
        ],
    }
    if sub_lines:
        card["sub_title_text"] = truncate_chars("\n".join(sub_lines), SUB_TITLE_CHARS)
    if horizontal:
        card["horizontal_content_list"] = horizontal
    return card


def bodies_for(reply: Reply, *, task_id: str = "", key_for: Callable[[Button], str] | None = None,
               robot: bool = False) -> list[dict[str, Any]]:
    """The message(s) for one reply: a long text or markdown becomes several messages within WeCom's byte limits."""
    body = body_for(reply, task_id=task_id, key_for=key_for, robot=robot, cut=False)
    kind = body["msgtype"]
    if kind not in ("text", "markdown"):
        return [body]
    limit = MAX_ROBOT_MARKDOWN_BYTES if robot and kind == "markdown" else MAX_TEXT_BYTES
    return [{"msgtype": kind, kind: {"content": part}} for part in split_bytes(body[kind]["content"], limit)]


def body_for(reply: Reply, *, task_id: str = "", key_for: Callable[[Button], str] | None = None,
             robot: bool = False, cut: bool = True) -> dict[str, Any]:
    """The msgtype part for a text, markdown or card reply (images are uploaded by the adapter first); `cut=False`
    leaves long text whole for bodies_for to split."""
    text = text_body if cut else (lambda t: {"msgtype": "text", "text": {"content": t}})
    markdown = markdown_body if cut else (lambda t: {"msgtype": "markdown", "markdown": {"content": t}})
    if reply.kind == ReplyKind.TEXT:
        return text(f"{reply.title}\n{reply.text}" if reply.title else reply.text)
    if reply.kind == ReplyKind.MARKDOWN:
        return markdown(f"**{reply.title}**\n{reply.text}" if reply.title else reply.text)
    if reply.kind == ReplyKind.CARD:
        if reply.buttons and not robot and key_for is not None and task_id:
            return {"msgtype": "template_card", "template_card": template_card(reply, task_id, key_for)}
        return markdown(card_markdown(reply))
    if reply.kind in (ReplyKind.IMAGE, ReplyKind.FILE):  # their text versions (the adapter sends the media)
        return text(reply.alt_text)
    raise ValueError(f"unknown reply kind {reply.kind}")
