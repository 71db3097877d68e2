"""Demo data for forecasts: deal details for the demo company's leads, a few procurement windows and a history
of audited revisions, so a manager in `salespulse chat` on the demo database gets interval answers with reasons.

Closed deals get details consistent with how they ended (won deals met the approver more often, had fewer
disputes …), so the win model has a signal to learn, as a real history would. Open deals get details that fit
how far along they are and where they are heading (_open_progress): a deal a week from its expected close has
usually met the approver and is in legal review; most open deals are on track, a few are in trouble — the
/health distribution of a real pipeline, not six independent coin flips per deal.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.forecast.commands import reason_direction
from store import deals as deal_store
from store import procurement
from store import revisions as rev_store
from store.db import Store

DAY = 86_400_000
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo company's timezone
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
            if lead.status == "open":
                fields.update(_open_progress(lead, now))
            deal_store.upsert_details(store, lead.id, now, **fields)
        open_leads = [lead for lead in company.leads if lead.status == "open"]
        for i in range(min(40, len(open_leads))):
            lead = rng.choice(open_leads)
            at = now - rng.randint(1, 56) * DAY
            field = rng.choice(("amount", "probability", "close_date"))
            old, new = _demo_values(field, lead, i)
            reason = _fitting_reason(rng.choice(REASONS), _demo_direction(field, i), i)
            rev_store.add(store, lead.id, field, old, new, reason, lead.owner_id, at, f"demo:{i}")


def _demo_direction(field: str, i: int) -> str:
    """Which way `_demo_values` moves the deal for revision `i`: "up" (more, likelier, sooner) or "down"."""
    if field == "amount":
        return "down" if i % 2 else "up"
    if field == "probability":
        return "up" if i % 3 else "down"
    return "down"  # the close date moves later


def _fitting_reason(drawn: str, direction: str, i: int) -> str:
    """The drawn reason when it fits the change's direction (or is neutral), else a fitting one: the demo's
    history must read like what `/调整` accepts ("提前签约" does not explain a cut amount). The draw itself is
    kept, so the rest of the demo draws the same numbers as before."""
    if reason_direction(drawn) in (direction, ""):
        return drawn
    fitting = [r for r in REASONS if reason_direction(r) in (direction, "")]
    return fitting[i % len(fitting)]


def _open_progress(lead, now: int) -> dict:
    """Approver, legal review, validation, disputes and slips of an open deal from its progress through its planned
    life and a hidden fate (on track 62 %, unclear 26 %, in trouble 12 %). Drawn from the lead's own generator so
    the shared one (and with it the rest of the demo) draws the same numbers as before."""
    rng = random.Random(f"demo-open:{lead.id}")
    progress = min(1.0, max(0.0, (now - lead.created_at) / max(lead.planned_close_at - lead.created_at, DAY)))
    fate = rng.choices((0.2, 0.0, -0.3), weights=(62, 26, 12))[0]
    met = rng.random() < min(0.95, max(0.05, 0.25 + 0.7 * progress + fate))
    if progress < 0.5:
        legal = rng.choice(("", "", "pending"))
    else:
        legal = "passed" if rng.random() < min(0.95, max(0.05, 0.35 + 0.6 * (progress - 0.5) * 2 + fate)) else "pending"
    return dict(
        approver_met=met,
        legal_review=legal,
        tech_validation=round(min(1.0, max(0.0, rng.gauss(0.5 + 0.4 * progress + fate, 0.12))), 2),
        disputed_clauses=max(0, int(rng.gauss(0.3 - 2 * fate, 0.8))),
        close_slips=rng.choices((0, 1, 2), weights=(82, 16, 2) if fate >= 0 else (30, 45, 25))[0],
    )


def _wan(x: float) -> str:
    return f"{x / 10_000:.1f}".rstrip("0").rstrip(".") + "万"


def _demo_values(field: str, lead, i: int) -> tuple[str, str]:
    """Plausible old → new values for a seeded revision (no "— → —" in /deal), derived without the rng so the
    rest of the demo draws the same numbers as before."""
    if field == "amount":
        return _wan(round(lead.amount * (1.2 if i % 2 else 0.85), -3)), _wan(lead.amount)
    if field == "probability":
        old = 20 + (i * 7) % 50
        return f"{old}%", f"{old + (10 if i % 3 else -10)}%"
    new = datetime.fromtimestamp(lead.planned_close_at / 1000, SHANGHAI).date()
    return (new - timedelta(days=14 + 7 * (i % 3))).isoformat(), new.isoformat()
