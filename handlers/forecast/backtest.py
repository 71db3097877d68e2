"""Walk-forward backtest: for each period, fit on what was known at its start, forecast, compare with the actual.

Leakage guard: the data has no stage history, so "open at the start of the period" is rebuilt from the creation
and close dates — created before the start and not closed before it. Outcomes and won values of deals that close
later are invisible at the start (timing.fit masks them; open deals are valued at their list amount, never at the
value they were later won for), and no attribute that only the final export knows is used — the account, say,
which Maven lacks exactly on the deals still open at its end (Book does not even carry it). A deal open at the
start therefore looks the same whether it is later won, lost or never closed; tests/test_backtest_maven.py
redraws everything after the start and checks the forecast does not move. Baselines on the same snapshots: the
open pipeline × the historical win rate (naive stage-weighted) and the previous period's actual.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from handlers.forecast import timing
from handlers.forecast.book import Book
from handlers.forecast.periods import Period, of_kind, shift
from handlers.forecast.simulate import simulate


@dataclass(frozen=True)
class Settings:
    draws: int = 10_000
    prior_strength: float = 20.0
    base_rate: float = 0.25
    month_sd_prior: float = 0.15
    history_periods: int = 12
    seed: int = 20170601


def period_range(kind: str, start: date, end: date) -> list[Period]:
    out, p = [], of_kind(kind, start)
    last = of_kind(kind, end)
    while p.start <= last.start:
        out.append(p)
        p = shift(p, 1)
    return out


def accuracy(forecast: float, actual: float) -> float | None:
    return None if actual <= 0 else 1.0 - abs(forecast - actual) / actual


def _summary(rows: list[dict], key: str, with_interval: bool) -> dict:
    accs = [r[key]["accuracy"] for r in rows if r[key]["accuracy"] is not None]
    out = {"mean_accuracy": round(statistics.fmean(accs), 4) if accs else None,
           "median_accuracy": round(statistics.median(accs), 4) if accs else None,
           "coverage_p10_p90": None, "mean_interval_width_ratio": None}
    scored = [r["inside"] for r in rows if r["inside"] is not None]
    if with_interval and scored:
        out["coverage_p10_p90"] = round(sum(scored) / len(scored), 4)
        widths = [r["width_ratio"] for r in rows if r["width_ratio"] is not None]
        out["mean_interval_width_ratio"] = round(statistics.fmean(widths), 4) if widths else None
    return out


def run(book: Book, kind: str, start: date, end: date, tz: ZoneInfo, settings: Settings = Settings()) -> dict:
    rng = np.random.default_rng(settings.seed)
    periods = []
    for per in period_range(kind, start, end):
        t0, t1 = per.ms(tz)
        model = timing.fit(book, t0, kind, tz, prior_strength=settings.prior_strength, base_rate=settings.base_rate,
                           history_periods=settings.history_periods, month_sd_prior=settings.month_sd_prior)
        open_mask = book.open_at(t0)
        p = model.hazard(book, open_mask, per)
        amounts = book.list_amount[open_mask]
        new_mu, new_sd = model.new_revenue(per.position)
        out = simulate(p, amounts, common_sd=model.common_sd(), new_mu=new_mu, new_sd=new_sd, draws=settings.draws,
                       rng=rng)
        actual = float(book.amount[book.won_between(t0, t1)].sum())
        # baselines, from the same snapshot
        closed = book.closed < t0
        n_won, n_lost = int((book.won & closed).sum()), int((book.lost & closed).sum())
        win_rate = n_won / (n_won + n_lost) if n_won + n_lost else settings.base_rate
        stage_weighted = float(amounts.sum() * win_rate)
        p0, p1 = per.previous().ms(tz)
        last_period = float(book.amount[book.won_between(p0, p1)].sum())
        periods.append({
            "period": per.label, "p10": round(out.p10, 2), "p50": round(out.p50, 2), "p90": round(out.p90, 2),
            "actual": round(actual, 2),
            "forecast": {"accuracy": _r(accuracy(out.p50, actual))},
            # nothing won in the period: P10 is then usually 0 too, and "0 is inside [0, P90]" says nothing about the
            # interval, so the period is not scored (like accuracy, which is undefined without an actual)
            "inside": None if actual <= 0 else bool(out.p10 <= actual <= out.p90),
            "width_ratio": _r((out.p90 - out.p10) / actual if actual > 0 else None),
            "open_deals": int(open_mask.sum()), "pipeline_expected": round(float((p * amounts).sum()), 2),
            "new_expected": round(new_mu, 2), "history_periods": model.periods,
            "stage_weighted": {"forecast": round(stage_weighted, 2), "accuracy": _r(accuracy(stage_weighted, actual))},
            "last_period": {"forecast": round(last_period, 2), "accuracy": _r(accuracy(last_period, actual))},
        })
    return {
        "periods": [_public(r) for r in periods],
        "summary": _summary(periods, "forecast", True),
        "baselines": {"stage_weighted": _summary(periods, "stage_weighted", False),
                      "last_period": _summary(periods, "last_period", False)},
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def _public(r: dict) -> dict:
    return {"period": r["period"], "p50": r["p50"], "p10": r["p10"], "p90": r["p90"], "actual": r["actual"],
            "accuracy": r["forecast"]["accuracy"], "inside_p10_p90": r["inside"], "width_ratio": r["width_ratio"],
            "open_deals": r["open_deals"], "pipeline_expected": r["pipeline_expected"],
            "new_expected": r["new_expected"], "history_periods": r["history_periods"],
            "baselines": {"stage_weighted": r["stage_weighted"], "last_period": r["last_period"]}}
