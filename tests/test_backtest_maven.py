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


def test_backtest_meets_targets(result):
    s = result["summary"]
    assert len(result["periods"]) == 7
    assert s["mean_accuracy"] >= 0.85
    assert sum(p["inside_p10_p90"] for p in result["periods"]) >= 5
    assert s["mean_interval_width_ratio"] <= 0.5
    assert result["baselines"]["stage_weighted"]["mean_accuracy"] < s["mean_accuracy"]
    assert result["baselines"]["last_period"]["mean_accuracy"] < s["mean_accuracy"]


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
    """Redrawing the future (outcomes, won values, accounts, later deals) leaves the forecast unchanged."""
    from handlers.forecast import backtest, timing
    from handlers.forecast.book import Book
    from handlers.forecast.periods import month_of

    as_of = month_of(month).ms(TZ)[0]
    settings = backtest.Settings(draws=2000)
    real = backtest.run(Book.from_rows(rows), "month", month, month, TZ, settings)["periods"][0]
    for seed in (1, 2):
        fake_rows = _rewrite_future(rows, as_of, seed)
        fake = backtest.run(Book.from_rows(fake_rows), "month", month, month, TZ, settings)["periods"][0]
        for key in ("p10", "p50", "p90", "open_deals", "pipeline_expected", "new_expected"):
            assert fake[key] == pytest.approx(real[key], rel=1e-9), key
    # and the per-deal rates themselves, not only the totals
    book, fake_book = Book.from_rows(rows), Book.from_rows(_rewrite_future(rows, as_of, 3))
    per = month_of(month)
    p_real = timing.fit(book, as_of, "month", TZ).hazard(book, book.open_at(as_of), per)
    p_fake = timing.fit(fake_book, as_of, "month", TZ).hazard(fake_book, fake_book.open_at(as_of), per)
    order_real = np.argsort(book.ids[book.open_at(as_of)].astype(str))
    order_fake = np.argsort(fake_book.ids[fake_book.open_at(as_of)].astype(str))
    np.testing.assert_allclose(p_fake[order_fake], p_real[order_real], rtol=1e-12)


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
    assert set(out["baselines"]) == {"stage_weighted", "last_period"}
    assert {"period", "p50", "p10", "p90", "actual", "accuracy"} <= set(out["periods"][0])
