"""A test-only capability: a rep asks for a card, presses its button, and the card is updated in place.

Used by tests/test_wecom_outbound.py to prove the whole loop (callback → inbox → router → outbox → WeCom →
click callback → CardAction → update) through the real Runtime.
"""

from __future__ import annotations

from bot.events import CardAction, Message
from bot.replies import Button, Reply, Target
from bot.router import Router, text_contains, to_bot

router = Router("wecom-card-test")
PRESSED: list[CardAction] = []


@router.on(Message, to_bot(), text_contains("给我卡片"))
def send_card(event, ctx) -> None:
    ctx.reply(Reply.card("跟进提醒", "客户A 72小时无动作", fields=[("客户", "客户A"), ("负责人", "张伟")],
                         buttons=[Button("已跟进", "test.done", {"lead": "L-9"}),
                                  Button("稍后", "test.later", {"lead": "L-9", "hours": 4}, style="primary")]))


@router.on(CardAction)
def pressed(event, ctx) -> None:
    PRESSED.append(event)
    ctx.send(Target(platform=event.platform, user_id=event.actor.platform_id, reply_token=event.card_ref),
             Reply.card("已确认"), f"{event.event_id}:update")
