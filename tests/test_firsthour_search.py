"""User text reaching SQL LIKE is matched literally (issue 13, defect 4): `/商机 %` or `_` used to match every
deal a person may see, the same in `/heatmap`, `/timeline`, and customer look-ups."""

from __future__ import annotations

import pytest
from test_forecast_chat import ask, seed

from store import customers as customer_store
from store import deals as deal_store
from store import leads as lead_store
from store import timeline as timeline_store


@pytest.mark.parametrize("text", ["%", "_", "%%", "华东_网", "\\"])
def test_wildcards_match_nothing_in_every_search(runtime, text):
    seed(runtime.store)
    s = runtime.store
    assert deal_store.search(s, text) == []
    assert lead_store.search(s, text) == []
    assert customer_store.search(s, text) == []
    assert timeline_store.search_leads(s, text, None) == []


def test_a_literal_percent_or_underscore_in_a_name_is_found(runtime):
    seed(runtime.store)
    s = runtime.store
    with s.transaction():
        customer_store.upsert(s, "c9", "百分_百科技")
        lead_store.upsert(s, "L9", "c9", "r1", "100%覆盖项目", 0)
    assert [d.id for d in deal_store.search(s, "%覆盖")] == ["L9"]
    assert [c.id for c in customer_store.search(s, "分_百")] == ["c9"]


async def test_deal_percent_in_chat_is_not_a_list_of_every_deal(runtime):
    seed(runtime.store)
    texts = await ask(runtime, "王经理", "/商机 %")
    body = "\n".join(texts)
    assert "华东电网" not in body and "明德中学" not in body
