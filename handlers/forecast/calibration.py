"""How far to trust the win model: measured on past dates, against the base rate, without looking ahead.

The win model's probabilities depart from the company's base rate by what it learned (age, quarter position,
sector × product, rep, details). Whether those departures came true is measurable from the past alone: at each of
the last PAST_CUTOFFS month starts before the as-of date, the model is refitted as it was then (every later close
erased) and its probability is compared with what happened to the deals open then and decided since (before the
as-of date: nothing later is looked at). The shown probability is then

    blend × model + (1 − blend) × base rate,      blend = Σ (q − b)(y − b) / Σ (q − b)²  clipped to [0, 1]

over those past deals (q the model's probability then, b the base rate then, y = 1 when won): the share of the
model's departures from the base rate that the outcomes bore out (least squares). A model whose departures were
noise gets blend → 0 and shows the base rate; one whose departures came true keeps them (blend → 1).

Why that share is then shrunk by its own uncertainty (`shrunk_slope`): a slope estimated on a few months is too
large for prediction on average — it is fitted to those months' luck as well as to the signal (Copas 1983). The
shown blend is slope × max(0, 1 − se²/slope²), the heuristic shrinkage factor of van Houwelingen & le Cessie
(1990) with the slope's Wald statistic, and no knob of ours: a slope twice its standard error keeps three quarters,
one within a standard error of zero goes to zero. The standard error is clustered by past cutoff (sandwich,
Liang & Zeger 1986), because the deals decided after one cutoff share that month's fortune — a month of the
quarter that went worse than usual moves all of them at once, and counting them as independent would call a
month's luck evidence. Measured on Maven (2017-06..12) it costs the model 0.0006 Brier pooled over the dates and
keeps every date at or below the base rate (November 2017 was 0.0002 worse without it); on synthetic books
without signal it halves how often a date ends worse than the base rate.

Why the past probability q is "won once decided *before the as-of date*" (model.AgeCurve.within) and not the
model's usual "won once decided at all": at a past cutoff only the deals decided since are known, a biased sample
— where losses come late (Olist: "lost after 180 days") the early deciders are nearly all wins. Scoring the
model's usual answer on them would call a good model wrong; asking it the question that was actually settled
does not. Without enough past deals (MIN_PAIRS), the model is shown as fitted (blend 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast.periods import date_ms, local_date
from store.deals import Deal

PAST_CUTOFFS = 6  # month starts before the as-of date the model is re-checked at
MIN_PAIRS = 30  # past deals (per cutoff) below which a cutoff says nothing
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Calibration:
    blend: float  # weight of the model against the base rate (the slope, shrunk by its uncertainty)
    base_rate: float  # won ÷ closed among the deals closed before the as-of date
    pairs: int  # past deals it was measured on
    cutoffs: tuple[int, ...] = ()  # the past dates used (UTC ms)
    slope: float = 1.0  # the share of the departures that came true, before shrinking
    slope_se: float = 0.0  # its standard error, clustered by past cutoff


def as_known_at(deals: Sequence[Deal], t: int, list_amount: dict[str, float] | None = None, *,
                keep_open: bool = False) -> list[Deal]:
    """The deals created before `t` as they stood at `t`: a close at or after `t` is erased (open, no close date,
    valued at its list amount, no stage word that could say how it ended).

    `keep_open`: a deal still open is kept as it is — for the win model's eyes at a past date (it reads status,
    dates, owner, product, sector and details, no stage or amount), so the refit copies only the deals closed since."""
    list_amount = list_amount or {}
    out = []
    for d in deals:
        if d.created_at >= t:
            continue
        if (d.status != "open" and d.closed_at is not None and d.closed_at < t) or (keep_open and d.status == "open"):
            out.append(d)
        else:
            out.append(dataclasses.replace(d, status="open", closed_at=None, stage="",
                                           amount=list_amount.get(d.id, d.amount)))
    return out


def base_rate(deals: Sequence[Deal], t: int) -> float:
    """Won ÷ closed among the deals closed before `t` (0.5 before any close): what a forecaster without a model
    would say at `t` (and the yardstick winprob_eval scores against)."""
    won = sum(1 for d in deals if d.status == "won" and d.closed_at is not None and d.closed_at < t)
    lost = sum(1 for d in deals if d.status == "lost" and d.closed_at is not None and d.closed_at < t)
    return won / (won + lost) if won + lost else 0.5


def past_cutoffs(now_ms: int, tz: ZoneInfo, n: int = PAST_CUTOFFS) -> list[int]:
    """The `n` month starts (local midnight) strictly before `now_ms`, latest first."""
    d = local_date(now_ms - 1, tz).replace(day=1)
    out = []
    for _ in range(n):
        out.append(date_ms(d, tz))
        d = date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)
    return out


def measure(known: Sequence[Deal], now_ms: int, tz: ZoneInfo, fit_past, probabilities_within) -> Calibration:
    """The blend for a model fitted at `now_ms` on `known` (the deals as known then).

    `fit_past(deals, t)` fits the uncalibrated model at a past date `t` (engine: cached, the same fit the backtest
    scores at `t`); `probabilities_within(models, deals, days)` gives its P(won | decided within `days`)."""
    b_now = base_rate(known, now_ms)
    qs, ys, bs, used = [], [], [], []
    for t in past_cutoffs(now_ms, tz):
        past = as_known_at(known, t, keep_open=True)
        decided_ids = {d.id for d in known if d.status != "open" and d.closed_at is not None
                       and t <= d.closed_at < now_ms}
        decided = [d for d in past if d.status == "open" and d.id in decided_ids]
        if len(decided) < MIN_PAIRS:
            continue
        models = fit_past(past, t)
        if models.win.fallback or models.win.ages is None:
            continue
        outcome = {d.id: d.status == "won" for d in known if d.id in decided_ids}
        q = probabilities_within(models, decided, max(1, round((now_ms - t) / DAY_MS)))
        qs.append(q)
        ys.append(np.array([outcome[d.id] for d in decided], dtype=float))
        bs.append(np.full(len(decided), base_rate(past, t)))
        used.append(t)
    if not qs:
        return Calibration(1.0, b_now, 0)
    slope, se = cluster_slope([q - b for q, b in zip(qs, bs, strict=True)],
                              [y - b for y, b in zip(ys, bs, strict=True)])
    return Calibration(shrunk_slope(slope, se), b_now, sum(len(y) for y in ys), tuple(used), slope, se)


def cluster_slope(devs: Sequence[np.ndarray], surprises: Sequence[np.ndarray]) -> tuple[float, float]:
    """Least-squares slope through the origin of surprise (y − b) on departure (q − b), pooled over the clusters
    (one per past cutoff), and its cluster-robust standard error (sandwich: Σ_g (Σ_i d_i r_i)² / (Σ d²)²).
    A model with no departures at all gets slope 1 and error 0: there is nothing to shrink."""
    d, r = np.concatenate(devs), np.concatenate(surprises)
    den = float(d @ d)
    if den <= 1e-12:
        return 1.0, 0.0
    slope = float(d @ r) / den
    meat = sum(float(dg @ (rg - slope * dg)) ** 2 for dg, rg in zip(devs, surprises, strict=True))
    return slope, float(np.sqrt(meat)) / den


def shrunk_slope(slope: float, se: float) -> float:
    """slope × max(0, 1 − se²/slope²), clipped to [0, 1]: the expected-squared-error shrinkage of an estimated
    coefficient (van Houwelingen & le Cessie's heuristic factor). A slope at or below zero is 0."""
    if slope <= 0.0:
        return 0.0
    return float(np.clip(slope * max(0.0, 1.0 - (se / slope) ** 2), 0.0, 1.0))
