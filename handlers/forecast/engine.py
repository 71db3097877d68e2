"""The chat forecast: win model + timing + procurement calendar for one scope and period, combined and calibrated.

The per-deal probabilities of the open pipeline come from the win model (and the procurement calendar); they
feed the same combination the backtest measures (projection.Projector: bottom-up + top-down weighted by their
recent errors, interval width from the errors of past forecasts, won ÷ list value ratio, draws seeded per
period and as-of date). The Monte Carlo over deals (simulate.py) still says which parts of the uncertainty
weigh most (the reasons shown). Runs in a deferred job (worker thread, read-only store); returns plain data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from bot.config import ForecastSection
from handlers.forecast import calendar, calibration, model, projection, timing, value
from handlers.forecast.book import NO_TIME, Book, DealRow
from handlers.forecast.periods import Period, date_ms, local_date, of_kind
from handlers.forecast.simulate import Outcome, simulate
from store import deals as deal_store
from store import procurement
from store.db import Store
from store.deals import Deal


@dataclass
class Forecast:
    period: Period
    outcome: Outcome
    won_to_date: float
    n_deals: int
    new_mu: float
    history_periods: int
    fallback: bool
    reasons: list[tuple[str, dict]] = field(default_factory=list)  # prompt key suffix, values
    per_deal: PerDeal | None = None  # the open deals behind it (`salespulse forecast --deals-out`)


@dataclass
class PerDeal:
    """Per open deal in scope: its win probability (as /deal shows it), its chance of being won inside the rest of
    the period, and the value it is counted at; expected value = in_period × amount."""

    ids: list[str]
    titles: list[str]
    win_probability: np.ndarray
    in_period: np.ndarray
    amount: np.ndarray


def to_row(d: Deal) -> DealRow:
    return DealRow(id=d.id, created_at=d.created_at, status=d.status, amount=d.amount, closed_at=d.closed_at,
                   expected_close_at=d.expected_close_at, owner=d.owner_id or "", product=d.product,
                   customer=d.customer_id, industry=d.industry, stage=d.stage)


@dataclass
class Models:
    win: model.WinModel
    closed_sorted: list[Deal]
    reps: model.RepHistory
    windows: list[procurement.Window]
    responsiveness: dict[str, float]
    calibration: calibration.Calibration | None = None  # how far the win model was trusted (None: not measured)


_CACHE: dict[tuple, object] = {}  # fitted models by history fingerprint: a running bot refits only on change
_CACHE_MAX = 8


def _params(cfg: ForecastSection) -> tuple:
    return (cfg.base_rate_prior, cfg.prior_strength, cfg.min_fit_deals, cfg.intent_cap, cfg.history_periods,
            cfg.month_sd_prior, cfg.slip_prior_days, cfg.slip_prior_sd_days)


def _cached(key: tuple, make):
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = make()
    return _CACHE[key]


def fit_models(all_deals: list[Deal], cfg: ForecastSection, now_ms: int, tz: ZoneInfo | None = None) -> Models:
    """The win model and rep records from the deals known at `now_ms` (open ones censored at their age then):
    what `/deal` and `/forecast` use, and what the backtest scores at each past as-of date (winprob_eval).
    Its probabilities are blended with the base rate as far as its past departures from it came true
    (calibration.py: measured on the last months' cutoffs, from what was known at `now_ms` only)."""
    tz = tz or ZoneInfo("Asia/Shanghai")
    models = _fit_raw(all_deals, cfg, now_ms, tz)
    win = models.win
    if win.ages is not None and not win.fallback:
        cal = calibration.measure(all_deals, now_ms, tz, lambda past, t: _fit_past(past, cfg, t, tz),
                                  probabilities_within)
        models.win = dataclasses.replace(win, blend=cal.blend, blend_to=cal.base_rate)
        models.calibration = cal
    return models


def _fit_raw(all_deals: list[Deal], cfg: ForecastSection, now_ms: int, tz: ZoneInfo) -> Models:
    closed = sorted((d for d in all_deals if d.status != "open"), key=lambda d: (d.closed_at or d.created_at, d.id))
    open_deals = [d for d in all_deals if d.status == "open"]
    win = model.fit(closed, prior=cfg.base_rate_prior, strength=cfg.prior_strength, min_fit=cfg.min_fit_deals,
                    intent_cap=cfg.intent_cap, open_deals=open_deals, as_of=now_ms, tz=tz)
    return Models(win, closed, model.RepHistory(closed), [], {})


_PAST: dict[tuple, Models] = {}  # uncalibrated fits at past month starts, by what was known then
_PAST_MAX = 16


def _fit_past(past: list[Deal], cfg: ForecastSection, t: int, tz: ZoneInfo) -> Models:
    """The uncalibrated model at a past date `t` from `past` (the deals as known then). A month start's fit is
    the same for every later as-of date (and for the backtest's date `t` itself): cached on its exact input."""
    closed = tuple(d for d in past if d.status != "open")  # what the fit learns from (with every detail)
    key = (t, str(tz), _params(cfg), hash(closed), len(past), sum(d.created_at for d in past))
    if key not in _PAST:
        if len(_PAST) >= _PAST_MAX:
            _PAST.pop(next(iter(_PAST)))
        _PAST[key] = _fit_raw(past, cfg, t, tz)
    return _PAST[key]


def probabilities_within(models: Models, deals: list[Deal], days: int) -> np.ndarray:
    """The uncalibrated model's P(won | decided within `days` of its as-of date) for these open deals."""
    win = dataclasses.replace(models.win, ages=models.win.ages.within(days), blend=1.0)
    return deal_probabilities(dataclasses.replace(models, win=win), deals).probability


def build_models(store: Store, all_deals: list[Deal], cfg: ForecastSection, now_ms: int,
                 tz: ZoneInfo | None = None) -> Models:
    closed = [d for d in all_deals if d.status != "open"]
    # open deals' ages move the fit (censoring): refit at most hourly, and whenever a deal is added or closed
    key = ("win", store.path, _params(cfg), len(all_deals), len(closed), sum(d.closed_at or 0 for d in closed),
           sum(d.created_at for d in all_deals), now_ms // 3_600_000, deal_store.details_version(store))
    fitted = _cached(key + (str(tz),), lambda: fit_models(all_deals, cfg, now_ms, tz))
    open_ids = [d.id for d in all_deals if d.status == "open"]
    last = deal_store.last_customer_response(store, open_ids)
    resp = {}
    for lead_id, at in last.items():
        days_ago = (now_ms - at) / 86_400_000
        resp[lead_id] = 1.0 if days_ago <= 7 else (-1.0 if days_ago > 14 else 0.0)
    return Models(fitted.win, fitted.closed_sorted, fitted.reps, procurement.all_windows(store), resp)


def book_of(deals: list[Deal]) -> Book:
    return Book.from_columns(
        [d.id for d in deals], [d.created_at for d in deals], [d.status for d in deals], [d.amount for d in deals],
        [d.closed_at for d in deals], [d.expected_close_at for d in deals],
        [d.owner_id or "" for d in deals], [d.product for d in deals],
        [d.industry for d in deals], [d.stage for d in deals])


def explain(models: Models, deal: Deal) -> model.Explained:
    att = models.reps.attainment(deal, models.win.base_of(deal))
    return models.win.explain(deal, att, models.responsiveness.get(deal.id, 0.0))


def deal_probabilities(models: Models, open_deals: list[Deal]) -> model.Many:
    """`explain` for many open deals at once (vectorised; equal to it deal by deal)."""
    raw = np.clip(np.array(models.win.bases(open_deals), dtype=float), 1e-4, 1 - 1e-4)
    base = 1 / (1 + np.exp(-(np.log(raw / (1 - raw)) + models.win.intercept)))
    att_cache: dict[tuple, float] = {}
    rep_att = np.empty(len(open_deals))
    for i, d in enumerate(open_deals):  # open deals never appear in the closed history: one lookup per rep×product
        k = (d.owner_id, d.product, base[i])
        v = att_cache.get(k)
        if v is None:
            v = att_cache[k] = models.reps.attainment(d, base[i])
        rep_att[i] = v
    resp = np.array([models.responsiveness.get(d.id, 0.0) for d in open_deals])
    return models.win.explain_many(open_deals, rep_att, resp, raw)


def run(store: Store, cfg: ForecastSection, tz: ZoneInfo, now_ms: int, period: Period, owners: list[str] | None,
        target: float | None, seed: int = 0) -> Forecast:
    all_deals = deal_store.listing(store)
    return compute(store, all_deals, cfg, tz, now_ms, period, owners, target, seed)


def compute(store: Store, all_deals: list[Deal], cfg: ForecastSection, tz: ZoneInfo, now_ms: int, period: Period,
            owners: list[str] | None, target: float | None, seed: int = 0) -> Forecast:
    """The forecast over `all_deals` (history and pipeline), vectorised over the open deals in scope."""
    models = build_models(store, all_deals, cfg, now_ms, tz)
    book = book_of(all_deals)
    done = book.closed != NO_TIME
    current = of_kind(period.kind, local_date(now_ms, tz))
    tkey = ("timing", store.path, _params(cfg), period.kind, current.label, len(book), int(done.sum()), int(book.closed[done].sum()),
            int(book.created.sum()))
    tm = _cached(tkey, lambda: timing.fit(
        book, now_ms, period.kind, tz, prior_strength=cfg.prior_strength, base_rate=cfg.base_rate_prior,
        history_periods=cfg.history_periods, month_sd_prior=cfg.month_sd_prior, slip_prior_days=cfg.slip_prior_days,
        slip_prior_sd_days=cfg.slip_prior_sd_days))
    start, end = period.ms(tz)
    scope = None if owners is None else set(owners)
    in_scope = np.array([scope is None or d.owner_id in scope for d in all_deals], dtype=bool)
    won_to_date = float(book.amount[in_scope & book.won_between(start, min(end, now_ms + 1))].sum())
    remaining = max(0.0, min(1.0, (end - max(now_ms, start)) / (end - start)))
    mask = in_scope & (book.closed == NO_TIME) & np.array([d.status == "open" for d in all_deals], dtype=bool)
    open_deals = [d for d, m in zip(all_deals, mask, strict=True) if m]
    many = deal_probabilities(models, open_deals)
    expected = book.expected[mask].copy()
    has_exp = expected != NO_TIME
    shifted = np.zeros(len(open_deals), dtype=bool)
    if models.windows:
        for i in np.flatnonzero(has_exp):
            d = open_deals[i]
            sh = calendar.shift_close(models.windows, d.customer_id, d.industry, local_date(int(expected[i]), tz),
                                      d.details.has_budget_range)
            if sh:
                expected[i], shifted[i] = date_ms(sh.shifted, tz), True
    p = np.zeros(len(open_deals))
    if has_exp.any():
        p[has_exp] = many.probability[has_exp] * tm.in_period(expected[has_exp], period)
    no_exp = ~has_exp
    if no_exp.any():
        if tm.periods:
            # history-based timing; the deal's own evidence moves it by its win probability relative to base
            sub = mask.copy()
            sub[mask] = no_exp
            rel = many.probability[no_exp] / np.maximum(many.base[no_exp], 1e-6)
            p[no_exp] = tm.hazard(book, sub, period) * rel * remaining
        else:
            p[no_exp] = many.probability[no_exp] * remaining * (period.end - period.start).days / 90.0
    p = np.clip(p, 0.0, 1.0)
    new_mu, new_sd = tm.new_revenue(period.position)
    if scope is not None and new_mu > 0:
        won_all = float(book.amount[book.won].sum()) or 1.0
        new_mu *= float(book.amount[book.won & in_scope].sum()) / won_all
    new_mu *= remaining
    amounts = book.list_amount[mask] * value.ratios(book, now_ms, mask)
    remaining_target = None if target is None else max(target - won_to_date, 0.0)
    out = simulate(p, amounts, common_sd=tm.common_sd(), new_mu=new_mu, new_sd=new_sd, draws=cfg.draws,
                   rng=projection.rng_for(seed + 1, period, now_ms), band=cfg.confidence_band, target=remaining_target)
    pkey = ("projector", store.path, _params(cfg), period.kind, tkey[4:], None if scope is None else tuple(sorted(scope)))
    proj = _cached(pkey, lambda: projection.Projector(book.subset(in_scope), period.kind, tz, params_of(cfg)))
    fc_p = proj.forecast(period, now_ms, seed=seed, draws=cfg.draws, p=p, mask=mask[in_scope],
                         tm=None if scope is not None else tm, amounts=amounts)
    out = _combined(out, fc_p, cfg.confidence_band, target)
    fc = Forecast(period, out, fc_p.won_to_date, len(open_deals), new_mu, tm.periods, models.win.fallback)
    fc.reasons = reasons(fc, p, amounts, [d.title for d in open_deals], many, shifted)

    fc.per_deal = PerDeal([d.id for d in open_deals], [d.title for d in open_deals], many.probability, p, amounts)
    return fc


def params_of(cfg: ForecastSection) -> projection.Params:
    return projection.Params(prior_strength=cfg.prior_strength, base_rate=cfg.base_rate_prior,
                             history_periods=cfg.history_periods, month_sd_prior=cfg.month_sd_prior,
                             slip_prior_days=cfg.slip_prior_days, slip_prior_sd_days=cfg.slip_prior_sd_days)


def _combined(out: Outcome, fc: projection.Projection, band: float, target: float | None) -> Outcome:
    """The combined, calibrated draws (what is already won included), with the simulation's variance parts."""
    total = fc.samples
    p10, p50, p90 = (float(v) for v in np.percentile(total, [10, 50, 90]))
    conf = float(np.mean(np.abs(total - p50) <= band * p50)) if p50 > 0 else 0.0
    prob = float(np.mean(total >= target)) if target else None
    return Outcome(total, out.pipeline, out.new, p10, p50, p90, float(total.mean()), conf, prob, target,
                   out.variance_parts)


def reasons(fc: Forecast, p: np.ndarray, amounts: np.ndarray, titles: list[str], many: model.Many,
            shifted: np.ndarray) -> list[tuple[str, dict]]:
    """The two or three biggest reasons the confidence is not higher, as (prompt key, values)."""
    cands: list[tuple[float, str, dict]] = []
    parts = fc.outcome.variance_parts
    mean = max(fc.outcome.mean, 1.0)
    if fc.new_mu > 0.05 * mean:
        cands.append((parts.get("new", 0) + 0.05, "reason_new", {"pct": min(100, round(100 * fc.new_mu / mean))}))
    if len(p):
        var = p * (1 - p) * amounts ** 2
        top = np.argsort(-var)[:3]
        big = [i for i in top if 0.15 <= p[i] <= 0.85]
        if big:
            cands.append((parts.get("deals", 0), "reason_big_deals",
                          {"n": len(big), "names": [titles[i] for i in big],  # joined by the renderer, per locale
                           "amount": float(amounts[big].sum())}))
        # the negative factors that weigh on the most expected money
        total_amount = float(amounts.sum()) or 1.0
        hurt = many.contributions < -0.05
        # the average cut says how much the factor weighs ("终审人尚未见面，权重扣减18%"), amount-weighted
        weights = {name: (int(hurt[:, j].sum()), float(amounts[hurt[:, j]].sum()),
                          float(np.average(-many.contributions[hurt[:, j], j],
                                           weights=np.maximum(amounts[hurt[:, j]], 1e-9))))
                   for j, name in enumerate(model.NAMES) if hurt[:, j].any()}
        if many.capped.any():
            weights["intent_cap"] = (int(many.capped.sum()), float(amounts[many.capped].sum()), None)
        for name, (n, amount, cut) in sorted(weights.items(), key=lambda kv: -kv[1][1])[:2]:
            share = amount / total_amount
            values = {"factor": name, "n": n, "pct": round(100 * share)}
            if cut is None:
                cands.append((share * 0.5, "reason_factor", values))
            else:
                cands.append((share * 0.5, "reason_factor_cut", dict(values, cut=round(100 * cut))))
        if shifted.any():
            cands.append((0.2, "reason_window", {"n": int(shifted.sum())}))
    if fc.history_periods < 3:
        cands.append((parts.get("shock", 0) + 0.3, "reason_thin_history", {"n": fc.history_periods}))
    cands.sort(key=lambda c: -c[0])
    return [(k, v) for _s, k, v in cands[:3]]
