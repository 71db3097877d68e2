"""The spine end to end: console input → inbox → dispatcher → router → outbox → console output."""

from __future__ import annotations

from store import inbox as inbox_store


async def test_help_in_chinese_and_english(runtime):
    runtime.console.type_line("张伟", "/帮助")
    runtime.console.type_line("张伟", "/help")
    await runtime.settle()
    texts = [d.text for d in runtime.console.delivered]
    assert len(texts) == 2
    assert texts[0] == texts[1]
    assert "SalesPulse" in texts[0] and "/help" in texts[0]


async def test_unknown_command_gets_help_not_silence(runtime):
    runtime.console.type_line("张伟", "/不存在的命令 x")
    await runtime.settle()
    (only,) = runtime.console.delivered
    assert "不存在的命令" in only.text and "/help" in only.text


async def test_whoami_resolves_role_and_team(runtime):
    runtime.console.type_line("张伟", "/我是谁")
    await runtime.settle()
    assert "张伟" in runtime.console.delivered[0].text and "销售" in runtime.console.delivered[0].text
    assert "华东一组" in runtime.console.delivered[0].text


async def test_same_platform_message_three_times_processed_once(runtime, clock):
    from bot.events import Actor, Message

    ev = Message(event_id="wecom:msg-1", platform="wecom", occurred_at=clock.now_ms(),
                 actor=Actor(platform_id="zhangwei"), text="/help", to_bot=True)
    ctx = runtime.console.ctx
    results = [ctx.accept("wecom", "msg-1", {"MsgId": "msg-1"}, ev) for _ in range(3)]
    assert results == [True, False, False]
    await runtime.step()
    assert inbox_store.counts(runtime.store) == {"done": 1}
    from store import outbox as outbox_store

    assert sum(outbox_store.counts(runtime.store).values()) == 1
