"""Demo data for forecasts: deal details for the demo company's leads, a few procurement windows and a history
of audited revisions, so a manager in `salespulse chat` on the demo database gets interval answers with reasons.

Closed deals get details consistent with how they ended (won deals met the approver more often, had fewer
disputes …), so the win model has a signal to learn, as a real history would.
"""

from __future__ import annotations

import random

from store import deals as deal_store
from store import procurement
from store import revisions as rev_store
from store.db import Store

DAY = 86_400_000
REASONS = ("客户CFO出国，审批延迟", "新增竞争对手低价搅局", "预算削减", "客户组织架构调整", "法务审核延期", "提前签约")


def seed(store: Store, company, rng: random.Random) -> None:
    now = company.now
    with store.transaction():
        procurement.add(store, "教育局采购窗口", "09-15", "09-30", industry="教育", source="demo")
        procurement.add(store, "Q2末设备更新专项拨款", "06-01", "06-30", industry="制造", kind="budget", source="demo")
        for lead in company.leads:
            won = lead.status == "won"
            lost = lead.status == "lost"
            lean = 0.25 if won else (-0.25 if lost else 0.0)

            def chance(p: float, lean: float = lean) -> bool:
                return rng.random() < min(0.95, max(0.05, p + lean))

            intent = chance(0.35)
            fields = dict(
                intent_letter=intent,
                has_seal=intent and chance(0.6), has_budget_range=intent and chance(0.7),
                has_named_contact=intent and chance(0.8), has_next_meeting=intent and chance(0.7),
                intent_force=rng.choice(("法律约束", "框架共识", "初步探讨")) if intent else "",
                decision_people=rng.randint(1, 4), decision_rank=rng.randint(1, 5),
                approver_met=chance(0.45) if rng.random() < 0.9 else None,
                competitors=max(0, int(rng.gauss(1.5 - 2 * lean, 1))),
                competitor_move=chance(0.2, -lean),
                tech_validation=round(min(1.0, max(0.0, rng.gauss(0.55 + lean, 0.25))), 2),
                disputed_clauses=max(0, int(rng.gauss(1 - 3 * lean, 1))),
                legal_review=rng.choice(("", "pending", "passed")) if not lost else rng.choice(("", "pending", "failed")),
                payment_punctuality=round(min(1.0, max(0.2, rng.gauss(0.8 + lean / 2, 0.15))), 2),
                years_cooperation=float(rng.randint(0, 6)),
                budget_share=round(min(1.0, max(0.0, rng.gauss(0.25 + lean / 2, 0.15))), 2),
                close_slips=rng.choice((0, 0, 0, 1, 2)) if lead.status == "open" else 0,
                industry=next((c.industry for c in company.customers if c.id == lead.customer_id), ""),
                source="demo",
            )
            deal_store.upsert_details(store, lead.id, now, **fields)
        open_leads = [lead for lead in company.leads if lead.status == "open"]
        for i in range(min(40, len(open_leads))):
            lead = rng.choice(open_leads)
            at = now - rng.randint(1, 56) * DAY
            field = rng.choice(("amount", "probability", "close_date"))
            rev_store.add(store, lead.id, field, "—", "—", rng.choice(REASONS), lead.owner_id, at, f"demo:{i}")
