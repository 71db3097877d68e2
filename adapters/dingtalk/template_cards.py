"""DingTalk 高级版 interactive cards built from the SalesPulse card template ([dingtalk] card_template_id).

Why: a robot StandardCard (普通版) has no stream callback, so its buttons cannot be trusted to come back (README,
docs/platforms/dingtalk.md). A card created from a template with `callbackType = "STREAM"` sends every press on
the stream connection the bot already holds, topic `/v1.0/card/instances/callback` — the same callback body the
adapter already parses (outTrackId, userId, content.cardPrivateData.actionIds/params).

The template (docs/platforms/dingtalk-card-template.json; import steps in docs/platforms/dingtalk.md) has string
variables only, because cardParamMap values are strings:
- `title`, `markdown` (body and fields), `footer` (who pressed what, the state after a press);
- `btn0_text` … `btn3_text`, `btn0_show` … `btn3_show` ("true" / "false"), `btn0_style` … ("primary", "normal",
  "warning"); the buttons' component ids are `sp0` … `sp3` with a "request" (回传请求) action, so a press arrives
  with actionIds ["sp0"] and maps back to the Reply's first Button exactly like a StandardCard press.
A Reply with more than four buttons lists the rest as command hints in the markdown.

Calls (same bodies as dingtalk-stream 0.24.3 card_replier.CardReplier.async_create_and_deliver_card and
async_put_card_data): POST /v1.0/card/instances/createAndDeliver, PUT /v1.0/card/instances with
cardUpdateOptions.updateCardDataByKey.
"""

from __future__ import annotations

from typing import Any

from adapters.dingtalk import render
from bot.replies import Reply

MAX_BUTTONS = 4
STYLE = {"primary": "primary", "danger": "warning", "default": "normal"}


def param_map(reply: Reply, footer: str = "") -> dict[str, str]:
    """The template's variables for a Reply (a pressed card: no buttons, the footer says what happened)."""
    body = reply.text or ""
    if reply.fields:
        body = "\n".join([body, *(f"**{k}**：{v}" for k, v in reply.fields)]).strip()
    shown = [] if footer else list(reply.buttons[:MAX_BUTTONS])
    extra = [] if footer else list(reply.buttons[MAX_BUTTONS:])
    if extra:
        body = "\n".join([body, " / ".join(f"【{b.text}】" for b in extra)]).strip()
    params = {"title": reply.title or "SalesPulse", "markdown": body, "footer": footer}
    for i in range(MAX_BUTTONS):
        button = shown[i] if i < len(shown) else None
        params[f"btn{i}_text"] = button.text if button else ""
        params[f"btn{i}_show"] = "true" if button else "false"
        params[f"btn{i}_style"] = STYLE.get(button.style, "normal") if button else "normal"
    return params


def open_space(user_id: str, conversation_id: str) -> str:
    if conversation_id:
        return f"dtv1.card//IM_GROUP.{conversation_id}"
    return f"dtv1.card//IM_ROBOT.{user_id}"


def deliver_body(template_id: str, out_track_id: str, reply: Reply, robot_code: str, *, user_id: str = "",
                 conversation_id: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "cardTemplateId": template_id,
        "outTrackId": out_track_id,
        "callbackType": "STREAM",
        "cardData": {"cardParamMap": param_map(reply)},
        "openSpaceId": open_space(user_id, conversation_id),
        "userIdType": 1,  # userid (not unionId): the callback's userId is then the staff id we resolve people by
    }
    if conversation_id:
        body["imGroupOpenSpaceModel"] = {"supportForward": True}
        body["imGroupOpenDeliverModel"] = {"robotCode": robot_code}
    else:
        body["imRobotOpenSpaceModel"] = {"supportForward": True}
        body["imRobotOpenDeliverModel"] = {"spaceType": "IM_ROBOT", "robotCode": robot_code}
    return body


def update_body(out_track_id: str, reply: Reply, footer: str = "") -> dict[str, Any]:
    return {"outTrackId": out_track_id, "cardData": {"cardParamMap": param_map(reply, footer)},
            "cardUpdateOptions": {"updateCardDataByKey": True}, "userIdType": 1}


async def deliver(api: Any, template_id: str, out_track_id: str, reply: Reply, *, user_id: str = "",
                  conversation_id: str = "") -> None:
    await api._request("POST", f"{api.api}/v1.0/card/instances/createAndDeliver",
                       deliver_body(template_id, out_track_id, reply, api.robot_code, user_id=user_id,
                                    conversation_id=conversation_id))


async def update(api: Any, out_track_id: str, reply: Reply, footer: str = "") -> None:
    await api._request("PUT", f"{api.api}/v1.0/card/instances", update_body(out_track_id, reply, footer))


button_for = render.button_for  # a press's actionIds ["spN"] → the Reply's N-th Button, as for StandardCards
