"""Reply → Feishu message (msg_type, content). Cards are message cards (JSON 1.0 schema) whose buttons carry
{"action": Button.action, "value": Button.value}, which Feishu hands back verbatim in card.action.trigger."""

from __future__ import annotations

import json

from bot.replies import Reply, ReplyKind

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
    """(msg_type, content JSON string) for im/v1/messages create and reply."""
    if reply.kind == ReplyKind.TEXT and not reply.title:
        return "text", json.dumps({"text": reply.text}, ensure_ascii=False)
    if reply.kind == ReplyKind.CARD:
        return "interactive", json.dumps(card(reply), ensure_ascii=False)
    body = reply.alt_text if reply.kind == ReplyKind.IMAGE else reply.text
    post = {"zh_cn": {"title": reply.title, "content": [[{"tag": "md", "text": body}]]}}
    return "post", json.dumps(post, ensure_ascii=False)


def image_card(reply: Reply, image_key: str) -> str:
    """An uploaded chart as a card: title header, the image, its text version as alt."""
    body = {"config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": reply.title or "SalesPulse"}, "template": "blue"},
            "elements": [{"tag": "img", "img_key": image_key,
                          "alt": {"tag": "plain_text", "content": reply.alt_text[:500]}}]}
    return json.dumps(body, ensure_ascii=False)
