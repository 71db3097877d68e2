"""The forecast of one period from one as-of date: bottom-up pipeline + top-down time series, weighted by errors.

Why a combination: the bottom-up view (each open deal's chance of being won in the period × what it will be won
for, plus revenue from deals not yet created; timing.py, value.py) knows the pipeline but inherits every bias of
its rates; the top-down view (baselines.top_down: the median of the time-series yardsticks on past period actuals)
knows nothing of the pipeline but is unbiased where the business is steady. Each is re-forecast as of the start of
every period that had ended before the as-of date, and they are weighted by the inverse of their mean squared
relative error there, shrunk toward equal weights by `weight_prior_n` pseudo-periods (weights estimated from a
handful of periods are mostly noise — the "forecast combination puzzle" — so they leave ½ only on a sustained
difference): whichever has been closer lately weighs more, with no weight fixed for any dataset. The time-series
method is picked the same way (smallest recent errors, `error_prior_n`).

Why the interval is calibrated, not simulated: the Monte Carlo over deals (simulate.py) only knows the noise of
the model's own assumptions, and a model with little history is overconfident exactly then. The interval is the
combined point × a log-normal whose spread is the root mean square of the log errors of similar past forecasts —
the same combination, re-run out of sample as many days into each past period as this one is into its own, made
with a similar history (a cold start's errors are not used once `mature_history` periods are known) — shrunk
toward `width_prior` by `width_prior_n` pseudo-periods: wide at a cold start, as narrow as the measured errors once
history allows. Inside a period, what is already won is certain and only the rest is uncertain.

Reproducibility: draws come from a generator seeded by (seed, period start, as-of), so a period's numbers do not
depend on which other periods are forecast in the same run, and Book sorts its rows, so row order does not matter.
Everything is computed from what was known at the as-of date (the leak test in tests/test_backtest_maven.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast import baselines, timing, value
from handlers.forecast.book import NO_TIME, Book
from handlers.forecast.periods import DAY_MS, Period, shift


@dataclass(frozen=True)
class Params:
    prior_strength: float = 20.0
    base_rate: float = 0.25
    history_periods: int = 12
    month_sd_prior: float = 0.15
    slip_prior_days: float = 10.0
    slip_prior_sd_days: float = 25.0
    error_periods: int = 6  # recent periods whose errors weigh the two views
    error_prior: float = 0.2  # relative error each view is assumed to have before any is measured
    error_prior_n: float = 4.0  # pseudo-periods of it when picking the time-series method
    weight_prior_n: float = 12.0  # pseudo-periods of equal weight when weighing the two views
    width_prior: float = 0.2  # log-sd of the combined forecast's error before any is measured (cold start)
    width_prior_n: float = 0.5
    mature_history: int = 2  # periods of history below which a forecast is a cold start
    error_window: int = 6  # recent similar forecasts whose errors set the width


@dataclass
class BottomUp:
    expected: float  # expected value won inside [max(as_of, start), end) from the pipeline and new deals
    p: np.ndarray  # per open deal: P(won inside the rest of the period)
    amounts: np.ndarray  # per open deal: list value × learned won/list ratio
    new_mu: float
    new_sd: float
    common_sd: float
    history_periods: int
    timing: timing.TimingModel


@dataclass
class Projection:
    p10: float
    p50: float
    p90: float
    mean: float
    samples: np.ndarray
    won_to_date: float
    bottom_up: float  # whole-period point of each view (won to date + the rest)
    top_down: float | None
    top_down_method: str | None  # the time-series method with the smallest recent errors
    weight_bottom_up: float
    spread: float  # log-sd of the interval
    errors_measured: int  # past periods whose errors set the weights and the width
    history_periods: int
    bu: BottomUp


def remaining_share(period: Period, as_of: int, tz: ZoneInfo) -> float:
    """Share of the period still ahead at `as_of` (more than 1 before it starts: deals created until then count)."""
    start, end = period.ms(tz)
    return max(0.0, (end - as_of) / (end - start))


def rng_for(seed: int, period: Period, as_of: int) -> np.random.Generator:
    """A generator of its own per (seed, period, as-of): draws do not depend on what else is in the run."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, period.start.toordinal(), int(as_of) // 1000])


class Projector:
    """Forecasts over one book; memoises the period-start forecasts that the weights and the width are measured on."""

    def __init__(self, book: Book, kind: str, tz: ZoneInfo, params: Params = Params()) -> None:
        self.book, self.kind, self.tz, self.params = book, kind, tz, params
        self._start: dict[str, tuple[float, dict, float]] = {}
        self._timing: dict[int, timing.TimingModel] = {}
        self._series: dict[tuple[str, int], dict[str, float | None]] = {}
        self._errors: dict[tuple[str, int], tuple[float | None, int]] = {}

    def timing_at(self, as_of: int) -> timing.TimingModel:
        tm = self._timing.get(as_of)
        if tm is None:
            q = self.params
            tm = self._timing[as_of] = timing.fit(
                self.book, as_of, self.kind, self.tz, prior_strength=q.prior_strength, base_rate=q.base_rate,
                history_periods=q.history_periods, month_sd_prior=q.month_sd_prior,
                slip_prior_days=q.slip_prior_days, slip_prior_sd_days=q.slip_prior_sd_days)
            if len(self._timing) > 64:
                self._timing.pop(next(iter(self._timing)))
        return tm

    def win_rate(self, as_of: int) -> float:
        b, q = self.book, self.params
        closed = b.closed < as_of
        won, lost = int((b.won & closed).sum()), int((b.lost & closed).sum())
        return (won + q.prior_strength * q.base_rate) / (won + lost + q.prior_strength)

    def bottom_up(self, period: Period, as_of: int, p: np.ndarray | None = None,
                  mask: np.ndarray | None = None, tm: timing.TimingModel | None = None,
                  amounts: np.ndarray | None = None) -> BottomUp:
        """Expected won value in the rest of `period` from deals open at `as_of` (and deals not yet created).

        `p` (per deal in `mask`) replaces the history-only probabilities: the chat forecast passes the win model's
        (and its timing model `tm` and valued `amounts`, already computed).
        """
        b = self.book
        tm = tm or self.timing_at(as_of)
        mask = b.open_at(as_of) if mask is None else mask
        rest = remaining_share(period, as_of, self.tz)
        if p is None:
            p = np.zeros(int(mask.sum()))
            expected = b.expected[mask]
            has_exp = expected != NO_TIME
            if has_exp.any():
                p[has_exp] = self.win_rate(as_of) * tm.in_period(expected[has_exp], period)
            if (~has_exp).any():
                sub = mask.copy()
                sub[mask] = ~has_exp
                p[~has_exp] = tm.hazard(b, sub, period) * min(rest, 1.0)
            p = np.clip(p, 0.0, 1.0)
        if amounts is None:
            amounts = b.list_amount[mask] * value.ratios(b, as_of, mask)
        new_mu, new_sd = tm.new_revenue(period.position)
        new_mu *= rest
        return BottomUp(float((p * amounts).sum()) + new_mu, p, amounts, new_mu, new_sd, tm.common_sd(), tm.periods, tm)

    def time_series(self, period: Period, as_of: int) -> dict[str, float | None]:
        key = (period.label, as_of)
        got = self._series.get(key)
        if got is None:
            hist = baselines.actuals(self.book, period, as_of, self.tz, whole_only=True)
            got = self._series[key] = baselines.time_series(hist, self.kind)
            if len(self._series) > 256:
                self._series.pop(next(iter(self._series)))
        return got

    def won(self, period: Period, until: int) -> float:
        start, end = period.ms(self.tz)
        return float(self.book.amount[self.book.won_between(start, min(end, until))].sum())

    def start_point(self, period: Period) -> tuple[float, dict[str, float | None], float]:
        """(bottom-up, time-series forecasts, actual) of a past period, all as of its start."""
        got = self._start.get(period.label)
        if got is None:
            start, end = period.ms(self.tz)
            got = self._start[period.label] = (self.bottom_up(period, start).expected, self.time_series(period, start),
                                               self.won(period, end))
        return got

    def past_periods(self, period: Period, as_of: int) -> list[Period]:
        """The periods that had ended by `as_of`, oldest first, after the first with a known close."""
        b = self.book
        known = b.closed < as_of
        if not known.any():
            return []
        first = int(b.closed[known].min())
        out = []
        p = shift(period, -1)
        while len(out) < self.params.history_periods:
            start, end = p.ms(self.tz)
            if end <= first:
                break
            if end <= as_of and start > first:  # the first period with closes is no fair test (nothing before it)
                out.append(p)
            p = shift(p, -1)
        out.reverse()
        return out

    def past(self, period: Period, as_of: int) -> list[tuple[float, dict, float]]:
        """Start points of the periods that had ended by `as_of`."""
        return [self.start_point(p) for p in self.past_periods(period, as_of)]

    def point(self, period: Period, as_of: int, bu: float | None = None) -> tuple[float, str | None, float | None, float]:
        """(combined point of the rest of the period, top-down method, its whole-period forecast, bottom-up weight)
        as of `as_of`; `bu` is the bottom-up expectation when already computed."""
        if bu is None:
            bu = self.bottom_up(period, as_of).expected
        method, td_total, w = self.views(period, as_of, self.past(period, as_of))
        rest_share = min(remaining_share(period, as_of, self.tz), 1.0)
        rest = bu if td_total is None else w * bu + (1 - w) * td_total * rest_share
        return rest, method, td_total, w

    def similar_error(self, period: Period, offset_days: int) -> tuple[float | None, int]:
        """Log error (actual ÷ forecast) of the rest of a past period, forecast as far into it as `offset_days`
        (None when nothing was left to win or forecast), and how many periods of history that forecast had."""
        key = (period.label, offset_days)
        if key not in self._errors:
            start, end = period.ms(self.tz)
            at = min(start + offset_days * DAY_MS, end - DAY_MS)
            rest, *_ = self.point(period, at)
            actual = self.won(period, end) - self.won(period, at)
            self._errors[key] = (math.log(actual / rest) if actual > 0 and rest > 0 else None,
                                 self.timing_at(at).periods)
        return self._errors[key]

    def views(self, period: Period, as_of: int, past: list[tuple[float, dict, float]]
              ) -> tuple[str | None, float | None, float]:
        """The top-down method and its forecast for the whole period, and the bottom-up weight: each view's mean
        squared relative error over the recent past periods (shrunk toward `error_prior`), inverted."""
        q = self.params
        recent = [x for x in past if x[2] > 0][-q.error_periods:]
        name, mse_t = baselines.select(self.time_series(period, as_of), [(ts, a) for _b, ts, a in recent],
                                       q.error_prior, q.error_prior_n)
        if name is None:
            return None, None, 1.0

        def mse(errors: list[float]) -> float:
            return (q.weight_prior_n * q.error_prior ** 2 + sum(e * e for e in errors)) / (q.weight_prior_n + len(errors))

        mse_b = mse([(bu - a) / a for bu, _ts, a in recent])
        mse_t = mse([(ts[name] - a) / a for _bu, ts, a in recent if ts.get(name) is not None])
        return name, self.time_series(period, as_of)[name], (1 / mse_b) / (1 / mse_b + 1 / mse_t)

    def forecast(self, period: Period, as_of: int, *, seed: int, draws: int, p: np.ndarray | None = None,
                 mask: np.ndarray | None = None, tm: timing.TimingModel | None = None,
                 amounts: np.ndarray | None = None) -> Projection:
        """The combined forecast of `period` as of `as_of` (`p`, `mask`, `tm`, `amounts`: see bottom_up)."""
        q = self.params
        bu = self.bottom_up(period, as_of, p, mask, tm, amounts)
        won = self.won(period, as_of)
        rest, method, td_total, w = self.point(period, as_of, bu.expected)
        rest_share = min(remaining_share(period, as_of, self.tz), 1.0)
        # similar past forecasts: the same number of whole days into (or before) each past period, out of sample
        # and made with a similar history: a cold start's errors say nothing about a forecast with a longer one
        offset = math.floor((as_of - period.ms(self.tz)[0]) / DAY_MS)
        mature = min(bu.history_periods, q.mature_history)
        errors = [e for j in self.past_periods(period, as_of)
                  for e, h in [self.similar_error(j, offset)] if e is not None and h >= mature][-q.error_window:]
        spread = math.sqrt((q.width_prior_n * q.width_prior ** 2 + sum(e * e for e in errors))
                           / (q.width_prior_n + len(errors)))
        z = rng_for(seed, period, as_of).standard_normal(draws)
        samples = won + rest * np.exp(spread * z)
        p10, p50, p90 = (float(v) for v in np.percentile(samples, [10, 50, 90]))
        return Projection(p10, p50, p90, float(samples.mean()), samples, won, won + bu.expected,
                          None if td_total is None else won + td_total * rest_share, method, w, spread,
                          len(errors), bu.history_periods, bu)
