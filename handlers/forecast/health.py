"""Deal health: red / yellow / green over six indicators, thresholds from bot.toml [forecast.health].

The indicators: decision-chain completeness (final approver met?), disputed contract clauses, legal review,
technical validation progress, customer responsiveness (last customer event) and expected-close slips. The deal
takes the worst colour; every non-green indicator names its reason (prompt key + values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import ForecastHealthSection
from store.deals import Deal

GREEN, YELLOW, RED = "green", "yellow", "red"
_ORDER = {GREEN: 0, YELLOW: 1, RED: 2}
DAY = 86_400_000


@dataclass
class Health:
    colour: str
    issues: list[tuple[str, str, dict]] = field(default_factory=list)  # (colour, prompt key, values)


def assess(deal: Deal, now_ms: int, cfg: ForecastHealthSection, last_response_ms: int | None = None) -> Health:
    d = deal.details
    issues: list[tuple[str, str, dict]] = []
    days_to_close = None if deal.expected_close_at is None else (deal.expected_close_at - now_ms) / DAY
    # 1 decision chain
    if d.approver_met is not True:
        near = days_to_close is not None and days_to_close <= cfg.approver_unmet_red_days
        # the red one says why it is red (the close is near), or it reads the same as the yellow one
        key = "h_approver" if not near else ("h_approver_overdue" if days_to_close < 0 else "h_approver_near")
        issues.append((RED if near else YELLOW, key, {"days": abs(round(days_to_close or 0))}))
    # 2 disputed clauses
    if d.disputed_clauses >= cfg.disputed_red:
        issues.append((RED, "h_disputed", {"n": d.disputed_clauses}))
    elif d.disputed_clauses >= cfg.disputed_yellow:
        issues.append((YELLOW, "h_disputed", {"n": d.disputed_clauses}))
    # 3 legal review
    if d.legal_review == "failed":
        issues.append((RED, "h_legal_failed", {}))
    elif d.legal_review != "passed" and days_to_close is not None and days_to_close < 0:
        issues.append((RED, "h_legal_overdue", {"days": round(-days_to_close)}))
    elif d.legal_review != "passed" and days_to_close is not None and days_to_close <= cfg.legal_pending_red_days:
        issues.append((RED, "h_legal_late", {"days": round(days_to_close)}))
    elif d.legal_review == "pending":
        issues.append((YELLOW, "h_legal_pending", {}))
    # 4 technical validation
    if d.tech_validation is not None:
        pct = round(d.tech_validation * 100)
        if d.tech_validation < cfg.tech_red_below:
            issues.append((RED, "h_tech", {"pct": pct}))
        elif d.tech_validation < cfg.tech_yellow_below:
            issues.append((YELLOW, "h_tech", {"pct": pct}))
    # 5 customer responsiveness
    if last_response_ms is not None:
        silent = (now_ms - last_response_ms) / DAY
        if silent >= cfg.silent_red_days:
            issues.append((RED, "h_silent", {"days": int(silent)}))
        elif silent >= cfg.silent_yellow_days:
            issues.append((YELLOW, "h_silent", {"days": int(silent)}))
    # 6 expected-close slips (an expected close already past counts as one more)
    slips = d.close_slips + (1 if days_to_close is not None and days_to_close < 0 else 0)
    if slips >= cfg.slips_red:
        issues.append((RED, "h_slips", {"n": slips}))
    elif slips >= cfg.slips_yellow:
        issues.append((YELLOW, "h_slips", {"n": slips}))
    colour = max((c for c, _k, _v in issues), key=_ORDER.__getitem__, default=GREEN)
    issues.sort(key=lambda i: -_ORDER[i[0]])
    return Health(colour, issues)
