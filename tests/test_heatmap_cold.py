"""Cold zones mean "no touch", the same activity the silence alert counts: a day on which the lead had activity
is never drawn as cold, even when the rule packs gave that activity no weight (weight = 0) or no tag at all."""

from __future__ import annotations

import pytest
from conftest import T0
from visibility_helpers import DAY, HOUR, add_lead, record, visibility_config

SALES = "销售动作"


@pytest.fixture
def config(config, tmp_path):
    return visibility_config(config, str(tmp_path / "data"))


async def cold_row(runtime, user: str, line: str) -> str:
    before = len(runtime.console.delivered)
    runtime.console.type_line(user, line)
    await runtime.settle()
    (delivered,) = runtime.console.delivered[before:]
    rows = [ln for ln in delivered.reply.alt_text.splitlines() if ln.startswith("冷区")]
    return rows[0] if rows else ""


async def test_activity_without_weight_or_tag_is_not_a_cold_day(runtime, store, clock):
    add_lead(store, "W", "r1", T0, customer="华东机械")
    add_lead(store, "Z", "r1", T0, customer="华南机械")
    for lead in ("W", "Z"):
        record(store, lead, T0 + HOUR, person="r1", text="报价", tags=(("报价", SALES, 1.0),))
        record(store, lead, T0 + 8 * DAY, person="r1", text="拜访", tags=(("拜访", SALES, 1.0),))
    # W: the customer wrote on day 3 (no rule matched) and the rep logged a weight-0 tag on day 5
    record(store, "W", T0 + 3 * DAY, role="customer", text="[表情]", tags=())
    record(store, "W", T0 + 5 * DAY, person="r1", text="备注", tags=(("备注", SALES, 0.0),))
    clock.set(T0 + 8 * DAY + 2 * HOUR)

    assert (await cold_row(runtime, "张伟", "/heatmap 华南机械")).count("~") == 7, "days 1-7 without any touch"
    assert "~" not in await cold_row(runtime, "张伟", "/heatmap 华东机械"), "no run of 3 days without a touch"
