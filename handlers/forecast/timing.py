"""When will an open deal be won? Rates learned from history as it stood at the forecast date.

Two sources, used per deal:
- Expected close date known (a CRM that has one): P(win) from the win model × P(the close lands inside the period),
  from the distribution of past slips (actual close − expected close), conditioned on "not closed yet".
- No expected close (e.g. the Maven CRM export): a discrete-time hazard — the share of deals open at the start of a
  past period that were won inside it — per cell (age since creation × position in the quarter × customer known),
  shrunk toward coarser cells (empirical Bayes) where a cell's history is thin.

Both are fitted only on what was known at `as_of`: a deal that closed later still counts as open in every
snapshot, so no outcome leaks from the future. Also learned here: revenue from deals that are created and won
inside one period (not yet in the pipeline when the forecast is made) and how much period-level rates wander.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast.book import NO_TIME, Book
from handlers.forecast.periods import DAY_MS, Period, local_date, of_kind, shift

AGE_EDGES_DAYS = np.array([10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150])
N_AGE = len(AGE_EDGES_DAYS) + 1


def age_bucket(age_ms: np.ndarray) -> np.ndarray:
    return np.searchsorted(AGE_EDGES_DAYS * DAY_MS, age_ms, side="right")


@dataclass
class TimingModel:
    kind: str
    as_of: int
    tz: ZoneInfo
    prior_strength: float
    base_rate: float
    # per (position, known, age) won / n counts over history snapshots
    wins: np.ndarray = field(default_factory=lambda: np.zeros((3, 2, N_AGE)))
    n: np.ndarray = field(default_factory=lambda: np.zeros((3, 2, N_AGE)))
    new_values: list[tuple[int, float]] = field(default_factory=list)  # (position, value) per history period
    ratios: list[float] = field(default_factory=list)  # in-sample actual / expected pipeline wins per period
    slips_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    periods: int = 0
    month_sd_prior: float = 0.15
    slip_prior_days: float = 10.0
    slip_prior_sd_days: float = 25.0

    # ------------------------------------------------------------------ hazard cells
    def rates(self, position: int, wins: np.ndarray | None = None, n: np.ndarray | None = None) -> np.ndarray:
        """P(won inside a period at `position` | open at its start) per (known, age), shrunk level by level."""
        k = self.prior_strength
        wins = self.wins if wins is None else wins
        n = self.n if n is None else n
        pooled_w, pooled_n = wins.sum(axis=0), n.sum(axis=0)
        total_w, total_n = pooled_w.sum(axis=1, keepdims=True), pooled_n.sum(axis=1, keepdims=True)
        top = (total_w + k * self.base_rate * 0.3) / (total_n + k)  # per known-flag, toward a per-period prior
        level0 = (pooled_w + k * top) / (pooled_n + k)
        same_kind = [p for p in range(3) if (p == 0) == (position == 0)]
        w1, n1 = wins[same_kind].sum(axis=0), n[same_kind].sum(axis=0)
        level1 = (w1 + k * level0) / (n1 + k)
        return (wins[position] + k * level1) / (n[position] + k)

    def hazard(self, book: Book, mask: np.ndarray, period: Period, rates: np.ndarray | None = None) -> np.ndarray:
        start, _end = period.ms(self.tz)
        ages = age_bucket(np.maximum(start - book.created[mask], 0))
        known = book.known_customer[mask].astype(int)
        return (self.rates(period.position) if rates is None else rates)[known, ages]

    # ------------------------------------------------------------------ expected close dates
    def slip_cdf(self, days: np.ndarray) -> np.ndarray:
        """P(slip ≤ days): the empirical slips blended with a normal prior (weight = prior strength)."""
        from scipy.special import ndtr

        prior = ndtr((days - self.slip_prior_days) / self.slip_prior_sd_days)
        s = self.slips_days
        if s.size == 0:
            return prior
        emp = np.searchsorted(np.sort(s), days, side="right") / s.size
        w = s.size / (s.size + self.prior_strength)
        return w * emp + (1 - w) * prior

    def in_period(self, expected_ms: np.ndarray, period: Period) -> np.ndarray:
        """P(close inside the period | not closed before max(as_of, period start)) for known expected dates."""
        start, end = period.ms(self.tz)
        lo = max(start, self.as_of)
        d_lo = (lo - expected_ms) / DAY_MS
        d_hi = (end - expected_ms) / DAY_MS
        d_now = (self.as_of - expected_ms) / DAY_MS
        survive = np.clip(1.0 - self.slip_cdf(d_now), 1e-3, 1.0)
        mass = np.clip(self.slip_cdf(d_hi) - self.slip_cdf(d_lo), 0.0, 1.0)
        return np.clip(mass / survive, 0.0, 1.0)

    # ------------------------------------------------------------------ new deals and dispersion
    def new_revenue(self, position: int) -> tuple[float, float]:
        """(mean, coefficient of variation) of revenue won from deals created inside a period at this position.

        The mean pools same-position periods with the all-period mean (one pseudo-period); the spread is the
        periods' scatter around their position means relative to the overall mean (zeros are fine), pooled with
        a prior, plus the uncertainty of the mean itself.
        """
        if not self.new_values:
            return 0.0, 0.0
        vals = np.array([v for _p, v in self.new_values])
        allmean = float(vals.mean())
        if allmean <= 0:
            return 0.0, 0.0
        same = np.array([v for p, v in self.new_values if p == position])
        mu = (same.sum() + allmean) / (same.size + 1)
        pos_mean = {p: np.mean([v for q, v in self.new_values if q == p]) for p, _ in self.new_values}
        resid = [(v - pos_mean[p]) / allmean for p, v in self.new_values]
        n0, s0 = 3.0, 0.25
        cv2 = (n0 * s0 ** 2 + sum(r * r for r in resid)) / (n0 + len(resid))
        return float(mu), math.sqrt(cv2 * (1 + 1 / (same.size + 1)))

    def common_sd(self) -> float:
        """Log-sd of the period-level shock on pipeline rates (prior + observed in-sample misfit)."""
        n0, s0 = 3.0, self.month_sd_prior
        r = [math.log(x) for x in self.ratios if x > 0]
        return math.sqrt((n0 * s0 ** 2 + sum(v * v for v in r)) / (n0 + len(r)))


def fit(book: Book, as_of: int, kind: str, tz: ZoneInfo, *, prior_strength: float = 20.0, base_rate: float = 0.25,
        history_periods: int = 12, month_sd_prior: float = 0.15, slip_prior_days: float = 10.0,
        slip_prior_sd_days: float = 25.0) -> TimingModel:
    """Learn the timing model from `book` as it was known at `as_of` (outcomes after `as_of` stay unknown)."""
    model = TimingModel(kind=kind, as_of=as_of, tz=tz, prior_strength=prior_strength, base_rate=base_rate,
                        month_sd_prior=month_sd_prior, slip_prior_days=slip_prior_days,
                        slip_prior_sd_days=slip_prior_sd_days)
    known_closed = book.closed < as_of
    if not known_closed.any():
        return model
    # The record of closes starts at the first close we know of: earlier periods have no outcomes to learn from.
    first_close = int(book.closed[known_closed].min())
    current = of_kind(kind, local_date(as_of, tz))
    hist: list[Period] = []
    p = shift(current, -1)
    while len(hist) < history_periods and p.ms(tz)[1] > first_close:
        hist.append(p)
        p = shift(p, -1)
    hist.reverse()
    closed_view = np.where(known_closed, book.closed, NO_TIME)  # later closes are unknown at as_of
    won_known = book.won & known_closed
    snapshots = []
    for per in hist:
        start, end = per.ms(tz)
        open_mask = (book.created < start) & (closed_view >= start)
        won_in = won_known[open_mask] & (closed_view[open_mask] < end)
        ages = age_bucket(start - book.created[open_mask])
        known = book.known_customer[open_mask].astype(int)
        pos = per.position
        w_p, n_p = np.zeros_like(model.wins), np.zeros_like(model.n)
        np.add.at(w_p[pos], (known, ages), won_in)
        np.add.at(n_p[pos], (known, ages), 1)
        model.wins += w_p
        model.n += n_p
        snapshots.append((per, open_mask, won_in, w_p, n_p))
        created_in = (book.created >= start) & (book.created < end)
        new_won = won_known & created_in & (closed_view < end)
        model.new_values.append((pos, float(book.amount[new_won].sum())))
    model.periods = len(hist)
    # How far a period's actual lands from what the rates learned on the OTHER periods expected (leave one out):
    # an honest, out-of-sample measure of how much rates wander, which sets the width of the interval.
    # A period whose quarter position has no other period in the history is skipped: without it the model would
    # not know its kind of period at all, which measures a model we never use.
    positions = [per.position for per, *_rest in snapshots]
    for per, open_mask, won_in, w_p, n_p in snapshots:
        if positions.count(per.position) < 2:
            continue
        loo = model.rates(per.position, model.wins - w_p, model.n - n_p)
        expected = float((model.hazard(book, open_mask, per, loo) * book.list_amount[open_mask]).sum())
        actual = float(book.amount[open_mask][won_in].sum())
        if expected > 0 and actual > 0:
            model.ratios.append(actual / expected)
    has_exp = won_known & (book.expected != NO_TIME)
    model.slips_days = ((book.closed[has_exp] - book.expected[has_exp]) / DAY_MS).astype(float)
    return model
