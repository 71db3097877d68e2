"""The chat forecast: win model + timing + procurement calendar + Monte Carlo for one scope and period.

Runs in a deferred job (worker thread, read-only store). Returns plain data; commands.py renders the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from bot.config import ForecastSection
from handlers.forecast import calendar, model, timing
from handlers.forecast.book import Book, DealRow
from handlers.forecast.periods import Period, date_ms, local_date
from handlers.forecast.simulate import Outcome, simulate
from store import deals as deal_store
from store import procurement
from store.db import Store
from store.deals import Deal


@dataclass
class DealView:
    deal: Deal
    explained: model.Explained
    p_period: float
    shift: calendar.Shift | None = None


@dataclass
class Forecast:
    period: Period
    outcome: Outcome
    won_to_date: float
    views: list[DealView]
    new_mu: float
    history_periods: int
    fallback: bool
    reasons: list[tuple[str, dict]] = field(default_factory=list)  # prompt key suffix, values


def to_row(d: Deal) -> DealRow:
    return DealRow(id=d.id, created_at=d.created_at, status=d.status, amount=d.amount, closed_at=d.closed_at,
                   expected_close_at=d.expected_close_at, owner=d.owner_id or "", product=d.product,
                   customer=d.customer_id if d.details.customer_known else "", industry=d.industry, stage=d.stage)


@dataclass
class Models:
    win: model.WinModel
    closed_sorted: list[Deal]
    windows: list[procurement.Window]
    responsiveness: dict[str, float]


def build_models(store: Store, all_deals: list[Deal], cfg: ForecastSection, now_ms: int) -> Models:
    closed = sorted((d for d in all_deals if d.status != "open"), key=lambda d: (d.closed_at or d.created_at, d.id))
    win = model.fit(closed, prior=cfg.base_rate_prior, strength=cfg.prior_strength, min_fit=cfg.min_fit_deals,
                    intent_cap=cfg.intent_cap)
    open_ids = [d.id for d in all_deals if d.status == "open"]
    last = deal_store.last_customer_response(store, open_ids)
    resp = {}
    for lead_id, at in last.items():
        days_ago = (now_ms - at) / 86_400_000
        resp[lead_id] = 1.0 if days_ago <= 7 else (-1.0 if days_ago > 14 else 0.0)
    return Models(win, closed, procurement.all_windows(store), resp)


def explain(models: Models, deal: Deal) -> model.Explained:
    base = models.win.base_of(deal)
    att = model.rep_attainment(models.closed_sorted, deal, base)
    return models.win.explain(deal, att, models.responsiveness.get(deal.id, 0.0))


def run(store: Store, cfg: ForecastSection, tz: ZoneInfo, now_ms: int, period: Period, owners: list[str] | None,
        target: float | None, seed: int = 0) -> Forecast:
    all_deals = deal_store.listing(store)
    models = build_models(store, all_deals, cfg, now_ms)
    book = Book.from_rows(to_row(d) for d in all_deals)
    tm = timing.fit(book, now_ms, period.kind, tz, prior_strength=cfg.prior_strength, base_rate=cfg.base_rate_prior,
                    history_periods=cfg.history_periods, month_sd_prior=cfg.month_sd_prior,
                    slip_prior_days=cfg.slip_prior_days, slip_prior_sd_days=cfg.slip_prior_sd_days)
    start, end = period.ms(tz)
    in_scope = (lambda d: True) if owners is None else (lambda d, s=set(owners): d.owner_id in s)
    won_to_date = sum(d.amount for d in all_deals if d.status == "won" and in_scope(d)
                      and d.closed_at is not None and start <= d.closed_at < min(end, now_ms + 1))
    remaining = max(0.0, min(1.0, (end - max(now_ms, start)) / (end - start)))
    views: list[DealView] = []
    open_deals = [d for d in all_deals if d.status == "open" and in_scope(d)]
    hazard_mask = np.zeros(len(all_deals), dtype=bool)
    index = {d.id: i for i, d in enumerate(all_deals)}
    for d in open_deals:
        hazard_mask[index[d.id]] = d.expected_close_at is None
    hazard_p = dict(zip(book.ids[hazard_mask], tm.hazard(book, hazard_mask, period), strict=True)) if tm.periods else {}
    for d in open_deals:
        ex = explain(models, d)
        sh = None
        if d.expected_close_at is not None:
            exp_date = local_date(d.expected_close_at, tz)
            sh = calendar.shift_close(models.windows, d.customer_id, d.industry, exp_date)
            expected = date_ms(sh.shifted, tz) if sh else d.expected_close_at
            p = ex.probability * float(tm.in_period(np.array([expected]), period)[0])
        elif d.id in hazard_p:
            # history-based timing; the deal's own evidence moves it by its win probability relative to base
            rel = ex.probability / max(ex.base, 1e-6)
            p = min(1.0, float(hazard_p[d.id]) * rel * remaining)
        else:
            p = ex.probability * remaining * (period.end - period.start).days / 90.0
        views.append(DealView(d, ex, min(max(p, 0.0), 1.0), sh))
    new_mu, new_sd = tm.new_revenue(period.position)
    if owners is not None and new_mu > 0:
        won_all = sum(d.amount for d in all_deals if d.status == "won") or 1.0
        new_mu *= sum(d.amount for d in all_deals if d.status == "won" and in_scope(d)) / won_all
    new_mu *= remaining
    p = np.array([v.p_period for v in views])
    amounts = np.array([v.deal.amount for v in views])
    rng = np.random.default_rng(seed)
    remaining_target = None if target is None else max(target - won_to_date, 0.0)
    out = simulate(p, amounts, common_sd=tm.common_sd(), new_mu=new_mu, new_sd=new_sd, draws=cfg.draws, rng=rng,
                   band=cfg.confidence_band, target=remaining_target)
    if won_to_date:
        out = _shift(out, won_to_date, cfg.confidence_band, target)
    fc = Forecast(period, out, won_to_date, views, new_mu, tm.periods, models.win.fallback)
    fc.reasons = reasons(fc)
    return fc


def _shift(out: Outcome, add: float, band: float, target: float | None) -> Outcome:
    total = out.samples + add
    p10, p50, p90 = (float(v) for v in np.percentile(total, [10, 50, 90]))
    conf = float(np.mean(np.abs(total - p50) <= band * p50)) if p50 > 0 else 0.0
    prob = float(np.mean(total >= target)) if target else None
    return Outcome(total, out.pipeline, out.new, p10, p50, p90, float(total.mean()), conf, prob, target,
                   out.variance_parts)


def reasons(fc: Forecast) -> list[tuple[str, dict]]:
    """The two or three biggest reasons the confidence is not higher, as (prompt key, values)."""
    cands: list[tuple[float, str, dict]] = []
    parts = fc.outcome.variance_parts
    mean = max(fc.outcome.mean, 1.0)
    if fc.new_mu > 0:
        cands.append((parts.get("new", 0) + 0.05, "reason_new", {"pct": round(100 * fc.new_mu / mean)}))
    if fc.views:
        ranked = sorted(fc.views, key=lambda v: -(v.p_period * (1 - v.p_period) * v.deal.amount ** 2))[:3]
        big = [v for v in ranked if 0.15 <= v.p_period <= 0.85]
        if big:
            cands.append((parts.get("deals", 0), "reason_big_deals",
                          {"n": len(big), "names": "、".join(v.deal.title for v in big),
                           "amount": sum(v.deal.amount for v in big)}))
        # the negative factor that weighs on the most expected money
        weight: dict[str, list[float]] = {}
        for v in fc.views:
            for name, change in v.explained.contributions:
                if change < -0.05:
                    weight.setdefault(name, []).append(v.deal.amount)
            if v.explained.capped:
                weight.setdefault("intent_cap", []).append(v.deal.amount)
        total_amount = sum(v.deal.amount for v in fc.views) or 1.0
        for name, amounts in sorted(weight.items(), key=lambda kv: -sum(kv[1]))[:2]:
            share = sum(amounts) / total_amount
            cands.append((share * 0.5, "reason_factor", {"factor": name, "n": len(amounts),
                                                         "pct": round(100 * share)}))
        shifted = [v for v in fc.views if v.shift]
        if shifted:
            cands.append((0.2, "reason_window", {"n": len(shifted)}))
    if fc.history_periods < 3:
        cands.append((parts.get("shock", 0) + 0.3, "reason_thin_history", {"n": fc.history_periods}))
    cands.sort(key=lambda c: -c[0])
    return [(k, v) for _s, k, v in cands[:3]]
