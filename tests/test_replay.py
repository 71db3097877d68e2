"""Bad input never stops the loop: `salespulse replay` reports a malformed JSONL line with its number and goes on,
unknown event types stay in the inbox as `unsupported`, a handler that crashes fails only its own row, and the same
platform message delivered three times is processed once."""

from __future__ import annotations

import json

from bot.cli import main as cli_main
from bot.context import Services
from bot.dispatcher import Dispatcher
from bot.events import Actor, Message
from bot.org import Directory
from bot.replies import Reply
from bot.router import Router
from prompts import Prompts
from store import inbox as inbox_store
from store import open_store
from store import outbox as outbox_store


def message(event_id: str, text: str, user: str = "u1", **extra) -> dict:
    return Message(event_id=event_id, platform="console", occurred_at=1_772_413_200_000, actor=Actor(platform_id=user),
                   text=text, to_bot=True, **extra).to_dict()


def test_replay_skips_bad_lines_with_their_numbers_and_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no bot.toml here: embedded defaults
    jsonl = tmp_path / "events.jsonl"
    lines = [
        json.dumps(message("r1", "/help")),
        '{"type": "message", "event_id": ',            # 2: truncated JSON
        "[1, 2, 3]",                                    # 3: not an object
        json.dumps({"type": "fax", "event_id": "f1", "platform": "console", "occurred_at": 1}),  # 4: unknown type
        "",                                             # 5: blank lines are fine
        json.dumps(message("r2", "/whoami")),
        json.dumps(message("r1", "/help")),             # 7: the same event again
        json.dumps({**message("r3", "/help"), "colour": "red"}),  # 8: unknown field
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "replay.db"

    code = cli_main(["replay", str(jsonl), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 1  # something was rejected: say so in the exit code
    assert f"{jsonl}:2：不是 JSON" in err
    assert f"{jsonl}:3：不是 JSON 对象" in err
    assert f"{jsonl}:4：不认识的事件类型：fax；已作为不支持的记录保存" in err
    assert f"{jsonl}:8：message 事件没有字段 colour" in err
    assert "已重放 2 个事件（4 个被拒绝），2 条回复" in err
    assert "Traceback" not in err
    assert out.count("→ u1:") == 2

    store = open_store(db)
    assert inbox_store.counts(store) == {"done": 2, "unsupported": 2}
    reasons = [r["error"] for r in inbox_store.list_by_status(store, "unsupported")]
    assert any("fax" in r for r in reasons) and any("colour" in r for r in reasons)
    store.close()


def _dispatcher(store, clock, config, router: Router) -> Dispatcher:
    services = Services(store=store, config=config, clock=clock, directory=Directory(store), prompts=Prompts("zh-CN"))
    return Dispatcher(services, router.compile())


def test_unknown_event_type_in_the_inbox_is_unsupported_and_the_loop_goes_on(store, clock, config):
    handled: list[str] = []
    router = Router("r")

    @router.on(Message)
    def on_message(event, ctx):
        handled.append(event.event_id)

    now = clock.now_ms()
    with store.transaction():
        inbox_store.put(store, "x", "a", "{}", json.dumps(message("a", "one")), now)
        inbox_store.put(store, "x", "b", "{}", json.dumps({"type": "hologram", "event_id": "b"}), now)
        inbox_store.put(store, "x", "c", "{}", "[]", now)
        inbox_store.put(store, "x", "d", "{}", "{not json", now)
        inbox_store.put(store, "x", "e", "{}", json.dumps(message("e", "two")), now)
    assert _dispatcher(store, clock, config, router).drain() == 5
    assert handled == ["a", "e"]
    statuses = {r["external_id"]: (r["status"], r["error"]) for s in ("done", "unsupported", "failed")
                for r in inbox_store.list_by_status(store, s)}
    assert statuses["b"] == ("unsupported", "unknown event type: 'hologram'")
    assert statuses["c"][0] == "unsupported"
    assert statuses["d"][0] == "failed" and statuses["d"][1].startswith("bad payload")
    assert statuses["a"][0] == statuses["e"][0] == "done"


def test_a_crashing_handler_fails_its_row_only_and_the_user_gets_a_short_answer(store, clock, config):
    router = Router("r")

    @router.observe(Message)
    def record(event, ctx):
        ctx.send(ctx.origin_target(), Reply.plain("ok"), f"seen:{event.event_id}")

    @router.on(Message)
    def explode(event, ctx):
        if "boom" in event.text:
            raise ZeroDivisionError("handler bug")

    now = clock.now_ms()
    with store.transaction():
        for eid, text in (("1", "hi"), ("2", "boom"), ("3", "hi again")):
            inbox_store.put(store, "console", eid, "{}", json.dumps(message(eid, text)), now)
    dispatcher = _dispatcher(store, clock, config, router)
    dispatcher.drain()
    assert inbox_store.counts(store) == {"done": 2, "failed": 1}
    keys = {r.idempotency_key: r.reply["text"] for r in outbox_store.listing(store)}
    assert "seen:2" not in keys  # the failed row's own writes were rolled back with it
    assert {"seen:1", "seen:3"} <= set(keys)
    apology = [text for key, text in keys.items() if key.startswith("2:error")]
    assert len(apology) == 1 and "编号" in apology[0] and "ZeroDivisionError" not in apology[0]
    failed = inbox_store.list_by_status(store, "failed")[0]
    assert "ZeroDivisionError" in failed["error"] and "ref" in failed["error"]


async def test_same_message_three_times_over_webhook_retries_is_processed_once(runtime, clock):
    """WeCom retries a callback 3 times when the ack is slow: the inbox key absorbs it."""
    ev = Message(event_id="wecom:msg-9", platform="wecom", occurred_at=clock.now_ms(),
                 actor=Actor(platform_id="zhangwei"), text="/whoami", to_bot=True)
    ctx = runtime.console.ctx
    assert [ctx.accept("wecom", "msg-9", {"MsgId": "msg-9"}, ev) for _ in range(3)] == [True, False, False]
    await runtime.settle()
    assert ctx.accept("wecom", "msg-9", {"MsgId": "msg-9"}, ev) is False  # even after processing
    await runtime.settle()
    assert inbox_store.counts(runtime.store) == {"done": 1}
    assert sum(outbox_store.counts(runtime.store).values()) == 1


def test_user_input_error_rolls_back_the_rows_writes_and_answers(store, clock, config):
    from bot.errors import UserInputError

    router = Router("r")

    @router.observe(Message)
    def record(event, ctx):
        ctx.send(ctx.origin_target(), Reply.plain("recorded"), f"seen:{event.event_id}")

    @router.on(Message)
    def picky(event, ctx):
        if "bad" in event.text:
            raise UserInputError("金额要写成数字，例如 /调整 L1 82万")

    now = clock.now_ms()
    with store.transaction():
        inbox_store.put(store, "console", "ok", "{}", json.dumps(message("ok", "fine")), now)
        inbox_store.put(store, "console", "bad", "{}", json.dumps(message("bad", "bad amount")), now)
    _dispatcher(store, clock, config, router).drain()
    assert inbox_store.counts(store) == {"done": 2}
    keys = {r.idempotency_key: r.reply["text"] for r in outbox_store.listing(store)}
    assert "seen:bad" not in keys and "seen:ok" in keys
    assert keys["bad:input-error:1"] == "金额要写成数字，例如 /调整 L1 82万"


def test_replay_of_a_missing_or_binary_file_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["replay", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "r.db")]) == 2
    assert capsys.readouterr().err.strip() == f"salespulse: 找不到文件：{tmp_path / 'nope.jsonl'}"
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"\xff\xfe\x00garbage\n" + json.dumps(message("ok1", "/help")).encode("utf-8") + b"\n")
    assert cli_main(["replay", str(mixed), "--db", str(tmp_path / "r.db")]) == 1
    err = capsys.readouterr().err
    assert f"{mixed}:1：不是 UTF-8 文本，已跳过" in err and "已重放 1 个事件（1 个被拒绝）" in err
    assert "Traceback" not in err


def test_replay_keeps_lines_with_wrongly_typed_fields_as_unsupported(tmp_path, monkeypatch, capsys):
    # valid JSON, known type and fields, but values of the wrong type: `"text": 5` used to crash the command
    # parser inside the dispatcher (the user got "internal error"), `"occurred_at": "abc"` was stored as is
    monkeypatch.chdir(tmp_path)
    good = message("ok", "/help")
    bad = [
        {**message("b1", "/help"), "occurred_at": "abc"},
        {**message("b2", "/help"), "text": 5},
        {**message("b3", "/help"), "to_bot": "yes"},
        {**message("b4", "/help"), "actor": {"platform_id": 42}},
        {**message("b5", "/help"), "recipients": [1, 2]},
    ]
    jsonl = tmp_path / "typed.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in [good, *bad]) + "\n", encoding="utf-8")
    db = tmp_path / "typed.db"

    code = cli_main(["replay", str(jsonl), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 1
    assert f'{jsonl}:2：字段取值不对：occurred_at 必须是整数，实际是 "abc"；已作为不支持的记录保存' in err
    assert f"{jsonl}:3：字段取值不对：text 必须是字符串，实际是 5" in err
    assert f'{jsonl}:4：字段取值不对：to_bot 必须是 true 或 false，实际是 "yes"' in err
    assert f"{jsonl}:5：字段取值不对：actor.platform_id 必须是字符串，实际是 42" in err
    assert f"{jsonl}:6：字段取值不对：recipients 必须是字符串列表" in err
    assert "已重放 1 个事件（5 个被拒绝），1 条回复" in err
    assert "Traceback" not in err and out.count("→ u1:") == 1

    store = open_store(db)
    assert inbox_store.counts(store) == {"done": 1, "unsupported": 5}
    store.close()
