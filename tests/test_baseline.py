"""/baseline on a small known dataset: the numbers, the ✓/✗ against the spec's thresholds, and who sees what."""

from __future__ import annotations

import json
import re

import pytest
from conftest import T0
from visibility_helpers import DAY, add_lead, record, visibility_config

from store import events as event_store

NOW = T0 + 29 * DAY  # Tuesday 2026-03-31 09:00 Shanghai; the 30-day window is 03-02 … 03-31 (22 working days)
SALE = (("跟进", "销售动作", 1.0),)


@pytest.fixture
def config(config, tmp_path):
    return visibility_config(config, str(tmp_path / "data"))


def leadless_actions(store, person: str, n: int, start: int) -> None:
    """Rep actions not tied to a lead (e.g. calls to numbers not matched yet): they count as actions only."""
    with store.transaction():
        for i in range(n):
            rowid = event_store.insert(store, (f"free:{person}:{i}", "call", "telephony", start + i * 3_600_000,
                                               person, person, "rep", None, None, "call", "", "", json.dumps({})))
            event_store.insert_tags(store, [(rowid, "外呼", "销售动作", 1.0, "test", None, start + i * 3_600_000)])


@pytest.fixture
def dataset(runtime, store, clock):
    # 张伟 r1: lead A, actions after 1, 2 and 4 days, then waiting 22 days; lead B closed after one action 2 days in
    add_lead(store, "A", "r1", T0, customer="甲公司")
    record(store, "A", T0 + 1 * DAY, person="r1")
    record(store, "A", T0 + 3 * DAY, person="r1", tags=(("已发送报价单v2.3", "销售动作", 2.0), ("资料交付", "销售动作", 1.0)))
    record(store, "A", T0 + 7 * DAY, person="r1")
    record(store, "A", T0 + 8 * DAY, role="customer", text="收到", tags=(("客户回复", "客户响应", 1.0),))
    add_lead(store, "B", "r1", T0 + 10 * DAY, customer="乙公司")
    record(store, "B", T0 + 12 * DAY, person="r1")
    with store.transaction():
        store.conn.execute("UPDATE leads SET status = 'won', closed_at = ? WHERE id = 'B'", (T0 + 12 * DAY,))
    leadless_actions(store, "r1", 176, T0 + 2 * DAY)
    leadless_actions(store, "r1", 5, T0 - 5 * DAY)  # before the window: not counted
    # 李娜 r2: lead C never followed up (29 days), lead E from before the window (gap of 8 days ends before it)
    add_lead(store, "C", "r2", T0, customer="丙公司")
    add_lead(store, "E", "r2", T0 - 10 * DAY, customer="戊公司")
    record(store, "E", T0 - 2 * DAY, person="r2")
    record(store, "E", T0 + 1 * DAY, person="r2")
    clock.set(NOW)
    return runtime


async def ask(runtime, user: str) -> str:
    runtime.console.type_line(user, "/基线")
    await runtime.settle()
    return runtime.console.delivered[-1].text


def rows(text: str) -> dict[str, tuple[str, str, str, str]]:
    """label → (follow-up days, mark, actions/day, mark)."""
    out = {}
    for m in re.finditer(r"^(\S+)：跟进时长 (\S+) 天 (\S)（\d+ 个间隔）｜日均有效动作 (\S+) (\S)", text, re.M):
        out[m.group(1)] = (m.group(2), m.group(3), m.group(4), m.group(5))
    return out


async def test_numbers_on_a_known_dataset(dataset):
    text = await ask(dataset, "王经理")
    got = rows(text)
    # 张伟: gaps 1, 2, 4, 22 (open, waiting) + 2 (B) → 31/5 = 6.2 ✓; 180 actions / 22 working days = 8.2 ✓
    assert got["张伟"] == ("6.2", "✓", "8.2", "✓")
    # 李娜: gaps 29 (C), 3 and 28 (E) → 20.0 ✗; one action in the window → 1/22 = 0.0 ✗
    assert got["李娜"] == ("20.0", "✗", "0.0", "✗")
    # team: all eight gaps 91/8 = 11.4 ✗; (180 + 1) / (22 × 2 reps) = 4.1 ✗
    assert got["华东一组（团队）"] == ("11.4", "✗", "4.1", "✗")
    assert "22 个工作日" in text and "11.3" in text and "7.2" in text and "4.7" in text and "8.1" in text
    assert "口径" in text and "创建时刻" in text


async def test_who_sees_what(dataset):
    rep = rows(await ask(dataset, "张伟"))
    assert set(rep) == {"张伟", "华东一组（团队）"}
    other = rows(await ask(dataset, "陈总监"))
    assert set(other) == {"华南组（团队）", "刘洋"}
    assert other["刘洋"] == ("—", "—", "0.0", "✗")
    admin = rows(await ask(dataset, "管理员"))
    assert {"全公司", "华东一组（团队）", "华南组（团队）", "张伟", "李娜", "刘洋"} <= set(admin)
    assert "没有权限" in await ask(dataset, "wmSTRANGER")
