"""The backtest on the public Maven CRM data (read in place from ../shared/data/maven_crm).

Besides the targets, it proves the backtest is honest: whatever happens after a forecast's start (which open
deals are later won, lost or left open forever, what they are won for, which of them the final export lacks an
account for) must not move the forecast made at that start.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from conftest import SHARED

MAVEN = SHARED / "data" / "maven_crm" / "sales_pipeline.csv"
MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "maven_crm.toml"
TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.skipif(not MAVEN.is_file(), reason=f"Maven CRM data not found at {MAVEN}")


@pytest.fixture(scope="module")
def rows():
    from handlers.forecast import dealfile

    parsed = dealfile.read(MAVEN, dealfile.load_mapping(MAPPING))
    assert parsed.errors == []
    return [d.row for d in parsed.deals if d.has_created]


@pytest.fixture(scope="module")
def result(rows):
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    return backtest.run(Book.from_rows(rows), "month", date(2017, 6, 1), date(2017, 12, 1), TZ,
                        backtest.Settings())  # the CLI default: 10 000 draws


def _beats_every_baseline(result):
    s = result["summary"]
    assert set(result["baselines"]) == {"seasonal_naive", "last_period", "moving_average_3", "ets", "theta",
                                        "stage_weighted"}
    for name, b in result["baselines"].items():
        if b["mean_accuracy"] is not None:
            assert b["mean_accuracy"] < s["mean_accuracy"], name
            assert b["mean_accuracy"] < b["ours_mean_accuracy"], name  # and on exactly the periods it forecast


def test_backtest_meets_targets(result):
    s = result["summary"]
    assert len(result["periods"]) == 7
    assert s["mean_accuracy"] >= 0.9
    assert s["mean_interval_width_ratio"] <= 0.8
    _beats_every_baseline(result)
    # the seasonal naive of a month is the same month of the previous quarter (no previous year in the data)
    assert result["baselines"]["seasonal_naive"]["variant"] == "quarter"
    june = result["periods"][0]["baselines"]
    assert june["seasonal_naive_quarter"]["forecast"] == 1134672.0 and june["seasonal_naive_year"]["forecast"] is None


def test_quarterly_backtest_beats_every_baseline(rows):
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    result = backtest.run(Book.from_rows(rows), "quarter", date(2017, 4, 1), date(2017, 12, 1), TZ,
                          backtest.Settings(draws=2000))
    assert [p["period"] for p in result["periods"]] == ["2017Q2", "2017Q3", "2017Q4"]
    _beats_every_baseline(result)


def test_weekly_intervals_are_honest_from_the_cold_start(rows):
    """Every Monday before and inside each month from April 2017 (one month of closes known) is a forecast; the
    actual falls inside P10–P90 in 70–90 % of them."""
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    result = backtest.run(Book.from_rows(rows), "month", date(2017, 4, 1), date(2017, 12, 1), TZ,
                          backtest.Settings(draws=2000), every="week")
    n = sum(len(p["as_of"]) for p in result["periods"])
    assert n >= 9 * 5
    assert 0.70 <= result["summary"]["coverage_p10_p90"] <= 0.90
    by = result["coverage_by_history"]
    assert sum(b["forecasts"] for b in by.values()) == n
    # width comes from measured errors: wider at a cold start than once history allows
    assert by["0-2"]["mean_interval_width_ratio"] > by["6-11"]["mean_interval_width_ratio"]


def test_same_rows_in_another_order_give_the_same_forecast(rows):
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    settings = backtest.Settings(draws=2000)
    shuffled = list(rows)
    np.random.default_rng(5).shuffle(shuffled)
    a = backtest.run(Book.from_rows(rows), "month", date(2017, 9, 1), date(2017, 10, 1), TZ, settings)
    b = backtest.run(Book.from_rows(shuffled), "month", date(2017, 9, 1), date(2017, 10, 1), TZ, settings)
    assert a == b


def test_a_period_does_not_depend_on_the_rest_of_the_run(rows, result):
    """September's forecast in a one-month run equals September's in the seven-month run (own random stream)."""
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    alone = backtest.run(Book.from_rows(rows), "month", date(2017, 9, 1), date(2017, 9, 1), TZ, backtest.Settings())
    together = next(p for p in result["periods"] if p["period"] == "2017-09")
    for key in ("p10", "p50", "p90"):
        assert alone["periods"][0][key] == together[key]
    other_seed = backtest.run(Book.from_rows(rows), "month", date(2017, 9, 1), date(2017, 9, 1), TZ,
                              backtest.Settings(seed=7))
    assert other_seed["periods"][0]["p10"] != together["p10"]


def test_forecast_scales_exactly_with_the_currency(rows):
    from handlers.forecast import backtest
    from handlers.forecast.book import Book

    settings = backtest.Settings(draws=2000)
    scaled = [dataclasses.replace(r, amount=r.amount * 7.1,
                                  list_amount=None if r.list_amount is None else r.list_amount * 7.1) for r in rows]
    a = backtest.run(Book.from_rows(rows), "month", date(2017, 8, 1), date(2017, 9, 1), TZ, settings)
    b = backtest.run(Book.from_rows(scaled), "month", date(2017, 8, 1), date(2017, 9, 1), TZ, settings)
    for pa, pb in zip(a["periods"], b["periods"], strict=True):
        for key in ("p10", "p50", "p90", "actual"):
            assert pb[key] == pytest.approx(pa[key] * 7.1, rel=1e-7), key


def test_open_deals_are_valued_at_the_learned_won_to_list_ratio(rows):
    """A company that wins every deal at 80 % of list gets its pipeline valued at (nearly) 80 % of list."""
    from handlers.forecast import value
    from handlers.forecast.book import Book

    discounted = [dataclasses.replace(r, amount=r.list_amount * 0.8) if r.status == "won" else r for r in rows]
    book = Book.from_rows(discounted)
    as_of = month_of_ms(date(2017, 9, 1))
    mask = book.open_at(as_of)
    r = value.ratios(book, as_of, mask)
    assert r.shape == (int(mask.sum()),)
    assert np.all(np.abs(r - 0.8) < 0.01)
    assert np.allclose(value.ratios(Book.from_rows(rows), as_of, mask), 1.0, atol=0.03)  # Maven: won ≈ list


def month_of_ms(d: date) -> int:
    from handlers.forecast.periods import month_of

    return month_of(d).ms(TZ)[0]


def test_no_future_leaks_into_a_snapshot(result):
    """Each period's history stops before it: the first backtest month learns from March–May only."""
    first = result["periods"][0]
    assert first["period"] == "2017-06" and first["history_periods"] == 3
    assert all(p["p10"] <= p["p50"] <= p["p90"] for p in result["periods"])


def _rewrite_future(rows, as_of: int, seed: int):
    """Every fact dated at or after `as_of` redrawn at random; everything known before it left as it was.

    Deals open at `as_of` get a random fate (won for a random value, lost, or open forever) at a random later
    date; every customer of a deal not closed before `as_of` is blanked or invented (the Maven export lacks the
    account exactly on deals still open at its end); deals created later are dropped.
    """
    rng = np.random.default_rng(seed)
    day = 86_400_000
    out = []
    for r in rows:
        if r.created_at >= as_of:
            continue
        if r.closed_at is not None and r.status != "open" and r.closed_at < as_of:
            out.append(r)
            continue
        fate = ("won", "lost", "open")[int(rng.integers(3))]
        closed = None if fate == "open" else as_of + int(rng.integers(0, 200)) * day
        amount = float(r.list_amount or r.amount) * (float(rng.uniform(0.5, 1.5)) if fate == "won" else 1.0)
        out.append(dataclasses.replace(r, status=fate, closed_at=closed, amount=amount,
                                       customer="" if rng.random() < 0.5 else f"acct{rng.integers(99)}",
                                       industry="" if rng.random() < 0.5 else "Retail"))
    return out


@pytest.mark.parametrize("month", [date(2017, 7, 1), date(2017, 9, 1), date(2017, 11, 1)])
def test_forecast_ignores_everything_after_its_start(rows, month):
    """Redrawing the future (outcomes, won values, accounts, later deals) leaves the forecast unchanged — and
    every baseline, the top-down view, the weights and the won ÷ list ratios with it."""
    from handlers.forecast import backtest, timing
    from handlers.forecast.book import Book
    from handlers.forecast.periods import month_of

    as_of = month_of(month).ms(TZ)[0]
    settings = backtest.Settings(draws=2000)
    real = backtest.run(Book.from_rows(rows), "month", month, month, TZ, settings)["periods"][0]
    for seed in (1, 2):
        fake_rows = _rewrite_future(rows, as_of, seed)
        fake = backtest.run(Book.from_rows(fake_rows), "month", month, month, TZ, settings)["periods"][0]
        for key in ("p10", "p50", "p90", "open_deals", "pipeline_expected", "new_expected", "bottom_up", "top_down",
                    "weight_bottom_up"):
            assert fake[key] == pytest.approx(real[key], rel=1e-9), key
        for name, b in real["baselines"].items():
            got = fake["baselines"][name]["forecast"]
            assert got is None if b["forecast"] is None else got == pytest.approx(b["forecast"], rel=1e-9), name
    # and the per-deal rates themselves, not only the totals
    book, fake_book = Book.from_rows(rows), Book.from_rows(_rewrite_future(rows, as_of, 3))
    per = month_of(month)
    p_real = timing.fit(book, as_of, "month", TZ).hazard(book, book.open_at(as_of), per)
    p_fake = timing.fit(fake_book, as_of, "month", TZ).hazard(fake_book, fake_book.open_at(as_of), per)
    order_real = np.argsort(book.ids[book.open_at(as_of)].astype(str))
    order_fake = np.argsort(fake_book.ids[fake_book.open_at(as_of)].astype(str))
    np.testing.assert_allclose(p_fake[order_fake], p_real[order_real], rtol=1e-12)


def test_a_forecast_from_inside_a_month_ignores_everything_after_it(rows):
    """The weekly as-of dates: what is won so far counts, nothing after the Monday does."""
    from handlers.forecast.book import Book
    from handlers.forecast.periods import date_ms, month_of
    from handlers.forecast.projection import Projector

    per, monday = month_of(date(2017, 10, 1)), date(2017, 10, 16)
    as_of = date_ms(monday, TZ)
    real = Projector(Book.from_rows(rows), "month", TZ).forecast(per, as_of, seed=1, draws=2000)
    fake = Projector(Book.from_rows(_rewrite_future(rows, as_of, 4)), "month", TZ).forecast(per, as_of, seed=1,
                                                                                             draws=2000)
    assert real.won_to_date > 0
    for key in ("p10", "p50", "p90", "won_to_date", "bottom_up", "top_down", "weight_bottom_up", "spread"):
        assert getattr(fake, key) == pytest.approx(getattr(real, key), rel=1e-9), key


def test_dead_cohorts_lower_the_rates_of_their_open_deals(rows):
    """A cohort with far more deals still open than history's close rates leave open is mostly dead deals."""
    from handlers.forecast import timing
    from handlers.forecast.book import Book
    from handlers.forecast.periods import month_of

    as_of = month_of(date(2017, 11, 1)).ms(TZ)[0]
    book = Book.from_rows(rows)
    model = timing.fit(book, as_of, "month", TZ)
    july = int(model.index(month_of(date(2017, 7, 1)).ms(TZ)[0]))
    assert model.alive and min(model.alive.values()) > 0
    assert model.alive[july] < 0.9  # July 2017's cohort left a third of its deals open for good
    # deals older than any age at which history saw a win get (almost) no chance
    rates = model.rates(month_of(date(2017, 11, 1)).position)
    assert rates[-1] < 0.02 < rates[1]


def test_cli_json_shape(capsys):
    from bot.cli import main

    assert main(["backtest", "--deals", str(MAVEN), "--map", str(MAPPING), "--period", "month", "--start", "2017-11",
                 "--end", "2017-12", "--draws", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"periods", "summary", "baselines"}
    assert set(out["summary"]) == {"mean_accuracy", "median_accuracy", "coverage_p10_p90", "mean_interval_width_ratio"}
    assert set(out["baselines"]) == {"seasonal_naive", "last_period", "moving_average_3", "ets", "theta",
                                     "stage_weighted"}
    assert all("mean_accuracy" in b for b in out["baselines"].values())
    assert set(out["coverage_by_history"]) == {"0-2", "3-5", "6-11", "12+"}
    assert {"period", "p50", "p10", "p90", "actual", "accuracy"} <= set(out["periods"][0])
