"""When will an open deal be won? Rates learned from history as it stood at the forecast date.

Two sources, used per deal:
- Expected close date known (a CRM that has one): P(win) from the win model × P(the close lands inside the period),
  from the distribution of past slips (actual close − expected close), conditioned on "not closed yet".
- No expected close (e.g. the Maven CRM export): a discrete-time hazard — the share of deals open at the start of a
  past period that were won inside it — per cell (position in the quarter × age in whole periods since creation),
  shrunk toward coarser cells (empirical Bayes) where a cell's history is thin. Ages older than any seen in the
  history take the oldest seen age's rate (deals that history says never close at that age stay near zero).
- Dead deals: a creation cohort (the deals created in one period) with more deals still open than history's close
  rates would leave open carries that excess as deals that will never close; its open deals' rates are scaled
  down by the excess share. This sees "zombie" pipelines from what is open now, not from how deals ended later.
- A backlog at the start of the record (the first period with closes also holds every close from before the
  record began) is used only while no other period tells about its position in the quarter.

Everything is fitted only on what was known at `as_of`: a deal that closed later counts as open in every snapshot
(and is censored, not lost), and no attribute that depends on a deal's later fate is used — in particular not
whether its customer is known (in the Maven export the account is missing exactly on deals still open at its
end). Also learned here: revenue from deals that are created and won inside one period (not yet in the pipeline
when the forecast is made) and how much period-level rates wander.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast.book import NO_TIME, Book
from handlers.forecast.periods import DAY_MS, Period, local_date, of_kind, shift

MAX_LAG = 12  # ages in whole periods; older deals share the last cell
DEAD_PRIOR = 10.0  # pseudo-deals that keep a small cohort's excess of open deals from counting fully as dead


def _shrunk(wins: np.ndarray, n: np.ndarray, position: int, k: float, prior: float) -> np.ndarray:
    """Rates per age for one quarter position: cell → same kind of position → all positions → neighbouring age.

    The all-positions rate of an age is shrunk toward the next younger age's (neighbouring ages are alike), the
    youngest toward the overall rate: an age with thin or no history (older than most seen) inherits the rate of
    the ages before it — near zero where history says deals no longer close — instead of the overall average.
    """
    pooled_w, pooled_n = wins.sum(axis=0), n.sum(axis=0)
    top = (pooled_w.sum() + k * prior) / (pooled_n.sum() + k)
    level0 = np.empty(pooled_w.size)
    seen = np.flatnonzero(pooled_n > 0)
    first = int(seen.min()) if seen.size else 0
    level0[:first + 1] = (pooled_w[first] + k * top) / (pooled_n[first] + k)
    for lag in range(first + 1, level0.size):
        level0[lag] = (pooled_w[lag] + k * level0[lag - 1]) / (pooled_n[lag] + k)
    same_kind = [p for p in range(wins.shape[0]) if (p == 0) == (position == 0)]
    level1 = (wins[same_kind].sum(axis=0) + k * level0) / (n[same_kind].sum(axis=0) + k)
    return (wins[position] + k * level1) / (n[position] + k)


@dataclass
class TimingModel:
    kind: str
    as_of: int
    tz: ZoneInfo
    prior_strength: float
    base_rate: float
    bounds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # period starts (ms)
    # per (position, age in periods): wins / n over history snapshots (open at the start → won inside)
    wins: np.ndarray = field(default_factory=lambda: np.zeros((3, MAX_LAG + 1)))
    n: np.ndarray = field(default_factory=lambda: np.zeros((3, MAX_LAG + 1)))
    # per (position, age): closes (won or lost) / n, age 0 = the cohort created inside the period
    closes: np.ndarray = field(default_factory=lambda: np.zeros((3, MAX_LAG + 1)))
    n_close: np.ndarray = field(default_factory=lambda: np.zeros((3, MAX_LAG + 1)))
    alive: dict[int, float] = field(default_factory=dict)  # cohort period index → share of its open deals alive
    new_values: list[tuple[int, float]] = field(default_factory=list)  # (position, value) per history period
    ratios: list[float] = field(default_factory=list)  # out-of-sample actual / expected pipeline wins per period
    slips_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    periods: int = 0
    month_sd_prior: float = 0.15
    slip_prior_days: float = 10.0
    slip_prior_sd_days: float = 25.0

    # ------------------------------------------------------------------ period indexes
    def index(self, t: np.ndarray | int) -> np.ndarray:
        """Which period (index into `bounds`) each time falls in."""
        return np.searchsorted(self.bounds, t, side="right") - 1

    def position_of(self, idx: int) -> int:
        return 0 if self.kind != "month" else int(local_date(int(self.bounds[idx]), self.tz).month - 1) % 3

    # ------------------------------------------------------------------ hazard cells
    def rates(self, position: int, wins: np.ndarray | None = None, n: np.ndarray | None = None) -> np.ndarray:
        """P(won inside a period at `position` | open at its start) per age in periods, shrunk level by level."""
        return _shrunk(self.wins if wins is None else wins, self.n if n is None else n, position,
                       self.prior_strength, self.base_rate * 0.3)

    def close_rates(self, position: int) -> np.ndarray:
        return _shrunk(self.closes, self.n_close, position, self.prior_strength, 0.5)

    def hazard(self, book: Book, mask: np.ndarray, period: Period, rates: np.ndarray | None = None,
               alive: dict[int, float] | None = None) -> np.ndarray:
        start, _end = period.ms(self.tz)
        if not self.bounds.size:
            return np.zeros(int(mask.sum()))
        created = self.index(book.created[mask])
        lag = np.clip(int(self.index(start)) - created, 1, MAX_LAG)
        h = (self.rates(period.position) if rates is None else rates)[lag]
        alive = self.alive if alive is None else alive
        if alive:
            share = np.ones(self.bounds.size)
            for c, v in alive.items():
                share[c] = v
            h = h * share[np.clip(created, 0, self.bounds.size - 1)]
        return h

    def alive_shares(self, created_idx: np.ndarray, open_mask: np.ndarray, at: int) -> dict[int, float]:
        """Per creation cohort: the share of its open deals that history's close rates say can still be alive.

        Expected still open = cohort size × Π (1 − close rate) over the periods it has lived through; deals open
        beyond that are taken as dead (shrunk by DEAD_PRIOR pseudo-deals so a small cohort's noise is not).
        """
        out: dict[int, float] = {}
        known = (created_idx >= 0) & (created_idx < at)
        size = np.bincount(created_idx[known], minlength=at)
        still = np.bincount(created_idx[open_mask & known], minlength=at)
        cache: dict[int, np.ndarray] = {}
        for c in np.flatnonzero(still):
            surv = 1.0
            for j in range(at - c):
                pos = self.position_of(c + j)
                if pos not in cache:
                    cache[pos] = self.close_rates(pos)
                surv *= 1.0 - cache[pos][min(j, MAX_LAG)]
            excess = max(0.0, still[c] - size[c] * surv)
            out[int(c)] = 1.0 - excess / (still[c] + DEAD_PRIOR)
        return out

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

        The mean shrinks the same-position mean toward the all-period mean by how much positions really differ
        (empirical Bayes: between-position variance against the noise of a position mean; with one position seen,
        one pseudo-period of the all-period mean); the spread is the periods' scatter around their position means
        relative to the overall mean (zeros are fine), pooled with a prior, plus the uncertainty of the mean.
        """
        if not self.new_values:
            return 0.0, 0.0
        vals = np.array([v for _p, v in self.new_values])
        allmean = float(vals.mean())
        if allmean <= 0:
            return 0.0, 0.0
        same = np.array([v for p, v in self.new_values if p == position])
        by_pos: dict[int, list[float]] = {}
        for p, v in self.new_values:
            by_pos.setdefault(p, []).append(v)
        pos_mean = {p: float(np.mean(v)) for p, v in by_pos.items()}
        resid = [(v - pos_mean[p]) / allmean for p, v in self.new_values]
        n0, s0 = 3.0, 0.25
        cv2 = (n0 * s0 ** 2 + sum(r * r for r in resid)) / (n0 + len(resid))
        if same.size and len(by_pos) >= 2:
            noise = cv2 * allmean ** 2  # variance of one period around its position mean
            spread = sum((m - allmean) ** 2 for m in pos_mean.values()) / (len(by_pos) - 1)
            tau2 = max(0.0, spread - float(np.mean([noise / len(v) for v in by_pos.values()])))
            b = tau2 / (tau2 + noise / same.size)
            mu = allmean + b * (float(same.mean()) - allmean)
        else:
            mu = (same.sum() + allmean) / (same.size + 1)
        return float(mu), math.sqrt(cv2 * (1 + 1 / (same.size + 1)))

    def common_sd(self) -> float:
        """Log-sd of the period-level shock on pipeline rates (prior + observed in-sample misfit)."""
        n0, s0 = 3.0, self.month_sd_prior
        r = [math.log(x) for x in self.ratios if x > 0]
        return math.sqrt((n0 * s0 ** 2 + sum(v * v for v in r)) / (n0 + len(r)))


def _bounds(book: Book, as_of: int, kind: str, tz: ZoneInfo) -> np.ndarray:
    """Period starts from the period of the earliest creation to well past `as_of` (indexes for ages)."""
    first = int(book.created.min())
    p = of_kind(kind, local_date(first, tz))
    last = shift(of_kind(kind, local_date(as_of, tz)), 16)
    out = []
    while p.start <= last.start:
        out.append(p.ms(tz)[0])
        p = shift(p, 1)
    return np.array(out, dtype=np.int64)


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
    model.bounds = _bounds(book, as_of, kind, tz)
    # The record of closes starts at the first close we know of: earlier periods have no outcomes to learn from.
    first_close = int(book.closed[known_closed].min())
    current = of_kind(kind, local_date(as_of, tz))
    hist: list[Period] = []
    p = shift(current, -1)
    while len(hist) < history_periods and p.ms(tz)[1] > first_close:
        hist.append(p)
        p = shift(p, -1)
    hist.reverse()
    # A record of closes that starts well after deals were created (no close at all in the periods before, deals
    # older than a full period): its first period also collects the closes that happened before the record began,
    # so its rates are inflated. It is used for a quarter position only until another period of that position
    # is known, and never to measure how far a normal period lands from its expectation.
    backlog = bool(hist) and hist[0].ms(tz)[0] <= first_close and bool(
        (book.created < shift(hist[0], -1).ms(tz)[0]).any())
    closed_view = np.where(known_closed, book.closed, NO_TIME)  # later closes are unknown at as_of
    won_known = book.won & known_closed
    ended_known = (book.won | book.lost) & known_closed
    before = book.created < as_of
    created_idx = np.where(before, model.index(np.where(before, book.created, as_of)), -1)
    snapshots = []
    for per in hist:
        start, end = per.ms(tz)
        at = int(model.index(start))
        pos = per.position
        open_mask = (book.created < start) & (closed_view >= start)
        won_in = won_known[open_mask] & (closed_view[open_mask] < end)
        lag = np.clip(at - created_idx[open_mask], 1, MAX_LAG)
        w_p, n_p = np.zeros_like(model.wins), np.zeros_like(model.n)
        np.add.at(w_p[pos], lag, won_in)
        np.add.at(n_p[pos], lag, 1)
        model.wins += w_p
        model.n += n_p
        # closes of any kind, including the cohort created inside the period (age 0), for cohort survival
        risk = ((created_idx >= 0) & (created_idx <= at) & (closed_view >= start))
        ended = ended_known[risk] & (closed_view[risk] < end)
        c_p, nc_p = np.zeros_like(model.closes), np.zeros_like(model.n_close)
        np.add.at(c_p[pos], np.clip(at - created_idx[risk], 0, MAX_LAG), ended)
        np.add.at(nc_p[pos], np.clip(at - created_idx[risk], 0, MAX_LAG), 1)
        model.closes += c_p
        model.n_close += nc_p
        snapshots.append((per, at, open_mask, won_in, w_p, n_p))
        if backlog and per == hist[0]:
            first_counts = (w_p, n_p, c_p, nc_p)
        created_in = (book.created >= start) & (book.created < end)
        new_won = won_known & created_in & (closed_view < end)
        model.new_values.append((pos, float(book.amount[new_won].sum())))
    model.periods = len(hist)
    if backlog and sum(per.position == hist[0].position for per in hist) > 1:
        # the backlog period's rates are used only while nothing else tells about its position in the quarter
        w_p, n_p, c_p, nc_p = first_counts
        model.wins -= w_p
        model.n -= n_p
        model.closes -= c_p
        model.n_close -= nc_p
        snapshots = snapshots[1:]
    now_open = before & (closed_view >= as_of)
    # cohorts older than the current period (its own cohort is still being created: taken as alive)
    model.alive = model.alive_shares(created_idx, now_open, int(model.index(as_of)))
    # How far a period's actual lands from what the rates learned on the OTHER periods expected (leave one out):
    # an honest, out-of-sample measure of how much rates wander, which sets the width of the interval.
    # A period whose quarter position has no other period in the history is skipped: without it the model would
    # not know its kind of period at all, which measures a model we never use.
    positions = [per.position for per, *_rest in snapshots]
    for per, at, open_mask, won_in, w_p, n_p in snapshots:
        if positions.count(per.position) < 2 or (backlog and per == hist[0]):
            continue
        loo = model.rates(per.position, model.wins - w_p, model.n - n_p)
        alive = model.alive_shares(created_idx, open_mask, at)
        expected = float((model.hazard(book, open_mask, per, loo, alive) * book.list_amount[open_mask]).sum())
        actual = float(book.amount[open_mask][won_in].sum())
        if expected > 0 and actual > 0:
            model.ratios.append(actual / expected)
    has_exp = won_known & (book.expected != NO_TIME)
    model.slips_days = ((book.closed[has_exp] - book.expected[has_exp]) / DAY_MS).astype(float)
    return model
