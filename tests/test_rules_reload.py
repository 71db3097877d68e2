"""RuleSet hot reload at the unit level, and a broken pack at start-up (the default pack keeps tagging)."""

from __future__ import annotations

import dataclasses
import os

from conftest import T0

from adapters.base import AdapterContext
from adapters.console import ConsoleAdapter
from bot.app import Runtime
from bot.config import RulesSection
from bot.events import Actor, Message
from prompts import Prompts
from rules import EventView, RuleSet, default_pack_path

GOOD = '[[rule]]\nid = "a"\ntag = "甲"\ncategory = "客户响应"\nkeywords = ["甲方"]\n'
BAD = '[[rule]]\nid = "a"\ntag = "甲"\ncategory = "客户响应"\nkeywords = ["甲方"]\nweight = -1\n'


def put(path, text, tick):
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(tick * 10**9, tick * 10**9))


def view(text):
    return EventView("message", "customer", "text", text)


def tags(rs, text):
    return {h.tag for h in rs.engine.evaluate(view(text))[0]}


def test_broken_edit_keeps_last_good_until_fixed(tmp_path):
    pack = tmp_path / "p.toml"
    put(pack, GOOD, 1)
    rs = RuleSet(lambda: [pack], check_interval_ms=1000)
    assert rs.maybe_reload(0).changed and tags(rs, "甲方") == {"甲"}
    put(pack, BAD, 2)
    assert rs.maybe_reload(500) is None  # inside the interval: not even looked at
    result = rs.maybe_reload(1000)
    assert not result.changed
    assert [str(e) for e in result.errors] == [f"{pack}:6: rule a: weight must be a number ≥ 0"]
    assert tags(rs, "甲方") == {"甲"}
    assert rs.maybe_reload(2000) is None  # unchanged broken file: no second report
    pack.unlink()
    result = rs.maybe_reload(3000)
    assert "cannot read" in str(result.errors[0]) and tags(rs, "甲方") == {"甲"}
    put(pack, GOOD.replace("甲方", "乙方"), 3)
    assert rs.maybe_reload(4000).changed
    assert tags(rs, "乙方") == {"甲"} and tags(rs, "甲方") == set()
    assert rs.generation == 2


def test_broken_pack_at_start_falls_back_to_default_and_tells_admins(tmp_path, store, clock, config):
    packs = tmp_path / "packs"
    packs.mkdir()
    put(packs / "mine.toml", BAD, 1)
    config = dataclasses.replace(config, rules=RulesSection(packs_dirs=(str(packs),)))
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts("zh-CN"))
    rt.add_sender("console", console.send)
    try:
        ev = Message(event_id="w:1", platform="wecom", occurred_at=T0, actor=Actor(platform_id="zhangwei"),
                     text="附件:XX型号参数.pdf", recipients=("wmSomeone",))
        console.ctx.accept("wecom", "1", {}, ev)
        rt.dispatcher.drain()
        tagged = {r[0] for r in store.conn.execute("SELECT tag FROM event_tags")}
        assert "资料交付" in tagged  # the default pack still tags
        rows = store.conn.execute("SELECT target, reply FROM outbox").fetchall()
        assert len(rows) == 1 and '"a1"' in rows[0][0] and "mine.toml:6：规则 a：weight 必须是 ≥ 0 的数" in rows[0][1]
    finally:
        rt.close()
    assert default_pack_path().is_file()


def _runtime(store, clock, config):
    rt = Runtime(config=config, store=store, clock=clock, deferred_in_thread=False)
    console = ConsoleAdapter(ctx=AdapterContext(store, config, clock, rt.wake), prompts=Prompts("zh-CN"))
    rt.add_sender("console", console.send)
    return rt, console


def test_a_pack_broken_while_the_bot_was_down_keeps_the_last_good_rules(tmp_path, store, clock, config):
    """The company's own rules must survive an edit that broke them while the bot was stopped: the last pack that
    loaded is kept in the database and used at the next start (not just the built-in default), and the admins are
    told which line is wrong."""
    packs = tmp_path / "packs"
    packs.mkdir()
    put(packs / "mine.toml", GOOD, 1)
    config = dataclasses.replace(config, rules=RulesSection(packs_dirs=(str(packs),)))
    rt, _console = _runtime(store, clock, config)
    rt.close()
    put(packs / "mine.toml", BAD, 2)
    rt, console = _runtime(store, clock, config)
    try:
        ev = Message(event_id="w:2", platform="wecom", occurred_at=T0, actor=Actor(platform_id="wmBuyer"),
                     text="甲方这边没问题", recipients=("zhangwei",))
        console.ctx.accept("wecom", "2", {}, ev)
        rt.dispatcher.drain()
        tagged = {r[0] for r in store.conn.execute("SELECT tag FROM event_tags")}
        assert "甲" in tagged, tagged  # the company's rule, from the saved good version
        (reply,) = [r[0] for r in store.conn.execute("SELECT reply FROM outbox")]
        assert "上一版有效规则" in reply and "mine.toml:6：规则 a：weight" in reply
    finally:
        rt.close()
