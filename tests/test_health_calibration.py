"""Deal health (defect 15): the graded indicators are judged against the company's own won deals, and the demo
company's pipeline rates like a real one (mostly green/yellow, a minority red) instead of 31 of 78 red."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

from bot.config import ForecastHealthSection
from bot.demo.company import generate_company
from handlers.forecast import demo_seed, health
from store import customers as customer_store
from store import deals as deal_store
from store import leads as lead_store
from store.deals import Deal, Details

DAY = 86_400_000
NOW = 1_780_000_000_000


def deal(**details) -> Deal:
    fields = {f.name for f in dataclasses.fields(Deal)}
    values = dict(id="d", title="t", customer_id="c", customer_name="c", customer_industry="", owner_id="r1", status="won", stage="",
                  product="", amount=100_000.0, created_at=NOW - 90 * DAY, expected_close_at=NOW + 60 * DAY,
                  closed_at=None, last_activity_at=None, details=Details(source="crm", **details))
    return Deal(**{k: v for k, v in values.items() if k in fields})


def test_thresholds_follow_the_company_s_won_deals():
    cfg = ForecastHealthSection()
    # this company wins with a disputed clause or two all the time, and never below 70 % validation
    won = [deal(disputed_clauses=1 + (i % 8 == 0), tech_validation=0.7 + (i % 30) / 100) for i in range(40)]
    cal = health.calibrated(cfg, won)
    assert (cal.disputed_yellow, cal.disputed_red) == (2, 3)
    assert 0.7 <= cal.tech_red_below < cal.tech_yellow_below <= 0.8
    one_clause = deal(disputed_clauses=1, tech_validation=0.9, approver_met=True, legal_review="passed")
    assert health.assess(one_clause, NOW, cfg).colour == health.YELLOW  # the fixed rule: one clause is a warning
    assert health.assess(one_clause, NOW, cal).colour == health.GREEN  # here it is how deals are won
    weak = deal(disputed_clauses=0, tech_validation=0.65, approver_met=True, legal_review="passed")
    assert health.assess(weak, NOW, cfg).colour == health.GREEN
    assert health.assess(weak, NOW, cal).colour == health.RED  # below every won deal of this company


def test_too_little_history_keeps_the_fixed_values():
    cfg = ForecastHealthSection()
    assert health.calibrated(cfg, [deal(disputed_clauses=5, tech_validation=0.1)] * 29) == cfg
    assert health.calibrated(dataclasses.replace(cfg, calibrate_from_history=False),
                             [deal(disputed_clauses=5, tech_validation=0.1)] * 100) == \
        dataclasses.replace(cfg, calibrate_from_history=False)


def test_the_demo_pipeline_rates_like_a_real_one(store):
    company = generate_company(7)
    with store.transaction():
        for c in company.customers:
            customer_store.upsert(store, c.id, c.name, industry=c.industry, created_at=c.created_at)
        for ld in company.leads:
            lead_store.upsert(store, ld.id, ld.customer_id, None, ld.id, ld.created_at, status=ld.status,
                              amount=ld.amount, expected_close_at=ld.planned_close_at, closed_at=ld.closed_at)
    demo_seed.seed(store, company, random.Random(7))
    cfg = health.calibrated(ForecastHealthSection(), deal_store.listing(store, status="won"))
    open_deals = deal_store.listing(store, status="open")
    colours = Counter(health.assess(d, company.now, cfg).colour for d in open_deals)
    share = {c: n / len(open_deals) for c, n in colours.items()}
    assert 0.08 <= share[health.RED] <= 0.22, colours
    assert share[health.GREEN] >= 0.15, colours
