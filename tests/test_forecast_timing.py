"""Timing model on synthetic books with known structure: dead cohorts, ages past any close, a backlogged record."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast import timing
from handlers.forecast.book import Book, DealRow
from handlers.forecast.periods import month_of, shift

TZ = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000
START = month_of(date(2025, 1, 1))
LAG_P = (0.2, 0.4, 0.3, 0.1)  # a live deal closes this many months after the month it was created in


def _ms(month: int, day: int) -> int:
    return shift(START, month).ms(TZ)[0] + day * DAY


def synthetic(months: int = 16, per_month: int = 200, dead: float = 0.1, dead_cohort: int | None = None,
              dead_share: float = 0.5, record_from: int = 0, seed: int = 3) -> list[DealRow]:
    """`per_month` deals a month; a share never closes (more in `dead_cohort`), the rest close at LAG_P ages,
    half of them won. Closes dated before month `record_from` are pushed into it (a backlogged record)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(months):
        for i in range(per_month):
            created = _ms(m, int(rng.integers(0, 27)))
            if rng.random() < (dead_share if m == dead_cohort else dead):
                rows.append(DealRow(f"D{m}-{i}", created, "open", 100.0))
                continue
            lag = int(rng.choice(4, p=LAG_P))
            closed = max(_ms(m + lag, int(rng.integers(0, 27))), created + DAY)
            closed = max(closed, _ms(record_from, int(rng.integers(0, 5))))
            status = "won" if rng.random() < 0.5 else "lost"
            if closed >= _ms(months, 0):
                status, closed = "open", None
            rows.append(DealRow(f"D{m}-{i}", created, status, 100.0, closed_at=closed))
    return rows


def test_a_cohort_full_of_dead_deals_is_discounted_and_old_ages_get_no_chance():
    book = Book.from_rows(synthetic(dead_cohort=13, dead_share=0.8))
    as_of = _ms(15, 0)
    model = timing.fit(book, as_of, "month", TZ)
    at = int(model.index(as_of))
    assert model.alive[at - 2] < 0.7  # month 13: 80% of its deals never close, far more than history leaves open
    assert model.alive[at - 3] > 0.85 and model.alive[at - 1] > 0.85  # ordinary cohorts: their own dead only
    rates = model.rates(shift(START, 15).position)
    assert rates[1] > 0.1 and rates[5] < 0.01 and rates[-1] < 0.01  # nobody closes after three months
    open_now = book.open_at(as_of)
    p = model.hazard(book, open_now, shift(START, 15))
    created = model.index(book.created[open_now])
    assert np.all(p[created == at - 2] < 0.75 * rates[2])
    assert np.all(p[created == at - 1] > 0.85 * rates[1])


def test_a_backlogged_first_period_does_not_set_the_rates():
    """Closes from before the record began all land in its first month: old deals would look sure to close."""
    clean = timing.fit(Book.from_rows(synthetic()), _ms(15, 0), "month", TZ)
    backlog = timing.fit(Book.from_rows(synthetic(record_from=6)), _ms(15, 0), "month", TZ)
    pos = shift(START, 6).position  # July: the backlogged month's position; October and January share it
    assert backlog.rates(pos)[4] < 0.02 and backlog.rates(pos)[6] < 0.02
    np.testing.assert_allclose(backlog.rates(pos)[1:4], clean.rates(pos)[1:4], atol=0.06)
    assert max(abs(np.log(r)) for r in backlog.ratios) < 0.5  # and it does not widen every interval
