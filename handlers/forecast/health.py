"""Deal health: red / yellow / green over six indicators, thresholds from bot.toml [forecast.health].

The indicators: decision-chain completeness (final approver met?), disputed contract clauses, legal review,
technical validation progress, customer responsiveness (last customer event) and expected-close slips. The deal
takes the worst colour; every non-green indicator names its reason (prompt key + values).

The two graded indicators (disputed clauses, technical validation) are judged against the company's own won
deals when there are enough of them ([forecast.health] history_min_deals): yellow when fewer than yellow_share of
the deals this company won looked this bad, red when fewer than red_share did. A team whose won deals routinely
close with one disputed clause is not alarmed by one; a team that never wins below 70 % validation is warned at
65 %. Without that history the fixed values in bot.toml apply. The time-bound indicators (approver, legal review,
silence, slips) stay fixed rules: closed deals do not record when those things happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.config import ForecastHealthSection
from store.deals import Deal

GREEN, YELLOW, RED = "green", "yellow", "red"
_ORDER = {GREEN: 0, YELLOW: 1, RED: 2}
DAY = 86_400_000


@dataclass
class Health:
    colour: str
    issues: list[tuple[str, str, dict]] = field(default_factory=list)  # (colour, prompt key, values)


def _share_at_least(values: list[float], n: float) -> float:
    return sum(1 for v in values if v >= n) / len(values)


def _share_below(values: list[float], t: float) -> float:
    return sum(1 for v in values if v < t) / len(values)


def calibrated(cfg: ForecastHealthSection, won: Iterable[Deal]) -> ForecastHealthSection:
    """The thresholds for this company: disputed clauses and technical validation from its won deals (see the
    module docstring), each only when at least history_min_deals won deals carry that value; the rest as set."""
    if not cfg.calibrate_from_history:
        return cfg
    won = list(won)
    out = cfg
    disputed = [float(d.details.disputed_clauses) for d in won if d.details.source != ""]
    if len(disputed) >= cfg.history_min_deals:
        # the smallest count that fewer than the share of won deals reached (at least one more than the last)
        yellow = next(n for n in range(1, 100) if _share_at_least(disputed, n) <= cfg.yellow_share)
        red = next(n for n in range(yellow + 1, 101) if _share_at_least(disputed, n) <= cfg.red_share)
        out = replace(out, disputed_yellow=yellow, disputed_red=red)
    tech = sorted(d.details.tech_validation for d in won if d.details.tech_validation is not None)
    if len(tech) >= cfg.history_min_deals:
        # the lowest progress with no more than the share of won deals below it
        red = tech[math.floor(cfg.red_share * len(tech))]
        yellow = max(red, tech[math.floor(cfg.yellow_share * len(tech))])
        out = replace(out, tech_red_below=red, tech_yellow_below=yellow)
    return out


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
