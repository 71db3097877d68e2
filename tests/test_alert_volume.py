"""Alert volume (defect 15): one card per person per sweep, an hourly budget per person, the rest in the digest;
alerts that must not wait (missed calls) and answers to commands are never held."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import T0
from visibility_helpers import HOUR, MINUTE, add_lead, make_runtime, visibility_config

from bot import pushes
from bot.config import JobSection, SchedulerSection
from bot.context import Context, Services
from bot.replies import Button, Reply
from prompts import Prompts


@pytest.fixture
def config(config, tmp_path):
    cfg = visibility_config(config, str(tmp_path / "data"))
    return dataclasses.replace(cfg, scheduler=SchedulerSection(jobs=(
        JobSection(name="silence_sweep", cron="* * * * *"), JobSection(name="daily_digest", cron="0 18 * * *"))))


@pytest.fixture
def runtime(store, clock, config):
    return make_runtime(store, clock, config)


async def jump(runtime, clock, target: int) -> None:
    if target - 2 * MINUTE > clock.now_ms():
        clock.set(target - 2 * MINUTE)
        await runtime.settle()
    await runtime.advance_to(target)


def to(runtime, person: str) -> list:
    return [d for d in runtime.console.delivered if d.target.person_id == person]


async def test_one_sweep_one_card_per_person(runtime, clock, store):
    for n, customer in enumerate(("甲机械", "乙电子", "丙包装")):
        add_lead(store, f"A{n}", "r1", T0, customer=customer)
    add_lead(store, "B0", "r2", T0, customer="丁阀门")
    await jump(runtime, clock, T0 + 72 * HOUR + MINUTE)
    mine = to(runtime, "r1")
    assert len(mine) == 1, [d.key for d in mine]
    card = mine[0]
    assert card.reply.title == "3条新提醒"
    assert all(name in card.text for name in ("甲机械", "乙电子", "丙包装"))
    # each alert keeps its buttons, numbered after its line
    assert [b.text for b in card.reply.buttons] == [f"{i}·{b}" for i in (1, 2, 3) for b in ("查看热力图", "查看时间线")]
    # the manager: one card for the four leads of two reps; r2's single alert is the ordinary card
    assert len(to(runtime, "m1")) == 1 and to(runtime, "m1")[0].reply.title == "4条新提醒"
    assert len(to(runtime, "r2")) == 1 and "丁阀门" in to(runtime, "r2")[0].reply.title
    # the ledger knows every alert: a later sweep does not push them again
    await runtime.advance_to(T0 + 72 * HOUR + 5 * MINUTE)
    assert len(to(runtime, "r1")) == 1


async def test_over_the_hourly_budget_alerts_wait_for_the_digest(runtime, clock, store, config):
    runtime.services.config = dataclasses.replace(config, alerts=dataclasses.replace(config.alerts,
                                                                                      max_pushes_per_hour=2))
    for n in range(4):  # four leads falling silent ten minutes apart: four sweeps, one alert each
        add_lead(store, f"C{n}", "r1", T0 + n * 10 * MINUTE, customer=f"客户{n}号")
    await jump(runtime, clock, T0 + 72 * HOUR - MINUTE)
    await runtime.advance_to(T0 + 72 * HOUR + 31 * MINUTE)  # minute by minute: one sweep each
    mine = to(runtime, "r1")
    assert len(mine) == 2 and "客户0号" in mine[0].text and "客户1号" in mine[1].text
    held = store.conn.execute("SELECT key FROM push_ledger WHERE person_id = 'r1' AND status = 'held'").fetchall()
    assert len(held) == 2
    # the manager has a budget of their own, also spent: two cards, two held
    assert len(to(runtime, "m1")) == 2
    # an hour after the first card the budget has room again
    add_lead(store, "C9", "r1", T0 + 80 * MINUTE, customer="客户9号")
    await runtime.advance_to(T0 + 72 * HOUR + 81 * MINUTE)
    assert "客户9号" in to(runtime, "r1")[-1].text
    # the evening digest carries what was held: in the manager's digest, in a summary card for the rep
    await jump(runtime, clock, T0 + 81 * HOUR + MINUTE)  # 18:00 Shanghai
    digest = [d for d in to(runtime, "m1") if d.key.startswith("digest:daily")]
    assert len(digest) == 1 and "另有2条提醒已并入日报" in digest[0].text and "客户2号" in digest[0].text
    summary = [d for d in to(runtime, "r1") if d.key.startswith("digest:daily")]
    assert len(summary) == 1 and summary[0].reply.title == "提醒汇总"
    assert "客户2号" in summary[0].text and "客户3号" in summary[0].text
    assert store.conn.execute("SELECT COUNT(*) FROM push_ledger WHERE status = 'held'").fetchone()[0] == 0


async def test_never_capped_alerts_and_command_answers_go_out_at_once(runtime, clock, store, config):
    cfg = dataclasses.replace(config, alerts=dataclasses.replace(config.alerts, max_pushes_per_hour=1))
    services = Services(store=store, config=cfg, clock=clock, directory=runtime.services.directory,
                        prompts=Prompts("zh-CN"))
    ctx = Context(services, None)
    with store.transaction():
        assert ctx.notify("r1", Reply.card("沉默提醒一", "…"), "silence:X1:1")
        assert ctx.notify("r1", Reply.card("沉默提醒二", "…"), "silence:X2:1")  # over budget: held
        assert ctx.notify("r1", Reply.card("未接来电", "…", buttons=(Button("我来回电", "claim"),)), "missed-call:7")
        assert not ctx.notify("r1", Reply.card("沉默提醒二", "…"), "silence:X2:1")  # already held: not twice
        assert ctx.notify("r1", Reply.card("今日待办", "…"), "today:2026-03-05")  # the morning card is a digest
    keys = [r[0] for r in store.conn.execute("SELECT idempotency_key FROM outbox ORDER BY id")]
    assert keys == ["silence:X1:1:r1", "missed-call:7:r1", "today:2026-03-05:r1"]
    assert pushes.push_store.held(store, "r1")[0][2] == "沉默提醒二"


async def test_grouping_can_be_switched_off(runtime, clock, store, config):
    runtime.services.config = dataclasses.replace(config, alerts=dataclasses.replace(config.alerts,
                                                                                      group_per_sweep=False))
    for n in range(3):
        add_lead(store, f"D{n}", "r1", T0, customer=f"戊{n}")
    await jump(runtime, clock, T0 + 72 * HOUR + MINUTE)
    assert len(to(runtime, "r1")) == 3
