"""Simple yardsticks a forecast must beat, all from what was known at the forecast date.

Every baseline sees only the won value of periods that had ended before the as-of date (the "period actuals"),
counted from the first period with a known close (before it there is no record of closes, not zero sales):
- seasonal naive: the same period of the previous cycle. Months have two cycles: the quarter (3 months back,
  where B2B closing piles up at quarter ends) and the year (12 back); quarters have the year (4 back).
- last period, and the moving average of the last 3;
- statsmodels exponential smoothing (ETS; additive seasonality once two full cycles are known) and the Theta
  method (statsmodels ThetaModel, deseasonalised likewise). Both are fitted on the series divided by its mean and
  scaled back, so they scale exactly with the currency;
- the stage-weighted pipeline limited to deals expected to close in the period: open deals × the historical win
  rate, where a deal's expected close is its own date when the source has one, else its creation plus the median
  time from creation to a win seen so far (an overdue deal is expected now).
A baseline that lacks the history it needs gives None for that period (it is not scored there).
`select` picks our own time-series view among them (the one with the smallest recent errors): one half of the
combined forecast in projection.py.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast.book import NO_TIME, Book
from handlers.forecast.periods import Period, local_date, of_kind, shift

SEASONAL_LAGS = {"month": {"seasonal_naive_quarter": 3, "seasonal_naive_year": 12}, "quarter": {"seasonal_naive_year": 4}}
CYCLE = {"month": 3, "quarter": 4}  # seasonal period for ETS / Theta
NAMES = ("seasonal_naive", "last_period", "moving_average_3", "ets", "theta", "stage_weighted")
TIME_SERIES = ("seasonal_naive", "last_period", "moving_average_3", "ets", "theta")


@dataclass(frozen=True)
class History:
    """Won value per complete period known at `as_of`, oldest first, ending with the period just before `period`."""

    values: tuple[float, ...]

    def lag(self, n: int) -> float | None:
        return self.values[-n] if len(self.values) >= n else None


def actuals(book: Book, period: Period, as_of: int, tz: ZoneInfo, whole_only: bool = False) -> History:
    """Won value of each period before `period` that had ended by `as_of`, from the first period with a close.

    `whole_only` drops that first period when the record of closes starts after its first tenth (it then holds only
    part of a period, or the backlog of closes from before the record began).
    """
    known = book.won & (book.closed < as_of)
    if not known.any():
        return History(())
    first_close = int(book.closed[book.closed < as_of].min())
    first = of_kind(period.kind, local_date(first_close, tz))
    s0, e0 = first.ms(tz)
    if whole_only and first_close > s0 + (e0 - s0) / 10:
        first = shift(first, 1)
    out: list[float] = []
    p = first
    while p.start < period.start:
        s, e = p.ms(tz)
        if e > as_of:
            break
        out.append(float(book.amount[known & (book.closed >= s) & (book.closed < e)].sum()))
        p = shift(p, 1)
    return History(tuple(out))


def _scaled_fit(values: tuple[float, ...], fit) -> float | None:
    y = np.asarray(values, dtype=float)
    if y.size < 2 or float(y.mean()) <= 0:
        return None
    scale = float(y.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            v = float(fit(y / scale))
        except (ValueError, np.linalg.LinAlgError, IndexError, ZeroDivisionError):
            return None
    return max(v, 0.0) * scale if math.isfinite(v) else None


def ets(values: tuple[float, ...], kind: str) -> float | None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    sp = CYCLE[kind]
    seasonal = "add" if len(values) >= 2 * sp else None

    def fit(y):
        m = ExponentialSmoothing(y, seasonal=seasonal, seasonal_periods=sp if seasonal else None,
                                 initialization_method="estimated")
        return m.fit().forecast(1)[0]

    return _scaled_fit(values, fit)


def theta(values: tuple[float, ...], kind: str) -> float | None:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    sp = CYCLE[kind]

    def fit(y):
        return np.asarray(ThetaModel(y, period=sp, deseasonalize=len(y) >= 2 * sp).fit().forecast(1))[0]

    return _scaled_fit(values, fit)


def time_series(history: History, kind: str) -> dict[str, float | None]:
    """Every time-series baseline for the next period (seasonal naive per cycle, before picking the best)."""
    out: dict[str, float | None] = {name: history.lag(lag) for name, lag in SEASONAL_LAGS[kind].items()}
    out["last_period"] = history.lag(1)
    out["moving_average_3"] = float(np.mean(history.values[-3:])) if len(history.values) >= 3 else None
    out["ets"] = ets(history.values, kind)
    out["theta"] = theta(history.values, kind)
    return out


def select(current: dict[str, float | None], past: list[tuple[dict[str, float | None], float]],
           prior: float, prior_n: float) -> tuple[str | None, float]:
    """The time-series method with the smallest mean squared relative error on past periods (shrunk toward
    `prior`), among those that can forecast now: (name, its mean squared error); (None, prior) when none can."""
    best, best_mse = None, math.inf
    for name, v in current.items():
        if v is None:
            continue
        errs = [((f[name] - a) / a) ** 2 for f, a in past if a > 0 and f.get(name) is not None]
        mse = (prior_n * prior ** 2 + sum(errs)) / (prior_n + len(errs))
        if mse < best_mse:
            best, best_mse = name, mse
    return best, best_mse


def stage_weighted(book: Book, period: Period, as_of: int, tz: ZoneInfo, ratio: np.ndarray | None = None) -> float:
    """Open deals expected to close inside `period` × the win rate known at `as_of` (+ what is already won in it)."""
    start, end = period.ms(tz)
    closed = book.closed < as_of
    won, lost = book.won & closed, book.lost & closed
    n = int(won.sum() + lost.sum())
    if not n:
        return 0.0
    rate = float(won.sum()) / n
    open_now = book.open_at(as_of)
    expected = book.expected.copy()
    cycle = (book.closed[won] - book.created[won]).astype(float)
    median_cycle = int(np.median(cycle)) if cycle.size else 0
    guess = book.created + median_cycle
    expected = np.where(expected == NO_TIME, guess, expected)
    expected = np.maximum(expected, as_of)  # overdue: expected now
    due = open_now & (expected >= start) & (expected < end)
    values = book.list_amount if ratio is None else book.list_amount * ratio
    won_so_far = float(book.amount[book.won_between(start, min(end, as_of))].sum()) if as_of > start else 0.0
    return won_so_far + rate * float(values[due].sum())
