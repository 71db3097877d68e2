"""Reply → Feishu message (msg_type, content). Cards are message cards (JSON 1.0 schema) whose buttons carry
{"action": Button.action, "value": Button.value}, which Feishu hands back verbatim in card.action.trigger.

Size: Feishu refuses a card or rich-text (post) body over 30 KB and a text body over 150 KB (发送消息, "文本消息请求体最大
不能超过150KB；卡片及富文本消息请求体最大不能超过30KB", as quoted on skills.sh feishu-cli-msg). A refusal is a permanent
error and the reply would go to `dead`, so an over-long body text is cut here, on a line end where one is near, and
marked with "…"; title, fields and buttons stay intact.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from bot.replies import Reply, ReplyKind

MAX_CARD_BYTES = 30 * 1024 - 512  # the limit is on the request body: leave room for receive_id, msg_type, uuid
MAX_TEXT_BYTES = 150 * 1024 - 512
ELLIPSIS = "…"


def _cut(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    cut = data[:max(max_bytes - len(ELLIPSIS.encode()), 0)].decode("utf-8", errors="ignore")
    newline = cut.rfind("\n")
    if newline >= len(cut) * 0.9:
        cut = cut[:newline]
    return cut.rstrip() + ELLIPSIS


def fit(reply: Reply, build: Callable[[Reply], str], limit: int) -> str:
    """`build(reply)`, with the reply's body text shortened until the content is at most `limit` bytes."""
    content = build(reply)
    field = "alt_text" if reply.kind in (ReplyKind.IMAGE, ReplyKind.FILE) else "text"
    for _ in range(8):  # JSON escaping makes the size only roughly proportional: a few rounds converge
        excess = len(content.encode("utf-8")) - limit
        body = getattr(reply, field)
        if excess <= 0 or not body:
            return content
        reply = dataclasses.replace(reply, **{field: _cut(body, max(len(body.encode("utf-8")) - excess - 64, 0))})
        content = build(reply)
    return content

BUTTON_TYPE = {"primary": "primary", "danger": "danger", "default": "default"}


def card(reply: Reply, footer: str = "") -> dict:
    elements: list[dict] = []
    if reply.text:
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": reply.text}})
    if reply.fields:
        elements.append({"tag": "div", "fields": [
            {"is_short": True, "text": {"tag": "lark_md", "content": f"**{k}**\n{v}"}} for k, v in reply.fields]})
    if footer:
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": footer}]})
    elif reply.buttons:
        elements.append({"tag": "action", "actions": [
            {"tag": "button", "text": {"tag": "plain_text", "content": b.text}, "type": BUTTON_TYPE.get(b.style, "default"),
             "value": {"action": b.action, "value": dict(b.value)}} for b in reply.buttons]})
    return {"config": {"wide_screen_mode": True, "update_multi": True},
            "header": {"title": {"tag": "plain_text", "content": reply.title or "SalesPulse"}, "template": "blue"},
            "elements": elements}


def message(reply: Reply) -> tuple[str, str]:
    """(msg_type, content JSON string) for im/v1/messages create and reply, within Feishu's size limits."""
    if reply.kind == ReplyKind.TEXT and not reply.title:
        return "text", fit(reply, lambda r: json.dumps({"text": r.text}, ensure_ascii=False), MAX_TEXT_BYTES)
    if reply.kind == ReplyKind.CARD:
        return "interactive", card_content(reply)

    def post(r: Reply) -> str:
        body = r.alt_text if r.kind in (ReplyKind.IMAGE, ReplyKind.FILE) else r.text
        return json.dumps({"zh_cn": {"title": r.title, "content": [[{"tag": "md", "text": body}]]}},
                          ensure_ascii=False)

    return "post", fit(reply, post, MAX_CARD_BYTES)


def card_content(reply: Reply, footer: str = "") -> str:
    """A card as the content JSON string, within the 30 KB card limit (also for card patches)."""
    return fit(reply, lambda r: json.dumps(card(r, footer), ensure_ascii=False), MAX_CARD_BYTES)


def image_card(reply: Reply, image_key: str) -> str:
    """An uploaded chart as a card: title header, the image, its text version as alt."""
    body = {"config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": reply.title or "SalesPulse"}, "template": "blue"},
            "elements": [{"tag": "img", "img_key": image_key,
                          "alt": {"tag": "plain_text", "content": reply.alt_text[:500]}}]}
    return json.dumps(body, ensure_ascii=False)
