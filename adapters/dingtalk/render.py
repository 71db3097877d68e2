"""Reply → DingTalk payloads: session-webhook / robot messages (text, markdown) and StandardCard cards.

A card's buttons become `request` buttons with ids `sp0`, `sp1`, …; their action and value also ride along in
`params`, and the whole Reply is remembered under the card's cardBizId, so a press maps back to the same Button on
every platform.
"""

from __future__ import annotations

from bot.replies import Button, Reply, ReplyKind

BUTTON_STATUS = {"primary": "primary", "danger": "warning", "default": "normal"}


def button_id(index: int) -> str:
    return f"sp{index}"


def button_for(reply: Reply, action_id: str) -> Button | None:
    if action_id.startswith("sp") and action_id[2:].isdigit():
        i = int(action_id[2:])
        if i < len(reply.buttons):
            return reply.buttons[i]
    return None


def as_markdown(reply: Reply) -> tuple[str, str]:
    """(title, markdown text) for every reply kind; cards degrade to markdown where cards cannot go."""
    lines: list[str] = []
    if reply.title:
        lines.append(f"### {reply.title}")
    if reply.kind in (ReplyKind.IMAGE, ReplyKind.FILE):  # their text versions
        lines.append(reply.alt_text)
    elif reply.text:
        lines.append(reply.text)
    for k, v in reply.fields:
        lines.append(f"- **{k}**：{v}")
    if reply.buttons:
        lines.append(" / ".join(f"【{b.text}】" for b in reply.buttons))
    title = reply.title or (reply.text.splitlines()[0][:20] if reply.text else "SalesPulse")
    return title, "\n\n".join(lines)


def robot_message(reply: Reply) -> tuple[str, dict]:
    """(msgKey, msgParam) for /v1.0/robot/oToMessages/batchSend and groupMessages/send."""
    if reply.kind == ReplyKind.TEXT:
        return "sampleText", {"content": reply.text}
    title, text = as_markdown(reply)
    return "sampleMarkdown", {"title": title, "text": text}


def webhook_message(reply: Reply) -> dict:
    """Body for a session webhook or a custom group robot."""
    if reply.kind == ReplyKind.TEXT:
        return {"msgtype": "text", "text": {"content": reply.text}}
    title, text = as_markdown(reply)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def card_data(reply: Reply, footer: str = "") -> dict:
    """StandardCard cardData: header title, markdown body, fields, request buttons (omitted once pressed)."""
    contents: list[dict] = []
    body = reply.text or ""
    if reply.fields:
        body = "\n".join([body, *(f"**{k}**：{v}" for k, v in reply.fields)]).strip()
    if body:
        contents.append({"type": "markdown", "text": body, "id": "body"})
    if footer:
        contents.append({"type": "markdown", "text": footer, "id": "footer"})
    elif reply.buttons:
        contents.append({"type": "action", "id": "actions", "actions": [
            {"type": "button", "id": button_id(i), "actionType": "request",
             "label": {"type": "text", "text": b.text, "id": f"{button_id(i)}_label"},
             "status": BUTTON_STATUS.get(b.style, "normal"),
             "params": {"action": b.action, "value": dict(b.value)}}
            for i, b in enumerate(reply.buttons)
        ]})
    return {"config": {"autoLayout": True, "enableForward": True},
            "header": {"title": {"type": "text", "text": reply.title or "SalesPulse"}},
            "contents": contents}
