"""Defect 12: a rep's large forecast change waits for the manager's 批准 / 驳回 card and is not in forecasts
meanwhile; the rep is told it waits and told the outcome; small, downward and managers' changes apply at once."""

from __future__ import annotations

import re

import pytest
from test_forecast_chat import ask, seed

from store import deals as deal_store
from store import revisions as rev_store

pytestmark = pytest.mark.timeout(90)


def pending_rows(store):
    return [tuple(r) for r in store.conn.execute(
        "SELECT field, status, requester_id, decided_by FROM forecast_approvals ORDER BY id")]


async def said_to(runtime, who, line, person):
    """What `person` got after `who` typed `line`."""
    n = len(runtime.console.delivered)
    runtime.console.type_line(who, line)
    await runtime.settle()
    return [d.text for d in runtime.console.delivered[n:] if d.target.person_id == person]


def cards_to(runtime, person):
    return [d for d in runtime.console.delivered if d.target.person_id == person and d.reply.buttons]


async def test_a_rep_raising_a_deal_to_90_percent_waits_for_the_manager(runtime):
    store = runtime.store
    seed(store)
    (text,) = await said_to(runtime, "张伟", "/调整 华东电网巡检 概率 90% 提前签约", "r1")
    assert "已提交给王经理审批" in text and "审批前不计入预测" in text
    assert deal_store.get(store, "L1").details.probability_override is None  # not in any forecast yet
    assert rev_store.for_lead(store, "L1") == []
    (card,) = cards_to(runtime, "m1")
    assert card.reply.title == "预测调整待审批：华东电网巡检"
    assert dict(card.reply.fields)["申请人"] == "张伟" and dict(card.reply.fields)["新值"] == "90%"
    assert dict(card.reply.fields)["原因"] == "提前签约"
    assert [b.text for b in card.reply.buttons] == ["批准", "驳回"]
    # the manager's forecast does not count it
    before = "\n".join(await ask(runtime, "王经理", "/商机 华东电网巡检"))
    assert "赢单概率 90%" not in before
    assert re.search(r"待审批（未计入预测）：张伟 把概率从 \d+% 调到 90%（原因：提前签约），等王经理批准", before)

    n = len(runtime.console.delivered)
    runtime.console.type_line("m1", "1")  # 批准
    await runtime.settle()
    said = {d.target.person_id: d.text for d in runtime.console.delivered[n:]}
    assert "已批准 华东电网巡检 的调整" in said["m1"]
    assert "王经理批准了你对 华东电网巡检 的概率调整" in said["r1"] and "已计入预测" in said["r1"]
    assert deal_store.get(store, "L1").details.probability_override == pytest.approx(0.9)
    (rev,) = rev_store.for_lead(store, "L1")
    assert (rev.person_id, rev.new_value, rev.reason) == ("r1", "90%", "提前签约")
    assert store.conn.execute("SELECT approved_by FROM deal_revisions WHERE id = ?", (rev.id,)).fetchone()[0] == "m1"
    assert pending_rows(store) == [("probability", "approved", "r1", "m1")]
    # pressing again does nothing twice
    n = len(runtime.console.delivered)
    runtime.console.type_line("m1", "2")  # 驳回, after it was approved
    await runtime.settle()
    assert "已由王经理批准" in runtime.console.delivered[n].text
    assert len(rev_store.for_lead(store, "L1")) == 1


async def test_rejected_changes_nothing_and_the_rep_is_told(runtime):
    store = runtime.store
    seed(store)
    await ask(runtime, "张伟", "/调整 华东电网巡检 金额 80万 需求范围扩大")
    assert deal_store.get(store, "L1").amount == 350_000
    n = len(runtime.console.delivered)
    runtime.console.type_line("m1", "2")  # 驳回
    await runtime.settle()
    said = {d.target.person_id: d.text for d in runtime.console.delivered[n:]}
    assert "已驳回" in said["m1"] and "王经理驳回了你对 华东电网巡检 的金额调整（35万 → 80万）" in said["r1"]
    assert deal_store.get(store, "L1").amount == 350_000 and rev_store.for_lead(store, "L1") == []
    assert pending_rows(store) == [("amount", "rejected", "r1", "m1")]


@pytest.mark.parametrize("who,line,field", [
    ("张伟", "/调整 华东电网巡检 金额 40万 需求范围扩大", "amount"),  # +14 %: under the 20 % step
    ("张伟", "/调整 华东电网巡检 金额 10万 预算削减", "amount"),  # down: the forecast gets more careful
    ("张伟", "/调整 华东电网巡检 日期 2026-06-30 法务审核延期", "close_date"),  # later
    ("王经理", "/调整 华东电网巡检 概率 90% 提前签约", "probability"),  # the manager's own change
])
async def test_small_downward_and_managers_changes_apply_at_once(runtime, who, line, field):
    seed(runtime.store)
    (text,) = await ask(runtime, who, line)
    assert text.startswith("已调整 华东电网巡检")
    assert [r.field for r in rev_store.for_lead(runtime.store, "L1")] == [field]
    assert pending_rows(runtime.store) == [] and cards_to(runtime, "m1") == []


async def test_a_newer_request_replaces_the_pending_one(runtime):
    seed(runtime.store)
    await ask(runtime, "张伟", "/调整 华东电网巡检 概率 90% 提前签约")
    (text,) = await said_to(runtime, "张伟", "/调整 华东电网巡检 概率 80% 提前签约", "r1")
    assert "替代了你之前对同一项的待审批调整" in text
    assert [r[1] for r in pending_rows(runtime.store)] == ["withdrawn", "pending"]
